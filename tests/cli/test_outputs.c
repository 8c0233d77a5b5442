/*
 * test_outputs.c - what `memvisor run` may do to the paths it is given,
 * and how it stops.
 *
 * Output paths (-o, --csv, --svg, mmu --convert) must never be replaced
 * when they are not regular files: a FIFO or a character device is
 * written in place, a symbolic link followed (the link stays, its target
 * gets the report), a directory refused with exit 2 before anything is
 * simulated. --csv/--svg folders appear only with their files. Bad
 * scenario paths (a directory, a FIFO, a device, over 64 MiB) exit 2 with
 * one line naming the file. SIGINT/SIGTERM stop a run with 130/143 and no
 * output or temporary file left. --verify says what it checked. The
 * progress line goes to stderr only, well formed, quiet for short runs.
 *
 * Every FIFO, link and device node is made inside this test's own mkdtemp
 * directory; nothing under /dev is touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/mvtest.h"

extern char **environ;

static char g_bin[4096];
static char g_dir[256];

struct result {
	int status; /* exit status, or 128 + signal */
	char *err;
};

static const char *scratch(const char *name)
{
	static char buf[16][512];
	static int k;
	char *p = buf[k++ & 15];
	snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Start memvisor with args (NULL-terminated); stdout, stderr to files. */
static pid_t start(const char *const *args)
{
	const char *argv[16] = {g_bin};
	int n = 1;
	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	/* not scratch(): its buffers may hold the arguments */
	char outp[512], errp[512];
	snprintf(outp, sizeof outp, "%s/.stdout", g_dir);
	snprintf(errp, sizeof errp, "%s/.stderr", g_dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, outp,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, errp,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, g_bin, &fa, NULL, (char *const *)argv,
			     environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	return pid;
}

static void finish(pid_t pid, struct result *r)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	r->err = mvt_slurp(scratch(".stderr"), NULL);
	assert_non_null(r->err);
}

#define MV(r, ...)                                                             \
	do {                                                                   \
		const char *a_[] = {__VA_ARGS__, NULL};                        \
		finish(start(a_), (r));                                        \
	} while (0)

/* stderr is exactly one "memvisor: " error line holding every needle:
 * the scenario's warnings come only once it has powered on, so bad input
 * found before that gets its line alone. */
static void assert_one_line_naming(const struct result *r, const char *n1,
				   const char *n2)
{
	const char *e = r->err;
	int lines = 0;
	for (const char *p = e; *p; p++)
		lines += *p == '\n';
	if (lines != 1 || strncmp(e, "memvisor: ", 10) ||
	    (n1 && !strstr(e, n1)) || (n2 && !strstr(e, n2)))
		fail_msg("expected one line naming '%s' and '%s', got:\n%s",
			 n1 ? n1 : "", n2 ? n2 : "", r->err);
}

static const char small[] =
	"<scenario name=\"t\" seed=\"7\" duration=\"%s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm count=\"2\">\n"
	"    <domain type=\"kvm\"><name>vm</name><memory "
	"unit=\"MiB\">48</memory></domain>\n"
	"    <workload kind=\"steady\" size=\"8MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

/* A small scenario lasting duration ("2s", "1h", "3h", "10h"). */
static const char *scenario(const char *duration)
{
	char text[1024];
	snprintf(text, sizeof text, small, duration);
	const char *p = scratch(duration[0] == '2' ? "short.xml" : "long.xml");
	write_file(p, text);
	return p;
}

static int count_prefix(const char *prefix)
{
	DIR *d = opendir(g_dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

/* A child that copies the FIFO at path into the file copy until EOF. */
static pid_t fifo_reader(const char *path, const char *copy)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(15); /* a writer that never comes fails the test */
		int in = open(path, O_RDONLY);
		int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[4096];
		ssize_t k;
		while (in >= 0 && out >= 0 &&
		       (k = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)k) != k)
				_exit(1);
		_exit(in >= 0 && out >= 0 ? 0 : 1);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- */

static void
test_output_to_a_fifo_is_written_through_and_stays_a_fifo(void **state)
{
	(void)state;
	const char *fifo = scratch("report.fifo"), *copy = scratch("copy.txt");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t reader = fifo_reader(fifo, copy);
	struct result r;
	MV(&r, "run", "-q", "-o", fifo, scenario("2s"));
	reap(reader);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	char *text = mvt_slurp(copy, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "vm-1"));
	free(text);
	assert_int_equal(count_prefix("report.fifo.tmp"), 0);
	free(r.err);
}

static void test_output_to_a_device_node_is_written_in_place(void **state)
{
	(void)state;
	/* a node like /dev/null's (1, 3), made here, not /dev/null itself */
	const char *node = scratch("null.dev");
	if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) != 0)
		skip(); /* not root, or no mknod in this container */
	struct result r;
	MV(&r, "run", "-q", "--json", "-o", node, scenario("2s"));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	struct stat st;
	assert_int_equal(lstat(node, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 1);
	assert_int_equal(minor(st.st_rdev), 3);
	assert_int_equal(count_prefix("null.dev.tmp"), 0);
	free(r.err);
	unlink(node);
}

static void
test_output_through_a_symlink_replaces_the_target_not_the_link(void **state)
{
	(void)state;
	const char *target = scratch("target.txt"), *link = scratch("link.txt");
	write_file(target, "old report\n");
	assert_int_equal(symlink("target.txt", link), 0);
	struct result r;
	MV(&r, "run", "-q", "-o", link, scenario("2s"));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char *text = mvt_slurp(target, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "vm-2"));
	free(text);
	assert_int_equal(count_prefix("target.txt.tmp"), 0);
	free(r.err);

	/* a dangling link: its target is created, the link kept */
	const char *dangling = scratch("dangling.txt");
	assert_int_equal(symlink("created.txt", dangling), 0);
	MV(&r, "run", "-q", "-o", dangling, scenario("2s"));
	assert_int_equal(r.status, 0);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(scratch("created.txt"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
	free(r.err);
}

static void test_output_to_a_directory_exits_2_before_the_run(void **state)
{
	(void)state;
	const char *dir = scratch("a-dir");
	assert_int_equal(mkdir(dir, 0700), 0);
	const char *sc = scenario("1h");
	/* an hour of simulated time: refused at once, not after it */
	double t0 = now_s();
	struct result r;
	MV(&r, "run", "-q", "-o", dir, sc);
	assert_int_equal(r.status, 2);
	assert_true(now_s() - t0 < 10);
	assert_one_line_naming(&r, dir, "--output");
	assert_non_null(strstr(r.err, "is a directory"));
	struct stat st;
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(r.err);

	/* a missing directory above the file, the same */
	MV(&r, "run", "-q", "-o", scratch("missing/out.txt"), sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "missing/out.txt", "--output");
	free(r.err);
	/* --csv and --svg under a missing parent, the same */
	MV(&r, "run", "-q", "--svg", scratch("missing/svg"), sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "missing/svg", "--svg");
	free(r.err);
}

static void test_output_to_a_socket_or_block_device_is_refused(void **state)
{
	(void)state;
	const char *sock = scratch("report.sock");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct result r;
	MV(&r, "run", "-q", "-o", sock, scenario("2s"));
	close(fd);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, sock, "is a socket");
	struct stat st;
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	free(r.err);

	/* a block node in a local/experimental major (240-254) that no
	 * driver has: even a wrong open would reach nothing */
	const char *blk = scratch("disk.blk");
	if (mknod(blk, S_IFBLK | 0600, makedev(240, 77)) != 0)
		return;
	MV(&r, "run", "-q", "-o", blk, scenario("2s"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, blk, "block device");
	assert_int_equal(lstat(blk, &st), 0);
	assert_true(S_ISBLK(st.st_mode));
	free(r.err);
	unlink(blk);
}

static void test_view_folders_appear_only_with_their_files(void **state)
{
	(void)state;
	const char *csv = scratch("csv-out"), *svg = scratch("svg-out");
	/* a run that fails (bad input found at power-on, after the paths
	 * were checked: a VM reserves more than the host has) leaves no
	 * empty folder */
	const char *bad = scratch("reserves-too-much.xml");
	write_file(bad, "<scenario duration=\"2s\">\n"
			"  <host><memory unit=\"MiB\">64</memory></host>\n"
			"  <vm count=\"2\"><domain type=\"kvm\"><name>a"
			"</name><memory unit=\"MiB\">48</memory><memtune>"
			"<min_guarantee unit=\"MiB\">40</min_guarantee>"
			"</memtune>"
			"</domain></vm>\n"
			"</scenario>\n");
	struct result r;
	MV(&r, "run", "-q", "--csv", csv, "--svg", svg, bad);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "min_guarantee", "cannot power on");
	assert_int_equal(access(csv, F_OK), -1);
	assert_int_equal(access(svg, F_OK), -1);
	free(r.err);

	MV(&r, "run", "-q", "--csv", csv, "--svg", svg, scenario("2s"));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	char p[600];
	snprintf(p, sizeof p, "%s/host.csv", csv);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof p, "%s/host.svg", svg);
	assert_int_equal(access(p, R_OK), 0);
	free(r.err);
}

static void
test_csv_before_the_scenario_does_not_take_it_as_the_folder(void **state)
{
	(void)state;
	const char *sc = scenario("2s");
	struct result r;
	MV(&r, "run", "-q", "--csv", sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--csv", "not a directory");
	free(r.err);
	/* the scenario was not touched */
	char *text = mvt_slurp(sc, NULL);
	assert_non_null(strstr(text, "<scenario"));
	free(text);
}

static void test_bad_scenario_paths_exit_2_naming_the_file(void **state)
{
	(void)state;
	struct result r;
	const char *dir = scratch("scenario-dir");
	assert_int_equal(mkdir(dir, 0700), 0);
	MV(&r, "run", dir);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, dir, "is a directory");
	free(r.err);

	const char *fifo = scratch("scenario.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	MV(&r, "run", fifo);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, fifo, "is not a regular file");
	free(r.err);
	MV(&r, "dommemstat", fifo, "vm-1");
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, fifo, "is not a regular file");
	free(r.err);

	const char *node = scratch("scenario.dev");
	if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		MV(&r, "run", node);
		assert_int_equal(r.status, 2);
		assert_one_line_naming(&r, node, "is not a regular file");
		free(r.err);
		unlink(node);
	}

	const char *big = scratch("big.xml");
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65 * 1024 * 1024), 0); /* sparse */
	close(fd);
	MV(&r, "run", big);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, big, "larger than the 64 MiB limit");
	free(r.err);
	unlink(big);

	if (geteuid() != 0) { /* root reads anything */
		const char *locked = scratch("locked.xml");
		write_file(locked, "<scenario/>\n");
		assert_int_equal(chmod(locked, 0), 0);
		MV(&r, "run", locked);
		assert_int_equal(r.status, 2);
		assert_one_line_naming(&r, locked, "cannot read");
		free(r.err);
	}
}

/* Start a long run writing -o OUT, stop it with sig after a moment. */
static void stop_a_run(int sig, int expect)
{
	const char *out = scratch("stopped.txt");
	const char *args[] = {"run", "-q", "-o", out, scenario("1h"), NULL};
	pid_t pid = start(args);
	usleep(1000 * 1000);
	assert_int_equal(kill(pid, sig), 0);
	struct result r;
	finish(pid, &r);
	assert_int_equal(r.status, expect);
	assert_one_line_naming(&r, sig == SIGINT ? "SIGINT" : "SIGTERM",
			       "no report written");
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(count_prefix("stopped.txt"), 0);
	free(r.err);
}

static void test_sigterm_and_sigint_stop_the_run_and_leave_nothing(void **state)
{
	(void)state;
	stop_a_run(SIGTERM, 143);
	stop_a_run(SIGINT, 130);
}

static void test_a_signal_ends_the_wait_for_a_fifo_reader(void **state)
{
	(void)state;
	const char *fifo = scratch("nobody.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *args[] = {"run", "-q", "-o", fifo, scenario("2s"), NULL};
	pid_t pid = start(args);
	usleep(1500 * 1000); /* the run is over; open waits for a reader */
	assert_int_equal(kill(pid, SIGTERM), 0);
	struct result r;
	finish(pid, &r);
	assert_int_equal(r.status, 143);
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	free(r.err);
}

/*
 * Run memvisor with args (NULL-terminated) on a pseudo-terminal as stderr
 * for up to wait_s seconds, then SIGTERM it if it still runs; what it
 * drew (the latest 64 KiB) into buf, and when the first of it came, in
 * seconds after the start, into *first_s (when not NULL; -1 if nothing
 * came). Returns the exit status (143 when stopped), or -1 when no
 * pseudo-terminal can be had.
 */
static int run_on_pty(const char *const *args, double wait_s, char *buf,
		      size_t cap, double *first_s)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return -1;
	char slave[256];
	assert_int_equal(ptsname_r(master, slave, sizeof slave), 0);
	const char *argv[16] = {g_bin};
	int na = 1;
	for (; args[na - 1] && na < 15; na++)
		argv[na] = args[na - 1];
	argv[na] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, slave, O_RDWR | O_NOCTTY, 0);
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, g_bin, &fa, NULL,
				     (char *const *)argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	size_t n = 0;
	double t0 = now_s();
	if (first_s)
		*first_s = -1;
	int flags = fcntl(master, F_GETFL);
	fcntl(master, F_SETFL, flags | O_NONBLOCK);
	int ws, done = 0;
	while (now_s() - t0 < wait_s && !done) {
		ssize_t k = read(master, buf + n, cap - 1 - n);
		if (k > 0 && first_s && *first_s < 0)
			*first_s = now_s() - t0;
		if (k > 0)
			n += (size_t)k;
		else
			usleep(20 * 1000);
		if (n >= cap - 1)
			n = 0; /* keep the latest */
		done = waitpid(pid, &ws, WNOHANG) == pid;
	}
	ssize_t k;
	while (n < cap - 1 && (k = read(master, buf + n, cap - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	if (!done) {
		kill(pid, SIGTERM);
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	close(master);
	assert_true(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

/*
 * One progress line: "progress: HH:MM:SS of HH:MM:SS simulated, R
 * sim-s/s, ETA H:MM:SS" (or "ETA -:--:--"); the simulated seconds and the
 * ETA's into *done_s, *total_s, *eta_s (-1 without one). 0 if malformed.
 */
static int parse_progress(const char *line, long *done_s, long *total_s,
			  long *eta_s)
{
	unsigned h, m, sec, th, tm, ts, eh, em, es;
	double rate;
	int end = 0;
	*eta_s = -1;
	if (sscanf(line,
		   "progress: %2u:%2u:%2u of %2u:%2u:%2u simulated, %lf "
		   "sim-s/s, ETA %n",
		   &h, &m, &sec, &th, &tm, &ts, &rate, &end) != 7 ||
	    !end || m > 59 || sec > 59 || tm > 59 || ts > 59 || rate < 0)
		return 0;
	*done_s = h * 3600L + m * 60 + sec;
	*total_s = th * 3600L + tm * 60 + ts;
	const char *e = line + end;
	if (strcmp(e, "-:--:--") == 0)
		return 1;
	int used = 0;
	if (sscanf(e, "%u:%2u:%2u%n", &eh, &em, &es, &used) != 3 ||
	    e[used] != '\0' || em > 59 || es > 59)
		return 0;
	*eta_s = eh * 3600L + em * 60 + es;
	return 1;
}

/* Strip the padding a line drawn in place carries. */
static void rstrip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/*
 * --progress on a terminal (a pseudo-terminal here): the line is drawn in
 * place (\r) from the start, with simulated time, the rate and, once the
 * rate means something, the ETA.
 */
static void test_forced_progress_on_a_terminal_is_redrawn_in_place(void **state)
{
	(void)state;
	static char buf[65536];
	const char *args[] = {"run",          "--progress",
			      "-o",           scratch("progress.txt"),
			      scenario("3h"), NULL};
	/* three simulated hours: not over in 4.5 s below 2400 simulated s
	 * per s (this build does about 460 here), and 2% of it (the ETA's
	 * start) done in 4.5 s above 48 (the sanitizer build under load
	 * did about 150) */
	int st = run_on_pty(args, 4.5, buf, sizeof buf, NULL);
	if (st < 0)
		skip();
	assert_int_equal(st, 143);
	if (!strstr(buf, "\rprogress: "))
		fail_msg("no progress line drawn in place:\n%s", buf);
	/* the first lines say "ETA -:--:--"; a time only once 2% of the
	 * run is done (within 10 s of wall time) */
	int lines = 0, etas = 0, first = 1;
	for (char *line = strtok(buf, "\r"); line; line = strtok(NULL, "\r")) {
		rstrip(line);
		if (!*line || strncmp(line, "progress: powering", 18) == 0)
			continue;
		long done, total, eta;
		if (!parse_progress(line, &done, &total, &eta))
			fail_msg("malformed progress line: '%s'", line);
		assert_int_equal(total, 10800);
		if (first && eta >= 0)
			fail_msg("the first ETA is a guess: %s", line);
		first = 0;
		if (eta >= 0 && done < 216)
			fail_msg("an ETA at %ld of 10800 s: %s", done, line);
		lines++;
		etas += eta >= 0;
	}
	if (lines < 3 || !etas)
		fail_msg("%d lines, %d with an ETA, in 4.5 s", lines, etas);
}

/* Without --progress, on a terminal, the line comes once the run has
 * lasted 5 s, and is then redrawn every second. */
static void test_a_long_run_shows_progress_after_5_s(void **state)
{
	(void)state;
	static char buf[65536];
	/* ten simulated hours: an hour took 7.9 s here, and a faster build
	 * or machine ended it inside the 7.5 s this test watches (exit 0) */
	const char *args[] = {"run", "-o", scratch("long.txt"),
			      scenario("10h"), NULL};
	double first;
	int st = run_on_pty(args, 7.5, buf, sizeof buf, &first);
	if (st < 0)
		skip();
	assert_int_equal(st, 143);
	if (first < 4.9)
		fail_msg("drawn after %.1f s:\n%s", first, buf);
	int lines = 0;
	for (char *line = strtok(buf, "\r"); line; line = strtok(NULL, "\r")) {
		rstrip(line);
		long done, total, eta;
		if (*line && !parse_progress(line, &done, &total, &eta))
			fail_msg("malformed progress line: '%s'", line);
		lines += *line != '\0';
	}
	if (lines < 2)
		fail_msg("%d lines between 5 and 7.5 s", lines);
}

/* Without --progress, a run shorter than 5 s draws nothing, even on a
 * terminal. */
static void test_a_short_run_is_quiet_even_on_a_terminal(void **state)
{
	(void)state;
	static char buf[65536];
	const char *args[] = {"run", "-o", scratch("quiet.txt"), scenario("2s"),
			      NULL};
	int st = run_on_pty(args, 10, buf, sizeof buf, NULL);
	if (st < 0)
		skip();
	assert_int_equal(st, 0);
	if (buf[0])
		fail_msg("a short run drew on the terminal:\n%s", buf);
}

/*
 * --progress off a terminal: full lines on stderr, every one well formed,
 * the last one the whole run's (ETA 0:00:00); standard output is the
 * same report, byte for byte, as with --no-progress.
 */
static void test_forced_progress_writes_lines_on_stderr_only(void **state)
{
	(void)state;
	struct result r;
	MV(&r, "run", "--no-progress", scenario("2s"));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	char *quiet = mvt_slurp(scratch(".stdout"), NULL);
	assert_non_null(quiet);
	free(r.err);
	MV(&r, "run", "--progress=50ms", scenario("2s"));
	assert_int_equal(r.status, 0);
	char *out = mvt_slurp(scratch(".stdout"), NULL);
	assert_non_null(out);
	assert_string_equal(out, quiet);
	assert_null(strstr(out, "progress: "));
	int lines = 0;
	long done = -1, total = -1, eta = -1, prev = -1;
	char *save = NULL;
	assert_true(strlen(r.err) > 0 && r.err[strlen(r.err) - 1] == '\n');
	assert_null(strchr(r.err, '\r'));
	for (char *line = strtok_r(r.err, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "progress: powering", 18) == 0)
			continue;
		if (!parse_progress(line, &done, &total, &eta))
			fail_msg("malformed progress line: '%s'", line);
		assert_int_equal(total, 2);
		assert_true(done >= prev); /* time only moves on */
		prev = done;
		lines++;
	}
	/* the first at the start, the last for the whole run */
	assert_true(lines >= 2);
	assert_int_equal(done, 2);
	assert_int_equal(eta, 0);
	free(out);
	free(quiet);
	free(r.err);
	MV(&r, "run", "--progress=0", scenario("2s"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--progress", "'0'");
	free(r.err);
}

/*
 * --books: the simulator's metadata on stderr after power-on and after
 * the run, in the format make bench-scale parses; stdout unchanged.
 */
static void test_books_go_to_stderr_in_the_documented_format(void **state)
{
	(void)state;
	struct result r;
	MV(&r, "run", "-q", scenario("2s"));
	assert_int_equal(r.status, 0);
	char *plain = mvt_slurp(scratch(".stdout"), NULL);
	free(r.err);
	MV(&r, "run", "-q", "--books", scenario("2s"));
	assert_int_equal(r.status, 0);
	char *out = mvt_slurp(scratch(".stdout"), NULL);
	assert_string_equal(out, plain);
	/* two 48 MiB VMs: 24576 guest pages, their pmaps 9 B each */
	assert_non_null(strstr(r.err, "books: start guest-pages 24576 "
				      "host-frames 16385\n"));
	assert_non_null(strstr(r.err, "books: end hypervisor vm.pmap 9 x "
				      "24576 = 221184 B 9.00 B/page\n"));
	assert_non_null(strstr(r.err, "books: end total hypervisor "));
	char *save = NULL;
	for (char *line = strtok_r(r.err, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char when[16], group[32], name[64];
		unsigned long long elem, count, bytes;
		double per;
		if (strncmp(line, "books: ", 7))
			fail_msg("not a books line: %s", line);
		if (strstr(line, " guest-pages ") || strstr(line, " total "))
			continue;
		if (sscanf(line,
			   "books: %15s %31s %63s %llu x %llu = %llu B "
			   "%lf B/page",
			   when, group, name, &elem, &count, &bytes,
			   &per) != 7 ||
		    bytes != elem * count)
			fail_msg("malformed books line: %s", line);
	}
	free(out);
	free(plain);
	free(r.err);
}

static void test_verify_reports_what_it_checked(void **state)
{
	(void)state;
	struct result r;
	MV(&r, "run", "-q", "--verify", scenario("2s"));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	char *out = mvt_slurp(scratch(".stdout"), NULL);
	assert_non_null(out);
	/* 2 s in 10 ms steps: 200 checks; two 48 MiB VMs of 12288 pages,
	 * none ballooned in this calm host: 200 * 24576 pages */
	if (!strstr(out, "on: 200 invariant checks (one per step), 4915200 "
			 "pages") ||
	    !strstr(out, "nothing differed"))
		fail_msg("verify line missing:\n%s", out);
	free(out);
	free(r.err);

	MV(&r, "run", "-q", "--verify", "--json", scenario("2s"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "verify: 200 invariant checks"));
	free(r.err);
	out = mvt_slurp(scratch(".stdout"), NULL);
	assert_non_null(out);
	if (!strstr(out, "\"verify_checks\": 200") ||
	    !strstr(out, "\"verify_pages\": 4915200"))
		fail_msg("JSON lacks the verify counts:\n%.600s", out);
	free(out);
}

static void test_mmu_convert_refuses_a_fifo_and_follows_a_symlink(void **state)
{
	(void)state;
	const char *trace = scratch("t.lackey");
	write_file(trace, "I  0400d7d4,8\n L 04222cac,8\n S 04222cb0,4\n");
	const char *fifo = scratch("trace.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct result r;
	MV(&r, "mmu", "--convert", trace, fifo);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, fifo, "not a regular file");
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	free(r.err);

	const char *link = scratch("trace.link");
	assert_int_equal(symlink("trace.bin", link), 0);
	MV(&r, "mmu", "--convert", trace, link);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(scratch("trace.bin"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
	free(r.err);

	MV(&r, "mmu", "--trace", g_dir);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, g_dir, "is a directory");
	free(r.err);
}

static void test_dommemstat_names_the_vms_when_one_is_missing(void **state)
{
	(void)state;
	struct result r;
	MV(&r, "dommemstat", scenario("2s"), "web-1");
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "web-1", "vm-1, vm-2");
	free(r.err);
}

/* A scenario with a domain file beside it, and no workload (it warns). */
static const char *scenario_with_domain(void)
{
	write_file(scratch("dom.xml"),
		   "<domain type='kvm'><name>a</name>"
		   "<memory unit='MiB'>32</memory></domain>\n");
	const char *p = scratch("with-domain.xml");
	write_file(p, "<scenario name='w' seed='1' duration='1s' "
		      "step='10ms' stats-interval='1s'>\n"
		      "  <host><memory unit='MiB'>64</memory></host>\n"
		      "  <vm file='dom.xml'/>\n"
		      "</scenario>\n");
	return p;
}

static void assert_unchanged(const char *path, const char *needle)
{
	char *text = mvt_slurp(path, NULL);
	assert_non_null(text);
	if (!strstr(text, needle))
		fail_msg("%s was overwritten:\n%s", path, text);
	free(text);
}

static void test_output_over_an_input_or_another_output_exits_2(void **state)
{
	(void)state;
	const char *sc = scenario_with_domain();
	struct result r;
	MV(&r, "run", "-q", "-o", sc, sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--output", "is the scenario");
	free(r.err);
	assert_unchanged(sc, "<scenario");

	/* the domain file, through a hard link */
	const char *hl = scratch("dom-link.xml");
	assert_int_equal(link(scratch("dom.xml"), hl), 0);
	MV(&r, "run", "-q", "-o", hl, sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--output", "domain file");
	free(r.err);
	assert_unchanged(scratch("dom.xml"), "<domain");

	/* -o inside the --csv set */
	const char *dir = scratch("set");
	assert_int_equal(mkdir(dir, 0700), 0);
	char in_set[600];
	snprintf(in_set, sizeof in_set, "%s/./vm-a.csv", dir);
	MV(&r, "run", "-q", "--csv", dir, "-o", in_set, sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "vm-a.csv", "overwrite the other");
	free(r.err);
	assert_int_equal(access(in_set, F_OK), -1);

	/* the same folder for both sets is fine: the names differ */
	MV(&r, "run", "-q", "--csv", dir, "--svg", dir, "-o", "/dev/null", sc);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	free(r.err);
}

static void test_bad_view_folders_exit_2_before_the_run(void **state)
{
	(void)state;
	const char *sc = scenario_with_domain();
	struct result r;
	/* a dangling symbolic link: refused, not created after the run */
	const char *dl = scratch("dangling");
	assert_int_equal(symlink("nowhere", dl), 0);
	MV(&r, "run", "-q", "--svg", dl, sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "symbolic link to 'nowhere'",
			       "does not exist");
	free(r.err);

	/* a FIFO is named for what it is */
	const char *ff = scratch("views.fifo");
	assert_int_equal(mkfifo(ff, 0600), 0);
	MV(&r, "run", "-q", "--csv", ff, sc);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "is a FIFO", "not a directory");
	free(r.err);

	/* a directory where a file of the set goes */
	const char *c3 = scratch("c3");
	char sub[600];
	snprintf(sub, sizeof sub, "%s/host.csv", c3);
	assert_int_equal(mkdir(c3, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	double t0 = now_s();
	MV(&r, "run", "-q", "--csv", c3, scenario("1h"));
	assert_true(now_s() - t0 < 10);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "host.csv", "is a directory");
	free(r.err);
}

static void test_replacing_a_file_keeps_its_mode(void **state)
{
	(void)state;
	const char *p = scratch("perm.txt");
	write_file(p, "old\n");
	assert_int_equal(chmod(p, 0600), 0);
	struct result r;
	MV(&r, "run", "-q", "-o", p, scenario("2s"));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	free(r.err);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_unchanged(p, "vm-1");
}

static void test_warnings_come_only_after_power_on(void **state)
{
	(void)state;
	/* no workload (a warning) and a guarantee the host cannot give:
	 * the error alone */
	const char *bad = scratch("no-workload-too-much.xml");
	write_file(bad, "<scenario duration=\"2s\">\n"
			"  <host><memory unit=\"MiB\">64</memory></host>\n"
			"  <vm count=\"2\"><domain type=\"kvm\"><name>a"
			"</name><memory unit=\"MiB\">48</memory><memtune>"
			"<min_guarantee unit=\"MiB\">40</min_guarantee>"
			"</memtune></domain></vm>\n"
			"</scenario>\n");
	struct result r;
	MV(&r, "run", "-q", bad);
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "min_guarantee", "cannot power on");
	free(r.err);
	MV(&r, "dommemstat", bad, "a-1");
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "min_guarantee", "cannot power on");
	free(r.err);
	/* a scenario that powers on still warns */
	MV(&r, "run", "-q", "-o", "/dev/null", scenario_with_domain());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "memvisor: warning: "));
	free(r.err);
}

/* A scenario whose one VM is the domain file `file` (relative to it). */
static const char *scenario_naming(const char *file)
{
	char text[1024];
	snprintf(text, sizeof text,
		 "<scenario name='n' duration='1s'>\n"
		 "  <host><memory unit='MiB'>64</memory></host>\n"
		 "  <vm file='%s'/>\n"
		 "</scenario>\n",
		 file);
	const char *p = scratch("naming.xml");
	write_file(p, text);
	return p;
}

static void test_bad_domain_files_are_named_for_what_they_are(void **state)
{
	(void)state;
	struct result r;
	assert_int_equal(mkfifo(scratch("dom.fifo"), 0600), 0);
	MV(&r, "run", "-q", scenario_naming("dom.fifo"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "vm/file", "is a FIFO, not a regular file");
	free(r.err);

	if (mknod(scratch("dom.dev"), S_IFCHR | 0666, makedev(1, 3)) == 0) {
		MV(&r, "run", "-q", scenario_naming("dom.dev"));
		assert_int_equal(r.status, 2);
		assert_one_line_naming(&r, "vm/file",
				       "is a character device, not a regular");
		free(r.err);
		unlink(scratch("dom.dev"));
	}

	int fd = open(scratch("dom.big"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65 * 1024 * 1024), 0); /* sparse */
	close(fd);
	MV(&r, "run", "-q", scenario_naming("dom.big"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "vm/file", "larger than the 64 MiB limit");
	free(r.err);
	unlink(scratch("dom.big"));
}

/* A scenario whose one VM has the <memtune> children given. */
static const char *scenario_memtune(const char *memtune)
{
	char text[1024];
	snprintf(text, sizeof text,
		 "<scenario name='m' duration='1s'>\n"
		 "  <host><memory unit='MiB'>256</memory></host>\n"
		 "  <vm><domain><name>a</name><memory unit='MiB'>64</memory>"
		 "<memtune>%s</memtune></domain></vm>\n"
		 "</scenario>\n",
		 memtune);
	const char *p = scratch("memtune.xml");
	write_file(p, text);
	return p;
}

static void test_messages_name_the_real_cause(void **state)
{
	(void)state;
	struct result r;
	/* a size past the limit is too large, not malformed */
	MV(&r, "run", "-q",
	   scenario_memtune("<min_guarantee unit='EiB'>16</min_guarantee>"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "too large", "16 EiB");
	free(r.err);
	/* a duration past the limit is too long */
	MV(&r, "run", "-q", "--duration", "100000000h", scenario("2s"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--duration", "too long");
	free(r.err);
	MV(&r, "run", "-q", "--duration", "5 fortnights", scenario("2s"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "--duration", "not a duration");
	free(r.err);
	/* swap_hard_limit with no hard_limit: the VM's memory bounds it */
	MV(&r, "run", "-q",
	   scenario_memtune(
		   "<swap_hard_limit unit='MiB'>32</swap_hard_limit>"));
	assert_int_equal(r.status, 2);
	assert_one_line_naming(&r, "below the VM's memory",
			       "no memtune/hard_limit");
	free(r.err);
}

/* ---------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "%s/mvout.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return mvt_rm_tree(g_dir);
}

int main(void)
{
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	if (access(g_bin, X_OK) != 0) {
		fprintf(stderr, "test_outputs: %s: not found (set MV_BIN)\n",
			g_bin);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_output_to_a_fifo_is_written_through_and_stays_a_fifo),
		cmocka_unit_test(
			test_output_to_a_device_node_is_written_in_place),
		cmocka_unit_test(
			test_output_through_a_symlink_replaces_the_target_not_the_link),
		cmocka_unit_test(
			test_output_to_a_directory_exits_2_before_the_run),
		cmocka_unit_test(
			test_output_to_a_socket_or_block_device_is_refused),
		cmocka_unit_test(
			test_view_folders_appear_only_with_their_files),
		cmocka_unit_test(
			test_csv_before_the_scenario_does_not_take_it_as_the_folder),
		cmocka_unit_test(
			test_bad_scenario_paths_exit_2_naming_the_file),
		cmocka_unit_test(
			test_sigterm_and_sigint_stop_the_run_and_leave_nothing),
		cmocka_unit_test(test_a_signal_ends_the_wait_for_a_fifo_reader),
		cmocka_unit_test(
			test_forced_progress_on_a_terminal_is_redrawn_in_place),
		cmocka_unit_test(test_a_short_run_is_quiet_even_on_a_terminal),
		cmocka_unit_test(test_a_long_run_shows_progress_after_5_s),
		cmocka_unit_test(
			test_forced_progress_writes_lines_on_stderr_only),
		cmocka_unit_test(
			test_books_go_to_stderr_in_the_documented_format),
		cmocka_unit_test(test_verify_reports_what_it_checked),
		cmocka_unit_test(
			test_mmu_convert_refuses_a_fifo_and_follows_a_symlink),
		cmocka_unit_test(
			test_dommemstat_names_the_vms_when_one_is_missing),
		cmocka_unit_test(
			test_output_over_an_input_or_another_output_exits_2),
		cmocka_unit_test(test_bad_view_folders_exit_2_before_the_run),
		cmocka_unit_test(test_replacing_a_file_keeps_its_mode),
		cmocka_unit_test(test_warnings_come_only_after_power_on),
		cmocka_unit_test(
			test_bad_domain_files_are_named_for_what_they_are),
		cmocka_unit_test(test_messages_name_the_real_cause),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

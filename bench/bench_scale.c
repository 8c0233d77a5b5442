/*
 * bench_scale.c - `make bench-scale`: what a run costs as hosts grow.
 *
 * Runs `memvisor run --progress=1s --books SCENARIO` for the demo and the
 * production-scale scenarios of examples/scale/, one at a time, each in a
 * child process measured with wait4 (peak RSS, ru_maxrss) and the wall
 * clock, and prints for each: wall s, peak RSS, RSS per simulated GiB of
 * configured guest memory, wall s per simulated VM-hour, simulated s per
 * wall s, and the simulator's books per guest page by structure (the
 * child's `--books` lines), then each figure's ratio to the demo measured
 * in the same run, so that machines and engines can be compared.
 *
 * The machine is shared and has 24 GiB: a watchdog reads each child's RSS
 * (/proc/PID/status, every 100 ms) and kills it (SIGKILL: its swap files
 * are unnamed and go with it) above BENCH_RSS_CAP GiB (default 16), or
 * after BENCH_WALL_CAP seconds (default 1800; 300 for host256, the
 * issue's budget), and says so: "killed: over 16 GiB RSS at sim
 * 00:12:00", the simulated time from the child's last progress line. The
 * figures of a killed run cover the time it ran; its books are the
 * last ones printed (after power-on).
 *
 * Environment: BENCH_SCALE, the runs to do (default "demo 16g 128g 256g
 * dc"); BENCH_RSS_CAP (GiB), BENCH_WALL_CAP (s); BENCH_DURATION, a
 * --duration for every run (quick measurements). argv[1]: the memvisor
 * binary (default build/memvisor). Run from the source root.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memvisor/sim.h"

#define MAX_BOOKS 80

struct run_def {
	const char *key, *path;
	double wall_cap_s; /* default cap; 0: BENCH_WALL_CAP's default */
};

static const struct run_def g_defs[] = {
	{"demo", "examples/overcommit.xml", 0},
	{"16g", "examples/scale/host16g.xml", 0},
	{"128g", "examples/scale/host128g.xml", 0},
	{"256g", "examples/scale/host256.xml", 300},
	{"dc", "examples/scale/datacenter.xml", 0},
};
#define NDEFS (int)(sizeof g_defs / sizeof *g_defs)

struct book {
	char name[80]; /* "hypervisor vm.pmap" or "total hypervisor" */
	double per_page;
};

struct run {
	const struct run_def *def;
	/* from the scenario */
	double host_gib, guest_gib, duration_s;
	int nvms;
	/* measured */
	double wall_s, sim_s, peak_rss_gib, cap_s;
	int started;         /* a progress line of simulated time came */
	int done;            /* ran to the end, exit 0 */
	char status[160];    /* "ok", "killed: ...", "failed: ..." */
	char books_when[16]; /* "end", "start" or "" */
	int nbooks;
	struct book books[MAX_BOOKS];
	char last_err[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double env_num(const char *name, double def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	double d = strtod(v, &end);
	if (*end || !(d > 0)) {
		fprintf(stderr,
			"bench-scale: %s='%s' is not a number above 0\n", name,
			v);
		exit(2);
	}
	return d;
}

/* The child's current RSS in GiB (0 once gone). */
static double rss_gib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	double kib = 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib / (1024.0 * 1024.0);
}

static void hms(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);
	snprintf(buf, n, "%02ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* One line of the child's stderr: progress, books, or anything else. */
static void take_line(struct run *r, const char *line)
{
	unsigned h, m, s;
	char when[16], group[32], name[48];
	double per;
	unsigned long long a, b, c;
	if (sscanf(line, "progress: %u:%u:%u of", &h, &m, &s) == 3) {
		r->sim_s = h * 3600.0 + m * 60.0 + s;
		r->started = 1;
		return;
	}
	int item = sscanf(line,
			  "books: %15s %31s %47s %llu x %llu = %llu B "
			  "%lf B/page",
			  when, group, name, &a, &b, &c, &per) == 7;
	int total = !item && sscanf(line,
				    "books: %15s total %31s %llu B %lf "
				    "B/page",
				    when, group, &a, &per) == 4;
	if (item || total) {
		if (strcmp(when, r->books_when) != 0) {
			/* "end" replaces "start" */
			snprintf(r->books_when, sizeof r->books_when, "%s",
				 when);
			r->nbooks = 0;
		}
		if (r->nbooks < MAX_BOOKS) {
			struct book *bk = &r->books[r->nbooks++];
			snprintf(bk->name, sizeof bk->name, "%s %s",
				 item ? group : "total", item ? name : group);
			bk->per_page = per;
		}
		return;
	}
	if (strncmp(line, "books: ", 7) != 0)
		snprintf(r->last_err, sizeof r->last_err, "%s", line);
}

/* Read what the child wrote; whole lines go to take_line. */
static void drain(int fd, struct run *r, char *buf, size_t *len, size_t cap)
{
	for (;;) {
		ssize_t k = read(fd, buf + *len, cap - 1 - *len);
		if (k <= 0)
			return;
		*len += (size_t)k;
		buf[*len] = '\0';
		char *start = buf, *nl;
		while ((nl = strchr(start, '\n')) != NULL) {
			*nl = '\0';
			take_line(r, start);
			start = nl + 1;
		}
		*len = strlen(start);
		memmove(buf, start, *len + 1);
		if (*len == cap - 1)
			*len = 0; /* a line too long to be ours */
	}
}

static void run_one(const char *bin, struct run *r, double rss_cap,
		    const char *duration)
{
	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		exit(1);
	}
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		const char *argv[10] = {bin, "run", "--progress=1s", "--books"};
		int n = 4;
		if (duration) {
			argv[n++] = "--duration";
			argv[n++] = duration;
		}
		argv[n++] = r->def->path;
		argv[n] = NULL;
		execv(bin, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	char buf[8192];
	size_t len = 0;
	int killed = 0;
	struct rusage ru;
	int ws = 0;
	for (;;) {
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		poll(&pf, 1, 100);
		drain(p[0], r, buf, &len, sizeof buf);
		pid_t w = wait4(pid, &ws, WNOHANG, &ru);
		if (w == pid)
			break;
		if (killed)
			continue;
		double rss = rss_gib(pid), wall = now_s() - t0;
		char at[64] = "power-on";
		if (r->started) {
			char t[40];
			hms(r->sim_s, t, sizeof t);
			snprintf(at, sizeof at, "sim %s", t);
		}
		if (rss > rss_cap) {
			snprintf(r->status, sizeof r->status,
				 "killed: over %.0f GiB RSS at %s", rss_cap,
				 at);
			killed = 1;
		} else if (wall > r->cap_s) {
			snprintf(r->status, sizeof r->status,
				 "killed: over %.0f s wall at %s", r->cap_s,
				 at);
			killed = 1;
		}
		if (killed)
			kill(pid, SIGKILL);
	}
	r->wall_s = now_s() - t0;
	drain(p[0], r, buf, &len, sizeof buf);
	close(p[0]);
	r->peak_rss_gib = (double)ru.ru_maxrss / (1024.0 * 1024.0);
	if (!killed) {
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
			r->done = 1;
			snprintf(r->status, sizeof r->status, "ok");
		} else {
			snprintf(r->status, sizeof r->status,
				 "failed: %s %d: %.100s",
				 WIFEXITED(ws) ? "exit" : "signal",
				 WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws),
				 r->last_err);
		}
	}
}

static int load_figures(struct run *r, const char *duration)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	if (mv_scenario_load(r->def->path, &sc, &err) != 0) {
		char msg[512];
		mv_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "bench-scale: %s\n", msg);
		return -1;
	}
	r->host_gib = (double)sc->host.mem_bytes / MV_GIB;
	r->nvms = sc->nvms;
	uint64_t g = 0;
	for (int i = 0; i < sc->nvms; i++)
		g += sc->vms[i].vm.mem_bytes;
	r->guest_gib = (double)g / MV_GIB;
	r->duration_s = (double)sc->duration_ns / MV_NS_PER_S;
	if (duration) {
		uint64_t ns;
		if (mv_parse_duration(duration, &ns) || !ns) {
			fprintf(stderr,
				"bench-scale: BENCH_DURATION='%s' is not a "
				"duration\n",
				duration);
			exit(2);
		}
		r->duration_s = (double)ns / MV_NS_PER_S;
	}
	mv_scenario_free(sc);
	return 0;
}

/* Figures derived from a run; < 0 when there is nothing to divide by. */
static double rss_per_gib(const struct run *r)
{
	return r->guest_gib > 0 ? r->peak_rss_gib * 1024 / r->guest_gib : -1;
}

static double wall_per_vm_hour(const struct run *r)
{
	double vmh = r->nvms * r->sim_s / 3600;
	return vmh > 0 ? r->wall_s / vmh : -1;
}

static double sim_rate(const struct run *r)
{
	return r->wall_s > 0 && r->sim_s > 0 ? r->sim_s / r->wall_s : -1;
}

static void cell(double v, const char *fmt, int width)
{
	if (v < 0) {
		printf(" %*s", width, "-");
		return;
	}
	char b[32];
	snprintf(b, sizeof b, fmt, v);
	printf(" %*s", width, b);
}

static void ratio(double a, double b, int width)
{
	if (a < 0 || b <= 0) {
		printf(" %*s", width, "-");
		return;
	}
	char s[32];
	snprintf(s, sizeof s, "%.2fx", a / b);
	printf(" %*s", width, s);
}

static void print_books(const struct run *runs, int n)
{
	printf("\nbooks: bytes per configured guest page by structure "
	       "(memvisor run --books;\nthe end of the run, or after "
	       "power-on for a run that did not finish: '*')\n");
	printf("%-34s", "structure");
	for (int i = 0; i < n; i++)
		printf(" %9s%s", runs[i].def->key,
		       strcmp(runs[i].books_when, "end") ? "*" : " ");
	printf("\n");
	/* every structure any run has, in the order first seen */
	char names[MAX_BOOKS * 2][80];
	int nn = 0;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < runs[i].nbooks; b++) {
			int seen = 0;
			for (int k = 0; k < nn && !seen; k++)
				seen = !strcmp(names[k], runs[i].books[b].name);
			if (!seen && nn < MAX_BOOKS * 2)
				snprintf(names[nn++], sizeof names[0], "%s",
					 runs[i].books[b].name);
		}
	for (int k = 0; k < nn; k++) {
		printf("%-34s", names[k]);
		for (int i = 0; i < n; i++) {
			double v = -1;
			for (int b = 0; b < runs[i].nbooks; b++)
				if (!strcmp(runs[i].books[b].name, names[k]))
					v = runs[i].books[b].per_page;
			cell(v, "%.2f", 9);
			printf(" ");
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/memvisor";
	const char *which = getenv("BENCH_SCALE");
	if (!which || !*which)
		which = "demo 16g 128g 256g dc";
	double rss_cap = env_num("BENCH_RSS_CAP", 16);
	const char *wall_env = getenv("BENCH_WALL_CAP");
	double wall_cap = env_num("BENCH_WALL_CAP", 1800);
	const char *duration = getenv("BENCH_DURATION");
	if (duration && !*duration)
		duration = NULL;
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "bench-scale: %s: %s (make all first)\n", bin,
			strerror(errno));
		return 2;
	}

	struct run runs[NDEFS];
	int n = 0;
	char list[256];
	snprintf(list, sizeof list, "%s", which);
	for (char *save = NULL, *w = strtok_r(list, " ,", &save); w;
	     w = strtok_r(NULL, " ,", &save)) {
		int d = 0;
		while (d < NDEFS && strcmp(g_defs[d].key, w))
			d++;
		if (d == NDEFS) {
			fprintf(stderr,
				"bench-scale: unknown run '%s' in "
				"BENCH_SCALE (demo 16g 128g 256g dc)\n",
				w);
			return 2;
		}
		if (n == NDEFS)
			break;
		memset(&runs[n], 0, sizeof runs[n]);
		runs[n].def = &g_defs[d];
		runs[n].cap_s = !wall_env && g_defs[d].wall_cap_s
					? g_defs[d].wall_cap_s
					: wall_cap;
		if (load_figures(&runs[n], duration))
			return 2;
		n++;
	}

	printf("bench-scale: %s run --progress=1s --books%s%s, each in a "
	       "child measured with wait4;\ncaps: RSS %.1f GiB, wall %.0f "
	       "s%s\n",
	       bin, duration ? " --duration " : "", duration ? duration : "",
	       rss_cap, wall_cap,
	       wall_env ? "" : " (256g: 300 s, the issue's budget)");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		fprintf(stderr, "bench-scale: %s (%s)...\n", runs[i].def->key,
			runs[i].def->path);
		run_one(bin, &runs[i], rss_cap, duration);
		if (runs[i].done)
			runs[i].sim_s = runs[i].duration_s;
		fprintf(stderr, "bench-scale: %s: %s, %.1f s\n",
			runs[i].def->key, runs[i].status, runs[i].wall_s);
	}

	printf("\n%-5s %6s %4s %6s %9s %9s %8s %8s %9s %9s %8s  %s\n", "run",
	       "host", "VMs", "guest", "sim", "of", "wall", "peak", "RSS MiB",
	       "wall s", "sim s", "status");
	printf("%-5s %6s %4s %6s %9s %9s %8s %8s %9s %9s %8s\n", "", "GiB", "",
	       "GiB", "done", "", "s", "RSS GiB", "/guest GiB", "/VM-hour",
	       "/wall s");
	for (int i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		char done[40], of[40];
		hms(r->sim_s, done, sizeof done);
		hms(r->duration_s, of, sizeof of);
		printf("%-5s %6.0f %4d %6.0f %9s %9s", r->def->key, r->host_gib,
		       r->nvms, r->guest_gib, done, of);
		cell(r->wall_s, "%.1f", 8);
		cell(r->peak_rss_gib, "%.2f", 8);
		cell(rss_per_gib(r), "%.1f", 9);
		cell(wall_per_vm_hour(r), "%.1f", 9);
		cell(sim_rate(r), "%.2f", 8);
		printf("  %s\n", r->status);
	}

	const struct run *demo = NULL;
	for (int i = 0; i < n && !demo; i++)
		if (!strcmp(runs[i].def->key, "demo"))
			demo = &runs[i];
	if (demo && n > 1) {
		printf("\nratio to the demo in this run (RSS per guest GiB, "
		       "wall "
		       "s per VM-hour: lower is better;\nsim s per wall s: "
		       "higher is better)\n");
		printf("%-5s %10s %10s %10s\n", "run", "RSS/GiB", "wall/VM-h",
		       "sim-s/s");
		for (int i = 0; i < n; i++) {
			const struct run *r = &runs[i];
			if (r == demo)
				continue;
			printf("%-5s", r->def->key);
			ratio(rss_per_gib(r), rss_per_gib(demo), 10);
			ratio(wall_per_vm_hour(r), wall_per_vm_hour(demo), 10);
			ratio(sim_rate(r), sim_rate(demo), 10);
			printf("\n");
		}
	}
	print_books(runs, n);
	return 0;
}

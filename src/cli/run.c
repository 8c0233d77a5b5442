/*
 * run.c - `memvisor run`: load a scenario, simulate it, print the report.
 *
 * Steps: parse options (getopt_long), load the scenario, check every
 * output path (-o, --csv, --svg) before anything is simulated, apply
 * --seed and --duration, build the simulator (power-on), run it with a
 * progress line on stderr (only when stderr is a terminal and not
 * --quiet), then write the text or JSON report. With --output FILE the
 * report goes to a temporary file next to FILE that is renamed over it
 * only once completely written, so a failed or interrupted run never leaves
 * a half-written report behind; a FIFO or character device is written in
 * place, a symbolic link followed (report/outset.c).
 *
 * SIGINT and SIGTERM stop the run between steps (or interrupt a write
 * waiting for a FIFO's reader): the simulator is torn down (its swap files
 * go), temporary output files are removed, no report is written, and the
 * exit status is 128 + the signal (130, 143), as a shell reports a command
 * the signal ended. A second signal ends the process at once.
 *
 * Exit statuses: 2 for usage errors and bad input (the scenario, its
 * domains, option values, output paths), 1 for failures while running (an
 * invariant check, I/O), 0 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

void mv_cli_run_help(FILE *f)
{
	fputs("usage: memvisor run [OPTIONS] SCENARIO\n"
	      "\n"
	      "Simulate the host and virtual machines described in SCENARIO\n"
	      "(an XML file, see docs/scenario.md) and print a summary: the\n"
	      "VMs' memory in esxtop's terms, what page sharing, ballooning,\n"
	      "compression and swapping took back, faults, stall time, the "
	      "guests'\n"
	      "own statistics and the host's free memory over time.\n"
	      "\n"
	      "Options:\n"
	      "      --json          print the whole run as JSON "
	      "(docs/json.md)\n"
	      "  -o, --output FILE   write the report to FILE instead of "
	      "standard output\n"
	      "                      (replaced only once completely written; "
	      "a FIFO or\n"
	      "                      device is written in place, a symbolic "
	      "link is\n"
	      "                      followed; a directory is refused)\n"
	      "      --csv DIR       also write the time series as CSV: "
	      "DIR/host.csv and\n"
	      "                      DIR/vm-NAME.csv, a row per stats "
	      "interval, esxtop's\n"
	      "                      column names (docs/views.md); DIR is "
	      "created (one\n"
	      "                      level) when the run has written its "
	      "files\n"
	      "      --svg DIR       also draw charts: DIR/host.svg and "
	      "DIR/vm-NAME.svg\n"
	      "      --seed N        use seed N instead of the scenario's\n"
	      "      --duration T    simulate T instead of the scenario's "
	      "duration\n"
	      "                      (e.g. 300s, 5m, 2h, 500ms)\n"
	      "      --verify        check every invariant after every step, "
	      "including\n"
	      "                      that no guest byte changed (slow); the "
	      "report says\n"
	      "                      how many checks and pages it compared\n"
	      "      --exact         simulate every access (the reference "
	      "model)\n"
	      "      --interval      simulate accesses as per-page rates, "
	      "with events only\n"
	      "                      where an access costs something (fast; "
	      "guests with an\n"
	      "                      MMU model or a trace workload stay "
	      "exact); the default\n"
	      "                      is --exact up to 2e7 estimated accesses, "
	      "else --interval,\n"
	      "                      and the report names the interval model "
	      "when used\n"
	      "      --top           on a terminal, a live esxtop-like screen "
	      "while the\n"
	      "                      simulation runs (keys: n m g a b s z "
	      "sort, p pause,\n"
	      "                      q stop early); the report follows\n"
	      "      --timing        print the run's measured wall-clock time "
	      "and the sharing\n"
	      "                      scanner's measured CPU on standard error "
	      "(the report\n"
	      "                      holds only simulated, reproducible "
	      "figures)\n"
	      "  -q, --quiet         no progress line (it shows simulated "
	      "time, "
	      "the rate\n"
	      "                      in simulated s per wall s and the ETA; "
	      "only on a\n"
	      "                      terminal)\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Output paths are checked before the run starts. SIGINT or "
	      "SIGTERM stops\n"
	      "the run and writes no report.\n"
	      "Exit status: 0 success, 1 the run failed, 2 usage error or bad "
	      "input\n"
	      "(the scenario, an option, an output path), 130/143 stopped by "
	      "SIGINT/SIGTERM.\n",
	      f);
}

struct run_opts {
	int json, verify, quiet, top, timing;
	enum mv_access_model model;
	int have_seed, have_duration;
	uint64_t seed, duration_ns;
	const char *output;
	const char *csv_dir, *svg_dir;
	const char *scenario;
};

/*
 * The progress line: drawn on stderr only when it is a terminal, at once
 * (power-on of large VMs takes seconds) and then every DRAW_S of wall
 * time: the bar, simulated time, the rate (simulated seconds per wall
 * second) and the time left at that rate.
 */
struct progress {
	int enabled;
	int drawn;
	double start_s; /* wall clock when simulating started */
	double last_s;  /* wall clock of the last draw */
	/* the rate is measured over the last RATE_S to 2 * RATE_S of wall
	 * time: the first steps (first touches of guest memory) are far
	 * slower than the rest and would spoil an average since the start */
	double mark_wall[2], mark_sim[2];
};

#define BAR_WIDTH 20
#define LINE_WIDTH 79
#define DRAW_S 0.2
#define RATE_S 3.0
/* an ETA once ETA_MIN_WALL_S of wall time and ETA_MIN_FRACTION of the
 * simulated duration have passed (or ETA_ANYWAY_S, for long runs);
 * "ETA --" before */
#define ETA_MIN_WALL_S 1.0
#define ETA_MIN_FRACTION 0.02
#define ETA_ANYWAY_S 10.0

static volatile sig_atomic_t g_signal; /* SIGINT or SIGTERM received */

static void on_signal(int sig)
{
	if (g_signal) {
		/* the second one: the user insists */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	g_signal = sig;
}

/* Without SA_RESTART, so that a blocked open or write returns EINTR. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The exit status after a signal stopped the run. */
static int interrupted(void)
{
	mv_cli_errorf("stopped by %s: no report written",
		      g_signal == SIGINT ? "SIGINT" : "SIGTERM");
	return 128 + g_signal;
}

static void progress_line(struct progress *p, const char *line)
{
	fprintf(stderr, "\r%-*.*s", LINE_WIDTH, LINE_WIDTH, line);
	fflush(stderr);
	p->drawn = 1;
	p->last_s = mv_wall_s();
}

static void format_eta(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, n, "%lds", t);
	else if (t < 3600)
		snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

/*
 * Power-on (mv_sim_create: every VM's memory, swap file, sampler and
 * guest boot) takes seconds for large VMs and reports nothing on the way,
 * so a thread redraws the line with the time spent while it lasts.
 */
struct power_on {
	struct progress *p;
	char what[96];
	double t0;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	pthread_t thread;
	int running;
};

static void *power_on_ticker(void *arg)
{
	struct power_on *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		if (w->done)
			break;
		char line[160];
		snprintf(line, sizeof line, "%s %.0f s", w->what,
			 mv_wall_s() - w->t0);
		progress_line(w->p, line);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void power_on_start(struct power_on *w, struct progress *p,
			   const struct mv_scenario *sc)
{
	memset(w, 0, sizeof *w);
	if (!p->enabled)
		return;
	uint64_t bytes = 0;
	for (int i = 0; i < sc->nvms; i++)
		bytes += sc->vms[i].vm.mem_bytes;
	snprintf(w->what, sizeof w->what, "powering on %d VM%s (%.1f GiB)...",
		 sc->nvms, sc->nvms == 1 ? "" : "s",
		 (double)bytes / (double)(1024 * MV_MIB));
	w->p = p;
	w->t0 = mv_wall_s();
	progress_line(p, w->what);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->running = pthread_create(&w->thread, NULL, power_on_ticker, w) == 0;
}

static void power_on_end(struct power_on *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	w->running = 0;
}

static void progress_draw(struct progress *p, const struct mv_sim *sim,
			  int force)
{
	if (!p->enabled)
		return;
	double now = mv_wall_s();
	if (!force && p->drawn && now - p->last_s < DRAW_S)
		return;
	double total = (double)sim->sc->duration_ns / MV_NS_PER_S;
	double done = (double)sim->now_ns / MV_NS_PER_S;
	double frac = total > 0 ? done / total : 1;
	if (frac > 1)
		frac = 1;
	if (now - p->mark_wall[1] >= RATE_S) {
		p->mark_wall[0] = p->mark_wall[1];
		p->mark_sim[0] = p->mark_sim[1];
		p->mark_wall[1] = now;
		p->mark_sim[1] = done;
	}
	double wall = now - p->mark_wall[0];
	double rate = wall > 0 ? (done - p->mark_sim[0]) / wall : 0;
	char eta[32] = "--";
	/* No guess before the rate is measured over enough of the run: the
	 * first steps (first touches, boot) are far slower than the rest,
	 * and an ETA from them reads "33h" for a run of seconds. */
	double since = now - p->start_s;
	if (rate > 0 && since >= ETA_MIN_WALL_S &&
	    (frac >= ETA_MIN_FRACTION || since >= ETA_ANYWAY_S))
		format_eta((total - done) / rate, eta, sizeof eta);
	char bar[BAR_WIDTH + 1], line[160];
	int fill = (int)(frac * BAR_WIDTH);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	snprintf(line, sizeof line,
		 "simulating [%s] %5.1f%%  %.1f/%.1f s  %.1f s/s  ETA %s", bar,
		 frac * 100, done, total, rate, eta);
	progress_line(p, line);
}

static void progress_clear(struct progress *p)
{
	if (p->enabled && p->drawn) {
		fprintf(stderr, "\r%*s\r", LINE_WIDTH, "");
		fflush(stderr);
		p->drawn = 0;
	}
}

/* mv_sim_run with the progress line and a stop on SIGINT/SIGTERM. */
static int run_plain(struct mv_sim *sim, struct progress *p,
		     struct mv_error *err)
{
	double t0 = mv_wall_s();
	p->start_s = p->mark_wall[0] = p->mark_wall[1] = t0;
	int rc = 0;
	progress_draw(p, sim, 1);
	while (!rc && !g_signal && sim->now_ns < sim->sc->duration_ns) {
		rc = mv_sim_step(sim, err);
		progress_draw(p, sim, 0);
	}
	sim->wall_s = mv_wall_s() - t0;
	progress_clear(p);
	return rc;
}

/*
 * Report an option getopt_long rejected: unknown, or a long option given
 * "=value" although it takes none (getopt then sets optopt to its code).
 */
static void bad_option(char **argv, int optind_after, int optopt_c)
{
	const char *arg = argv[optind_after - 1];
	if (arg[0] == '-' && arg[1] == '-') {
		const char *eq = strchr(arg, '=');
		int len = eq ? (int)(eq - arg) : (int)strlen(arg);
		if (optopt_c && eq)
			mv_cli_errorf("option '%.*s' takes no argument (see "
				      "memvisor run --help)",
				      len, arg);
		else
			mv_cli_errorf("unknown option '%.*s' (see memvisor run "
				      "--help)",
				      len, arg);
		return;
	}
	if (optopt_c > ' ' && optopt_c < 127)
		mv_cli_errorf("unknown option '-%c' (see memvisor run --help)",
			      optopt_c);
	else
		mv_cli_errorf("unknown option '%s' (see memvisor run --help)",
			      arg);
}

/* Parse options; returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, struct run_opts *o)
{
	enum {
		OPT_JSON = 256,
		OPT_SEED,
		OPT_DURATION,
		OPT_VERIFY,
		OPT_CSV,
		OPT_SVG,
		OPT_TOP,
		OPT_TIMING,
		OPT_EXACT,
		OPT_INTERVAL
	};
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"output", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"csv", required_argument, NULL, OPT_CSV},
		{"svg", required_argument, NULL, OPT_SVG},
		{"top", no_argument, NULL, OPT_TOP},
		{"timing", no_argument, NULL, OPT_TIMING},
		{"exact", no_argument, NULL, OPT_EXACT},
		{"interval", no_argument, NULL, OPT_INTERVAL},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	opterr = 0;
	optind = 0; /* GNU: full reinitialisation */
	int c;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		struct mv_error err = {0};
		switch (c) {
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_VERIFY:
			o->verify = 1;
			break;
		case OPT_TOP:
			o->top = 1;
			break;
		case OPT_TIMING:
			o->timing = 1;
			break;
		case OPT_EXACT:
		case OPT_INTERVAL: {
			enum mv_access_model m = c == OPT_EXACT
							 ? MV_MODEL_EXACT
							 : MV_MODEL_INTERVAL;
			if (o->model && o->model != m) {
				mv_cli_errorf("--exact and --interval: "
					      "choose one");
				return MV_EXIT_USAGE;
			}
			o->model = m;
			break;
		}
		case 'q':
			o->quiet = 1;
			break;
		case 'o':
			if (!optarg[0]) {
				mv_cli_errorf("--output: empty file name");
				return MV_EXIT_USAGE;
			}
			o->output = optarg;
			break;
		case OPT_CSV:
		case OPT_SVG:
			if (!optarg[0]) {
				mv_cli_errorf("%s: empty directory name",
					      c == OPT_CSV ? "--csv" : "--svg");
				return MV_EXIT_USAGE;
			}
			/* `--csv base.xml` with the folder forgotten: say so
			 * rather than take the scenario for the folder */
			struct stat st;
			if (stat(optarg, &st) == 0 && !S_ISDIR(st.st_mode)) {
				mv_cli_errorf("%s: '%s' is %s, not a "
					      "directory (usage: %s DIR "
					      "SCENARIO)",
					      c == OPT_CSV ? "--csv" : "--svg",
					      optarg, mv_file_kind(st.st_mode),
					      c == OPT_CSV ? "--csv" : "--svg");
				return MV_EXIT_USAGE;
			}
			*(c == OPT_CSV ? &o->csv_dir : &o->svg_dir) = optarg;
			break;
		case OPT_SEED:
			if (mv_parse_u64(optarg, &o->seed) != 0) {
				mv_error_set(&err, MV_EINVAL, NULL, 0, "--seed",
					     "not an unsigned integer: '%s'",
					     optarg);
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			o->have_seed = 1;
			break;
		case OPT_DURATION:
			int prc = mv_parse_duration(optarg, &o->duration_ns);
			if (prc) {
				mv_error_set(
					&err, MV_EINVAL, NULL, 0, "--duration",
					prc == MV_ERANGE
						? "too long: '%s' (durations "
						  "stop below 2^64 ns, about "
						  "570 years)"
						: "not a duration: '%s' (e.g. "
						  "300s, 5m, 2h)",
					optarg);
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			if (o->duration_ns == 0) {
				mv_error_set(&err, MV_EINVAL, NULL, 0,
					     "--duration",
					     "must be greater than zero");
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			o->have_duration = 1;
			break;
		case 'h':
			mv_cli_run_help(stdout);
			return MV_EXIT_OK;
		case ':': {
			const char *arg = argv[optind - 1];
			if (optopt && !(arg[0] == '-' && arg[1] == '-'))
				mv_cli_errorf("option '-%c' needs an argument "
					      "(see memvisor run --help)",
					      optopt);
			else
				mv_cli_errorf("option '%s' needs an argument "
					      "(see memvisor run --help)",
					      arg);
			return MV_EXIT_USAGE;
		}
		default:
			bad_option(argv, optind, optopt);
			return MV_EXIT_USAGE;
		}
	}
	int nargs = argc - optind;
	if (nargs < 1) {
		mv_cli_errorf(
			"run: missing SCENARIO (see memvisor run --help)");
		return MV_EXIT_USAGE;
	}
	if (nargs > 1) {
		mv_cli_errorf(
			"run: expected one SCENARIO, got %d (see memvisor "
			"run --help)",
			nargs);
		return MV_EXIT_USAGE;
	}
	o->scenario = argv[optind];
	return -1;
}

static int write_report(FILE *f, const struct run_opts *o,
			const struct mv_sim *sim)
{
	return o->json ? mv_report_json(f, sim) : mv_report_text(f, sim);
}

struct report_job {
	const struct run_opts *o;
	const struct mv_sim *sim;
};

static int write_job(FILE *f, const void *ctx)
{
	const struct report_job *j = ctx;
	int rc = write_report(f, j->o, j->sim);
	/* stopped while writing: the temporary file goes, not the target */
	return rc ? rc : g_signal ? MV_EIO : 0;
}

/*
 * Write the report to o->output through a temporary file in the same
 * directory, renamed over the target only when complete.
 */
static int write_report_file(const struct run_opts *o, const struct mv_sim *sim)
{
	struct mv_error err = {0};
	struct report_job j = {o, sim};
	if (mv_report_write_file(o->output, write_job, &j, &err) != 0) {
		if (g_signal)
			return interrupted();
		mv_cli_error(&err);
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

/* mv_sim_run with the live screen between steps; q stops early. */
static int run_with_top(struct mv_sim *sim, struct mv_cli_top *top,
			struct mv_error *err)
{
	double t0 = mv_wall_s();
	int rc = 0;
	while (!rc && !top->quit && !g_signal &&
	       sim->now_ns < sim->sc->duration_ns) {
		rc = mv_sim_step(sim, err);
		mv_cli_top_tick(top, sim);
	}
	mv_cli_top_end(top);
	sim->wall_s = mv_wall_s() - t0;
	return rc;
}

/* The --csv and --svg directories, each all or nothing. */
static int write_views(const struct run_opts *o, const struct mv_sim *sim)
{
	struct mv_error err = {0};
	if ((o->csv_dir && mv_report_csv(o->csv_dir, sim, &err) != 0) ||
	    (o->svg_dir && mv_report_svg(o->svg_dir, sim, &err) != 0)) {
		if (g_signal)
			return interrupted();
		mv_cli_error(&err);
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

/* What --verify checked, for a report that does not say it (JSON). */
static void verify_summary(const struct mv_sim *sim)
{
	fprintf(stderr,
		"verify: %llu invariant checks (one per step), %llu pages "
		"(%.1f MiB) compared with what the guest last wrote; nothing "
		"differed\n",
		(unsigned long long)sim->verify_checks,
		(unsigned long long)sim->verify_pages,
		(double)sim->verify_pages * MV_PAGE_SIZE / (double)MV_MIB);
}

int mv_cli_run(int argc, char **argv)
{
	struct run_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;

	struct mv_scenario *sc = NULL;
	st = mv_cli_load_scenario(o.scenario, &sc);
	if (st != MV_EXIT_OK)
		return st;
	/* Output paths before the run: a typo should not cost one. */
	st = mv_cli_check_outputs(sc, o.output, o.csv_dir, o.svg_dir);
	if (st != MV_EXIT_OK) {
		mv_scenario_free(sc);
		return st;
	}
	if (o.have_seed)
		sc->seed = o.seed;
	if (o.have_duration)
		sc->duration_ns = o.duration_ns;
	sc->access_model = o.model;

	g_signal = 0;
	catch_signals();
	struct progress p = {.enabled = !o.quiet && isatty(STDERR_FILENO)};
	struct power_on w;
	power_on_start(&w, &p, sc);
	struct mv_error err = {0};
	struct mv_sim *sim = NULL;
	int rc = mv_sim_create(sc, o.verify, &sim, &err); /* owns sc */
	power_on_end(&w);
	if (rc) {
		progress_clear(&p);
		return mv_cli_load_error(NULL, rc, &err);
	}
	sim->stop = &g_signal;
	/* the scenario powers on: now its warnings (bad input before this
	 * point gets its one error line alone) */
	progress_clear(&p);
	mv_scenario_print_warnings(sim->sc, stderr);

	/* The live screen needs a terminal; elsewhere --top is ignored
	 * and the progress line (if stderr is a terminal) stands in. */
	struct mv_cli_top top = {0};
	if (!g_signal && o.top && isatty(STDOUT_FILENO) &&
	    mv_cli_top_start(&top) == 0) {
		progress_clear(&p);
		rc = run_with_top(sim, &top, &err);
	} else {
		rc = run_plain(sim, &p, &err);
	}
	if (g_signal) {
		mv_sim_destroy(sim);
		return interrupted();
	}
	if (rc) {
		/* An invariant check failing mid-run is a bug, not bad input.
		 */
		if (!err.msg[0])
			snprintf(err.msg, sizeof err.msg, "%s",
				 mv_strerror(rc));
		mv_cli_error(&err);
		mv_sim_destroy(sim);
		return MV_EXIT_FAILURE;
	}

	if (o.output) {
		st = write_report_file(&o, sim);
	} else {
		errno = 0;
		rc = write_report(stdout, &o, sim);
		if (!rc && fflush(stdout) != 0)
			rc = MV_EIO;
		st = MV_EXIT_OK;
		if (rc) {
			mv_cli_errorf("standard output: write error: %s",
				      rc == MV_EIO && errno ? strerror(errno)
							    : mv_strerror(rc));
			st = MV_EXIT_FAILURE;
		}
	}
	if (st == MV_EXIT_OK)
		st = write_views(&o, sim);
	if (st == MV_EXIT_OK && o.verify && o.json)
		verify_summary(sim);
	if (o.timing)
		mv_report_measured(stderr, sim);
	mv_sim_destroy(sim);
	return st;
}

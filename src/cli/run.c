/*
 * run.c - `memvisor run`: load a scenario, simulate it, print the report.
 *
 * Steps: parse options (getopt_long), load the scenario, apply --seed and
 * --duration, build the simulator, run it with a progress bar on stderr
 * (only when stderr is a terminal and not --quiet), then write the text or
 * JSON report. With --output FILE the report goes to a temporary file next
 * to FILE that is renamed over it only once completely written, so a failed
 * or interrupted run never leaves a half-written report behind.
 *
 * Exit statuses: 2 for usage errors and bad input (the scenario, its
 * domains, option values), 1 for failures while running (an invariant
 * check, I/O), 0 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

#define BAR_WIDTH 40

void mv_cli_run_help(FILE *f)
{
	fputs("usage: memvisor run [OPTIONS] SCENARIO\n"
	      "\n"
	      "Simulate the host and virtual machines described in SCENARIO\n"
	      "(an XML file, see docs/scenario.md) and print a summary: the\n"
	      "VMs' memory in esxtop's terms, what page sharing, ballooning,\n"
	      "compression and swapping took back, faults, stall time, the guests'\n"
	      "own statistics and the host's free memory over time.\n"
	      "\n"
	      "Options:\n"
	      "      --json          print the whole run as JSON "
	      "(docs/json.md)\n"
	      "  -o, --output FILE   write the report to FILE instead of "
	      "standard output\n"
	      "                      (replaced only once completely written)\n"
	      "      --csv DIR       also write the time series as CSV: "
	      "DIR/host.csv and\n"
	      "                      DIR/vm-NAME.csv, a row per stats "
	      "interval, esxtop's\n"
	      "                      column names (docs/views.md); DIR is "
	      "created if missing\n"
	      "      --svg DIR       also draw charts: DIR/host.svg and "
	      "DIR/vm-NAME.svg\n"
	      "      --seed N        use seed N instead of the scenario's\n"
	      "      --duration T    simulate T instead of the scenario's "
	      "duration\n"
	      "                      (e.g. 300s, 5m, 2h, 500ms)\n"
	      "      --verify        check every invariant after every step, "
	      "including\n"
	      "                      that no guest byte changed (slow)\n"
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
	      "  -q, --quiet         no progress bar\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 the run failed, 2 usage error or bad "
	      "input.\n",
	      f);
}

struct run_opts {
	int json, verify, quiet, top, timing;
	int have_seed, have_duration;
	uint64_t seed, duration_ns;
	const char *output;
	const char *csv_dir, *svg_dir;
	const char *scenario;
};

/*
 * Progress bar state: drawn on stderr only when it is a terminal, and only
 * once the run has taken a moment, so short runs print nothing extra.
 */
struct progress {
	int enabled;
	int drawn;
	int last;       /* last permille drawn */
	double start_s; /* wall clock at the start of the run */
};

#define PROGRESS_DELAY_S 0.3

static void progress_draw(double frac, void *ctx)
{
	struct progress *p = ctx;
	if (!p->enabled)
		return;
	if (!p->drawn && mv_wall_s() - p->start_s < PROGRESS_DELAY_S)
		return;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	int permille = (int)(frac * 1000);
	if (p->drawn && permille == p->last)
		return;
	p->last = permille;
	p->drawn = 1;
	int fill = (int)(frac * BAR_WIDTH);
	char bar[BAR_WIDTH + 1];
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\rsimulating [%s] %5.1f%%", bar, permille / 10.0);
	fflush(stderr);
}

static void progress_clear(struct progress *p)
{
	if (p->enabled && p->drawn) {
		fprintf(stderr, "\r%*s\r", BAR_WIDTH + 24, "");
		fflush(stderr);
		p->drawn = 0;
	}
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
	enum { OPT_JSON = 256, OPT_SEED, OPT_DURATION, OPT_VERIFY, OPT_CSV,
	       OPT_SVG, OPT_TOP, OPT_TIMING };
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
		case OPT_JSON: o->json = 1; break;
		case OPT_VERIFY: o->verify = 1; break;
		case OPT_TOP: o->top = 1; break;
		case OPT_TIMING: o->timing = 1; break;
		case 'q': o->quiet = 1; break;
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
			if (mv_parse_duration(optarg, &o->duration_ns) != 0) {
				mv_error_set(&err, MV_EINVAL, NULL, 0,
					     "--duration",
					     "not a duration: '%s' (e.g. 300s, "
					     "5m, 2h)",
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
		mv_cli_errorf("run: missing SCENARIO (see memvisor run --help)");
		return MV_EXIT_USAGE;
	}
	if (nargs > 1) {
		mv_cli_errorf("run: expected one SCENARIO, got %d (see memvisor "
			      "run --help)",
			      nargs);
		return MV_EXIT_USAGE;
	}
	o->scenario = argv[optind];
	return -1;
}

/* Bad input (the user can fix it) or a failure while running? */
static int status_for(int code)
{
	return code == MV_EINVAL || code == MV_ENOENT ? MV_EXIT_USAGE
						      : MV_EXIT_FAILURE;
}

int mv_cli_load_error(const char *path, int rc, struct mv_error *err)
{
	if (path && !err->file[0])
		snprintf(err->file, sizeof err->file, "%s", path);
	if (!err->msg[0])
		snprintf(err->msg, sizeof err->msg, "%s", mv_strerror(rc));
	mv_cli_error(err);
	return status_for(rc);
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
	return write_report(f, j->o, j->sim);
}

/*
 * Write the report to o->output through a temporary file in the same
 * directory, renamed over the target only when complete.
 */
static int write_report_file(const struct run_opts *o,
			     const struct mv_sim *sim)
{
	struct mv_error err = {0};
	struct report_job j = {o, sim};
	if (mv_report_write_file(o->output, write_job, &j, &err) != 0) {
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
	while (!rc && !top->quit && sim->now_ns < sim->sc->duration_ns) {
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
		mv_cli_error(&err);
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

int mv_cli_run(int argc, char **argv)
{
	struct run_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;

	struct mv_error err = {0};
	struct mv_scenario *sc = NULL;
	int rc = mv_scenario_load(o.scenario, &sc, &err);
	if (rc)
		return mv_cli_load_error(o.scenario, rc, &err);
	/* Output directories before the run: a typo should not cost one. */
	const char *dirs[] = {o.csv_dir, o.svg_dir};
	for (int i = 0; i < 2; i++) {
		if (dirs[i] && mv_report_outdir_prepare(dirs[i], &err) != 0) {
			snprintf(err.field, sizeof err.field, "%s",
				 i ? "--svg" : "--csv");
			mv_scenario_free(sc);
			mv_cli_error(&err);
			return MV_EXIT_USAGE;
		}
	}
	if (o.have_seed)
		sc->seed = o.seed;
	if (o.have_duration)
		sc->duration_ns = o.duration_ns;

	struct mv_sim *sim = NULL;
	rc = mv_sim_create(sc, o.verify, &sim, &err); /* owns sc from here */
	if (rc)
		return mv_cli_load_error(NULL, rc, &err);

	/* The live screen needs a terminal; elsewhere --top is ignored
	 * and the progress bar (if stderr is a terminal) stands in. */
	struct mv_cli_top top = {0};
	if (o.top && isatty(STDOUT_FILENO) && mv_cli_top_start(&top) == 0) {
		rc = run_with_top(sim, &top, &err);
	} else {
		struct progress p = {
			.enabled = !o.quiet && isatty(STDERR_FILENO),
			.last = -1,
			.start_s = mv_wall_s(),
		};
		rc = mv_sim_run(sim, progress_draw, &p, &err);
		progress_clear(&p);
	}
	if (rc) {
		/* An invariant check failing mid-run is a bug, not bad input. */
		if (!err.msg[0])
			snprintf(err.msg, sizeof err.msg, "%s", mv_strerror(rc));
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
	if (o.timing)
		mv_report_measured(stderr, sim);
	mv_sim_destroy(sim);
	return st;
}

/*
 * run.c - `memvisor run`: load a scenario, simulate it, print the report.
 *
 * Steps: parse options (getopt_long), load the scenario, check every
 * output path (-o, --csv, --svg) before anything is simulated, apply
 * --seed and --duration, build the simulator (power-on), run it with a
 * progress line on stderr for runs longer than 5 s (progress.c), then
 * write the text or JSON report. With --output FILE the
 * report goes to a temporary file next to FILE that is renamed over it
 * only once completely written, so a failed or interrupted run never leaves
 * a half-written report behind; a FIFO or character device is written in
 * place, a symbolic link followed (report/outset.c).
 *
 * SIGINT and SIGTERM stop the run between steps (or interrupt a write
 * waiting for a FIFO's reader): the simulator is torn down (its swap files
 * go), temporary output files are removed, no report is written, and the
 * exit status is 128 + the signal (130, 143), as a shell reports a command
 * the signal ended. A second signal ends the process at once. Under
 * mpirun with several ranks, until the ranks stop waiting on each other,
 * a signal ends the rank at once with one line (mpirun sends SIGTERM to
 * every rank when one dies or fails; a rank blocked in an MPI call would
 * never see the flag); its swap files are unnamed, so nothing is left.
 *
 * A <cluster> file (docs/cluster.md) goes through run_cluster: the same
 * steps with the cluster's loader, output check, driver and report.
 *
 * Exit statuses: 2 for usage errors and bad input (the scenario, its
 * domains, option values, output paths), 1 for failures while running (an
 * invariant check, I/O), 0 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "memvisor/cluster.h"
#include "memvisor/mpi.h"
#include "memvisor/reclaim.h"
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
	      "A SCENARIO whose root element is <cluster> is several hosts "
	      "(each a\n"
	      "scenario, by file or inline; docs/cluster.md) run in lockstep "
	      "with the\n"
	      "cluster's seed, duration and step; <migrate> moves a running "
	      "VM by live\n"
	      "migration, <drs level=\"1..5\"> balances memory and evacuates "
	      "hosts in\n"
	      "<maintenance>, <storage swap=\"shared\"/> keeps a migrated "
	      "VM's swapped\n"
	      "pages in its swap file instead of sending them; a host may "
	      "have no VMs,\n"
	      "and a <vm> in the cluster itself is placed by DRS at "
	      "power-on. The report\n"
	      "summarises the hosts, the migrations and DRS's runs, then "
	      "gives each\n"
	      "host's report; --json has schema memvisor-cluster/1; --csv "
	      "DIR writes\n"
	      "DIR/host.csv and DIR/vm.csv with a host column; --svg DIR "
	      "draws\n"
	      "DIR/HOST-host.svg and DIR/HOST-vm-NAME.svg per host; --top "
	      "and --books\n"
	      "are refused for a cluster.\n"
	      "\n"
	      "Under mpirun (Open MPI: mpirun --allow-run-as-root "
	      "--oversubscribe -np N\n"
	      "memvisor run CLUSTER as root) each rank simulates its share "
	      "of the hosts\n"
	      "and rank 0 writes the outputs, the same bytes as one process "
	      "writes; a\n"
	      "live migration between two ranks' hosts goes as MPI "
	      "messages (with\n"
	      "<storage swap=\"shared\"> each swap file is named, in the "
	      "swap directory or\n"
	      "$TMPDIR, and opened by the destination's rank). When a rank "
	      "dies, mpirun\n"
	      "ends the others: each says so in one line, and no output is "
	      "written.\n"
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
	      "      --books         print the simulator's own metadata on "
	      "standard error,\n"
	      "                      bytes by structure and per guest page, "
	      "after power-on\n"
	      "                      and after the run (docs/engine.md, "
	      "\"Production\n"
	      "                      scale\")\n"
	      "      --progress[=EVERY]\n"
	      "                      always show the progress line on "
	      "standard error,\n"
	      "                      from the start, every EVERY (e.g. 1s; "
	      "default 1 s on\n"
	      "                      a terminal, 1 min otherwise). Without "
	      "the option\n"
	      "                      it shows once a run has lasted 5 s:\n"
	      "                      progress: 03:12:00 of 24:00:00 "
	      "simulated, 412 sim-s/s,\n"
	      "                      ETA 0:07:31 (redrawn in place on a "
	      "terminal)\n"
	      "      --no-progress, -q, --quiet\n"
	      "                      never show the progress line\n"
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
	int json, verify, top, timing, books;
	enum mv_progress_mode progress;
	double progress_every_s; /* --progress=EVERY; 0: the default */
	enum mv_access_model model;
	int have_seed, have_duration;
	uint64_t seed, duration_ns;
	const char *output;
	const char *csv_dir, *svg_dir;
	const char *scenario;
};

static volatile sig_atomic_t g_signal; /* SIGINT or SIGTERM received */
/* Under mpirun with several ranks: the line a signal prints, made before
 * the run (a handler may only write), for SIGINT and SIGTERM. */
static char g_rank_line[2][200];
static volatile sig_atomic_t g_rank_lines;

static void on_signal(int sig)
{
	if (g_rank_lines) {
		/* a rank waiting on another in an MPI call would not see the
		 * flag; mpirun sends SIGTERM to every rank when one died or
		 * failed, and SIGKILL soon after: say so now, and go */
		const char *l = g_rank_line[sig == SIGTERM];
		ssize_t w = write(STDERR_FILENO, l, strlen(l));
		(void)w;
		mv_swapfile_unlink_shared(); /* named: shared storage */
		_exit(128 + sig);
	}
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

/*
 * After the run: -1 to go on to the reports, or the exit status after a
 * signal or a failure (its one line printed). An invariant check failing
 * mid-run is a bug, not bad input.
 */
static int run_ended(int rc, struct mv_error *err)
{
	if (g_signal)
		return interrupted();
	if (!rc)
		return -1;
	if (!err->msg[0])
		snprintf(err->msg, sizeof err->msg, "%s", mv_strerror(rc));
	mv_cli_error(err);
	return MV_EXIT_FAILURE;
}

static void on_step(const struct mv_sim *sim, void *ctx)
{
	mv_cli_progress_tick(ctx, sim);
}

/* mv_sim_run with the progress line; SIGINT/SIGTERM stop it (sim->stop). */
static int run_plain(struct mv_sim *sim, struct mv_cli_progress *p,
		     struct mv_error *err)
{
	mv_cli_progress_start(p, sim);
	int rc = mv_sim_run(sim, on_step, p, err);
	mv_cli_progress_end(p, sim, !rc && !g_signal);
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
		OPT_PROGRESS,
		OPT_NO_PROGRESS,
		OPT_BOOKS,
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
		{"progress", optional_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"books", no_argument, NULL, OPT_BOOKS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->progress = MV_PROGRESS_AUTO;
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
		case OPT_BOOKS:
			o->books = 1;
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
		case OPT_NO_PROGRESS:
			o->progress = MV_PROGRESS_OFF;
			break;
		case OPT_PROGRESS:
			o->progress = MV_PROGRESS_ON;
			if (optarg) {
				uint64_t ns;
				if (mv_parse_duration(optarg, &ns) || !ns) {
					mv_error_set(&err, MV_EINVAL, NULL, 0,
						     "--progress",
						     "not a duration above "
						     "zero: '%s' (e.g. 1s, "
						     "10s, 1m)",
						     optarg);
					mv_cli_error(&err);
					return MV_EXIT_USAGE;
				}
				o->progress_every_s = (double)ns / MV_NS_PER_S;
			}
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

/* What a report is of: one host's run, or a cluster's (cl not NULL, with
 * what its ranks collected). */
struct report_job {
	const struct run_opts *o;
	const struct mv_sim *sim;
	const struct mv_cluster *cl;
	const struct mv_cluster_report *cr;
};

static int write_report(FILE *f, const struct report_job *j)
{
	if (j->cl)
		return j->o->json ? mv_report_cluster_json(f, j->cl, j->cr)
				  : mv_report_cluster_text(f, j->cl, j->cr);
	return j->o->json ? mv_report_json(f, j->sim)
			  : mv_report_text(f, j->sim);
}

static int write_job(FILE *f, const void *ctx)
{
	int rc = write_report(f, ctx);
	/* stopped while writing: the temporary file goes, not the target */
	return rc ? rc : g_signal ? MV_EIO : 0;
}

/*
 * Write the report to o->output through a temporary file in the same
 * directory, renamed over the target only when complete; or to standard
 * output. The exit status.
 */
static int write_report_out(const struct report_job *j)
{
	struct mv_error err = {0};
	if (j->o->output) {
		if (mv_report_write_file(j->o->output, write_job, j, &err)) {
			if (g_signal)
				return interrupted();
			mv_cli_error(&err);
			return MV_EXIT_FAILURE;
		}
		return MV_EXIT_OK;
	}
	errno = 0;
	int rc = write_report(stdout, j);
	if (!rc && fflush(stdout) != 0)
		rc = MV_EIO;
	if (rc) {
		mv_cli_errorf("standard output: write error: %s",
			      rc == MV_EIO && errno ? strerror(errno)
						    : mv_strerror(rc));
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
static void verify_summary(uint64_t checks, uint64_t pages, const char *each)
{
	fprintf(stderr,
		"verify: %llu invariant checks (one per %s), %llu pages "
		"(%.1f MiB) compared with what the guest last wrote; nothing "
		"differed\n",
		(unsigned long long)checks, each, (unsigned long long)pages,
		(double)pages * MV_PAGE_SIZE / (double)MV_MIB);
}

static void on_cluster_step(const struct mv_cluster *c, void *ctx)
{
	mv_cli_progress_tick(ctx, c->sim[c->first]); /* every host's clock */
}

/*
 * A rank other than 0 failed where rank 0 may wait for it: say why (the
 * line names the rank) and leave without MPI_Finalize, so that mpirun
 * ends the other ranks (docs/cluster.md, section 5, "Faults").
 */
static _Noreturn void rank_fail(struct mv_comm *comm, int status,
				const struct mv_error *err)
{
	if (err && err->msg[0])
		mv_cli_error(err);
	fflush(NULL);
	(void)comm;
	_exit(status);
}

/*
 * `memvisor run CLUSTER`: a <cluster> file (docs/cluster.md). The same
 * steps as one host's run, with the cluster's loader, outputs, driver and
 * report; the options that show one host's internals (--top, --books)
 * are refused. Started by mpirun, every rank loads the
 * file and simulates its share of the hosts (mv_cluster_create_on); rank
 * 0 checks the outputs, shows progress, gathers the hosts' parts and
 * writes every output; the others write nothing. Messages that every
 * rank would print alike (bad input) come from rank 0 only.
 */
static int run_cluster(const struct run_opts *o, struct mv_comm *comm)
{
	int rank = comm ? mv_comm_rank(comm) : 0;
	const char *bad = o->top ? "--top" : o->books ? "--books" : NULL;
	if (bad) {
		if (rank == 0)
			mv_cli_errorf("%s: not available for a <cluster> yet "
				      "(%s)",
				      bad, o->scenario);
		return MV_EXIT_USAGE;
	}
	struct mv_error err = {0};
	struct mv_cluster_scenario *cs = NULL;
	int rc = mv_cluster_load(o->scenario, &cs, &err);
	if (rc)
		return rank == 0 ? mv_cli_load_error(o->scenario, rc, &err)
				 : MV_EXIT_USAGE;
	/* rank 0 checks the outputs it will write; every rank learns */
	int32_t st = rank == 0 ? mv_cli_check_cluster_outputs(cs, o->output,
							      o->csv_dir,
							      o->svg_dir)
			       : MV_EXIT_OK;
	if (comm && mv_comm_bcast(comm, &st, sizeof st, &err))
		mv_comm_fail(comm, &err);
	if (st != MV_EXIT_OK) {
		mv_cluster_scenario_free(cs);
		return st;
	}
	if (o->have_seed)
		cs->seed = o->seed;
	if (o->have_duration) {
		cs->duration_ns = o->duration_ns;
		if ((rc = mv_cluster_check_times(cs, "--duration", &err))) {
			mv_cluster_scenario_free(cs);
			return rank == 0 ? mv_cli_load_error(o->scenario, rc,
							     &err)
					 : MV_EXIT_USAGE;
		}
	}
	mv_cluster_apply(cs);
	for (int h = 0; h < cs->nhosts; h++) {
		cs->host[h].sc->access_model = o->model;
		if (rank == 0)
			mv_scenario_print_warnings(cs->host[h].sc, stderr);
	}

	g_signal = 0;
	catch_signals();
	struct mv_cli_progress p;
	mv_cli_progress_init(&p, rank == 0 ? o->progress : MV_PROGRESS_OFF,
			     o->progress_every_s);
	struct mv_cluster *cl = NULL;
	rc = mv_cluster_create_on(cs, o->verify, comm, &cl, &err); /* owns cs */
	if (rc)
		return rank == 0 || err.field[0] != '-'
			       ? mv_cli_load_error(NULL, rc, &err)
			       : MV_EXIT_USAGE;
	mv_cluster_set_stop(cl, &g_signal);

	mv_cli_progress_start(&p, cl->sim[cl->first]);
	rc = mv_cluster_run(cl, on_cluster_step, &p, &err);
	mv_cli_progress_end(&p, cl->sim[cl->first], !rc && !g_signal);
	if ((st = run_ended(rc, &err)) >= 0) {
		mv_cluster_destroy(cl);
		if (comm && mv_comm_size(comm) > 1)
			rank_fail(comm, st, NULL);
		return st;
	}
	unsigned what = (o->json ? MV_CREPORT_JSON : MV_CREPORT_TEXT) |
			(o->csv_dir ? MV_CREPORT_CSV : 0) |
			(o->svg_dir ? MV_CREPORT_SVG : 0);
	struct mv_cluster_report *cr = NULL;
	if (mv_report_cluster_collect(cl, what, &cr, &err)) {
		if (comm && mv_comm_size(comm) > 1)
			rank_fail(comm, MV_EXIT_FAILURE, &err);
		mv_cli_error(&err);
		mv_cluster_destroy(cl);
		return MV_EXIT_FAILURE;
	}
	/* no rank waits on another any more: a signal stops rank 0's writing
	 * as it stops one process's (the temporary file removed) */
	g_rank_lines = 0;
	for (int h = cl->first; o->timing && h < cl->first + cl->count; h++)
		mv_report_measured(stderr, cl->sim[h]);
	if (rank != 0) {
		mv_cluster_destroy(cl);
		return MV_EXIT_OK;
	}
	struct report_job job = {o, NULL, cl, cr};
	st = write_report_out(&job);
	if (st == MV_EXIT_OK &&
	    ((o->csv_dir &&
	      mv_report_cluster_csv(o->csv_dir, cl, cr, &err) != 0) ||
	     (o->svg_dir &&
	      mv_report_cluster_svg(o->svg_dir, cl, cr, &err) != 0))) {
		st = g_signal ? interrupted() : MV_EXIT_FAILURE;
		if (!g_signal)
			mv_cli_error(&err);
	}
	uint64_t checks = 0, pages = 0;
	mv_report_cluster_verified(cr, &checks, &pages);
	if (st == MV_EXIT_OK && o->verify && o->json)
		verify_summary(checks, pages, "host and step");
	mv_report_cluster_free(cr);
	mv_cluster_destroy(cl);
	return st;
}

/* `memvisor run` started by mpirun: a cluster's hosts over the ranks;
 * anything else is one host, which does not spread. */
static int run_ranks(const struct run_opts *o, int rank, int ranks)
{
	if (!mv_cluster_file_is(o->scenario)) {
		if (rank == 0)
			mv_cli_errorf("started by mpirun with %d ranks: %s is "
				      "one host, which runs as one process; "
				      "only a <cluster>'s hosts spread over "
				      "MPI ranks (docs/cluster.md)",
				      ranks, o->scenario);
		return MV_EXIT_USAGE;
	}
	struct mv_comm *comm = NULL;
	struct mv_error err = {0};
	if (mv_comm_init(NULL, NULL, &comm, &err)) {
		if (rank == 0)
			mv_cli_error(&err);
		mv_comm_finalize(comm);
		return err.field[0] ? MV_EXIT_USAGE : MV_EXIT_FAILURE;
	}
	for (int k = 0; k < 2; k++)
		snprintf(g_rank_line[k], sizeof g_rank_line[k],
			 "memvisor: rank %d of %d: ended by %s (mpirun ends "
			 "every rank when one fails, dies or is stopped); no "
			 "output written\n",
			 mv_comm_rank(comm), mv_comm_size(comm),
			 k ? "SIGTERM" : "SIGINT");
	g_rank_lines = 1;
	catch_signals(); /* from now: a rank may wait on another */
	int st = run_cluster(o, comm);
	g_rank_lines = 0;
	mv_comm_finalize(comm);
	return st;
}

int mv_cli_run(int argc, char **argv)
{
	struct run_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;

	st = mv_cli_check_input(o.scenario, "scenario", MV_CLI_SCENARIO_MAX);
	if (st != MV_EXIT_OK)
		return st;
	int rank, ranks = mv_comm_launched_ranks(&rank);
	if (ranks > 1)
		return run_ranks(&o, rank, ranks);
	if (mv_cluster_file_is(o.scenario))
		return run_cluster(&o, NULL);
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
	/* the live screen replaces the progress line */
	int top_on = o.top && isatty(STDOUT_FILENO);
	struct mv_cli_progress p;
	mv_cli_progress_init(&p, top_on ? MV_PROGRESS_OFF : o.progress,
			     o.progress_every_s);
	mv_cli_progress_power_on(&p, sc);
	struct mv_error err = {0};
	struct mv_sim *sim = NULL;
	int rc = mv_sim_create(sc, o.verify, &sim, &err); /* owns sc */
	mv_cli_progress_powered_on(&p);
	if (rc) {
		mv_cli_progress_end(&p, NULL, 0);
		return mv_cli_load_error(NULL, rc, &err);
	}
	sim->stop = &g_signal;
	/* the scenario powers on: now its warnings (bad input before this
	 * point gets its one error line alone) */
	mv_cli_progress_clear(&p);
	mv_scenario_print_warnings(sim->sc, stderr);
	if (o.books)
		mv_report_books(stderr, sim, "start");

	/* The live screen needs a terminal; elsewhere --top is ignored
	 * and the progress line stands in. */
	struct mv_cli_top top = {0};
	if (!g_signal && top_on && mv_cli_top_start(&top) == 0) {
		rc = run_with_top(sim, &top, &err);
	} else {
		/* no live screen after all: the progress line stands in */
		if (top_on)
			mv_cli_progress_init(&p, o.progress,
					     o.progress_every_s);
		rc = run_plain(sim, &p, &err);
	}
	if ((st = run_ended(rc, &err)) >= 0) {
		mv_sim_destroy(sim);
		return st;
	}

	struct report_job job = {&o, sim, NULL, NULL};
	st = write_report_out(&job);
	if (st == MV_EXIT_OK)
		st = write_views(&o, sim);
	if (st == MV_EXIT_OK && o.verify && o.json)
		verify_summary(sim->verify_checks, sim->verify_pages, "step");
	if (o.timing)
		mv_report_measured(stderr, sim);
	if (o.books)
		mv_report_books(stderr, sim, "end");
	mv_sim_destroy(sim);
	return st;
}

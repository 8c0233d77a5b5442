/*
 * plan.c - `memvisor plan`: run a scenario at several overcommit ratios,
 * one worker process per ratio, and say which ratios are safe.
 *
 * The scenario is loaded once, here; each worker is a fork(2) of this
 * process that shapes its copy of the scenario for its ratio
 * (mv_plan_shape: the host shrinks, or the VMs are repeated), runs it to
 * the end and writes one struct mv_plan_point into its pipe. At most -j
 * workers run at a time (default: the online cores). A run depends only on
 * the scenario, the seed and the ratio, and the points are printed in ratio
 * order, so the output is the same for every -j.
 *
 * Outputs (the text report, -o; --json; --svg) are checked before any run
 * and written only when every ratio has run, each replaced only once
 * complete (report/outset.c). SIGINT/SIGTERM (to the process group, or
 * to this process alone: it passes the signal on): the workers stop
 * between steps (their swap files go), nothing is written, exit 130/143.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "memvisor/plan.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

#define MAX_RATIOS 256

void mv_cli_plan_help(FILE *f)
{
	fputs("usage: memvisor plan [OPTIONS] SCENARIO\n"
	      "\n"
	      "Run SCENARIO at a range of overcommit ratios (configured VM "
	      "memory /\n"
	      "host memory) and say which are safe: per ratio the memory "
	      "page sharing,\n"
	      "ballooning, compression and swapping saved, the time in each "
	      "free-memory\n"
	      "state, the hypervisor and guest swap-in rates, the worst VM's "
	      "stall and\n"
	      "progress, and SAFE or UNSAFE with the SLO and the VM that "
	      "failed it;\n"
	      "then the highest safe ratio and the knee (docs/plan.md).\n"
	      "\n"
	      "Options:\n"
	      "      --ratios A:B:STEP  the ratios A, A+STEP, ... B "
	      "(default 1.0:2.0:0.1);\n"
	      "                      or a list: 1.0,1.5,2.0\n"
	      "      --slo LIST      service-level objectives every VM must "
	      "meet, e.g.\n"
	      "                      'stall<1%,swapin<10/s,progress>99%' "
	      "(default\n"
	      "                      '" MV_SLO_DEFAULT "'): stall = vCPU time "
	      "stalled on\n"
	      "                      hypervisor faults, swapin = hypervisor "
	      "swap-ins\n"
	      "                      (pages/s), progress = accesses done / "
	      "demanded\n"
	      "      --by host|vms   reach a ratio by shrinking the host's "
	      "memory (default)\n"
	      "                      or by adding copies of the VMs\n"
	      "  -j, --jobs N        runs at a time (default: the number of "
	      "cores)\n"
	      "  -o, --output FILE   write the report to FILE instead of "
	      "standard output\n"
	      "      --json FILE     also write the sweep as JSON\n"
	      "      --svg FILE      also draw the sweep as an SVG chart\n"
	      "      --seed N        use seed N instead of the scenario's\n"
	      "      --duration T    simulate T per ratio instead of the "
	      "scenario's duration\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Default SLOs and their sources (docs/plan.md, \"SLOs\"):\n"
	      "  swapin<1/s    no sustained hypervisor swap-in: VMware, "
	      "Performance Best\n"
	      "                Practices for vSphere 4.0, \"Memory Overcommit "
	      "Techniques\"\n"
	      "                (host swapping degrades performance); \"vSphere "
	      "5 "
	      "ESXTOP\n"
	      "                quick Overview for Troubleshooting\", memory: "
	      "SWR/s >= 1\n"
	      "                (MB/s) flags overcommitment; 1 page/s is the "
	      "stricter\n"
	      "                reading, any sustained swap-in\n"
	      "  stall<1%      memvisor's own choice (no published threshold "
	      "found; the\n"
	      "                nearest figure is esxtop's %SWPWT, time waiting "
	      "on host swap)\n"
	      "  progress>95%  memvisor's own choice\n"
	      "\n"
	      "Output files are checked before the runs start and replaced "
	      "only once\n"
	      "complete. The output is the same for every -j.\n"
	      "Exit status: 0 success (whatever the verdicts), 1 a run "
	      "failed, 2 usage\n"
	      "error or bad input, 130/143 stopped by SIGINT/SIGTERM.\n",
	      f);
}

struct plan_opts {
	int nratios;
	double ratios[MAX_RATIOS];
	struct mv_slo_set slo;
	enum mv_plan_by by;
	long jobs;
	int have_seed, have_duration;
	uint64_t seed, duration_ns;
	const char *output, *json, *svg, *scenario;
};

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	g_signal = sig;
}

/* A decimal number for --ratios: finite and at least 0.1. */
static int ratio_num(const char *s, const char *end, double *out)
{
	char buf[32], *e;
	if (end - s <= 0 || end - s >= (long)sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	*out = strtod(buf, &e);
	return *e || e == buf || !isfinite(*out) || *out < 0.1 ? -1 : 0;
}

/* "A:B:STEP" or "A,B,C" into o->ratios, increasing. */
static int parse_ratios(const char *text, struct plan_opts *o)
{
	const char *c1 = strchr(text, ':');
	o->nratios = 0;
	if (c1) {
		const char *c2 = strchr(c1 + 1, ':');
		double a, b, step;
		if (!c2 || ratio_num(text, c1, &a) ||
		    ratio_num(c1 + 1, c2, &b) ||
		    ratio_num(c2 + 1, c2 + strlen(c2), &step) || !(b >= a)) {
			mv_cli_errorf("--ratios: '%s': expected A:B:STEP "
				      "with 0.1 <= A <= B and STEP >= 0.1 "
				      "(e.g. 1.0:2.0:0.1)",
				      text);
			return -1;
		}
		/* counted, not accumulated: 1.0 + 10 x 0.1 ends at 2.0 */
		long n = lround(floor((b - a) / step + 1e-9)) + 1;
		if (n > MAX_RATIOS) {
			mv_cli_errorf("--ratios: '%s' makes %ld ratios; at "
				      "most %d",
				      text, n, MAX_RATIOS);
			return -1;
		}
		for (long i = 0; i < n; i++)
			o->ratios[o->nratios++] = round((a + (double)i * step) *
							1e6) /
						  1e6;
		return 0;
	}
	for (const char *p = text;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		double r;
		if (ratio_num(p, end, &r) ||
		    (o->nratios && r <= o->ratios[o->nratios - 1])) {
			mv_cli_errorf("--ratios: '%s': expected increasing "
				      "numbers >= 0.1 separated by commas, or "
				      "A:B:STEP",
				      text);
			return -1;
		}
		if (o->nratios == MAX_RATIOS) {
			mv_cli_errorf("--ratios: at most %d ratios",
				      MAX_RATIOS);
			return -1;
		}
		o->ratios[o->nratios++] = r;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* Parse options; returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, struct plan_opts *o)
{
	enum {
		OPT_RATIOS = 256,
		OPT_SLO,
		OPT_BY,
		OPT_JSON,
		OPT_SVG,
		OPT_SEED,
		OPT_DURATION
	};
	static const struct option longopts[] = {
		{"ratios", required_argument, NULL, OPT_RATIOS},
		{"slo", required_argument, NULL, OPT_SLO},
		{"by", required_argument, NULL, OPT_BY},
		{"jobs", required_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"json", required_argument, NULL, OPT_JSON},
		{"svg", required_argument, NULL, OPT_SVG},
		{"seed", required_argument, NULL, OPT_SEED},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	struct mv_error err = {0};
	if (parse_ratios("1.0:2.0:0.1", o) ||
	    mv_slo_parse(MV_SLO_DEFAULT, &o->slo, &err))
		return MV_EXIT_FAILURE;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	o->jobs = cores > 0 ? cores : 1;
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RATIOS:
			if (parse_ratios(optarg, o))
				return MV_EXIT_USAGE;
			break;
		case OPT_SLO:
			if (mv_slo_parse(optarg, &o->slo, &err)) {
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			break;
		case OPT_BY:
			if (!strcmp(optarg, "host") || !strcmp(optarg, "vms")) {
				o->by = optarg[0] == 'h' ? MV_PLAN_BY_HOST
							 : MV_PLAN_BY_VMS;
				break;
			}
			mv_cli_errorf("--by: '%s': expected host or vms",
				      optarg);
			return MV_EXIT_USAGE;
		case 'j': {
			uint64_t j;
			if (mv_parse_u64(optarg, &j) || j < 1 || j > 1024) {
				mv_cli_errorf("--jobs: '%s': expected a number "
					      "from 1 to 1024",
					      optarg);
				return MV_EXIT_USAGE;
			}
			o->jobs = (long)j;
			break;
		}
		case 'o':
		case OPT_JSON:
		case OPT_SVG:
			if (!optarg[0]) {
				mv_cli_errorf("%s: empty file name",
					      c == 'o'        ? "--output"
					      : c == OPT_JSON ? "--json"
							      : "--svg");
				return MV_EXIT_USAGE;
			}
			*(c == 'o'        ? &o->output
			  : c == OPT_JSON ? &o->json
					  : &o->svg) = optarg;
			break;
		case OPT_SEED:
			if (mv_parse_u64(optarg, &o->seed)) {
				mv_cli_errorf("--seed: not an unsigned "
					      "integer: '%s'",
					      optarg);
				return MV_EXIT_USAGE;
			}
			o->have_seed = 1;
			break;
		case OPT_DURATION:
			if (mv_parse_duration(optarg, &o->duration_ns) ||
			    !o->duration_ns) {
				mv_cli_errorf("--duration: not a duration "
					      "above zero: '%s' (e.g. 90s, "
					      "5m)",
					      optarg);
				return MV_EXIT_USAGE;
			}
			o->have_duration = 1;
			break;
		case 'h':
			mv_cli_plan_help(stdout);
			return MV_EXIT_OK;
		case ':':
			mv_cli_errorf("option '%s' needs an argument (see "
				      "memvisor plan --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		default:
			mv_cli_errorf("unknown option '%s' (see memvisor "
				      "plan --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		mv_cli_errorf("plan: expected one SCENARIO, got %d (see "
			      "memvisor plan --help)",
			      argc - optind);
		return MV_EXIT_USAGE;
	}
	o->scenario = argv[optind];
	return -1;
}

/* A worker: run sc at ratio r, the point to fd. Never returns. */
static void worker(struct mv_scenario *sc, enum mv_plan_by by, double r, int fd)
{
	struct mv_plan_point p = {.ratio = r};
	struct mv_error err = {0};
	struct mv_sim *sim = NULL;
	/* <swap keep> names the swap files after the VMs: workers running
	 * side by side would share them, so a plan's are anonymous */
	sc->reclaim.keep_swap = 0;
	int rc = mv_plan_shape(sc, by, r, &err);
	if (rc)
		mv_scenario_free(sc);
	else
		rc = mv_sim_create(sc, 0, &sim, &err); /* owns sc */
	if (!rc) {
		sim->stop = &g_signal;
		rc = mv_sim_run(sim, NULL, NULL, &err);
	}
	if (!rc)
		mv_plan_measure(sim, &p);
	if (rc) {
		p.rc = rc;
		mv_error_format(&err, p.error, sizeof p.error);
		if (!p.error[0])
			snprintf(p.error, sizeof p.error, "%s",
				 mv_strerror(rc));
	}
	mv_sim_destroy(sim);
	const char *b = (const char *)&p;
	size_t left = sizeof p;
	while (left) {
		ssize_t w = write(fd, b, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		b += w;
		left -= (size_t)w;
	}
	_exit(0);
}

/* Read a whole point from fd; 0 or -1. */
static int read_point(int fd, struct mv_plan_point *p)
{
	char *b = (char *)p;
	size_t left = sizeof *p;
	while (left) {
		ssize_t n = read(fd, b, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		left -= (size_t)n;
	}
	return 0;
}

struct slot {
	pid_t pid;
	int fd, idx;
};

/* Wait for any worker, read its point into pts; returns the slot freed,
 * or -1 when a signal interrupted the wait. */
static int reap(struct slot *s, int ns, struct mv_plan_point *pts)
{
	int status;
	pid_t pid = wait(&status);
	if (pid < 0)
		return -1; /* a signal: the caller passes it on */
	for (int k = 0; k < ns; k++) {
		if (s[k].pid != pid || pid <= 0)
			continue;
		struct mv_plan_point *p = &pts[s[k].idx];
		double r = p->ratio;
		if (read_point(s[k].fd, p) != 0) {
			memset(p, 0, sizeof *p);
			p->ratio = r;
			p->rc = MV_EIO;
			snprintf(p->error, sizeof p->error,
				 "the worker ended without a result (status "
				 "%d)",
				 status);
		}
		close(s[k].fd);
		s[k].pid = 0;
		return k;
	}
	return -1;
}

/* Every ratio, at most jobs at a time; 0, or -1 if a fork failed. */
static int run_all(const struct plan_opts *o, struct mv_scenario *base,
		   struct mv_plan_point *pts)
{
	int ns = o->jobs < o->nratios ? (int)o->jobs : o->nratios;
	struct slot *s = calloc((size_t)ns, sizeof *s);
	if (!s)
		return -1;
	int next = 0, running = 0, rc = 0, forwarded = 0;
	fflush(NULL);
	while (next < o->nratios || running) {
		if (next < o->nratios && running < ns && !g_signal && !rc) {
			int k = 0;
			while (s[k].pid)
				k++;
			pts[next].ratio = o->ratios[next];
			int fds[2];
			if (pipe(fds)) {
				rc = -1;
				continue;
			}
			pid_t pid = fork();
			if (pid == 0) {
				/* the child's copy of the scenario is its own
				 */
				close(fds[0]);
				worker(base, o->by, o->ratios[next], fds[1]);
			}
			close(fds[1]);
			if (pid < 0) {
				close(fds[0]);
				rc = -1;
				continue;
			}
			s[k] = (struct slot){pid, fds[0], next};
			next++;
			running++;
			continue;
		}
		if (!running)
			break;
		/* a signal to this process alone (kill PID) stops the
		 * workers too, as a terminal's ^C to the group does */
		if (g_signal && !forwarded) {
			for (int k = 0; k < ns; k++)
				if (s[k].pid > 0)
					kill(s[k].pid, g_signal);
			forwarded = 1;
		}
		if (reap(s, ns, pts) >= 0)
			running--;
	}
	free(s);
	return rc || next < o->nratios ? -1 : 0;
}

struct plan_job {
	const struct mv_plan_info *in;
	const struct mv_plan_point *p;
	int n;
	int (*fn)(FILE *, const struct mv_plan_info *,
		  const struct mv_plan_point *, int);
};

static int write_job(FILE *f, const void *ctx)
{
	const struct plan_job *j = ctx;
	return j->fn(f, j->in, j->p, j->n);
}

/* One output: to path (replaced when complete) or, path NULL, stdout. */
static int emit(const char *path, struct plan_job *j)
{
	if (!path) {
		int rc = write_job(stdout, j);
		if (!rc && fflush(stdout) != 0)
			rc = MV_EIO;
		if (rc) {
			mv_cli_errorf("standard output: write error");
			return MV_EXIT_FAILURE;
		}
		return MV_EXIT_OK;
	}
	struct mv_error err = {0};
	if (mv_report_write_file(path, write_job, j, &err) != 0) {
		mv_cli_error(&err);
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

int mv_cli_plan(int argc, char **argv)
{
	struct plan_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;
	struct mv_scenario *sc = NULL;
	st = mv_cli_load_scenario(o.scenario, &sc);
	if (st != MV_EXIT_OK)
		return st;
	const char *paths[] = {o.output, o.json, o.svg};
	const char *opts[] = {"--output", "--json", "--svg"};
	st = mv_cli_check_files(sc, 3, paths, opts);
	if (st != MV_EXIT_OK) {
		mv_scenario_free(sc);
		return st;
	}
	if (o.have_seed)
		sc->seed = o.seed;
	if (o.have_duration)
		sc->duration_ns = o.duration_ns;
	mv_scenario_print_warnings(sc, stderr);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g_signal = 0;

	struct mv_plan_point *pts = calloc((size_t)o.nratios, sizeof *pts);
	if (!pts) {
		mv_scenario_free(sc);
		mv_cli_errorf("out of memory");
		return MV_EXIT_FAILURE;
	}
	int rc = run_all(&o, sc, pts);
	if (g_signal) {
		mv_cli_errorf("stopped by %s: no report written",
			      g_signal == SIGINT ? "SIGINT" : "SIGTERM");
		free(pts);
		mv_scenario_free(sc);
		return 128 + g_signal;
	}
	st = MV_EXIT_OK;
	if (rc) {
		mv_cli_errorf("plan: could not start a run: %s",
			      strerror(errno));
		st = MV_EXIT_FAILURE;
	}
	for (int i = 0; st == MV_EXIT_OK && i < o.nratios; i++)
		if (pts[i].rc) {
			mv_cli_errorf("ratio %g: %s", pts[i].ratio,
				      pts[i].error);
			st = pts[i].rc == MV_EINVAL ? MV_EXIT_USAGE
						    : MV_EXIT_FAILURE;
		}
	if (st == MV_EXIT_OK) {
		struct mv_plan_info in = {
			.scenario_name = sc->name,
			.scenario_path = o.scenario,
			.by = o.by,
			.seed = sc->seed,
			.slo = &o.slo,
		};
		mv_plan_time_constants(sc, &in.sampler_tau_s,
				       &in.share_period_s);
		struct plan_job j = {&in, pts, o.nratios, mv_report_plan_json};
		if (o.json)
			st = emit(o.json, &j);
		j.fn = mv_report_plan_svg;
		if (st == MV_EXIT_OK && o.svg)
			st = emit(o.svg, &j);
		j.fn = mv_report_plan_text;
		if (st == MV_EXIT_OK)
			st = emit(o.output, &j);
	}
	free(pts);
	mv_scenario_free(sc);
	return st;
}

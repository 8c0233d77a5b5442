/*
 * dommemstat.c - `memvisor dommemstat SCENARIO VM [--at T]`: what
 * `virsh dommemstat` would print for one VM at simulated time T.
 *
 * The scenario runs from the start to T (default: its end). The guest's
 * figures are those of its balloon driver's last report: the driver
 * reports when it probes the device during the boot (Linux's
 * virtio_balloon primes the stats queue with a first report) and then,
 * with <memballoon><stats period='N'/>, every N seconds when QEMU polls
 * it; with no period the boot's report stays, as QEMU keeps it. Before
 * the first report libvirt lists actual, last_update 0 and rss; a VM
 * without a balloon device (model='none') only rss.
 *
 * last_update is what QEMU stamps the report with: wall-clock seconds since
 * the Unix epoch (g_get_real_time). The simulation has no wall clock, so
 * its start is a stated moment, --epoch (default MV_DMS_EPOCH_DEFAULT,
 * 2026-01-01 00:00:00 UTC); --sim-seconds prints simulated seconds since
 * the start instead.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

void mv_cli_dommemstat_help(FILE *f)
{
	fputs("usage: memvisor dommemstat [OPTIONS] SCENARIO VM\n"
	      "\n"
	      "Simulate SCENARIO up to a moment and print VM's memory "
	      "statistics\n"
	      "as `virsh dommemstat` does: one 'name value' line per "
	      "statistic,\n"
	      "sizes in KiB (actual, swap_in, swap_out, major_fault, "
	      "minor_fault,\n"
	      "unused, available, usable, last_update, disk_caches,\n"
	      "hugetlb_pgalloc, hugetlb_pgfail, rss). The guest's figures are\n"
	      "those of its last report: one at boot, then one every "
	      "<memballoon>\n"
	      "<stats period='N'/> seconds; without a period the boot's "
	      "stays.\n"
	      "last_update is seconds since the Unix epoch, as libvirt's: the "
	      "run\n"
	      "starts at --epoch.\n"
	      "\n"
	      "Options:\n"
	      "      --at T          stop at simulated time T (e.g. 90s, 5m); "
	      "default:\n"
	      "                      the scenario's end\n"
	      "      --epoch S       the run starts S seconds after 1970-01-01 "
	      "00:00 UTC\n"
	      "                      (default 1767225600: 2026-01-01 00:00 "
	      "UTC)\n"
	      "      --sim-seconds   last_update in simulated seconds since "
	      "the "
	      "start\n"
	      "      --seed N        use seed N instead of the scenario's\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 the run failed, 2 usage error or bad "
	      "input.\n",
	      f);
}

struct dms_opts {
	int have_at, have_seed, sim_seconds;
	uint64_t at_ns, seed, epoch_s;
	const char *scenario, *vm;
};

static int option_error(const char *field, const char *fmt, const char *arg)
{
	struct mv_error err = {.code = MV_EINVAL};
	snprintf(err.field, sizeof err.field, "%s", field);
	snprintf(err.msg, sizeof err.msg, fmt, arg);
	mv_cli_error(&err);
	return MV_EXIT_USAGE;
}

static int parse_options(int argc, char **argv, struct dms_opts *o)
{
	enum { OPT_AT = 256, OPT_SEED, OPT_EPOCH, OPT_SIM_SECONDS };
	static const struct option longopts[] = {
		{"at", required_argument, NULL, OPT_AT},
		{"seed", required_argument, NULL, OPT_SEED},
		{"epoch", required_argument, NULL, OPT_EPOCH},
		{"sim-seconds", no_argument, NULL, OPT_SIM_SECONDS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->epoch_s = MV_DMS_EPOCH_DEFAULT;
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_AT:
			if (mv_parse_duration(optarg, &o->at_ns) != 0)
				return option_error(
					"--at",
					"not a time: '%s' (e.g. 90s, "
					"5m, 0s)",
					optarg);
			o->have_at = 1;
			break;
		case OPT_SEED:
			if (mv_parse_u64(optarg, &o->seed) != 0)
				return option_error("--seed",
						    "not an unsigned integer: "
						    "'%s'",
						    optarg);
			o->have_seed = 1;
			break;
		case OPT_EPOCH:
			if (mv_parse_u64(optarg, &o->epoch_s) != 0 ||
			    o->epoch_s > MV_DMS_EPOCH_MAX)
				return option_error("--epoch",
						    "not a number of seconds "
						    "since 1970 (0 to "
						    "253402300799): '%s'",
						    optarg);
			break;
		case OPT_SIM_SECONDS:
			o->sim_seconds = 1;
			break;
		case 'h':
			mv_cli_dommemstat_help(stdout);
			return MV_EXIT_OK;
		case ':':
			mv_cli_errorf("option '%s' needs an argument (see "
				      "memvisor dommemstat --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		default:
			mv_cli_errorf("unknown option '%s' (see memvisor "
				      "dommemstat --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		mv_cli_errorf("dommemstat: expected SCENARIO and VM, got %d "
			      "argument%s (see memvisor dommemstat --help)",
			      argc - optind, argc - optind == 1 ? "" : "s");
		return MV_EXIT_USAGE;
	}
	o->scenario = argv[optind];
	o->vm = argv[optind + 1];
	return -1;
}

int mv_cli_dommemstat(int argc, char **argv)
{
	struct dms_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;

	struct mv_error err = {0};
	struct mv_scenario *sc = NULL;
	st = mv_cli_load_scenario(o.scenario, &sc);
	if (st != MV_EXIT_OK)
		return st;
	int vm = -1;
	for (int i = 0; i < sc->nvms; i++)
		if (strcmp(sc->vms[i].vm.name, o.vm) == 0)
			vm = i;
	if (vm < 0) {
		/* the names to choose from, as many as fit on the line */
		char names[400] = "";
		size_t used = 0;
		for (int i = 0; i < sc->nvms && used < sizeof names; i++)
			used += (size_t)snprintf(
				names + used, sizeof names - used, "%s%s",
				i ? ", " : "", sc->vms[i].vm.name);
		mv_cli_errorf("dommemstat: no VM named '%s' in %s (its VMs: "
			      "%s)",
			      o.vm, o.scenario, names);
		mv_scenario_free(sc);
		return MV_EXIT_USAGE;
	}
	if (o.have_seed)
		sc->seed = o.seed;
	uint64_t at = o.have_at ? o.at_ns : sc->duration_ns;
	if (at > sc->duration_ns) {
		char a[32], d[32];
		snprintf(a, sizeof a, "%.3fs", (double)at / MV_NS_PER_S);
		snprintf(d, sizeof d, "%.3fs",
			 (double)sc->duration_ns / MV_NS_PER_S);
		mv_scenario_free(sc);
		struct mv_error e = {.code = MV_EINVAL};
		snprintf(e.field, sizeof e.field, "--at");
		snprintf(e.msg, sizeof e.msg,
			 "%s is past the scenario's end (%s)", a, d);
		mv_cli_error(&e);
		return MV_EXIT_USAGE;
	}
	uint64_t period_ns = (uint64_t)sc->vms[vm].vm.stats_period_s *
			     MV_NS_PER_S;

	struct mv_sim *sim = NULL;
	int rc = mv_sim_create(sc, 0, &sim, &err); /* owns sc from here */
	if (rc)
		return mv_cli_load_error(NULL, rc, &err);
	mv_scenario_print_warnings(sim->sc, stderr); /* it powered on */

	/* The driver's reports: at its probe during the boot, then every
	 * period (mv_dms_reports). */
	struct mv_dms_reports reps;
	mv_dms_reports_init(&reps, period_ns);
	while (sim->now_ns < at) {
		rc = mv_sim_step(sim, &err);
		if (rc) {
			mv_cli_error(&err);
			mv_sim_destroy(sim);
			return MV_EXIT_FAILURE;
		}
		mv_dms_reports_step(&reps, sim, vm);
	}
	struct mv_dommemstat d;
	rc = mv_dommemstat_live(sim, vm, &reps, &d);
	mv_sim_destroy(sim);
	if (rc) {
		mv_cli_errorf("dommemstat: %s", mv_strerror(rc));
		return MV_EXIT_FAILURE;
	}
	if (!o.sim_seconds)
		mv_dommemstat_set_epoch(&d, o.epoch_s);
	/* A write error is reported once, by main's finish(). */
	mv_report_dommemstat(stdout, &d);
	return MV_EXIT_OK;
}

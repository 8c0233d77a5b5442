/*
 * mmu.c - `memvisor mmu`: replay an address trace through the MMU model
 * under native, shadow and nested translation and print what it cost.
 *
 * Each mode replays the trace in a fresh host and VM (one guest process),
 * so the modes do not share TLB or page-table state. With --convert the
 * command turns a trace (lackey text or binary) into the binary format.
 * Exit statuses: 2 for usage errors and bad traces, 1 when a replay fails
 * at run time (the VM ran out of memory), 0 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

void mv_cli_mmu_help(FILE *f)
{
	fputs("usage: memvisor mmu [OPTIONS] --trace FILE\n"
	      "       memvisor mmu --convert IN OUT\n"
	      "\n"
	      "Replay an address trace through an x86-64 MMU model: guest\n"
	      "page tables in guest memory, TLBs (Skylake-SP sizes), "
	      "page-walk\n"
	      "caches, and native, shadow or nested (EPT) translation. Prints\n"
	      "TLB misses, memory references per walk, VM exits by cause,\n"
	      "shadow-table memory and the estimated translation overhead:\n"
	      "translation cycles (configurable latencies: L2 TLB hit, walk\n"
	      "reference, VM exit) over those plus one cycle per instruction;\n"
	      "the TLB+walk column leaves the exits out.\n"
	      "The trace is valgrind lackey output (valgrind --tool=lackey\n"
	      "--trace-mem=yes PROGRAM) or memvisor's binary format.\n"
	      "\n"
	      "Options:\n"
	      "  -t, --trace FILE        the trace to replay\n"
	      "  -m, --mode MODE         native, shadow, nested or all "
	      "(default all)\n"
	      "  -p, --page-size SIZE    4k or 2m: the guest's page size "
	      "(default 4k)\n"
	      "      --host-page-size SIZE\n"
	      "                          4k or 2m: the hypervisor's backing "
	      "pages\n"
	      "                          (default: the same as --page-size)\n"
	      "  -n, --limit N           replay at most N records\n"
	      "      --untagged          no VPID/PCID tags (flush on switch)\n"
	      "      --set KEY=VALUE     change a parameter of the model "
	      "(repeatable):\n"
	      "                          TLBs l1i-4k l1i-2m l1d-4k l1d-2m "
	      "l2-4k l2-2m\n"
	      "                          as ENTRIESxWAYS (default "
	      "l2-4k=1536x12) or 0;\n"
	      "                          walk caches pwc, npwc as "
	      "PML4E,PDPTE,PDE\n"
	      "                          entries (2,4,32); cycles lat-l2 (9), "
	      "lat-walk\n"
	      "                          (20), lat-exit (1500); cpu-mhz "
	      "(3000)\n"
	      "      --warm              replay the trace once first and count "
	      "only the\n"
	      "                          second pass (steady state: pages "
	      "mapped)\n"
	      "      --convert IN OUT    write trace IN in the binary format "
	      "to OUT\n"
	      "                          (replaced when complete; a symbolic "
	      "link is\n"
	      "                          followed; a FIFO, device or directory "
	      "refused)\n"
	      "  -h, --help              show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 the replay failed, 2 usage error or "
	      "bad input.\n"
	      "See docs/mmu.md.\n",
	      f);
}

struct mmu_opts {
	const char *trace;
	int modes[MV_MMU_MODES];
	int guest_2m, host_2m, have_host;
	int untagged, convert, warm;
	uint64_t limit;
	int nset; /* --set KEY=VALUE, in order */
	char *set_key[32];
	const char *set_value[32];
};

/* Apply the --set parameters to c; MV_EINVAL (err) for a bad one. */
static int apply_sets(const struct mmu_opts *o, struct mv_mmu_config *c,
		      struct mv_error *err)
{
	for (int i = 0; i < o->nset; i++) {
		int rc = mv_mmu_config_set(c, o->set_key[i], o->set_value[i],
					   err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_page_size(const char *opt, const char *s, int *big)
{
	if (!strcmp(s, "4k") || !strcmp(s, "4K") || !strcmp(s, "4KiB")) {
		*big = 0;
		return 0;
	}
	if (!strcmp(s, "2m") || !strcmp(s, "2M") || !strcmp(s, "2MiB")) {
		*big = 1;
		return 0;
	}
	struct mv_error err = {0};
	mv_error_set(&err, MV_EINVAL, NULL, 0, opt,
		     "expected 4k or 2m, got '%s'", s);
	mv_cli_error(&err);
	return MV_EXIT_USAGE;
}

static int parse_options(int argc, char **argv, struct mmu_opts *o)
{
	enum { OPT_HOST = 256, OPT_UNTAGGED, OPT_CONVERT, OPT_WARM, OPT_SET };
	static const struct option longopts[] = {
		{"trace", required_argument, NULL, 't'},
		{"mode", required_argument, NULL, 'm'},
		{"page-size", required_argument, NULL, 'p'},
		{"host-page-size", required_argument, NULL, OPT_HOST},
		{"limit", required_argument, NULL, 'n'},
		{"untagged", no_argument, NULL, OPT_UNTAGGED},
		{"convert", no_argument, NULL, OPT_CONVERT},
		{"warm", no_argument, NULL, OPT_WARM},
		{"set", required_argument, NULL, OPT_SET},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	int any_mode = 0;
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":t:m:p:n:h", longopts, NULL)) !=
	       -1) {
		struct mv_error err = {0};
		switch (c) {
		case 't':
			o->trace = optarg;
			break;
		case 'm': {
			enum mv_mmu_mode m;
			if (!strcmp(optarg, "all")) {
				for (int i = 0; i < MV_MMU_MODES; i++)
					o->modes[i] = 1;
			} else if (mv_mmu_mode_parse(optarg, &m) == 0) {
				o->modes[m] = 1;
			} else {
				mv_error_set(&err, MV_EINVAL, NULL, 0, "--mode",
					     "expected native, shadow, nested "
					     "or all, got '%s'",
					     optarg);
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			any_mode = 1;
			break;
		}
		case 'p':
			if (parse_page_size("--page-size", optarg,
					    &o->guest_2m))
				return MV_EXIT_USAGE;
			break;
		case OPT_HOST:
			if (parse_page_size("--host-page-size", optarg,
					    &o->host_2m))
				return MV_EXIT_USAGE;
			o->have_host = 1;
			break;
		case 'n':
			if (mv_parse_u64(optarg, &o->limit) || !o->limit) {
				mv_error_set(
					&err, MV_EINVAL, NULL, 0, "--limit",
					"not a positive integer: '%s'", optarg);
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			break;
		case OPT_UNTAGGED:
			o->untagged = 1;
			break;
		case OPT_CONVERT:
			o->convert = 1;
			break;
		case OPT_WARM:
			o->warm = 1;
			break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || o->nset == 32) {
				mv_error_set(
					&err, MV_EINVAL, NULL, 0, "--set",
					eq ? "at most 32 parameters"
					   : "expected KEY=VALUE, got '%s'",
					optarg);
				mv_cli_error(&err);
				return MV_EXIT_USAGE;
			}
			*eq = '\0'; /* argv is ours to split */
			o->set_key[o->nset] = optarg;
			o->set_value[o->nset++] = eq + 1;
			struct mv_mmu_config probe;
			mv_mmu_config_default(&probe, MV_MMU_NESTED);
			if (apply_sets(o, &probe, &err)) {
				struct mv_error e = {0};
				mv_error_set(&e, MV_EINVAL, NULL, 0, "--set",
					     "%.40s: %.200s", err.field,
					     err.msg);
				mv_cli_error(&e);
				return MV_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			mv_cli_mmu_help(stdout);
			return MV_EXIT_OK;
		case ':':
			mv_cli_errorf("option '%s' needs an argument (see "
				      "memvisor mmu --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		default:
			mv_cli_errorf("unknown option '%s' (see memvisor mmu "
				      "--help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		}
	}
	if (!any_mode)
		for (int i = 0; i < MV_MMU_MODES; i++)
			o->modes[i] = 1;
	if (!o->have_host)
		o->host_2m = o->guest_2m;
	int nargs = argc - optind;
	if (o->convert) {
		if (nargs != 2 || o->trace) {
			mv_cli_errorf("mmu: --convert takes IN and OUT (see "
				      "memvisor mmu --help)");
			return MV_EXIT_USAGE;
		}
		return -1;
	}
	if (nargs == 1 && !o->trace)
		o->trace = argv[optind];
	else if (nargs > 0) {
		mv_cli_errorf("mmu: unexpected argument '%s' (see memvisor "
			      "mmu --help)",
			      argv[optind]);
		return MV_EXIT_USAGE;
	}
	if (!o->trace) {
		mv_cli_errorf("mmu: missing --trace FILE (see memvisor mmu "
			      "--help)");
		return MV_EXIT_USAGE;
	}
	return -1;
}

static int status_for(int code)
{
	return code == MV_EINVAL || code == MV_ENOENT ? MV_EXIT_USAGE
						      : MV_EXIT_FAILURE;
}

/* Guest-physical memory of the replay VM: room for any user footprint a
 * lackey trace of a few million accesses touches, with 2 MiB pages. */
#define REPLAY_VM_MIB 4096ull

struct result {
	struct mv_mmu_counters c;
	uint64_t cycles, shadow_peak_bytes;
	double base_cpi;
	double seconds;
};

static int replay_one(const struct mmu_opts *o, enum mv_mmu_mode mode,
		      struct result *res, struct mv_error *err)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = (REPLAY_VM_MIB + 512) * MV_MIB;
	hc.nodes = 1;
	struct mv_host *h = NULL;
	struct mv_vm *vm = NULL;
	struct mv_mmu *m = NULL;
	struct mv_trace *t = NULL;
	struct mv_mmu_proc *p;
	int rc = mv_host_create(&hc, &h, err);
	if (rc)
		return rc;
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "trace", REPLAY_VM_MIB * MV_MIB);
	if ((rc = mv_vm_create(h, &vc, 0, &vm, err)))
		goto out;
	struct mv_mmu_config mc;
	mv_mmu_config_default(&mc, mode);
	mc.guest_2m = o->guest_2m;
	mc.host_2m = o->host_2m;
	mc.tagged = !o->untagged;
	if ((rc = apply_sets(o, &mc, err)) ||
	    (rc = mv_mmu_create(vm, &mc, &m, err)))
		goto out;
	if ((rc = mv_mmu_proc_create(m, &p))) {
		mv_error_set(err, rc, NULL, 0, "mmu",
			     "cannot create the guest process");
		goto out;
	}
	if (o->warm) {
		if ((rc = mv_trace_open(o->trace, &t, err)) ||
		    (rc = mv_trace_replay(m, t, o->limit, err)))
			goto out;
		mv_trace_close(t);
		t = NULL;
		mv_mmu_reset_counters(m);
	}
	if ((rc = mv_trace_open(o->trace, &t, err)))
		goto out;
	double t0 = mv_wall_s();
	rc = mv_trace_replay(m, t, o->limit, err);
	double t1 = mv_wall_s();
	if (rc)
		goto out;
	/* as a trace workload refuses it (src/sim/trace.c): a table of
	 * zeros would read as a result */
	if (mv_mmu_counters(m)->accesses == 0) {
		rc = mv_error_set(err, MV_EINVAL, o->trace, 0, "trace",
				  "the trace holds no accesses");
		goto out;
	}
	res->c = *mv_mmu_counters(m);
	res->cycles = mv_mmu_cycles(m);
	res->shadow_peak_bytes = res->c.shadow_pages_peak * MV_PAGE_SIZE;
	res->base_cpi = mc.base_cpi;
	res->seconds = t1 - t0;
out:
	mv_trace_close(t);
	mv_mmu_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	return rc;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_result(const struct mmu_opts *o, enum mv_mmu_mode mode,
			 const struct result *r)
{
	const struct mv_mmu_counters *c = &r->c;
	/* instructions: the trace's fetches, or its accesses without any */
	uint64_t instr = c->fetches ? c->fetches : c->accesses;
	double total = (double)instr * r->base_cpi + (double)r->cycles;
	uint64_t exits = 0;
	for (int i = 0; i < MV_EXIT_COUNT; i++)
		exits += c->exits[i];
	double tlbwalk = (double)(c->cycles_l2 + c->cycles_walk);
	printf("%-7s %2s/%-2s %10llu %7.3f%% %7.3f%% %9.2f %8llu %9.1f "
	       "%7.2f%% %7.2f%%\n",
	       mv_mmu_mode_name(mode), o->guest_2m ? "2m" : "4k",
	       o->host_2m ? "2m" : "4k", (unsigned long long)c->accesses,
	       pct(c->l1_misses, c->accesses), pct(c->l2_misses, c->accesses),
	       c->walks ? (double)c->walk_refs / (double)c->walks : 0.0,
	       (unsigned long long)exits, (double)r->shadow_peak_bytes / 1024.0,
	       total > 0 ? 100.0 * tlbwalk / total : 0.0,
	       total > 0 ? 100.0 * (double)r->cycles / total : 0.0);
}

static void print_details(enum mv_mmu_mode mode, const struct result *r)
{
	const struct mv_mmu_counters *c = &r->c;
	printf("  %s: walks %llu (refs %llu, of them EPT %llu), walk-cache "
	       "hits %llu + EPT %llu, guest faults %llu, PT writes %llu\n",
	       mv_mmu_mode_name(mode), (unsigned long long)c->walks,
	       (unsigned long long)c->walk_refs,
	       (unsigned long long)c->walk_refs_nested,
	       (unsigned long long)c->pwc_hits,
	       (unsigned long long)c->npwc_hits,
	       (unsigned long long)c->guest_faults,
	       (unsigned long long)c->pt_writes);
	printf("    exits:");
	for (int i = 0; i < MV_EXIT_COUNT; i++)
		printf(" %s %llu", mv_exit_cause_name((enum mv_exit_cause)i),
		       (unsigned long long)c->exits[i]);
	printf("\n    cycles: L2 TLB %llu, walks %llu, exits %llu; "
	       "guest PT pages %llu, EPT pages %llu; %.1f M accesses/s\n",
	       (unsigned long long)c->cycles_l2,
	       (unsigned long long)c->cycles_walk,
	       (unsigned long long)c->cycles_exit,
	       (unsigned long long)c->guest_pt_pages,
	       (unsigned long long)c->ept_pages,
	       r->seconds > 0 ? (double)c->accesses / r->seconds / 1e6 : 0.0);
}

int mv_cli_mmu(int argc, char **argv)
{
	struct mmu_opts o;
	int st = parse_options(argc, argv, &o);
	if (st >= 0)
		return st;
	struct mv_error err = {0};
	if (o.convert) {
		const char *out = argv[optind + 1];
		char target[4096];
		st = mv_cli_check_input(argv[optind], "trace", 0);
		if (st != MV_EXIT_OK)
			return st;
		/* The converted trace replaces OUT by rename: a symbolic
		 * link's target, never the link; a FIFO or device is not
		 * replaced at all but refused (a binary trace is a file). */
		int kind = mv_report_output_check(out, "--convert", target,
						  sizeof target, &err);
		if (kind == MV_OUT_IN_PLACE)
			mv_error_set(&err, MV_EINVAL, out, 0, "--convert",
				     "is not a regular file: the binary trace "
				     "must go to a file");
		if (kind < 0 || kind == MV_OUT_IN_PLACE) {
			mv_cli_error(&err);
			return MV_EXIT_USAGE;
		}
		uint64_t n = 0;
		int rc = mv_trace_convert(argv[optind], target, &n, &err);
		if (rc) {
			mv_cli_error(&err);
			return status_for(rc);
		}
		printf("%s: %llu records\n", argv[optind + 1],
		       (unsigned long long)n);
		return MV_EXIT_OK;
	}
	st = mv_cli_check_input(o.trace, "trace", 0);
	if (st != MV_EXIT_OK)
		return st;
	struct result res[MV_MMU_MODES];
	for (int i = 0; i < MV_MMU_MODES; i++) {
		if (!o.modes[i])
			continue;
		memset(&res[i], 0, sizeof res[i]);
		int rc = replay_one(&o, (enum mv_mmu_mode)i, &res[i], &err);
		if (rc) {
			mv_cli_error(&err);
			return status_for(rc);
		}
	}
	printf("trace %s\n", o.trace);
	printf("%s\n", o.warm ? "second pass (--warm)" : "cold start");
	printf("mode    page     accesses  L1 miss  L2 miss refs/walk    "
	       "exits shadowKiB  TLB+walk  total\n");
	for (int i = 0; i < MV_MMU_MODES; i++)
		if (o.modes[i])
			print_result(&o, (enum mv_mmu_mode)i, &res[i]);
	for (int i = 0; i < MV_MMU_MODES; i++)
		if (o.modes[i])
			print_details((enum mv_mmu_mode)i, &res[i]);
	return MV_EXIT_OK;
}

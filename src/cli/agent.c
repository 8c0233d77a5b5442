/*
 * agent.c - `memvisor agent` and `memvisor record`: options, help, the
 * signals, the --top screen; the work is the agent layer's (src/agent/,
 * docs/agent.md).
 *
 * Both run until a duration or a signal: SIGINT and SIGTERM let the
 * interval under way finish, then the agent restores what it promised to
 * (KSM's knobs, stats periods, with --restore-on-exit the balloons),
 * prints its summary and exits 0; record writes what it saw. A second
 * signal ends the process at once. Bad options and an unreachable URI:
 * one line, exit 2.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "memvisor/report.h"
#include "cli/cli.h"

void mv_cli_agent_help(FILE *f)
{
	fputs("usage: memvisor agent [OPTIONS]\n"
	      "\n"
	      "Manage the memory of a libvirt host's running guests with "
	      "memvisor's\n"
	      "policy (ESX's free-memory states, shares, reservations, limits "
	      "and idle\n"
	      "memory tax; src/policy, the simulator's code): every interval, "
	      "read each\n"
	      "guest's balloon statistics, QEMU's RSS and the accessed pages "
	      "of its RAM,\n"
	      "set balloon targets (at most 5% of a guest's memory per "
	      "interval, never\n"
	      "below its use plus 20% nor its reservation) and tune KSM as "
	      "ksmtuned does.\n"
	      "See docs/agent.md.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect URI     libvirt URI (default: libvirt's own "
	      "default, e.g.\n"
	      "                        qemu:///system as root)\n"
	      "      --interval T      time between decisions (default 1s; "
	      "e.g. 500ms, 5s)\n"
	      "      --sample-period T active-memory sampling period (default "
	      "30s, ESX's)\n"
	      "      --once            one interval, then exit\n"
	      "      --duration T      stop after T (default: until SIGINT or "
	      "SIGTERM)\n"
	      "      --dry-run         decide and log, change nothing (no "
	      "balloon, stats\n"
	      "                        period or KSM write)\n"
	      "      --host-memory SIZE\n"
	      "                        treat SIZE (e.g. 2G, 1.2G) as the "
	      "host's "
	      "memory: free =\n"
	      "                        SIZE minus the guests' RSS (default: "
	      "/proc/meminfo)\n"
	      "      --json-log FILE   one JSON line per guest per interval "
	      "and per event\n"
	      "                        (docs/agent.md); '-' for standard "
	      "output\n"
	      "      --top             a live esxtop-like screen of the guests "
	      "(q stops)\n"
	      "      --restore-on-exit on exit, set each guest back to its "
	      "<currentMemory>\n"
	      "      --no-ksm          leave KSM's settings alone\n"
	      "      --memstate MODEL  free-memory states: esx41 (default), "
	      "vsphere5,\n"
	      "                        vsphere6 (docs/policy.md)\n"
	      "      --idle-tax F      idle memory tax (default 75%)\n"
	      "      --ksm-dir DIR     KSM's sysfs (default "
	      "/sys/kernel/mm/ksm)\n"
	      "      --pid-dir DIR     where libvirt writes QEMU's NAME.pid\n"
	      "                        (default /run/libvirt/qemu)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "On exit (the duration, --once, SIGINT or SIGTERM after the "
	      "interval under\n"
	      "way) every KSM knob and stats period the agent changed is put "
	      "back and a\n"
	      "summary is printed. Exit status: 0, or 2 for a bad option or "
	      "an\n"
	      "unreachable URI (one line on standard error).\n",
	      f);
}

void mv_cli_record_help(FILE *f)
{
	fputs("usage: memvisor record --connect URI --duration T -o FILE\n"
	      "\n"
	      "Record a libvirt host's running guests for T: write a "
	      "scenario (FILE,\n"
	      "docs/scenario.md) with each guest's domain XML and a usage "
	      "workload that\n"
	      "replays what it used, and beside it the measured series as "
	      "CSV:\n"
	      "FILE-NAME.csv per guest (GWA-T-12 Bitbrains columns plus the "
	      "balloon's\n"
	      "statistics and QEMU's RSS) and FILE-host.csv (free memory, KSM "
	      "counters).\n"
	      "`memvisor run FILE` replays it. Changes nothing on the host.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect URI     libvirt URI (default: libvirt's "
	      "default)\n"
	      "      --duration T      how long to record (required; e.g. "
	      "10m)\n"
	      "      --interval T      time between samples (default 1s)\n"
	      "      --sample-period T the agent's active-memory sampling "
	      "period, written\n"
	      "                        as the scenario's <sampling> (default "
	      "30s, the agent's)\n"
	      "      --agent-log FILE  the JSON log of `memvisor agent` "
	      "running beside:\n"
	      "                        the accessed pages it measured set "
	      "each guest's\n"
	      "                        access rate (without it record "
	      "measures them itself,\n"
	      "                        clearing accessed bits: not beside an "
	      "agent)\n"
	      "  -o, --output FILE     the scenario to write (required)\n"
	      "      --host-memory SIZE\n"
	      "                        the scenario's host memory (default: "
	      "MemTotal)\n"
	      "      --pid-dir DIR     where libvirt writes QEMU's NAME.pid, "
	      "to split\n"
	      "                        QEMU's RSS into guest RAM and "
	      "overhead\n"
	      "                        (default /run/libvirt/qemu)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0, 1 the files could not be written, 2 a bad "
	      "option or an\n"
	      "unreachable URI.\n",
	      f);
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	if (g_stop) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	g_stop = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a libvirtd that goes away mid-call closes the socket under a
	 * write: libvirt reports the error, SIGPIPE must not end us first */
	signal(SIGPIPE, SIG_IGN);
}

/* Report getopt's complaint about argv[optind - 1]; exit status 2. */
static int bad_option(const char *cmd, char **argv, int c)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		mv_cli_errorf("%s: option '%s' needs a value (see memvisor %s "
			      "--help)",
			      cmd, arg, cmd);
	else
		mv_cli_errorf(
			"%s: unknown option '%s' (see memvisor %s --help)", cmd,
			arg, cmd);
	return MV_EXIT_USAGE;
}

static int parse_time(const char *opt, const char *s, uint64_t *ns)
{
	if (mv_parse_duration(s, ns) || !*ns) {
		mv_cli_errorf("%s: not a duration above zero: '%s' (e.g. 1s, "
			      "500ms, 10m)",
			      opt, s);
		return -1;
	}
	return 0;
}

static int parse_mem(const char *opt, const char *s, uint64_t *kib)
{
	uint64_t b = 0;
	int rc = mv_parse_size_round(s, 1024, &b);
	if (rc == MV_ERANGE) {
		mv_cli_errorf("%s: '%s' is too large", opt, s);
		return -1;
	}
	if (rc) {
		mv_cli_errorf(
			"%s: not a size: '%s' (a number, decimals allowed, "
			"and a unit: 2G, 1.2G, 1536M, 2GiB)",
			opt, s);
		return -1;
	}
	if (b < MV_MIB) {
		mv_cli_errorf("%s: '%s' is below 1 MiB", opt, s);
		return -1;
	}
	*kib = b / 1024;
	return 0;
}

/* ---- the live screen ---------------------------------------------------
 */

struct top {
	int active;
};

static void top_draw(void *ctx, const struct mv_agent_view *v)
{
	struct top *t = ctx;
	if (!t->active)
		return;
	for (int ch; (ch = getch()) != ERR;)
		if (ch == 'q' || ch == 'Q')
			g_stop = SIGINT;
	erase();
	char line[256];
	snprintf(line, sizeof line,
		 "memvisor agent%s - interval %llu, state %s, host %.0f MiB, "
		 "free %.0f MiB%s",
		 v->dry_run ? " (dry run)" : "",
		 (unsigned long long)v->interval,
		 v->connected ? mv_memstate_name(v->state) : "-",
		 v->host_total_kib / 1024.0, v->host_free_kib / 1024.0,
		 v->connected ? "" : "  [libvirt connection down]");
	mvaddnstr(0, 0, line, COLS);
	snprintf(line, sizeof line,
		 "KSM run %d, pages_to_scan %llu, pages_sharing %llu",
		 v->ksm_run, (unsigned long long)v->ksm_pages_to_scan,
		 (unsigned long long)v->ksm_pages_sharing);
	mvaddnstr(1, 0, line, COLS);
	attron(A_REVERSE);
	snprintf(line, sizeof line,
		 "%-16s %8s %8s %8s %8s %8s %8s %6s %5s %-15s %-11s", "NAME",
		 "MEMSZ", "ACTUAL", "TARGET", "RSS", "UNUSED", "RESV", "SHARES",
		 "%ACTV", "ACTV-SOURCE", "REASON");
	mvaddnstr(3, 0, line, COLS);
	attroff(A_REVERSE);
	for (int i = 0; i < v->n && 4 + i < LINES; i++) {
		const struct mv_agent_row *r = &v->row[i];
		snprintf(line, sizeof line,
			 "%-16.16s %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %6llu "
			 "%5.1f %-15s %-11s%s",
			 r->name, r->max_kib / 1024.0, r->actual_kib / 1024.0,
			 r->target_kib / 1024.0, r->rss_kib / 1024.0,
			 r->unused_kib / 1024.0, r->reservation_kib / 1024.0,
			 (unsigned long long)r->shares, 100 * r->active,
			 mv_agent_active_src_name(r->src),
			 mv_agent_reason_name(r->reason),
			 r->failed ? " FAILED" : "");
		mvaddnstr(4 + i, 0, line, COLS);
	}
	refresh();
}

/* Open --json-log's file ("-": standard output); NULL after one line. */
static FILE *open_log(const char *path)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		mv_cli_errorf("--json-log: cannot write '%s': %s", path,
			      strerror(errno));
	return f;
}

int mv_cli_agent(int argc, char **argv)
{
	enum {
		OPT_INTERVAL = 256,
		OPT_SAMPLE,
		OPT_ONCE,
		OPT_DURATION,
		OPT_DRY_RUN,
		OPT_HOST_MEMORY,
		OPT_JSON_LOG,
		OPT_TOP,
		OPT_RESTORE,
		OPT_NO_KSM,
		OPT_MEMSTATE,
		OPT_IDLE_TAX,
		OPT_KSM_DIR,
		OPT_PID_DIR,
	};
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"sample-period", required_argument, NULL, OPT_SAMPLE},
		{"once", no_argument, NULL, OPT_ONCE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"host-memory", required_argument, NULL, OPT_HOST_MEMORY},
		{"json-log", required_argument, NULL, OPT_JSON_LOG},
		{"top", no_argument, NULL, OPT_TOP},
		{"restore-on-exit", no_argument, NULL, OPT_RESTORE},
		{"no-ksm", no_argument, NULL, OPT_NO_KSM},
		{"memstate", required_argument, NULL, OPT_MEMSTATE},
		{"idle-tax", required_argument, NULL, OPT_IDLE_TAX},
		{"ksm-dir", required_argument, NULL, OPT_KSM_DIR},
		{"pid-dir", required_argument, NULL, OPT_PID_DIR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mv_agent_opts o;
	mv_agent_opts_default(&o);
	const char *log_path = NULL;
	int top = 0;
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.uri = optarg;
			break;
		case OPT_INTERVAL:
			if (parse_time("--interval", optarg, &o.interval_ns))
				return MV_EXIT_USAGE;
			break;
		case OPT_SAMPLE:
			if (parse_time("--sample-period", optarg, &o.sample_ns))
				return MV_EXIT_USAGE;
			break;
		case OPT_DURATION:
			if (parse_time("--duration", optarg, &o.duration_ns))
				return MV_EXIT_USAGE;
			break;
		case OPT_ONCE:
			o.once = 1;
			break;
		case OPT_DRY_RUN:
			o.dry_run = 1;
			break;
		case OPT_HOST_MEMORY:
			if (parse_mem("--host-memory", optarg,
				      &o.host_memory_kib))
				return MV_EXIT_USAGE;
			break;
		case OPT_JSON_LOG:
			if (!optarg[0]) {
				mv_cli_errorf("--json-log: empty file name");
				return MV_EXIT_USAGE;
			}
			log_path = optarg;
			break;
		case OPT_TOP:
			top = 1;
			break;
		case OPT_RESTORE:
			o.restore_on_exit = 1;
			break;
		case OPT_NO_KSM:
			o.cfg.ksm = 0;
			break;
		case OPT_MEMSTATE:
			if (mv_memstate_model_parse(optarg, &o.cfg.model)) {
				mv_cli_errorf("--memstate: unknown model '%s' "
					      "(esx41, vsphere5, vsphere6)",
					      optarg);
				return MV_EXIT_USAGE;
			}
			break;
		case OPT_IDLE_TAX:
			if (mv_parse_fraction(optarg, &o.cfg.idle_tax) ||
			    o.cfg.idle_tax > MV_IDLE_TAX_MAX) {
				mv_cli_errorf("--idle-tax: not a fraction from "
					      "0 to 99%%: '%s'",
					      optarg);
				return MV_EXIT_USAGE;
			}
			break;
		case OPT_KSM_DIR:
			o.ksm_dir = optarg;
			break;
		case OPT_PID_DIR:
			o.pid_dir = optarg;
			break;
		case 'h':
			mv_cli_agent_help(stdout);
			return MV_EXIT_OK;
		default:
			return bad_option("agent", argv, c);
		}
	}
	if (optind < argc) {
		mv_cli_errorf("agent: unexpected argument '%s' (see memvisor "
			      "agent --help)",
			      argv[optind]);
		return MV_EXIT_USAGE;
	}
	if (o.once && o.duration_ns) {
		mv_cli_errorf("agent: --once and --duration: choose one");
		return MV_EXIT_USAGE;
	}
	if (top && log_path && !strcmp(log_path, "-")) {
		mv_cli_errorf("agent: --top and --json-log -: the screen and "
			      "the log cannot share standard output");
		return MV_EXIT_USAGE;
	}
	/* a log the agent could not start with is not left behind */
	int log_new = log_path && strcmp(log_path, "-") &&
		      access(log_path, F_OK) != 0;
	if (log_path && !(o.json_log = open_log(log_path)))
		return MV_EXIT_USAGE;
	g_stop = 0;
	catch_signals();
	o.stop = &g_stop;
	o.summary = stdout;
	struct top t = {0};
	char *sumbuf = NULL;
	size_t sumlen = 0;
	if (top) {
		/* the summary waits for the screen to close */
		if (!(o.summary = open_memstream(&sumbuf, &sumlen))) {
			mv_cli_errorf("agent: out of memory");
			return MV_EXIT_FAILURE;
		}
		if (!initscr()) {
			mv_cli_errorf("agent: --top: cannot start the screen");
			return MV_EXIT_USAGE;
		}
		cbreak();
		noecho();
		nodelay(stdscr, TRUE);
		curs_set(0);
		t.active = 1;
		o.on_interval = top_draw;
		o.ctx = &t;
	}
	char msg[512];
	int rc = mv_agent_run(&o, msg, sizeof msg);
	if (t.active)
		endwin();
	if (o.summary != stdout) {
		fclose(o.summary);
		fputs(sumbuf ? sumbuf : "", stdout);
		free(sumbuf);
	}
	if (o.json_log && o.json_log != stdout)
		fclose(o.json_log);
	if (rc) {
		if (log_new)
			unlink(log_path);
		mv_cli_errorf("%s", msg);
		return MV_EXIT_USAGE;
	}
	return MV_EXIT_OK;
}

int mv_cli_record(int argc, char **argv)
{
	enum {
		OPT_INTERVAL = 256,
		OPT_DURATION,
		OPT_HOST_MEMORY,
		OPT_PID_DIR,
		OPT_SAMPLE,
		OPT_AGENT_LOG
	};
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"sample-period", required_argument, NULL, OPT_SAMPLE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"agent-log", required_argument, NULL, OPT_AGENT_LOG},
		{"output", required_argument, NULL, 'o'},
		{"host-memory", required_argument, NULL, OPT_HOST_MEMORY},
		{"pid-dir", required_argument, NULL, OPT_PID_DIR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mv_record_opts o = {
		.interval_ns = MV_NS_PER_S,
		.ksm_dir = "/sys/kernel/mm/ksm",
		.meminfo = "/proc/meminfo",
		.pid_dir = "/run/libvirt/qemu",
	};
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.uri = optarg;
			break;
		case OPT_INTERVAL:
			if (parse_time("--interval", optarg, &o.interval_ns))
				return MV_EXIT_USAGE;
			break;
		case OPT_DURATION:
			if (parse_time("--duration", optarg, &o.duration_ns))
				return MV_EXIT_USAGE;
			break;
		case OPT_SAMPLE:
			if (parse_time("--sample-period", optarg, &o.sample_ns))
				return MV_EXIT_USAGE;
			if (o.sample_ns < 10 * MV_NS_PER_MS) {
				mv_cli_errorf("--sample-period: '%s' is below "
					      "the replay's 10 ms step",
					      optarg);
				return MV_EXIT_USAGE;
			}
			break;
		case OPT_HOST_MEMORY:
			if (parse_mem("--host-memory", optarg,
				      &o.host_memory_kib))
				return MV_EXIT_USAGE;
			break;
		case OPT_PID_DIR:
			o.pid_dir = optarg;
			break;
		case OPT_AGENT_LOG:
			if (!optarg[0]) {
				mv_cli_errorf("--agent-log: empty file name");
				return MV_EXIT_USAGE;
			}
			o.agent_log = optarg;
			break;
		case 'o':
			if (!optarg[0]) {
				mv_cli_errorf("--output: empty file name");
				return MV_EXIT_USAGE;
			}
			o.output = optarg;
			break;
		case 'h':
			mv_cli_record_help(stdout);
			return MV_EXIT_OK;
		default:
			return bad_option("record", argv, c);
		}
	}
	if (optind < argc) {
		mv_cli_errorf("record: unexpected argument '%s' (see memvisor "
			      "record --help)",
			      argv[optind]);
		return MV_EXIT_USAGE;
	}
	if (!o.duration_ns || !o.output) {
		mv_cli_errorf("record: %s is required (see memvisor record "
			      "--help)",
			      !o.duration_ns ? "--duration" : "-o FILE");
		return MV_EXIT_USAGE;
	}
	/* the scenario is renamed into place and its series are named
	 * after it: only a regular file (or a new name) can be it, and
	 * renaming over a device (as root, -o /dev/null) would destroy it */
	struct mv_error err = {0};
	int kind = mv_report_output_check(o.output, "--output", NULL, 0, &err);
	if (kind == MV_OUT_IN_PLACE)
		mv_error_set(&err, MV_EINVAL, o.output, 0, "--output",
			     "is not a regular file: a recording is a "
			     "scenario and its series beside it");
	if (kind < 0 || kind == MV_OUT_IN_PLACE) {
		mv_cli_error(&err);
		return MV_EXIT_USAGE;
	}
	g_stop = 0;
	catch_signals();
	o.stop = &g_stop;
	char msg[512];
	int rc = mv_record_run(&o, msg, sizeof msg);
	if (rc) {
		mv_cli_errorf("%s", msg);
		return rc == -1 ? MV_EXIT_USAGE : MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

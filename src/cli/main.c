/*
 * main.c - the memvisor command: dispatch to subcommands, help, version.
 *
 * The command line follows git's shape: `memvisor COMMAND [options] ARGS`,
 * with `memvisor --help`, `memvisor help [COMMAND]` and `memvisor
 * --version`. Errors are one line on stderr starting with "memvisor: "; the
 * exit status says what kind (see cli.h and memvisor(1)). This is the only
 * place in memvisor where the process exits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void main_help(FILE *f)
{
	fputs("usage: memvisor COMMAND [OPTIONS] [ARGS]\n"
	      "       memvisor --help | --version\n"
	      "\n"
	      "Simulate a hypervisor's memory manager (VMware ESX, Linux KVM)\n"
	      "on an overcommitted host, on real page bytes, "
	      "deterministically\n"
	      "from a seed.\n"
	      "\n"
	      "Commands:\n"
	      "  run SCENARIO      simulate a scenario and print a summary\n"
	      "  plan SCENARIO     run it at a range of overcommit ratios and "
	      "say which\n"
	      "                    are safe against SLOs (stall, swap-in, "
	      "progress)\n"
	      "  dommemstat SCENARIO VM\n"
	      "                    a VM's memory as `virsh dommemstat` prints "
	      "it\n"
	      "  mmu --trace FILE  replay an address trace: native, shadow "
	      "and\n"
	      "                    nested paging, TLBs, 4 KiB / 2 MiB pages\n"
	      "  analyze IMAGE... | --pid PID...\n"
	      "                    what page sharing (KSM, ESX) and "
	      "compression would\n"
	      "                    save on memory dumps and live processes\n"
	      "  agent             manage a libvirt host's running guests "
	      "with this\n"
	      "                    policy: balloon targets and KSM, live\n"
	      "  record --connect URI --duration T -o FILE\n"
	      "                    a scenario of a libvirt host's guests and "
	      "what they\n"
	      "                    used, for `run` to replay\n"
	      "  help [COMMAND]    show help for memvisor or for COMMAND\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help        show this help and exit\n"
	      "  -V, --version     show the version and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 the run failed, 2 usage error or bad "
	      "input\n"
	      "(a scenario or trace that is missing, unreadable, not a regular "
	      "file or\n"
	      "over 64 MiB; an output path that cannot be written), 130/143 "
	      "run stopped\n"
	      "by SIGINT/SIGTERM.\n"
	      "See memvisor(1), docs/scenario.md and docs/json.md.\n",
	      f);
}

void mv_cli_error(const struct mv_error *err)
{
	char buf[sizeof err->file + sizeof err->field + sizeof err->msg + 32];
	mv_error_format(err, buf, sizeof buf);
	/* One line, whatever the message holds. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!buf[0])
		snprintf(buf, sizeof buf, "%s", mv_strerror(err->code));
	fprintf(stderr, "memvisor: %s\n", buf);
}

void mv_cli_errorf(const char *fmt, ...)
{
	struct mv_error err = {.code = MV_EINVAL};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof err.msg, fmt, ap);
	va_end(ap);
	mv_cli_error(&err);
}

static int help_command(int argc, char **argv)
{
	if (argc > 2) {
		mv_cli_errorf("help: too many arguments (see memvisor --help)");
		return MV_EXIT_USAGE;
	}
	if (argc < 2) {
		main_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "run") == 0) {
		mv_cli_run_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "plan") == 0) {
		mv_cli_plan_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "mmu") == 0) {
		mv_cli_mmu_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "dommemstat") == 0) {
		mv_cli_dommemstat_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "analyze") == 0) {
		mv_cli_analyze_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "agent") == 0) {
		mv_cli_agent_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "record") == 0) {
		mv_cli_record_help(stdout);
		return MV_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		main_help(stdout);
		return MV_EXIT_OK;
	}
	mv_cli_errorf("unknown command '%s' (see memvisor --help)", argv[1]);
	return MV_EXIT_USAGE;
}

/*
 * Exit status after flushing stdout: a failed write is a failure (reported
 * once: a command that already failed has said why).
 */
static int finish(int status)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	if (bad && status == MV_EXIT_OK) {
		mv_cli_errorf("standard output: write error: %s",
			      strerror(errno));
		return MV_EXIT_FAILURE;
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		mv_cli_errorf("missing command (see memvisor --help)");
		return MV_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		main_help(stdout);
		return finish(MV_EXIT_OK);
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("memvisor %s\n", MV_VERSION);
		return finish(MV_EXIT_OK);
	}
	if (strcmp(cmd, "help") == 0)
		return finish(help_command(argc - 1, argv + 1));
	if (strcmp(cmd, "run") == 0)
		return finish(mv_cli_run(argc - 1, argv + 1));
	if (strcmp(cmd, "plan") == 0)
		return finish(mv_cli_plan(argc - 1, argv + 1));
	if (strcmp(cmd, "mmu") == 0)
		return finish(mv_cli_mmu(argc - 1, argv + 1));
	if (strcmp(cmd, "analyze") == 0)
		return finish(mv_cli_analyze(argc - 1, argv + 1));
	if (strcmp(cmd, "agent") == 0)
		return finish(mv_cli_agent(argc - 1, argv + 1));
	if (strcmp(cmd, "record") == 0)
		return finish(mv_cli_record(argc - 1, argv + 1));
	if (strcmp(cmd, "dommemstat") == 0)
		return finish(mv_cli_dommemstat(argc - 1, argv + 1));
	if (cmd[0] == '-' && cmd[1] != '\0') {
		const char *eq = strchr(cmd, '=');
		int len = eq ? (int)(eq - cmd) : (int)strlen(cmd);
		mv_cli_errorf("unknown option '%.*s' (see memvisor --help)",
			      len, cmd);
		return MV_EXIT_USAGE;
	}
	mv_cli_errorf("unknown command '%s' (see memvisor --help)", cmd);
	return MV_EXIT_USAGE;
}

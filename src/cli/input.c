/*
 * input.c - the command's input files: one place that checks a scenario
 * (or trace) path and loads it, or says in one line why not and gives the
 * exit status for bad input.
 *
 * The readers below the cli (src/sim) refuse what is not a regular file
 * and what is larger than they read, but with errno's words ("No such
 * device", "File too large"); here the path is looked at first, so the
 * user reads what is wrong with it and the command exits 2 (bad input),
 * as memvisor(1) and every --help promise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "memvisor/sim.h"

int mv_cli_check_input(const char *path, const char *what, uint64_t max)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		mv_cli_errorf("%s: cannot open %s: %s", path, what,
			      strerror(errno));
		return MV_EXIT_USAGE;
	}
	if (S_ISDIR(st.st_mode)) {
		mv_cli_errorf("%s: is a directory, not a %s file", path, what);
		return MV_EXIT_USAGE;
	}
	if (!S_ISREG(st.st_mode)) {
		mv_cli_errorf("%s: is not a regular file (%s): a %s must be "
			      "a file",
			      path, mv_file_kind(st.st_mode), what);
		return MV_EXIT_USAGE;
	}
	if (max && (uint64_t)st.st_size > max) {
		mv_cli_errorf("%s: %.1f MiB is larger than the %llu MiB limit "
			      "for a %s",
			      path, (double)st.st_size / (double)MV_MIB,
			      (unsigned long long)(max / MV_MIB), what);
		return MV_EXIT_USAGE;
	}
	if (access(path, R_OK) != 0) {
		mv_cli_errorf("%s: cannot read %s: %s", path, what,
			      strerror(errno));
		return MV_EXIT_USAGE;
	}
	return MV_EXIT_OK;
}

/* The error's one line, with the path and mv_strerror's words where the
 * reader left them out. */
static void print_error(const char *path, int rc, struct mv_error *err)
{
	if (path && !err->file[0])
		snprintf(err->file, sizeof err->file, "%s", path);
	if (!err->msg[0])
		snprintf(err->msg, sizeof err->msg, "%s", mv_strerror(rc));
	mv_cli_error(err);
}

int mv_cli_load_scenario(const char *path, struct mv_scenario **sc)
{
	*sc = NULL;
	int st = mv_cli_check_input(path, "scenario", MV_CLI_SCENARIO_MAX);
	if (st != MV_EXIT_OK)
		return st;
	struct mv_error err = {0};
	int rc = mv_scenario_load(path, sc, &err);
	if (!rc)
		return MV_EXIT_OK; /* warnings: once it powers on (run.c) */
	print_error(path, rc, &err);
	/* Whatever the scenario or a file it names holds, or fails to: the
	 * user's input. Only the process running out of memory is not. */
	return rc == MV_ENOMEM ? MV_EXIT_FAILURE : MV_EXIT_USAGE;
}

int mv_cli_load_error(const char *path, int rc, struct mv_error *err)
{
	print_error(path, rc, err);
	return rc == MV_EINVAL || rc == MV_ENOENT ? MV_EXIT_USAGE
						  : MV_EXIT_FAILURE;
}

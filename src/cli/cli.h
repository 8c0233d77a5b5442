/*
 * cli.h - the memvisor command's internal interface (cli layer only).
 *
 * main.c dispatches to one function per subcommand; each returns the
 * process exit status. Exit statuses are part of the interface (memvisor(1)):
 * 0 success, 1 the run failed (an invariant check, I/O), 2 usage errors and
 * bad input. Errors are one line on stderr: "memvisor: " and the message.
 */
#ifndef MEMVISOR_CLI_H
#define MEMVISOR_CLI_H

#include <stdio.h>

#include "memvisor/core.h"

enum {
	MV_EXIT_OK = 0,
	MV_EXIT_FAILURE = 1, /* runtime failure */
	MV_EXIT_USAGE = 2,   /* usage error or bad input */
};

/* `memvisor run ...`; argv[0] is "run". */
int mv_cli_run(int argc, char **argv);
/* Help text of `memvisor run` to f. */
void mv_cli_run_help(FILE *f);

/* Print "memvisor: <err>" as one line on stderr. */
void mv_cli_error(const struct mv_error *err);
/* Print "memvisor: <message>" as one line on stderr. */
void mv_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

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

/* `memvisor dommemstat ...`; argv[0] is "dommemstat". */
int mv_cli_dommemstat(int argc, char **argv);
void mv_cli_dommemstat_help(FILE *f);

/* `memvisor analyze ...`; argv[0] is "analyze". */
int mv_cli_analyze(int argc, char **argv);
void mv_cli_analyze_help(FILE *f);

/* `memvisor agent ...` and `memvisor record ...` (agent.c, over
 * src/agent); argv[0] is the command's name. */
int mv_cli_agent(int argc, char **argv);
void mv_cli_agent_help(FILE *f);
int mv_cli_record(int argc, char **argv);
void mv_cli_record_help(FILE *f);

/* `memvisor plan ...`; argv[0] is "plan". */
int mv_cli_plan(int argc, char **argv);
void mv_cli_plan_help(FILE *f);

/* `memvisor mmu ...`; argv[0] is "mmu". */
int mv_cli_mmu(int argc, char **argv);
void mv_cli_mmu_help(FILE *f);

/*
 * Scenario files are read whole, up to this size (the sim layer's reader
 * limit, MV_READER_MAX_BYTES in src/sim/readers.h).
 */
#define MV_CLI_SCENARIO_MAX (64 * MV_MIB)

/*
 * Check that path is a readable regular file of at most max bytes (0: any
 * size) before a reader opens it: MV_EXIT_OK, or MV_EXIT_USAGE after one
 * line naming path and what is wrong ("is a directory", "is not a regular
 * file", "larger than the 64 MiB limit for a scenario"). what names the
 * file's role in the message ("scenario", "trace").
 */
int mv_cli_check_input(const char *path, const char *what, uint64_t max);

/*
 * Load the scenario at path (every subcommand's one way to do it):
 * MV_EXIT_OK with *sc set, or the exit status after one error line: 2 for
 * anything wrong with the scenario or the files it names, 1 only if the
 * process ran out of memory. The scenario's warnings are not printed here:
 * the caller prints them (mv_scenario_print_warnings) once the scenario
 * has powered on, so that bad input gets exactly one line.
 */
struct mv_scenario;
int mv_cli_load_scenario(const char *path, struct mv_scenario **sc);

/*
 * Report a simulator that failed to start (rc from mv_sim_create; err
 * filled in by it, path names the file when err does not) and return the
 * exit status: 2 for bad input, 1 otherwise.
 */
int mv_cli_load_error(const char *path, int rc, struct mv_error *err);

/* The live screen of `run --top` (top.c). */
struct mv_sim;
struct mv_cli_top {
	int active, sort, paused, quit;
	double last_draw, last_poll; /* wall-clock seconds */
};
/* Take over the terminal; -1 if curses cannot start. */
int mv_cli_top_start(struct mv_cli_top *t);
/* Between simulation steps: read keys, redraw now and then; waits while
 * paused. t->quit set when the user asked to stop. */
void mv_cli_top_tick(struct mv_cli_top *t, const struct mv_sim *s);
void mv_cli_top_end(struct mv_cli_top *t);

/* Print "memvisor: <err>" as one line on stderr. */
void mv_cli_error(const struct mv_error *err);
/*
 * Before a run: every output (-o FILE, the files of the --csv and --svg
 * sets, each NULL when not given) can be written, is none of the files
 * scenario sc reads and is not another output (cli/outputs.c).
 * MV_EXIT_OK, or the exit status after one error line.
 */
int mv_cli_check_outputs(const struct mv_scenario *sc, const char *output,
			 const char *csv_dir, const char *svg_dir);
/*
 * The same for n output files of their own (paths[i] NULL: not given),
 * opts[i] naming the option of each ("--json") in errors.
 */
int mv_cli_check_files(const struct mv_scenario *sc, int n,
		       const char *const *paths, const char *const *opts);
/* The same for a cluster run: -o, the --csv set of a cluster
 * (mv_report_cluster_csv_names) and its --svg charts
 * (mv_report_cluster_svg_names) against the cluster file and every
 * host's inputs. */
struct mv_cluster_scenario;
int mv_cli_check_cluster_outputs(const struct mv_cluster_scenario *cs,
				 const char *output, const char *csv_dir,
				 const char *svg_dir);
/* Print "memvisor: <message>" as one line on stderr. */
void mv_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

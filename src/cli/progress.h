/*
 * cli/progress.h - the progress line of `memvisor run` (progress.c).
 */
#ifndef MEMVISOR_CLI_PROGRESS_H
#define MEMVISOR_CLI_PROGRESS_H

#include <pthread.h>

struct mv_sim;
struct mv_scenario;

enum mv_progress_mode {
	MV_PROGRESS_OFF,  /* --no-progress, -q, --top */
	MV_PROGRESS_AUTO, /* the default: only runs longer than 5 s */
	MV_PROGRESS_ON,   /* --progress: from the start */
};

struct mv_cli_progress {
	enum mv_progress_mode mode;
	int tty;        /* stderr is a terminal: one line redrawn with \r */
	double every_s; /* wall time between lines */
	double start_s; /* wall clock at init (before power-on) */
	double run_s;   /* wall clock when the first step started */
	double next_s;  /* wall clock of the next line */
	int shown;      /* a line has been written */
	int open;       /* tty: a line is on screen without its newline */
	/* the rate's window: wall clock and simulated s at its two marks */
	double mark_wall[2], mark_sim[2];
	/* the power-on ticker thread */
	char what[96];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int running, done;
};

/* Set up; every_s 0: every second on a terminal, every minute otherwise. */
void mv_cli_progress_init(struct mv_cli_progress *p, enum mv_progress_mode mode,
			  double every_s);
/* Around mv_sim_create: a thread writes the power-on line while it lasts. */
void mv_cli_progress_power_on(struct mv_cli_progress *p,
			      const struct mv_scenario *sc);
void mv_cli_progress_powered_on(struct mv_cli_progress *p);
/* Before the first step (forced: the first line at once). */
void mv_cli_progress_start(struct mv_cli_progress *p, const struct mv_sim *sim);
/* After a step: a line when one is due. */
void mv_cli_progress_tick(struct mv_cli_progress *p, const struct mv_sim *sim);
/* Erase a line drawn in place before other output on stderr. */
void mv_cli_progress_clear(struct mv_cli_progress *p);
/* The run ended: if lines were shown, the whole run's line (completed) and
 * a newline on a terminal. sim may be NULL (power-on failed). */
void mv_cli_progress_end(struct mv_cli_progress *p, const struct mv_sim *sim,
			 int completed);

#endif

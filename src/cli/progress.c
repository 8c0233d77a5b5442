/*
 * progress.c - the progress line of `memvisor run`, on standard error.
 *
 *   progress: 03:12:00 of 24:00:00 simulated, 412 sim-s/s, ETA 0:07:31
 *
 * A run that lasts more than AUTO_AFTER_S of wall time (power-on
 * included) shows it; a quick run stays quiet, as a command in a script
 * should. On a terminal the line is redrawn in place (\r) every second; on
 * anything else (a log file, a pipe) a full line is written once a minute,
 * so a log of a day-long run stays readable. When the run ends, a last line
 * covers the whole run (its average rate, ETA 0:00:00) and ends with a
 * newline, so the report that follows starts on a line of its own.
 * `--progress[=EVERY]` forces the line from the start, every EVERY;
 * `--no-progress` (or -q) turns it off. The line never goes to standard
 * output: the report there is the same with or without it.
 *
 * The rate is measured over the last RATE_S to 2 x RATE_S of wall time (or
 * two intervals, when lines are further apart): the first steps (first
 * touches, boot) are far slower than the rest and would spoil an average
 * since the start. The ETA is that rate applied to the simulated time left,
 * and is "-:--:--" until the rate means something.
 *
 * Power-on (mv_sim_create: every VM's memory, swap file, sampler and guest)
 * takes seconds on large hosts and reports nothing on the way, so a thread
 * writes the line while it lasts ("progress: powering on 64 VMs (256.0
 * GiB), 0:00:07"); it is joined before the first step, so only one thread
 * ever writes at a time.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"
#include "memvisor/sim.h"

#define AUTO_AFTER_S 5.0 /* auto: quiet for runs shorter than this */
#define TTY_EVERY_S 1.0
#define LOG_EVERY_S 60.0
#define RATE_S 3.0
#define LINE_WIDTH 79
/* an ETA once ETA_MIN_WALL_S of wall time and ETA_MIN_FRACTION of the
 * simulated duration have passed (or ETA_ANYWAY_S, for slow runs) */
#define ETA_MIN_WALL_S 1.0
#define ETA_MIN_FRACTION 0.02
#define ETA_ANYWAY_S 10.0

/* Whole seconds as H:MM:SS (hours unbounded); width 2 pads the hours. */
static void format_hms(double s, int width, char *buf, size_t n)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;
	snprintf(buf, n, "%0*ld:%02ld:%02ld", width, t / 3600, t / 60 % 60,
		 t % 60);
}

static void format_rate(double r, char *buf, size_t n)
{
	snprintf(buf, n, r >= 10 ? "%.0f" : r >= 1 ? "%.1f" : "%.2f", r);
}

static void write_line(struct mv_cli_progress *p, const char *line)
{
	if (p->tty) {
		fprintf(stderr, "\r%-*.*s", LINE_WIDTH, LINE_WIDTH, line);
		p->open = 1;
	} else {
		fprintf(stderr, "%s\n", line);
	}
	fflush(stderr);
	p->shown = 1;
	double now = mv_wall_s();
	p->next_s = now + p->every_s;
}

void mv_cli_progress_init(struct mv_cli_progress *p, enum mv_progress_mode mode,
			  double every_s)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->tty = isatty(STDERR_FILENO);
	p->every_s = every_s > 0 ? every_s : p->tty ? TTY_EVERY_S : LOG_EVERY_S;
	p->start_s = mv_wall_s();
	/* auto: the first line once the run has lasted AUTO_AFTER_S (and a
	 * full interval, off a terminal: a log gets a line a minute) */
	p->next_s = p->start_s;
	if (mode == MV_PROGRESS_AUTO)
		p->next_s += p->every_s > AUTO_AFTER_S ? p->every_s
						       : AUTO_AFTER_S;
}

static void *power_on_ticker(void *arg)
{
	struct mv_cli_progress *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		double now = mv_wall_s();
		if (p->done || now < p->next_s)
			continue;
		char t[32], line[160];
		format_hms(now - p->start_s, 1, t, sizeof t);
		snprintf(line, sizeof line, "progress: %s, %s", p->what, t);
		write_line(p, line);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void mv_cli_progress_power_on(struct mv_cli_progress *p,
			      const struct mv_scenario *sc)
{
	if (p->mode == MV_PROGRESS_OFF)
		return;
	uint64_t bytes = 0;
	for (int i = 0; i < sc->nvms; i++)
		bytes += sc->vms[i].vm.mem_bytes;
	snprintf(p->what, sizeof p->what, "powering on %d VM%s (%.1f GiB)",
		 sc->nvms, sc->nvms == 1 ? "" : "s",
		 (double)bytes / (double)(1024 * MV_MIB));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->done = 0;
	p->running = pthread_create(&p->thread, NULL, power_on_ticker, p) == 0;
}

void mv_cli_progress_powered_on(struct mv_cli_progress *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	p->running = 0;
}

void mv_cli_progress_clear(struct mv_cli_progress *p)
{
	if (p->open) {
		fprintf(stderr, "\r%*s\r", LINE_WIDTH, "");
		fflush(stderr);
		p->open = 0;
	}
}

/* Write the line for the simulator's time now; final: the whole run's. */
static void draw(struct mv_cli_progress *p, const struct mv_sim *sim, int final)
{
	double now = mv_wall_s();
	double total = (double)sim->sc->duration_ns / MV_NS_PER_S;
	double done = (double)sim->now_ns / MV_NS_PER_S;
	double window = p->every_s > RATE_S ? p->every_s : RATE_S;
	if (now - p->mark_wall[1] >= window) {
		p->mark_wall[0] = p->mark_wall[1];
		p->mark_sim[0] = p->mark_sim[1];
		p->mark_wall[1] = now;
		p->mark_sim[1] = done;
	}
	double since = now - p->run_s;
	double wall = final ? since : now - p->mark_wall[0];
	double sim_s = final ? done : done - p->mark_sim[0];
	double rate = wall > 0 ? sim_s / wall : 0;
	char eta[32] = "-:--:--", t[32], of[32], r[32], line[192];
	if (final)
		format_hms(0, 1, eta, sizeof eta);
	else if (rate > 0 && since >= ETA_MIN_WALL_S &&
		 (done >= ETA_MIN_FRACTION * total || since >= ETA_ANYWAY_S))
		format_hms((total - done) / rate, 1, eta, sizeof eta);
	format_hms(done, 2, t, sizeof t);
	format_hms(total, 2, of, sizeof of);
	format_rate(rate, r, sizeof r);
	snprintf(line, sizeof line,
		 "progress: %s of %s simulated, %s sim-s/s, ETA %s", t, of, r,
		 eta);
	write_line(p, line);
}

void mv_cli_progress_start(struct mv_cli_progress *p, const struct mv_sim *sim)
{
	if (p->mode == MV_PROGRESS_OFF)
		return;
	p->run_s = p->mark_wall[0] = p->mark_wall[1] = mv_wall_s();
	p->mark_sim[0] = p->mark_sim[1] = (double)sim->now_ns / MV_NS_PER_S;
	if (p->mode == MV_PROGRESS_ON)
		draw(p, sim, 0);
}

void mv_cli_progress_tick(struct mv_cli_progress *p, const struct mv_sim *sim)
{
	/* the last step's line is mv_cli_progress_end's */
	if (p->mode != MV_PROGRESS_OFF && sim->now_ns < sim->sc->duration_ns &&
	    mv_wall_s() >= p->next_s)
		draw(p, sim, 0);
}

void mv_cli_progress_end(struct mv_cli_progress *p, const struct mv_sim *sim,
			 int completed)
{
	if (p->mode == MV_PROGRESS_OFF || !p->shown)
		return;
	if (completed && sim)
		draw(p, sim, 1);
	if (p->open) {
		fputc('\n', stderr);
		fflush(stderr);
		p->open = 0;
	}
}

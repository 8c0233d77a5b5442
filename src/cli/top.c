/*
 * top.c - the live screen of `memvisor run --top` (ncurses).
 *
 * The simulation runs in this process; between steps the screen polls the
 * keyboard (every 50 ms of wall-clock time, so polling costs nothing
 * measurable) and redraws (every 250 ms, or at once after a key). The
 * text comes from the report layer (mv_report_top); here it is only put
 * on the screen, made for its width (mv_report_top leaves out the columns
 * that do not fit). Until the first step is done (it boots the guests)
 * the screen says the VMs are powering on. Paused, the simulation waits in
 * this loop for the next key. q ends the run early: the report then
 * covers the simulated time run so far.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "memvisor/report.h"

#define POLL_S 0.05
#define DRAW_S 0.25

int mv_cli_top_start(struct mv_cli_top *t)
{
	memset(t, 0, sizeof *t);
	t->sort = MV_TOP_SORT_NAME;
	if (!initscr())
		return -1;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	t->active = 1;
	/* The first step boots every guest and can take many seconds: say
	 * so at once rather than leave the screen blank. */
	mvaddnstr(0, 0, "memvisor top - powering on the VMs ...", COLS);
	mvaddnstr(2, 0, "the first step boots every guest; the table follows",
		  COLS);
	refresh();
	return 0;
}

static void draw(struct mv_cli_top *t, const struct mv_sim *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return;
	mv_report_top(f, s, t->sort, t->paused, COLS);
	fclose(f);
	erase();
	int row = 0;
	for (char *line = buf; line && *line && row < LINES; row++) {
		char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		mvaddnstr(row, 0, line, len < COLS ? len : COLS);
		line = nl ? nl + 1 : NULL;
	}
	refresh();
	free(buf);
	t->last_draw = mv_wall_s();
}

/* Act on one key; returns 1 if the screen must be redrawn. */
static int key(struct mv_cli_top *t, int ch)
{
	if (ch == 'q' || ch == 'Q') {
		t->quit = 1;
		return 0;
	}
	if (ch == 'p' || ch == 'P' || ch == ' ') {
		t->paused = !t->paused;
		return 1;
	}
	if (ch == KEY_RESIZE)
		return 1; /* curses has new LINES and COLS */
	int sort = mv_top_sort_for_key(ch);
	if (sort >= 0) {
		t->sort = sort;
		return 1;
	}
	return 0;
}

void mv_cli_top_tick(struct mv_cli_top *t, const struct mv_sim *s)
{
	double now = mv_wall_s();
	if (now - t->last_poll < POLL_S && t->last_draw > 0)
		return;
	t->last_poll = now;
	int redraw = t->last_draw == 0 || now - t->last_draw >= DRAW_S;
	for (int ch; (ch = getch()) != ERR;)
		redraw |= key(t, ch);
	if (redraw && !t->quit)
		draw(t, s);
	/* Paused: wait here, still answering keys and resizes. */
	while (t->paused && !t->quit) {
		timeout(200);
		int ch = getch();
		nodelay(stdscr, TRUE);
		if (ch != ERR && key(t, ch) && !t->quit)
			draw(t, s);
	}
}

void mv_cli_top_end(struct mv_cli_top *t)
{
	if (t->active)
		endwin();
	t->active = 0;
}

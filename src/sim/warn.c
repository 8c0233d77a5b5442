/*
 * warn.c - the warnings of a scenario: what loading found worth saying
 * but not refusing. A setting memvisor reads but does not model (libvirt's
 * <memtune><soft_limit>, <memballoon autodeflate=...>) is accepted, so
 * real `virsh dumpxml` files load, and said once; a scenario whose VMs
 * have no workload runs, and says that those VMs only boot.
 *
 * Warnings are kept in the scenario, one per key (the first occurrence,
 * with a count of the others), so that a run of 200 cloned VMs says a
 * thing once; the library never prints on its own: the command line
 * prints them with mv_scenario_print_warnings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/loader.h"

/* Record a warning about `key` at file:line (loader.h). */
int mv_scenario_warn(struct mv_scenario *sc, const char *key, const char *file,
		     int line, const char *fmt, ...)
{
	if (!sc)
		return 0; /* a reader used on its own (fuzzing): no one to tell
			   */
	for (int i = 0; i < sc->nwarnings; i++)
		if (strcmp(sc->warnings[i].key, key) == 0) {
			sc->warnings[i].more++;
			return 0;
		}
	struct mv_warning *w = realloc(sc->warnings,
				       (size_t)(sc->nwarnings + 1) * sizeof *w);
	if (!w)
		return MV_ENOMEM;
	sc->warnings = w;
	w = &sc->warnings[sc->nwarnings++];
	memset(w, 0, sizeof *w);
	snprintf(w->key, sizeof w->key, "%s", key);
	int n = 0;
	if (file && line > 0)
		n = snprintf(w->text, sizeof w->text, "%s:%d: ", file, line);
	else if (file)
		n = snprintf(w->text, sizeof w->text, "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof w->text)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->text + n, sizeof w->text - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

/* Print the scenario's warnings (sim.h). */
void mv_scenario_print_warnings(const struct mv_scenario *sc, FILE *f)
{
	for (int i = 0; sc && i < sc->nwarnings; i++) {
		const struct mv_warning *w = &sc->warnings[i];
		if (w->more)
			fprintf(f, "memvisor: warning: %s (and %d more)\n",
				w->text, w->more);
		else
			fprintf(f, "memvisor: warning: %s\n", w->text);
	}
}

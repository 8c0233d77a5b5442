/*
 * report.h - what a run looks like to an operator: the summary table and
 * the JSON document (schema in docs/json.md).
 */
#ifndef MEMVISOR_REPORT_H
#define MEMVISOR_REPORT_H

#include <stdio.h>
#include "memvisor/sim.h"

/* The aligned text summary: host, per-VM table, free memory over time. */
int mv_report_text(FILE *out, const struct mv_sim *s);
/* The whole run as one JSON document (docs/json.md). */
int mv_report_json(FILE *out, const struct mv_sim *s);

#endif

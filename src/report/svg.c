/*
 * svg.c - the run's time series as charts: self-contained SVG 1.1 files
 * written by a small writer of our own (no library, no scripts, no
 * external fonts or images: the generic "sans-serif" family), so they
 * open in any browser, offline.
 *
 * host.svg: free machine memory over time, the background shaded by the
 * free-memory state (high, soft, hard, low) each interval ended in, and
 * the states' thresholds as dashed lines. vm-NAME.svg: the VM's memory by
 * page state as a stacked area (private at the bottom, untouched at the
 * top; the stack always reaches the configured size, because every guest
 * page is in exactly one state), and below it the balloon: the host's
 * target (MCTLTGT) against what the driver holds (MCTLSZ).
 *
 * Axes use "nice" steps (1, 2 or 5 times a power of ten) so tick labels
 * are round numbers; every coordinate is printed with one decimal, so a
 * chart is a deterministic function of the run.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "memvisor/plan.h"
#include "memvisor/report.h"
#include "report/summary.h"
#include "report/views.h"

#define WIDTH 820.0
#define LEFT 70.0   /* room for the y labels */
#define RIGHT 150.0 /* room for the legend */
#define FONT "font-family=\"sans-serif\""

/* ---- the writer -------------------------------------------------- */

/* Text content, XML-escaped (VM and scenario names are the user's). */
static void svg_escape(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			fputc(*p < 0x20 ? '?' : *p, f);
		}
	}
}

static void svg_begin(FILE *f, double h, const char *title)
{
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
		WIDTH, h, WIDTH, h);
	fputs("<title>", f);
	svg_escape(f, title);
	fputs("</title>\n", f);
	fprintf(f,
		"<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		"fill=\"#ffffff\"/>\n",
		WIDTH, h);
}

static void svg_text(FILE *f, double x, double y, const char *anchor, int size,
		     const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void svg_text(FILE *f, double x, double y, const char *anchor, int size,
		     const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(f,
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
		"font-size=\"%d\" " FONT " fill=\"#222222\">",
		x, y, anchor, size);
	svg_escape(f, buf);
	fputs("</text>\n", f);
}

static void svg_line(FILE *f, double x1, double y1, double x2, double y2,
		     const char *color, double width, const char *dash)
{
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>\n",
		x1, y1, x2, y2, color, width,
		dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
		dash ? "\"" : "");
}

static void svg_rect(FILE *f, double x, double y, double w, double h,
		     const char *fill)
{
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"%s\"/>\n",
		x, y, w, h, fill);
}

/* ---- a chart: a plot area mapping (t, value) to pixels ----------- */

struct chart {
	FILE *f;
	double x, y, w, h; /* plot area */
	double x0;         /* the x axis starts here (0: time) */
	double tmax, vmax; /* x range (seconds), MiB */
};

static double nice_step(double range, int ticks)
{
	double raw = range / ticks;
	if (raw <= 0)
		return 1;
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static double cx(const struct chart *c, double t)
{
	return c->x + (c->tmax > 0 ? (t - c->x0) / c->tmax : 0) * c->w;
}

static double cy(const struct chart *c, double v)
{
	return c->y + c->h - (c->vmax > 0 ? v / c->vmax : 0) * c->h;
}

/* Axes, grid, tick labels and titles over x in [x0, x0 + tmax]; vmax
 * is rounded up to a step. */
static void chart_init_x(struct chart *c, FILE *f, double y, double h,
			 double x0, double tmax, double vmax, const char *title,
			 const char *unit, const char *xlabel)
{
	c->f = f;
	c->x0 = x0;
	c->x = LEFT;
	c->y = y;
	c->w = WIDTH - LEFT - RIGHT;
	c->h = h;
	c->tmax = tmax > 0 ? tmax : 1;
	double vs = nice_step(vmax > 0 ? vmax : 1, 5);
	c->vmax = ceil((vmax > 0 ? vmax : 1) / vs - 1e-9) * vs;
	svg_text(f, c->x, y - 10, "start", 14, "%s", title);
	for (double v = 0; v <= c->vmax + vs / 2; v += vs) {
		svg_line(f, c->x, cy(c, v), c->x + c->w, cy(c, v), "#e0e0e0", 1,
			 NULL);
		svg_text(f, c->x - 6, cy(c, v) + 4, "end", 11, "%g", v);
	}
	double ts = nice_step(c->tmax, 8);
	for (double t = 0; t <= c->tmax + ts / 1000; t += ts)
		svg_text(f, cx(c, x0 + t), y + h + 16, "middle", 11, "%g",
			 x0 + t);
	svg_text(f, c->x + c->w / 2, y + h + 32, "middle", 11, "%s", xlabel);
	svg_text(f, 14, y + h / 2, "middle", 11, "%s", unit);
}

static void chart_init(struct chart *c, FILE *f, double y, double h,
		       double tmax, double vmax, const char *title,
		       const char *unit)
{
	chart_init_x(c, f, y, h, 0, tmax, vmax, title, unit,
		     "simulated time (s)");
}

static void chart_frame(const struct chart *c)
{
	fprintf(c->f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"none\" stroke=\"#888888\" stroke-width=\"1\"/>\n",
		c->x, c->y, c->w, c->h);
}

static void legend(const struct chart *c, int row, const char *color,
		   const char *label, int dashed)
{
	double x = c->x + c->w + 14, y = c->y + 8 + 18 * row;
	if (dashed)
		svg_line(c->f, x, y, x + 14, y, color, 2.5, "5,3");
	else
		svg_rect(c->f, x, y - 6, 14, 12, color);
	svg_text(c->f, x + 20, y + 4, "start", 11, "%s", label);
}

static double t_s(const struct mv_sample *sm)
{
	return (double)sm->t_ns / MV_NS_PER_S;
}

/* A polyline of one series: value(k) for every sample k. */
static void series_line(const struct chart *c, const struct mv_sim *s, int vm,
			uint64_t (*value)(const struct mv_sample_vm *),
			const char *color, const char *dash)
{
	fprintf(c->f,
		"<polyline fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"2\"%s%s%s points=\"",
		color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
		dash ? "\"" : "");
	for (int k = 0; k < s->nsamples; k++)
		fprintf(c->f, "%s%.1f,%.1f", k ? " " : "",
			cx(c, t_s(&s->samples[k])),
			cy(c, mv_pages_mib(value(
				      mv_view_sample_vm(&s->samples[k], vm)))));
	fputs("\"/>\n", c->f);
}

/* ---- the VM chart ------------------------------------------------ */

/* Bottom to top: what the VM costs the host first, then what it saves. */
static const struct {
	enum mv_page_state st;
	const char *color, *label;
} layers[] = {
	{MV_PS_PRIVATE, "#4e79a7", "private"},
	{MV_PS_SHARED, "#59a14f", "shared"},
	{MV_PS_ZERO, "#8cd17d", "zero"},
	{MV_PS_COMPRESSED, "#f28e2b", "compressed"},
	{MV_PS_SWAPPED, "#e15759", "swapped"},
	{MV_PS_BALLOONED, "#b07aa1", "ballooned"},
	{MV_PS_UNTOUCHED, "#dddddd", "untouched"},
};
_Static_assert(sizeof layers / sizeof *layers == MV_PS_COUNT,
	       "a page state without a layer");

static uint64_t below(const struct mv_sample_vm *v, int layer)
{
	uint64_t n = 0;
	for (int i = 0; i < layer; i++)
		n += v->state[layers[i].st];
	return n;
}

static uint64_t mctl_target(const struct mv_sample_vm *v)
{
	return v->balloon_target;
}

static uint64_t mctl_size(const struct mv_sample_vm *v)
{
	return v->guest.balloon_pages;
}

static int svg_vm(FILE *f, const struct mv_sim *s, int vm)
{
	const char *name = s->sc->vms[vm].vm.name;
	double tmax = s->nsamples ? t_s(&s->samples[s->nsamples - 1]) : 0;
	/* its size; a VM that arrived by live migration has none in the
	 * samples before it came */
	uint64_t pages = 0;
	for (int k = 0; k < s->nsamples; k++) {
		uint64_t n = mv_view_vm_pages(
			mv_view_sample_vm(&s->samples[k], vm));
		if (n > pages)
			pages = n;
	}
	svg_begin(f, 640, name);
	struct chart c;
	chart_init(&c, f, 40, 300, tmax, mv_pages_mib(pages), "", "MiB");
	svg_text(f, c.x, 20, "start", 15, "%s: memory by page state", name);
	for (int l = 0; l < MV_PS_COUNT; l++) {
		/* The layer's top edge left to right, its bottom edge back. */
		fprintf(f, "<polygon id=\"layer-%s\" fill=\"%s\" points=\"",
			layers[l].label, layers[l].color);
		for (int k = 0; k < s->nsamples; k++) {
			const struct mv_sample_vm *v = mv_view_sample_vm(
				&s->samples[k], vm);
			fprintf(f, "%s%.1f,%.1f", k ? " " : "",
				cx(&c, t_s(&s->samples[k])),
				cy(&c, mv_pages_mib(below(v, l + 1))));
		}
		for (int k = s->nsamples - 1; k >= 0; k--) {
			const struct mv_sample_vm *v = mv_view_sample_vm(
				&s->samples[k], vm);
			fprintf(f, " %.1f,%.1f", cx(&c, t_s(&s->samples[k])),
				cy(&c, mv_pages_mib(below(v, l))));
		}
		fputs("\"/>\n", f);
	}
	for (int l = MV_PS_COUNT - 1; l >= 0; l--)
		legend(&c, MV_PS_COUNT - 1 - l, layers[l].color,
		       layers[l].label, 0);
	chart_frame(&c);

	/* The balloon: target against size. */
	uint64_t bmax = 0;
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample_vm *v = mv_view_sample_vm(&s->samples[k],
								 vm);
		if (v->balloon_target > bmax)
			bmax = v->balloon_target;
		if (v->guest.balloon_pages > bmax)
			bmax = v->guest.balloon_pages;
	}
	chart_init(&c, f, 440, 140, tmax, mv_pages_mib(bmax), "", "MiB");
	svg_text(f, c.x, 425, "start", 15,
		 "%s: balloon target (MCTLTGT) and size (MCTLSZ)%s", name,
		 s->sc->vms[vm].vm.balloon_driver ? "" : " - no driver");
	series_line(&c, s, vm, mctl_target, "#b07aa1", "6,4");
	series_line(&c, s, vm, mctl_size, "#4e79a7", NULL);
	legend(&c, 0, "#b07aa1", "MCTLTGT", 1);
	legend(&c, 1, "#4e79a7", "MCTLSZ", 0);
	chart_frame(&c);
	fputs("</svg>\n", f);
	return ferror(f) ? MV_EIO : 0;
}

/* ---- the host chart ---------------------------------------------- */

/* Background of each free-memory state, calm to alarming. */
static const char *const state_fill[] = {
	"#e8f5e9", "#f1f8e9", "#fff8e1", "#ffe0b2", "#ffcdd2",
};
_Static_assert(sizeof state_fill / sizeof *state_fill == MV_MEMSTATE_COUNT,
	       "a free-memory state without a colour");

/*
 * One panel of free memory over [0, vmax] MiB: intervals shaded by the
 * state their closing sample saw, each state's line (the simulator's own
 * state machine's, so every model's thresholds are drawn as they acted),
 * the free-memory curve.
 */
static void host_panel(FILE *f, const struct mv_sim *s, double y, double h,
		       double vmax, const char *title)
{
	double tmax = s->nsamples ? t_s(&s->samples[s->nsamples - 1]) : 0;
	double pmem = (double)s->sc->host.mem_bytes / (double)MV_MIB;
	struct chart c;
	chart_init(&c, f, y, h, tmax, vmax, "", "MiB");
	svg_text(f, c.x, y - 10, "start", 13, "%s", title);
	for (int k = 1; k < s->nsamples; k++) {
		double x0 = cx(&c, t_s(&s->samples[k - 1]));
		double x1 = cx(&c, t_s(&s->samples[k]));
		svg_rect(f, x0, c.y, x1 - x0, c.h,
			 state_fill[s->samples[k].memstate]);
	}
	/* Clip at the panel: a zoomed panel cuts the curve off at its top. */
	fprintf(f,
		"<clipPath id=\"clip%.0f\"><rect x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
		y, c.x, c.y, c.w, c.h);
	fprintf(f, "<g clip-path=\"url(#clip%.0f)\">\n", y);
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++) {
		double line = s->memstate.line[st];
		if (line <= 0)
			continue;
		double ly = cy(&c, pmem * line);
		svg_line(f, c.x, ly, c.x + c.w, ly, "#c62828", 1, "4,3");
		svg_text(f, c.x + c.w - 4, ly - 3, "end", 10, "%s %.2f%%",
			 mv_memstate_name(st), 100 * line);
	}
	fprintf(f, "<polyline class=\"free\" fill=\"none\" "
		   "stroke=\"#1f3a93\" stroke-width=\"2\" points=\"");
	for (int k = 0; k < s->nsamples; k++)
		fprintf(f, "%s%.1f,%.1f", k ? " " : "",
			cx(&c, t_s(&s->samples[k])),
			cy(&c, mv_pages_mib(s->samples[k].host_free)));
	fputs("\"/>\n</g>\n", f);
	int row = 0;
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
		if (st == MV_MEMSTATE_HIGH || s->memstate.line[st] > 0)
			legend(&c, row++, state_fill[st], mv_memstate_name(st),
			       0);
	legend(&c, row, "#1f3a93", "free", 0);
	chart_frame(&c);
}

static int svg_host(FILE *f, const struct mv_sim *s)
{
	uint64_t usable = mv_sim_usable_frames(s);
	double pmem = (double)s->sc->host.mem_bytes / (double)MV_MIB;
	svg_begin(f, 700, s->sc->name);
	svg_text(f, LEFT, 22, "start", 15,
		 "%s: free host memory and the free-memory state (%s)",
		 s->sc->name, mv_memstate_model_name(s->memstate.model));
	host_panel(f, s, 60, 280, mv_pages_mib(usable), "all of host memory");
	/* The thresholds are a few percent of memory: a second panel
	 * shows the band around them, where the states change. */
	double top = 0;
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
		if (s->memstate.line[st] > top)
			top = s->memstate.line[st];
	host_panel(f, s, 400, 240, pmem * top * 2.5,
		   "close-up: the thresholds");
	fputs("</svg>\n", f);
	return ferror(f) ? MV_EIO : 0;
}

int mv_report_svg_vm(FILE *out, const struct mv_sim *s, int vm)
{
	return vm < 0 ? svg_host(out, s) : svg_vm(out, s, vm);
}

int mv_report_svg(const char *dir, const struct mv_sim *s, struct mv_error *err)
{
	return mv_view_write_dir(dir, s, "svg", mv_report_svg_vm, err);
}

/* ---- memvisor plan's sweep ------------------------------------------ */

static const struct {
	const char *color, *label;
} saved_line[MV_SAVED_COUNT] = {
	{"#2e7d32", "sharing"},
	{"#1565c0", "balloon"},
	{"#6a1b9a", "compression"},
	{"#c62828", "swap"},
};

/* A polyline through (ratio, value(i)) of every point. */
static void plan_line(const struct chart *c, const struct mv_plan_point *p,
		      int n, double (*value)(const struct mv_plan_point *, int),
		      int arg, const char *color, const char *dash)
{
	fprintf(c->f,
		"<polyline fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"2\"%s%s%s points=\"",
		color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
		dash ? "\"" : "");
	for (int i = 0; i < n; i++)
		fprintf(c->f, "%s%.1f,%.1f", i ? " " : "", cx(c, p[i].ratio),
			cy(c, value(&p[i], arg)));
	fputs("\"/>\n", c->f);
}

static double v_saved(const struct mv_plan_point *p, int m)
{
	return p->saved_mib[m];
}
static double v_swapin(const struct mv_plan_point *p, int guest)
{
	return guest ? p->guest_swapin_per_s : p->swapin_per_s;
}
static double v_worst(const struct mv_plan_point *p, int m)
{
	return p->worst[m];
}

/* UNSAFE ratios shaded (half a step either side), the knee and the
 * highest safe ratio as vertical lines. */
static void plan_marks(const struct chart *c, const struct mv_plan_info *in,
		       const struct mv_plan_point *p, int n, int safe, int knee)
{
	for (int i = 0; i < n; i++) {
		if (mv_plan_failed(&p[i], in->slo) < 0)
			continue;
		double l = i ? (p[i - 1].ratio + p[i].ratio) / 2 : p[i].ratio;
		double r = i + 1 < n ? (p[i].ratio + p[i + 1].ratio) / 2
				     : p[i].ratio;
		svg_rect(c->f, cx(c, l), c->y, cx(c, r) - cx(c, l), c->h,
			 "#fde0e0");
	}
	if (safe >= 0)
		svg_line(c->f, cx(c, p[safe].ratio), c->y, cx(c, p[safe].ratio),
			 c->y + c->h, "#2e7d32", 1.5, "6,3");
	if (knee >= 0)
		svg_line(c->f, cx(c, p[knee].ratio), c->y, cx(c, p[knee].ratio),
			 c->y + c->h, "#ef6c00", 1.5, "2,2");
}

static double plan_max(const struct mv_plan_point *p, int n,
		       double (*value)(const struct mv_plan_point *, int),
		       int arg)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		if (value(&p[i], arg) > m)
			m = value(&p[i], arg);
	return m;
}

int mv_report_plan_svg(FILE *f, const struct mv_plan_info *in,
		       const struct mv_plan_point *p, int n)
{
	if (n <= 0)
		return MV_EINVAL;
	int safe = mv_plan_highest_safe(p, n, in->slo);
	enum mv_slo_metric kb = MV_SLO_SWAPIN;
	int knee = mv_plan_knee(p, n, &kb);
	double x0 = p[0].ratio, span = p[n - 1].ratio - p[0].ratio;
	if (span <= 0)
		span = 0.1;
	const char *xl = in->by == MV_PLAN_BY_HOST
				 ? "overcommit ratio (host memory shrinks)"
				 : "overcommit ratio (copies of the VMs)";
	svg_begin(f, 860, in->scenario_name);
	svg_text(f, LEFT, 22, "start", 15, "%s: the overcommit sweep",
		 in->scenario_name);
	svg_text(f, LEFT, 40, "start", 11,
		 "red: UNSAFE; green dashes: highest safe ratio; orange "
		 "dots: the knee");
	struct chart c;
	double m = 0;
	for (int k = 0; k < MV_SAVED_COUNT; k++) {
		double v = plan_max(p, n, v_saved, k);
		m = v > m ? v : m;
	}
	chart_init_x(&c, f, 80, 180, x0, span, m, "saved memory", "MiB", xl);
	plan_marks(&c, in, p, n, safe, knee);
	for (int k = 0; k < MV_SAVED_COUNT; k++) {
		plan_line(&c, p, n, v_saved, k, saved_line[k].color, NULL);
		legend(&c, k, saved_line[k].color, saved_line[k].label, 0);
	}
	chart_frame(&c);

	m = plan_max(p, n, v_swapin, 0);
	double g = plan_max(p, n, v_swapin, 1);
	chart_init_x(&c, f, 340, 180, x0, span, g > m ? g : m, "swap-ins",
		     "pages/s", xl);
	plan_marks(&c, in, p, n, safe, knee);
	plan_line(&c, p, n, v_swapin, 0, "#c62828", NULL);
	plan_line(&c, p, n, v_swapin, 1, "#1565c0", "5,3");
	legend(&c, 0, "#c62828", "hypervisor", 0);
	legend(&c, 1, "#1565c0", "guests", 1);
	chart_frame(&c);

	chart_init_x(&c, f, 600, 180, x0, span,
		     plan_max(p, n, v_worst, MV_SLO_STALL), "worst VM's stall",
		     "%", xl);
	plan_marks(&c, in, p, n, safe, knee);
	plan_line(&c, p, n, v_worst, MV_SLO_STALL, "#c62828", NULL);
	legend(&c, 0, "#c62828", "stall", 0);
	for (int k = 0; k < in->slo->n; k++)
		if (in->slo->slo[k].metric == MV_SLO_STALL &&
		    in->slo->slo[k].limit <= c.vmax) {
			double ly = cy(&c, in->slo->slo[k].limit);
			svg_line(f, c.x, ly, c.x + c.w, ly, "#888888", 1,
				 "4,3");
			legend(&c, 1, "#888888", "SLO", 1);
		}
	chart_frame(&c);
	fputs("</svg>\n", f);
	return ferror(f) ? MV_EIO : 0;
}

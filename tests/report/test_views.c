/*
 * test_views.c - the operator's views: the dommemstat listing, the CSV
 * time series and the SVG charts.
 *
 * dommemstat is checked on a hand-made sample (every field's unit and
 * source, which fields exist without a stats period, libvirt's order) and
 * on a real run (actual + balloon = configured, rss = resident pages).
 * The CSV series of an overcommitted run: one row per sample, every row as
 * many fields as the header, sizes that agree with the samples (MEMSZ is
 * the configured size, SHRD >= ZERO, GRANT = private + SHRD), the host's
 * state column as the simulator recorded it, and rates that are the
 * interval's difference (their integral gives the cumulative count back).
 * The SVG charts: well-formed XML (libxml2), one point per sample, and
 * the stacked area's top edge flat at the configured size (every page is
 * in exactly one state). scripts/check-svg-browser.sh renders them in a
 * real browser. The live screen's text: rows sorted by the chosen column
 * (largest first, names alphabetically), the column marked, the pause.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "memvisor/report.h"
#include "report/views.h"
#include "support/mvtest.h"

static char *render_dms(const struct mv_dommemstat *d)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(mv_report_dommemstat(f, d), 0);
	fclose(f);
	return buf;
}

static void fake_vm(struct mv_sample_vm *v)
{
	memset(v, 0, sizeof *v);
	v->state[MV_PS_UNTOUCHED] = 100;
	v->state[MV_PS_PRIVATE] = 300;
	v->state[MV_PS_SHARED] = 50;
	v->state[MV_PS_ZERO] = 40;
	v->state[MV_PS_COMPRESSED] = 10;
	v->state[MV_PS_SWAPPED] = 12;
	v->state[MV_PS_BALLOONED] = 88; /* 600 pages configured */
	v->guest.balloon_pages = 80;
	v->guest.swap_in = 3;
	v->guest.swap_out = 5;
	v->guest.major_fault = 7;
	v->guest.minor_fault = 1234;
	v->guest.free_pages = 111;
	v->guest.cache_pages = 22;
	v->guest.anon_pages = 333;
	v->guest.available_pages = 520;
	v->vmm_pages = 25; /* QEMU's own memory */
}

static void test_dommemstat_fields_units_and_order(void **state)
{
	(void)state;
	struct mv_sample_vm now;
	fake_vm(&now);
	struct mv_guest_stats rep = now.guest;
	rep.free_pages = 99; /* the report is older than `now` */
	struct mv_dommemstat d;
	mv_dommemstat_compute(&now, 1, &rep, 25500000000ull, &d);
	char *s = render_dms(&d);
	assert_string_equal(s, "actual 2080\n" /* (600 - 80) x 4 KiB */
			       "swap_in 12\n"
			       "swap_out 20\n"
			       "major_fault 7\n"
			       "minor_fault 1234\n"
			       "unused 396\n" /* the report's 99 pages */
			       "available 2080\n"
			       "usable 484\n"     /* (99 + 22) x 4 */
			       "last_update 25\n" /* whole seconds */
			       "disk_caches 88\n"
			       "hugetlb_pgalloc 0\n"
			       "hugetlb_pgfail 0\n"
			       "rss 1500\n"); /* (300 + 50 + 25) x 4 */
	free(s);
	for (int t = 0; t < MV_DMS_COUNT; t++)
		assert_true(d.present & (1u << t));
	assert_string_equal(mv_dms_name(MV_DMS_LAST_UPDATE), "last_update");
}

/*
 * Before the guest's first report QEMU's values are unset (libvirt leaves
 * them out) and its last-update is 0, which no epoch moves; a VM without a
 * balloon device has rss alone (qemuDomainMemoryStatsInternal).
 */
static void test_dommemstat_before_a_report_and_without_a_device(void **state)
{
	(void)state;
	struct mv_sample_vm now;
	fake_vm(&now);
	struct mv_guest_stats rep = now.guest;
	struct mv_dommemstat d;
	mv_dommemstat_compute(&now, 1, NULL, 0, &d);
	mv_dommemstat_set_epoch(&d, MV_DMS_EPOCH_DEFAULT);
	char *s = render_dms(&d);
	assert_string_equal(s, "actual 2080\nlast_update 0\nrss 1500\n");
	free(s);
	mv_dommemstat_compute(&now, 1, &rep, 3 * MV_NS_PER_S, &d);
	mv_dommemstat_set_epoch(&d, 1000);
	assert_int_equal(d.val[MV_DMS_LAST_UPDATE], 1003);
	for (int dev_report = 0; dev_report < 2; dev_report++) {
		mv_dommemstat_compute(&now, 0, dev_report ? &rep : NULL, 0, &d);
		s = render_dms(&d);
		assert_string_equal(s, "rss 1500\n");
		free(s);
	}
}

static const char stats_xml[] =
	"<scenario name=\"v\" seed=\"3\" duration=\"4s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm>\n"
	"    <domain type=\"kvm\"><name>a</name><memory "
	"unit=\"MiB\">32</memory><currentMemory unit=\"MiB\">24</currentMemory>"
	"<devices><memballoon model=\"virtio\"><stats period=\"2\"/>"
	"</memballoon></devices><metadata><mv:memvisor "
	"xmlns:mv=\"urn:memvisor:domain:1\"><mv:guest overhead=\"3MiB\"/>"
	"</mv:memvisor></metadata></domain>\n"
	"    <workload kind=\"steady\" size=\"6MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

static struct mv_sim *make_sim(const char *xml)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "test.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *sim = NULL;
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "mv_sim_create");
	return sim;
}

/*
 * A run with <stats period='2'/>: the guest reports when its boot is done
 * (the first step here), then 2 s after each report; a listing between
 * two reports shows the older one, actual and rss read now.
 */
static void test_dommemstat_of_a_live_run(void **state)
{
	(void)state;
	struct mv_sim *sim = make_sim(stats_xml);
	struct mv_error err = {0};
	struct mv_dms_reports reps;
	mv_dms_reports_init(&reps, 2 * MV_NS_PER_S);
	mvt_ok(mv_sim_step(sim, &err), &err, "mv_sim_step");
	mv_dms_reports_step(&reps, sim, 0);
	assert_true(mv_guest_booted(sim->guest[0]));
	assert_true(reps.have);
	uint64_t boot_ns = sim->now_ns;
	assert_int_equal(reps.last_ns, boot_ns);
	/* a guest that booted holds its kernel's and image's pages */
	assert_true(reps.last.free_pages < reps.last.available_pages);
	struct mv_guest_stats at_boot = reps.last;
	for (int i = 1; i < 250; i++) {
		mvt_ok(mv_sim_step(sim, &err), &err, "mv_sim_step");
		mv_dms_reports_step(&reps, sim, 0);
		if (sim->now_ns < boot_ns + 2 * MV_NS_PER_S)
			assert_int_equal(reps.last_ns, boot_ns);
	}
	assert_int_equal(reps.last_ns, boot_ns + 2 * MV_NS_PER_S);
	assert_true(reps.last.minor_fault > at_boot.minor_fault);
	struct mv_dommemstat d;
	assert_int_equal(mv_dommemstat_live(sim, 0, &reps, &d), 0);
	struct mv_vm_usage u;
	mv_vm_usage(sim->vm[0], &u);
	/* currentMemory 24 of 32 MiB: the balloon holds the other 8. */
	struct mv_guest_stats now;
	mv_guest_stats(sim->guest[0], &now);
	assert_int_equal(d.val[MV_DMS_ACTUAL] + now.balloon_pages * 4,
			 32 * 1024);
	assert_true(now.balloon_pages > 0);
	/* guest RAM resident now plus QEMU's own 3 MiB */
	assert_int_equal(d.val[MV_DMS_RSS],
			 (u.state[MV_PS_PRIVATE] + u.state[MV_PS_SHARED]) * 4 +
				 3 * 1024);
	assert_true(d.val[MV_DMS_RSS] > 3 * 1024);
	assert_int_equal(d.val[MV_DMS_LAST_UPDATE], 2); /* 2.01 s */
	assert_int_equal(d.val[MV_DMS_UNUSED], reps.last.free_pages * 4);
	assert_int_equal(d.val[MV_DMS_AVAILABLE], d.val[MV_DMS_ACTUAL]);
	assert_true(d.val[MV_DMS_UNUSED] <= d.val[MV_DMS_USABLE]);
	assert_true(d.val[MV_DMS_USABLE] <= d.val[MV_DMS_AVAILABLE]);
	assert_int_not_equal(mv_dommemstat_live(sim, 1, NULL, &d), 0);
	mv_sim_destroy(sim);

	/* no period: the boot's report stays, as QEMU keeps it */
	sim = make_sim(stats_xml);
	mv_dms_reports_init(&reps, 0);
	for (int i = 0; i < 250; i++) {
		mvt_ok(mv_sim_step(sim, &err), &err, "mv_sim_step");
		mv_dms_reports_step(&reps, sim, 0);
	}
	assert_true(reps.have);
	assert_int_equal(reps.last_ns, boot_ns);
	mv_sim_destroy(sim);
}

/* An overcommitted host: balloon, compression and swap all work. */
static const char busy_xml[] =
	"<scenario name=\"b\" seed=\"11\" duration=\"6s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory>\n"
	"    <sharing enabled=\"yes\" pages-to-scan=\"100\" sleep=\"20ms\"/>\n"
	"  </host>\n"
	"  <vm count=\"2\">\n"
	"    <domain type=\"kvm\"><name>vm</name><memory "
	"unit=\"MiB\">48</memory></domain>\n"
	"    <workload kind=\"steady\" size=\"20MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\" content=\"data\"/>\n"
	"  </vm>\n"
	"  <vm>\n"
	"    <domain type=\"kvm\"><name>noballoon</name><memory "
	"unit=\"MiB\">48</memory>\n"
	"      <devices><memballoon model=\"none\"/></devices></domain>\n"
	"    <workload kind=\"steady\" size=\"20MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\" content=\"data\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

static struct mv_sim *g_busy; /* run once, read by several tests */

static struct mv_sim *busy(void)
{
	if (!g_busy) {
		struct mv_error err = {0};
		g_busy = make_sim(busy_xml);
		mvt_ok(mv_sim_run(g_busy, NULL, NULL, &err), &err,
		       "mv_sim_run");
	}
	return g_busy;
}

typedef int (*view_fn)(FILE *, const struct mv_sim *, int);

/* noinline: gcc's -Wdangling-pointer misreads open_memstream's &buf. */
__attribute__((noinline)) static char *render(view_fn fn,
					      const struct mv_sim *s, int vm)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(fn(f, s, vm), 0);
	fclose(f);
	return buf;
}

/* Split CSV text into rows of fields (no quoting in our files). */
struct csv {
	int nrows, ncols;
	char *cell[64][40];
	char *text;
};

static void csv_parse(struct csv *c, char *text)
{
	memset(c, 0, sizeof *c);
	c->text = text;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		assert_true(c->nrows < 64);
		int n = 0;
		for (char *p = line;; p++) {
			char *comma = strchr(p, ',');
			assert_true(n < 40);
			c->cell[c->nrows][n++] = p;
			if (!comma)
				break;
			*comma = '\0';
			p = comma;
		}
		if (c->nrows == 0)
			c->ncols = n;
		else
			assert_int_equal(n, c->ncols);
		c->nrows++;
	}
}

static int col(const struct csv *c, const char *name)
{
	for (int i = 0; i < c->ncols; i++)
		if (!strcmp(c->cell[0][i], name))
			return i;
	fail_msg("no column %s", name);
	return -1;
}

static double num(const struct csv *c, int row, const char *name)
{
	return atof(c->cell[row][col(c, name)]);
}

static int vm_csv_fn(FILE *f, const struct mv_sim *s, int vm)
{
	return mv_report_csv_vm(f, s, vm);
}

static void test_csv_vm_series(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	double swr_sum = 0, zip_sum = 0;
	for (int vm = 0; vm < s->nvms; vm++) {
		struct csv c;
		csv_parse(&c, render(vm_csv_fn, s, vm));
		assert_int_equal(c.nrows, 1 + s->nsamples);
		assert_string_equal(c.cell[0][0], "time_s");
		for (int r = 1; r < c.nrows; r++) {
			const struct mv_sample *sm = &s->samples[r - 1];
			const struct mv_sample_vm *v = &sm->vm[vm];
			assert_true(fabs(num(&c, r, "time_s") -
					 sm->t_ns / 1e9) < 1e-3);
			assert_true(fabs(num(&c, r, "MEMSZ") - 48) < 1e-9);
			double shrd = num(&c, r, "SHRD");
			assert_true(shrd >= num(&c, r, "ZERO"));
			assert_true(fabs(num(&c, r, "GRANT") -
					 (num(&c, r, "private") + shrd)) <
				    0.02);
			assert_true(fabs(num(&c, r, "SWCUR") -
					 v->state[MV_PS_SWAPPED] / 256.0) <
				    0.006);
			assert_true(fabs(num(&c, r, "MCTLTGT") -
					 v->balloon_target / 256.0) < 0.006);
			/* SWTGT never below what is swapped; OVHD at least
			 * the pmap's 16 bytes per guest page (48 MiB VMs) */
			assert_true(num(&c, r, "SWTGT") >=
				    num(&c, r, "SWCUR") - 1e-9);
			double pmap_mib = 48.0 * 256 * 16 / (1 << 20);
			assert_true(num(&c, r, "OVHD") >= pmap_mib - 0.01);
			assert_true(num(&c, r, "OVHD") < 4 * pmap_mib);
			if (r > 1) {
				double dt = (double)(sm->t_ns -
						     s->samples[r - 2].t_ns) /
					    1e9;
				swr_sum += num(&c, r, "SWW/s") * dt;
				zip_sum += num(&c, r, "ZIP/s") * dt;
			}
		}
		free(c.text);
	}
	/* The rates integrate back to the cumulative counts (MiB). */
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	double sww = 0, zip = 0;
	for (int vm = 0; vm < s->nvms; vm++) {
		sww += (double)(last->vm[vm].swap.writes -
				s->samples[0].vm[vm].swap.writes) /
		       256.0;
		zip += (double)(last->vm[vm].zcache.compressed -
				s->samples[0].vm[vm].zcache.compressed) /
		       256.0;
	}
	assert_true(zip > 0);
	assert_true(fabs(swr_sum - sww) < 0.05 * (sww + 1));
	assert_true(fabs(zip_sum - zip) < 0.05 * (zip + 1));
}

static void test_csv_host_series(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	struct csv c;
	csv_parse(&c, render(vm_csv_fn, s, -1));
	assert_int_equal(c.nrows, 1 + s->nsamples);
	int saw_pressure = 0;
	for (int r = 1; r < c.nrows; r++) {
		const struct mv_sample *sm = &s->samples[r - 1];
		assert_string_equal(c.cell[r][col(&c, "state")],
				    mv_memstate_name(sm->memstate));
		saw_pressure |= sm->memstate != MV_MEMSTATE_HIGH;
		assert_true(fabs(num(&c, r, "PMEM") - 64) < 1e-9);
		assert_true(fabs(num(&c, r, "free") - sm->host_free / 256.0) <
			    0.006);
		assert_true(num(&c, r, "free") <= num(&c, r, "usable"));
	}
	assert_true(saw_pressure);
	free(c.text);
}

static void test_csv_directory_all_or_nothing(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	char *dir = mvt_tmpdir("mvcsv");
	struct mv_error err = {0};
	mvt_ok(mv_report_csv(dir, s, &err), &err, "mv_report_csv");
	const char *names[] = {"host.csv", "vm-vm-1.csv", "vm-vm-2.csv",
			       "vm-noballoon.csv"};
	char p[512];
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		FILE *f = fopen(p, "r");
		assert_non_null(f);
		fclose(f);
	}
	/* A directory where a file must go: nothing moves, no temp left. */
	snprintf(p, sizeof p, "%s/host.csv", dir);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof p, "%s/vm-vm-2.csv", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_not_equal(mv_report_csv(dir, s, &err), 0);
	assert_non_null(strstr(err.file, "vm-vm-2.csv"));
	snprintf(p, sizeof p, "%s/host.csv", dir);
	assert_int_equal(access(p, F_OK), -1);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			n++, assert_null(strstr(e->d_name, ".tmp."));
	closedir(d);
	assert_int_equal(n, 3); /* vm-vm-1, vm-noballoon, the directory */
	snprintf(p, sizeof p, "%s/vm-vm-2.csv", dir);
	assert_int_equal(rmdir(p), 0);
	mvt_rmdir(dir);
}

static const char clash_xml[] =
	"<scenario name=\"c\" seed=\"1\" duration=\"1s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm><domain type=\"kvm\"><name>a b</name><memory unit=\"MiB\">8"
	"</memory></domain></vm>\n"
	"  <vm><domain type=\"kvm\"><name>a_b</name><memory unit=\"MiB\">8"
	"</memory></domain></vm>\n"
	"</scenario>\n";

static void test_clashing_file_names_are_numbered(void **state)
{
	(void)state;
	struct mv_sim *s = make_sim(clash_xml);
	struct mv_error err = {0};
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	char *dir = mvt_tmpdir("mvclash");
	mvt_ok(mv_report_csv(dir, s, &err), &err, "mv_report_csv");
	char p[512];
	snprintf(p, sizeof p, "%s/vm-a_b.csv", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof p, "%s/vm-a_b.2.csv", dir);
	assert_int_equal(access(p, F_OK), 0);
	mvt_rmdir(dir);
	mv_sim_destroy(s);
}

static void test_vm_file_names_are_portable(void **state)
{
	(void)state;
	char b[64];
	mv_view_vm_file("web/01 a", "csv", b, sizeof b);
	assert_string_equal(b, "vm-web_01_a.csv");
	mv_view_vm_file("db-1.x", "svg", b, sizeof b);
	assert_string_equal(b, "vm-db-1.x.svg");
}

static xmlDocPtr parse_svg(const char *text)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "chart.svg",
				      NULL, XML_PARSE_NONET);
	if (!doc)
		fail_msg("not well-formed XML:\n%.400s", text);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "svg");
	return doc;
}

/* The value of attribute `attr` of the first element `tag` with the
 * attribute `key` = `val` (NULL: any), searched depth first. */
static char *find_attr(xmlNodePtr n, const char *tag, const char *key,
		       const char *val, const char *attr)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)n->name, tag)) {
			xmlChar *k = key ? xmlGetProp(n, (const xmlChar *)key)
					 : NULL;
			int hit = !key || (k && !strcmp((char *)k, val));
			xmlFree(k);
			if (hit)
				return (char *)xmlGetProp(
					n, (const xmlChar *)attr);
		}
		char *r = find_attr(n->children, tag, key, val, attr);
		if (r)
			return r;
	}
	return NULL;
}

/* Parse "x,y x,y ..." into ys; returns the count. */
static int points_y(const char *pts, double *ys, int max)
{
	int n = 0;
	for (const char *p = pts; *p && n < max;) {
		double x, y;
		int used;
		if (sscanf(p, "%lf,%lf%n", &x, &y, &used) != 2)
			break;
		ys[n++] = y;
		p += used;
		while (*p == ' ')
			p++;
	}
	return n;
}

static int svg_fn(FILE *f, const struct mv_sim *s, int vm)
{
	return mv_report_svg_vm(f, s, vm);
}

static void test_svg_vm_charts(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	for (int vm = 0; vm < s->nvms; vm++) {
		char *text = render(svg_fn, s, vm);
		xmlDocPtr doc = parse_svg(text);
		xmlNodePtr root = xmlDocGetRootElement(doc);
		/* Nothing fetched from outside: no href, no @import. */
		assert_null(strstr(text, "href"));
		assert_null(strstr(text, "@import"));
		const char *names[] = {"private",    "shared",  "zero",
				       "compressed", "swapped", "ballooned",
				       "untouched"};
		double ys[256];
		for (int l = 0; l < 7; l++) {
			char id[32];
			snprintf(id, sizeof id, "layer-%s", names[l]);
			char *pts = find_attr(root, "polygon", "id", id,
					      "points");
			assert_non_null(pts);
			/* top edge and bottom edge: a point per sample each */
			assert_int_equal(points_y(pts, ys, 256),
					 2 * s->nsamples);
			if (l == 6) /* the whole stack: configured size */
				for (int k = 1; k < s->nsamples; k++)
					assert_true(fabs(ys[k] - ys[0]) < 0.05);
			xmlFree(pts);
		}
		assert_non_null(strstr(text, s->sc->vms[vm].vm.name));
		xmlFreeDoc(doc);
		free(text);
	}
}

static void test_svg_host_chart(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	char *text = render(svg_fn, s, -1);
	xmlDocPtr doc = parse_svg(text);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	char *pts = find_attr(root, "polyline", "class", "free", "points");
	assert_non_null(pts);
	double ys[256];
	assert_int_equal(points_y(pts, ys, 256), s->nsamples);
	/* Free memory falls from all of it: the curve goes down the page. */
	assert_true(ys[s->nsamples - 1] > ys[0]);
	xmlFree(pts);
	/* A threshold line per state of the model (ESX 4.1: four). */
	int n = 0;
	for (const char *p = text; (p = strstr(p, "stroke=\"#c62828\"")); p++)
		n++;
	assert_int_equal(n, 2 * 4); /* two panels */
	xmlFreeDoc(doc);
	free(text);
}

static int top_fn(FILE *f, const struct mv_sim *s, int sort)
{
	return mv_report_top(f, s, sort, sort == MV_TOP_SORT_SWCUR, 0);
}

static int top_80(FILE *f, const struct mv_sim *s, int sort)
{
	return mv_report_top(f, s, sort, 0, 80);
}

static int top_132(FILE *f, const struct mv_sim *s, int sort)
{
	return mv_report_top(f, s, sort, 0, 132);
}

static int text_fn(FILE *f, const struct mv_sim *s, int vm)
{
	(void)vm;
	return mv_report_text(f, s);
}

static int json_fn(FILE *f, const struct mv_sim *s, int vm)
{
	(void)vm;
	return mv_report_json(f, s);
}

/*
 * The figure in column `name` of VM `vm`'s row, in a table whose header
 * line starts with `hdr` (the text report's "  VM ..." tables and the
 * live screen's "*NAME ..." / " NAME ..." line alike): the row is found
 * by the VM's name as its first word, the column by the header's words.
 */
static double table_cell(const char *text, const char *title, const char *vm,
			 const char *name)
{
	const char *t = strstr(text, title);
	if (!t)
		fail_msg("no table \"%s\"", title);
	/* "*NAME": the header itself; else the line after the title */
	const char *hdr = title[0] == '*' ? t : strchr(t + 1, '\n') + 1;
	const char *hend = strchr(hdr, '\n');
	int field = -1, n = 0;
	for (const char *p = hdr; p < hend; p++) {
		if (*p == ' ' || (p > hdr && p[-1] != ' '))
			continue;
		size_t len = strcspn(p, " \n");
		if (*p == '*') /* the live screen's sort mark */
			p++, len--;
		if (len == strlen(name) && !strncmp(p, name, len))
			field = n;
		n++;
	}
	if (field < 0)
		fail_msg("no column %s in \"%s\"", name, title);
	for (const char *l = hend + 1; *l && *l != '\n';) {
		char first[64];
		if (sscanf(l, " %63s", first) == 1 && !strcmp(first, vm)) {
			const char *p = l + strspn(l, " ");
			for (int k = 0; k < field; k++) {
				p += strcspn(p, " ");
				p += strspn(p, " ");
			}
			return atof(p);
		}
		l = strchr(l, '\n') + 1;
	}
	fail_msg("no row %s under \"%s\"", vm, title);
	return 0;
}

/* A figure of VM vm in the JSON's "vms" array (vm -1: "totals"): key
 * under obj, pages, as MiB. */
static double json_pages(const char *json, int vm, const char *obj,
			 const char *key)
{
	char id[32], k[64];
	if (vm < 0) /* the totals over the VMs */
		snprintf(id, sizeof id, "\"totals\": {");
	else
		snprintf(id, sizeof id, "\"id\": %d,", vm);
	const char *p = strstr(json, id);
	assert_non_null(p);
	if (obj) {
		snprintf(k, sizeof k, "\"%s\": {", obj);
		p = strstr(p, k);
		assert_non_null(p);
	}
	snprintf(k, sizeof k, "\"%s\": ", key);
	p = strstr(p, k);
	assert_non_null(p);
	return atof(p + strlen(k)) / 256.0; /* pages to MiB */
}

/*
 * One name, one figure: for one run, each quantity the text report, the
 * JSON, the CSV (last row: the end of the run) and the live screen (at
 * the end of the run) share has the same value under its name in each
 * (docs/views.md's table). Text: MiB with one decimal; CSV two.
 */
static void test_same_name_same_figure_in_every_view(void **state)
{
	(void)state;
	static const struct {
		const char *text, *table, *csv, *top, *obj, *json;
	} q[] = {
		{"MEMSZ", "\nVM memory (", "MEMSZ", "MEMSZ", "config",
		 "configured_pages"},
		{"GRANT", "\nVM memory (", "GRANT", "GRANT", "final",
		 "granted_pages"},
		{"CONSUMED", "\nVM memory (", "consumed", NULL, "final",
		 "consumed_pages"},
		{"TOUCHED", "\nVM memory (", "TCHD", "TCHD", "final",
		 "touched_pages"},
		{"ACTIVE", "\nVM memory (", "active", NULL, "final",
		 "active_true_pages"},
		{"ACTV", "\nVM memory (", "ACTV", "ACTV", "final",
		 "active_est_pages"},
		{"ZERO", "\nVM memory (", "ZERO", "ZERO", "state_pages",
		 "zero"},
		{"SHARED", "\nVM memory (", NULL, NULL, "state_pages",
		 "shared"},
		{"PRIVATE", "\nVM memory (", "private", NULL, "state_pages",
		 "private"},
		{"MCTLSZ", "\nVM reclamation (MiB", "MCTLSZ", "MCTLSZ", "guest",
		 "balloon_pages"},
		{"MCTLTGT", "\nVM reclamation (MiB", "MCTLTGT", "MCTLTGT",
		 "final", "balloon_target_pages"},
		{"COMPRESSED", "\nVM reclamation (MiB", "compressed", NULL,
		 "state_pages", "compressed"},
		{"CACHESZ", "\nVM reclamation (MiB", "CACHESZ", NULL, "zcache",
		 "capacity_frames"},
		{"CACHEUSD", "\nVM reclamation (MiB", "CACHEUSD", "CACHEUSD",
		 "zcache", "frames"},
		{"SWCUR", "\nVM reclamation (MiB", "SWCUR", "SWCUR",
		 "state_pages", "swapped"},
		{"SHRDSVD", "\nVM reclamation (MiB", "SHRDSVD", "SHRDSVD",
		 "final", "shared_saved_pages"},
		{"UNTOUCHED", "\nVM reclamation (MiB", "untouched", NULL,
		 "state_pages", "untouched"},
	};
	/* The busy run with a 2 s active window, so that the true active
	 * set (ACTIVE) is not all the pages touched so far (TOUCHED). */
	char xml[sizeof busy_xml + 32];
	const char *at = strstr(busy_xml, "stats-interval");
	snprintf(xml, sizeof xml, "%.*sactive-window=\"2s\" %s",
		 (int)(at - busy_xml), busy_xml, at);
	struct mv_sim *s = make_sim(xml);
	struct mv_error err = {0};
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	assert_int_equal(s->samples[s->nsamples - 1].t_ns, s->now_ns);
	char *text = render(text_fn, s, 0);
	char *json = render(json_fn, s, 0);
	char *top = render(top_fn, s, MV_TOP_SORT_NAME);
	int differ = 0; /* the run must tell TOUCHED from ACTIVE */
	for (int vm = 0; vm < s->nvms; vm++) {
		const char *name = s->sc->vms[vm].vm.name;
		struct csv c;
		csv_parse(&c, render(vm_csv_fn, s, vm));
		int last = c.nrows - 1;
		for (size_t k = 0; k < sizeof q / sizeof *q; k++) {
			double t = table_cell(text, q[k].table, name,
					      q[k].text);
			double j = json_pages(json, vm, q[k].obj, q[k].json);
			if (fabs(t - j) > 0.051)
				fail_msg("%s %s: text %.2f, JSON %.2f", name,
					 q[k].text, t, j);
			if (q[k].csv &&
			    fabs(num(&c, last, q[k].csv) - j) > 0.006)
				fail_msg("%s %s: CSV %s %.2f, JSON %.2f", name,
					 q[k].text, q[k].csv,
					 num(&c, last, q[k].csv), j);
			if (q[k].top &&
			    fabs(table_cell(top, "*NAME", name, q[k].top) - j) >
				    0.051)
				fail_msg("%s %s: screen %s %.1f, JSON %.2f",
					 name, q[k].text, q[k].top,
					 table_cell(top, "*NAME", name,
						    q[k].top),
					 j);
		}
		differ |= fabs(num(&c, last, "TCHD") -
			       num(&c, last, "active")) > 0.1;
		free(c.text);
	}
	assert_true(differ);
	/* The host's CSV, the text's TOTAL row and the JSON's totals. */
	static const struct {
		const char *text, *table, *csv, *obj, *json;
	} h[] = {
		{"CONSUMED", "\nVM memory (", "consumed", NULL,
		 "consumed_pages"},
		{"MCTLSZ", "\nVM reclamation (MiB", "MCTLSZ", "guest",
		 "balloon_pages"},
		{"SWCUR", "\nVM reclamation (MiB", "SWCUR", "state_pages",
		 "swapped"},
		{"CACHEUSD", "\nVM reclamation (MiB", "CACHEUSD", "zcache",
		 "frames"},
		{"SHRDSVD", "\nVM reclamation (MiB", "SHRDSVD", NULL,
		 "shared_saved_pages"},
	};
	struct csv c;
	csv_parse(&c, render(vm_csv_fn, s, -1));
	for (size_t k = 0; k < sizeof h / sizeof *h; k++) {
		double t = table_cell(text, h[k].table, "TOTAL", h[k].text);
		double j = json_pages(json, -1, h[k].obj, h[k].json);
		double v = num(&c, c.nrows - 1, h[k].csv);
		/* the JSON's SHRDSVD total adds the VMs' figures, each with
		 * its 1/refcount shares rounded to a whole page; the host CSV
		 * has the sharer's own count: up to half a page per VM apart */
		double tol = strcmp(h[k].text, "SHRDSVD")
				     ? 0.006
				     : 0.006 + s->nvms * 0.5 / 256.0;
		if (fabs(t - j) > 0.051 || fabs(v - j) > tol)
			fail_msg("host %s: text %.1f, CSV %.2f, JSON %.2f",
				 h[k].text, t, v, j);
	}
	free(c.text);
	free(text);
	free(json);
	free(top);
	mv_sim_destroy(s);
}

/*
 * The live screen fits 80 and 132 columns: no line wider, the sort
 * column always there, STALL% there whenever anything but the sort fits.
 */
static void test_top_screen_fits_its_width(void **state)
{
	(void)state;
	static const char *const marks[] = {"*NAME",    "*MEMSZ",  "*GRANT",
					    "*ACTV",    "*MCTLSZ", "*SWCUR",
					    "*CACHEUSD"};
	view_fn fns[] = {top_80, top_132};
	const int widths[] = {80, 132};
	for (int w = 0; w < 2; w++) {
		for (int sort = 0; sort < MV_TOP_SORT_COUNT; sort++) {
			char *text = render(fns[w], busy(), sort);
			for (char *l = text; *l;) {
				size_t len = strcspn(l, "\n");
				if ((int)len > widths[w])
					fail_msg("%zu > %d: %.*s", len,
						 widths[w], (int)len, l);
				l += len + (l[len] == '\n');
			}
			assert_non_null(strstr(text, marks[sort]));
			assert_non_null(strstr(text, "STALL%"));
			/* at 132 only the lowest-ranked column is left out */
			assert_non_null(strstr(text, w ? "1 column hidden"
						       : "columns hidden"));
			free(text);
		}
	}
}

static void test_top_screen_text(void **state)
{
	(void)state;
	struct mv_sim *s = busy();
	assert_int_equal(mv_top_sort_for_key('S'), MV_TOP_SORT_SWCUR);
	assert_int_equal(mv_top_sort_for_key('n'), MV_TOP_SORT_NAME);
	assert_int_equal(mv_top_sort_for_key('x'), -1);
	const char *marks[] = {"*NAME",   "*MEMSZ", "*GRANT",   "*ACTV",
			       "*MCTLSZ", "*SWCUR", "*CACHEUSD"};
	for (int sort = 0; sort < MV_TOP_SORT_COUNT; sort++) {
		char *text = render(top_fn, s, sort);
		assert_non_null(strstr(text, marks[sort]));
		assert_int_equal(strstr(text, "[PAUSED]") != NULL,
				 sort == MV_TOP_SORT_SWCUR);
		assert_non_null(strstr(text, "state: "));
		/* Rows: after the header line, one per VM. */
		char *mark = strstr(text, marks[sort]);
		char *hdr = mark;
		while (hdr > text && hdr[-1] != '\n')
			hdr--;
		char *line = strchr(mark, '\n') + 1;
		/* The sort column's number: words before the mark, less NAME.
		 */
		int field = 0;
		for (char *p = hdr; p < mark; p++)
			if (*p != ' ' && (p == hdr || p[-1] == ' '))
				field++;
		char prev_name[64] = "";
		double prev = 1e18;
		int rows = 0;
		for (; *line; rows++) {
			char name[64];
			double v[16];
			int n = sscanf(line,
				       " %63s %lf %lf %lf %lf %lf %lf %lf "
				       "%lf %lf %lf %lf %lf %lf",
				       name, &v[0], &v[1], &v[2], &v[3], &v[4],
				       &v[5], &v[6], &v[7], &v[8], &v[9],
				       &v[10], &v[11], &v[12]);
			assert_int_equal(n, 14);
			if (sort == MV_TOP_SORT_NAME) {
				assert_true(strcmp(prev_name, name) < 0);
			} else {
				assert_true(field >= 1 && field <= 13);
				assert_true(v[field - 1] <= prev);
				prev = v[field - 1];
			}
			snprintf(prev_name, sizeof prev_name, "%s", name);
			line = strchr(line, '\n') + 1;
		}
		assert_int_equal(rows, s->nvms);
		free(text);
	}
}

static int teardown(void **state)
{
	(void)state;
	mv_sim_destroy(g_busy);
	g_busy = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dommemstat_fields_units_and_order),
		cmocka_unit_test(
			test_dommemstat_before_a_report_and_without_a_device),
		cmocka_unit_test(test_dommemstat_of_a_live_run),
		cmocka_unit_test(test_csv_vm_series),
		cmocka_unit_test(test_csv_host_series),
		cmocka_unit_test(test_csv_directory_all_or_nothing),
		cmocka_unit_test(test_vm_file_names_are_portable),
		cmocka_unit_test(test_clashing_file_names_are_numbered),
		cmocka_unit_test(test_svg_vm_charts),
		cmocka_unit_test(test_svg_host_chart),
		cmocka_unit_test(test_top_screen_text),
		cmocka_unit_test(test_top_screen_fits_its_width),
		cmocka_unit_test(test_same_name_same_figure_in_every_view),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}

/*
 * analyze.c - `memvisor analyze`: what page sharing (KSM, ESX TPS) and
 * compression would make of real memory: memory images (ELF guest dumps,
 * ELF cores, raw RAM) and live processes (--pid).
 *
 * The inputs are analysed in the order given (image/analysis.c); the
 * report is written only once every input has been read, so an input
 * that fails half-way (a truncated file, a process that exits) leaves one
 * error line on stderr and nothing on stdout: figures are never printed
 * as if complete. Input files and output paths are checked before any
 * page is read. Files go through mv_report_write_file (complete or not
 * at all; a symbolic link followed, a FIFO or device written in place).
 * Exit statuses: 2 for usage errors and bad input (a file or PID that
 * cannot be read), 1 when the process runs out of memory or an output
 * cannot be written, 0 otherwise.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "memvisor/image.h"
#include "memvisor/report.h"

#define LZ4_ACCELERATION 1 /* LZ4_compress_default's */
#define ZSTD_LEVEL 3

void mv_cli_analyze_help(FILE *f)
{
	fputs("usage: memvisor analyze [OPTIONS] IMAGE... [--pid PID]...\n"
	      "\n"
	      "Measure what page sharing and compression would save on real "
	      "memory:\n"
	      "QEMU/libvirt ELF memory dumps (virsh dump --memory-only "
	      "--format=elf),\n"
	      "ELF cores (gcore), raw RAM files and live processes. Per image "
	      "and in\n"
	      "total: pages, zero pages, pages duplicated inside one image and "
	      "across\n"
	      "images, KSM's pages_shared and pages_sharing (its rules: "
	      "mergeable pages,\n"
	      "max_page_sharing, use_zero_pages), ESX's shared and saved "
	      "pages with and\n"
	      "without salting, and the LZ4 sizes of a sample of the distinct "
	      "pages as a\n"
	      "histogram (<= 1 KiB, <= 2 KiB, more) with zstd for comparison.\n"
	      "Images and processes may be mixed; they are reported in the "
	      "order given.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --pid PID           a live process (repeatable): its "
	      "present pages,\n"
	      "                          as KSM sees them (needs ptrace "
	      "access: root)\n"
	      "  -j, --json[=FILE]       the report as JSON: to FILE, else in "
	      "place of\n"
	      "                          the text report\n"
	      "  -o, --output FILE       write the report to FILE (replaced "
	      "when\n"
	      "                          complete; a symbolic link is "
	      "followed)\n"
	      "  -t, --top N             list the N most shared contents with "
	      "the\n"
	      "                          images and addresses holding them\n"
	      "  -P, --profile FILE      write a content profile of an input "
	      "to FILE, for\n"
	      "                          <content profile=\"FILE\"/> in a "
	      "scenario; repeat it:\n"
	      "                          the Nth --profile is the Nth input's "
	      "(images and\n"
	      "                          processes in the order given)\n"
	      "      --max-page-sharing N\n"
	      "                          KSM's max_page_sharing: mappings per "
	      "KSM page\n"
	      "                          (default 256, at least 2)\n"
	      "      --use-zero-pages    KSM's use_zero_pages: zero pages map "
	      "the zero\n"
	      "                          page instead of a KSM page\n"
	      "      --compress-every N  compress one distinct page in N, "
	      "chosen by its\n"
	      "                          hash (default 16; 1: every one)\n"
	      "  -h, --help              show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 out of memory or an output that "
	      "cannot be\n"
	      "written, 2 usage error or bad input (a file or PID that cannot "
	      "be read:\n"
	      "nothing is printed then). See docs/analyze.md.\n",
	      f);
}

struct input {
	const char *path; /* NULL for a process */
	int pid;
};

struct analyze_opts {
	struct input *in;
	int nin;
	const char *output, *json_file;
	const char **profile; /* profile[i]: input i's, for i < nprofile */
	int nprofile;
	int json;
	struct mv_analysis_opts ao;
};

static int bad_number(const char *opt, const char *s, const char *what)
{
	struct mv_error err = {0};
	mv_error_set(&err, MV_EINVAL, NULL, 0, opt, "%s, got '%s'", what, s);
	mv_cli_error(&err);
	return MV_EXIT_USAGE;
}

/* s as an integer in [lo, hi] into *v, or exit 2 naming opt. */
static int parse_int(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		     const char *what, uint64_t *v)
{
	if (mv_parse_u64(s, v) || *v < lo || *v > hi)
		return bad_number(opt, s, what);
	return MV_EXIT_OK;
}

static int add_input(struct analyze_opts *o, const char *path, int pid)
{
	/* one process twice would be its own pages "shared" with
	 * themselves: nothing a page-sharing scanner could merge */
	for (int i = 0; pid && i < o->nin; i++)
		if (o->in[i].pid == pid) {
			mv_cli_errorf(
				"--pid %d: given twice (a process's pages "
				"cannot be shared with themselves)",
				pid);
			return MV_EXIT_USAGE;
		}
	struct input *in = realloc(o->in, (size_t)(o->nin + 1) * sizeof *in);
	if (!in) {
		mv_cli_errorf("out of memory");
		return MV_EXIT_FAILURE;
	}
	o->in = in;
	o->in[o->nin++] = (struct input){path, pid};
	return MV_EXIT_OK;
}

static int parse_options(int argc, char **argv, struct analyze_opts *o)
{
	enum { OPT_MPS = 256, OPT_ZERO, OPT_EVERY };
	static const struct option longopts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"json", optional_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"top", required_argument, NULL, 't'},
		{"profile", required_argument, NULL, 'P'},
		{"max-page-sharing", required_argument, NULL, OPT_MPS},
		{"use-zero-pages", no_argument, NULL, OPT_ZERO},
		{"compress-every", required_argument, NULL, OPT_EVERY},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->ao.max_page_sharing = MV_ANALYSIS_MAX_PAGE_SHARING;
	o->ao.compress_every = MV_ANALYSIS_COMPRESS_EVERY;
	opterr = 0;
	optind = 0;
	int c, st;
	uint64_t v;
	/* "-": images come back in order, between the --pid options */
	while ((c = getopt_long(argc, argv, "-:p:j::o:t:P:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 1:
			if (!optarg[0]) {
				mv_cli_errorf("analyze: empty image name");
				return MV_EXIT_USAGE;
			}
			if ((st = add_input(o, optarg, 0)))
				return st;
			break;
		case 'p':
			if ((st = parse_int("--pid", optarg, 1, INT_MAX,
					    "expected a process id", &v)) ||
			    (st = add_input(o, NULL, (int)v)))
				return st;
			break;
		case 'j':
			o->json = 1;
			if (optarg && !optarg[0]) {
				mv_cli_errorf("--json: empty file name");
				return MV_EXIT_USAGE;
			}
			o->json_file = optarg;
			break;
		case 'o':
			if (!optarg[0]) {
				mv_cli_errorf("--output: empty file name");
				return MV_EXIT_USAGE;
			}
			o->output = optarg;
			break;
		case 'P': {
			if (!optarg[0]) {
				mv_cli_errorf("--profile: empty file name");
				return MV_EXIT_USAGE;
			}
			const char **pr = realloc(o->profile,
						  (size_t)(o->nprofile + 1) *
							  sizeof *pr);
			if (!pr) {
				mv_cli_errorf("out of memory");
				return MV_EXIT_FAILURE;
			}
			o->profile = pr;
			o->profile[o->nprofile++] = optarg;
			break;
		}
		case 't':
			if ((st = parse_int("--top", optarg, 0, 100000,
					    "expected a count up to 100000",
					    &v)))
				return st;
			o->ao.top = (int)v;
			break;
		case OPT_MPS:
			if ((st = parse_int("--max-page-sharing", optarg, 2,
					    UINT_MAX,
					    "expected an integer of at least 2 "
					    "(KSM's lower limit)",
					    &v)))
				return st;
			o->ao.max_page_sharing = (unsigned)v;
			break;
		case OPT_ZERO:
			o->ao.use_zero_pages = 1;
			break;
		case OPT_EVERY:
			if ((st = parse_int("--compress-every", optarg, 1,
					    UINT_MAX,
					    "expected a positive integer", &v)))
				return st;
			o->ao.compress_every = (unsigned)v;
			break;
		case 'h':
			mv_cli_analyze_help(stdout);
			return MV_EXIT_OK;
		case ':':
			mv_cli_errorf("option '%s' needs an argument (see "
				      "memvisor analyze --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		default:
			mv_cli_errorf("unknown option '%s' (see memvisor "
				      "analyze --help)",
				      argv[optind - 1]);
			return MV_EXIT_USAGE;
		}
	}
	/* after "--": images, whatever their names look like */
	for (; optind < argc; optind++) {
		if (!argv[optind][0]) {
			mv_cli_errorf("analyze: empty image name");
			return MV_EXIT_USAGE;
		}
		if ((st = add_input(o, argv[optind], 0)))
			return st;
	}
	if (!o->nin) {
		mv_cli_errorf("analyze: missing IMAGE or --pid PID (see "
			      "memvisor analyze --help)");
		return MV_EXIT_USAGE;
	}
	if (o->nprofile > o->nin) {
		mv_cli_errorf("--profile: %d profiles for %d input%s: the Nth "
			      "--profile is the Nth input's",
			      o->nprofile, o->nin, o->nin == 1 ? "" : "s");
		return MV_EXIT_USAGE;
	}
	return -1;
}

/* ---- the figures, gathered before anything is written ----------------- */

struct top_entry {
	struct mv_content_info ci; /* arrays below, not the analysis's */
	int *image, *naddrs;
	uint64_t *copies, *addrs;
};

struct report {
	const struct analyze_opts *o;
	const struct mv_analysis *a;
	struct top_entry *top;
	int ntop;
};

static int keep_top(const struct mv_content_info *c, void *ctx)
{
	struct report *r = ctx;
	struct top_entry *t = &r->top[r->ntop];
	size_t n = (size_t)c->nimages;
	t->ci = *c;
	t->image = malloc(n * sizeof *t->image);
	t->naddrs = malloc(n * sizeof *t->naddrs);
	t->copies = malloc(n * sizeof *t->copies);
	t->addrs = malloc(n * MV_CONTENT_ADDRS * sizeof *t->addrs);
	if (!t->image || !t->naddrs || !t->copies || !t->addrs) {
		free(t->image);
		free(t->naddrs);
		free(t->copies);
		free(t->addrs);
		return MV_ENOMEM;
	}
	memcpy(t->image, c->image, n * sizeof *t->image);
	memcpy(t->naddrs, c->naddrs, n * sizeof *t->naddrs);
	memcpy(t->copies, c->copies, n * sizeof *t->copies);
	memcpy(t->addrs, c->addrs, n * MV_CONTENT_ADDRS * sizeof *t->addrs);
	r->ntop++;
	return 0;
}

static void free_top(struct report *r)
{
	for (int i = 0; i < r->ntop; i++) {
		free(r->top[i].image);
		free(r->top[i].naddrs);
		free(r->top[i].copies);
		free(r->top[i].addrs);
	}
	free(r->top);
}

static const char *kind_name(enum mv_image_kind k)
{
	switch (k) {
	case MV_IMAGE_GUEST_ELF:
		return "guest-elf";
	case MV_IMAGE_CORE_ELF:
		return "core-elf";
	case MV_IMAGE_RAW:
		return "raw";
	case MV_IMAGE_PROCESS:
		return "process";
	}
	return "?";
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static double mib(uint64_t pages)
{
	return (double)pages * MV_PAGE_SIZE / (double)MV_MIB;
}

static double ratio(uint64_t pages, uint64_t bytes)
{
	return bytes ? (double)pages * MV_PAGE_SIZE / (double)bytes : 0.0;
}

/* ---- text --------------------------------------------------------------- */

#define NAME_MAX_W 20

/* The name column: long names keep their end (the file's own name). */
static void put_name(FILE *f, const char *name, int w)
{
	int n = (int)strlen(name);
	if (n <= w)
		fprintf(f, "%-*s", w, name);
	else
		fprintf(f, "...%s", name + n - (w - 3));
}

static const char *image_name(const struct mv_analysis *a, int i)
{
	return mv_image_name(mv_analysis_image(a, i));
}

static int name_width(const struct mv_analysis *a)
{
	int w = 5; /* "total" */
	for (int i = 0; i < mv_analysis_images(a); i++) {
		int n = (int)strlen(image_name(a, i));
		w = n > w ? n : w;
	}
	return w > NAME_MAX_W ? NAME_MAX_W : w;
}

/* Row k of a table (the images, then the total at k == images) with its
 * name written. */
static const struct mv_image_figures *row(FILE *f, const struct mv_analysis *a,
					  int k, int w)
{
	int total = k == mv_analysis_images(a);
	put_name(f, total ? "total" : image_name(a, k), w);
	return total ? mv_analysis_total(a) : mv_analysis_figures(a, k);
}

static void text_pages(FILE *f, const struct mv_analysis *a, int w)
{
	fprintf(f, "%-*s %10s %9s %6s %7s %7s %10s\n", w, "image", "pages",
		"MiB", "zero%", "intra%", "inter%", "distinct");
	for (int k = 0; k <= mv_analysis_images(a); k++) {
		const struct mv_image_figures *g = row(f, a, k, w);
		fprintf(f, " %10llu %9.1f %6.2f %7.2f %7.2f %10llu\n",
			(unsigned long long)g->pages, mib(g->pages),
			pct(g->zero, g->pages), pct(g->dup_intra, g->pages),
			pct(g->dup_inter, g->pages),
			(unsigned long long)g->distinct);
	}
}

static void text_ksm(FILE *f, const struct mv_analysis *a, int w,
		     const struct mv_analysis_opts *o)
{
	fprintf(f,
		"\nKSM, on the mergeable pages (max_page_sharing %u, "
		"use_zero_pages %d)\n",
		o->max_page_sharing, o->use_zero_pages);
	fprintf(f, "%-*s %10s %12s %13s %10s %9s\n", w, "image", "mergeable",
		"pages_shared", "pages_sharing", "zero_pages", "MiB saved");
	for (int k = 0; k <= mv_analysis_images(a); k++) {
		const struct mv_image_figures *g = row(f, a, k, w);
		fprintf(f, " %10llu %12llu %13llu %10llu %9.1f\n",
			(unsigned long long)g->mergeable,
			(unsigned long long)g->ksm_pages_shared,
			(unsigned long long)g->ksm_pages_sharing,
			(unsigned long long)g->ksm_zero_pages,
			mib(g->ksm_pages_sharing + g->ksm_zero_pages));
	}
}

static void text_esx(FILE *f, const struct mv_analysis *a, int w)
{
	fprintf(f, "\nESX page sharing (zero pages shared), across images and "
		   "salted per image\n");
	fprintf(f, "%-*s %10s %10s %9s %10s %10s %9s\n", w, "image", "shared",
		"saved", "MiB saved", "salted", "saved", "MiB saved");
	for (int k = 0; k <= mv_analysis_images(a); k++) {
		const struct mv_image_figures *g = row(f, a, k, w);
		fprintf(f, " %10llu %10llu %9.1f %10llu %10llu %9.1f\n",
			(unsigned long long)g->esx_shared,
			(unsigned long long)g->esx_saved, mib(g->esx_saved),
			(unsigned long long)g->esx_shared_salted,
			(unsigned long long)g->esx_saved_salted,
			mib(g->esx_saved_salted));
	}
}

static void text_compression(FILE *f, const struct mv_analysis *a, int w,
			     const struct mv_analysis_opts *o)
{
	fprintf(f,
		"\nCompression of a sample: every zero page, and one other "
		"distinct page in %u\n(by hash) with all its pages, standing "
		"for %u like it; LZ4 acceleration %d,\nzstd level %d; %% of "
		"the pages as the sample estimates them\n",
		o->compress_every, o->compress_every, LZ4_ACCELERATION,
		ZSTD_LEVEL);
	fprintf(f, "%-*s %10s %7s %7s %7s %9s %10s\n", w, "image", "sampled",
		"<=1KiB", "<=2KiB", ">2KiB", "LZ4 ratio", "zstd ratio");
	for (int k = 0; k <= mv_analysis_images(a); k++) {
		const struct mv_image_figures *g = row(f, a, k, w);
		uint64_t est = g->lz4_hist[0] + g->lz4_hist[1] + g->lz4_hist[2];
		if (!g->sampled) {
			/* nothing compressed: no figure, not a zero */
			fprintf(f, " %10d %7s %7s %7s %9s %10s\n", 0, "-", "-",
				"-", "-", "-");
			continue;
		}
		fprintf(f, " %10llu %7.2f %7.2f %7.2f %9.2f %10.2f\n",
			(unsigned long long)g->sampled,
			pct(g->lz4_hist[0], est), pct(g->lz4_hist[1], est),
			pct(g->lz4_hist[2], est), ratio(est, g->lz4_bytes),
			ratio(est, g->zstd_bytes));
	}
}

static void text_top(FILE *f, const struct report *r)
{
	fprintf(f, "\nMost shared contents (top %d)\n", r->o->ao.top);
	if (!r->ntop)
		fprintf(f, "  none: no content occurs twice\n");
	for (int i = 0; i < r->ntop; i++) {
		const struct top_entry *t = &r->top[i];
		fprintf(f, "%3d. %llu pages, hash %016llx%s\n", i + 1,
			(unsigned long long)t->ci.pages,
			(unsigned long long)t->ci.hash,
			t->ci.zero ? ", zero page" : "");
		for (int k = 0; k < t->ci.nimages; k++) {
			fprintf(f, "     %s: %llu page%s at",
				image_name(r->a, t->image[k]),
				(unsigned long long)t->copies[k],
				t->copies[k] == 1 ? "" : "s");
			for (int j = 0; j < t->naddrs[k]; j++)
				fprintf(f, " 0x%llx",
					(unsigned long long)
						t->addrs[k * MV_CONTENT_ADDRS +
							 j]);
			fprintf(f, "%s\n",
				t->copies[k] > (uint64_t)t->naddrs[k] ? " ..."
								      : "");
		}
	}
}

static int write_text(FILE *f, const struct report *r)
{
	const struct mv_analysis *a = r->a;
	const struct mv_image_figures *t = mv_analysis_total(a);
	int n = mv_analysis_images(a), w = name_width(a);
	fprintf(f, "memvisor analyze: %d input%s, %llu pages (%.1f MiB)\n", n,
		n == 1 ? "" : "s", (unsigned long long)t->pages, mib(t->pages));
	for (int i = 0; i < n; i++)
		fprintf(f, "  %s (%s)\n", image_name(a, i),
			kind_name(mv_image_kind(mv_analysis_image(a, i))));
	fputc('\n', f);
	text_pages(f, a, w);
	text_ksm(f, a, w, &r->o->ao);
	text_esx(f, a, w);
	text_compression(f, a, w, &r->o->ao);
	if (r->o->ao.top)
		text_top(f, r);
	return ferror(f) ? MV_EIO : 0;
}

/* ---- JSON -----------------------------------------------------------------
 */

/* s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		unsigned c = *p;
		int n = c < 0x80             ? 1
			: (c & 0xe0) == 0xc0 ? 2
			: (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4
					     : 0;
		int ok = n > 0 && !(n == 2 && c < 0xc2) && !(c > 0xf4);
		for (int k = 1; ok && k < n; k++)
			ok = (p[k] & 0xc0) == 0x80;
		if (ok && n == 3)
			ok = !(c == 0xe0 && p[1] < 0xa0) &&
			     !(c == 0xed && p[1] >= 0xa0);
		if (ok && n == 4)
			ok = !(c == 0xf0 && p[1] < 0x90) &&
			     !(c == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			p++;
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		}
	}
	fputc('"', f);
}

static void json_figures(FILE *f, const struct mv_image_figures *g,
			 const char *indent)
{
	const struct {
		const char *name;
		uint64_t v;
	} u[] = {
		{"pages", g->pages},
		{"mergeable", g->mergeable},
		{"zero", g->zero},
		{"distinct", g->distinct},
		{"dup_intra", g->dup_intra},
		{"dup_inter", g->dup_inter},
		{"ksm_pages_shared", g->ksm_pages_shared},
		{"ksm_pages_sharing", g->ksm_pages_sharing},
		{"ksm_zero_pages", g->ksm_zero_pages},
		{"esx_shared", g->esx_shared},
		{"esx_saved", g->esx_saved},
		{"esx_shared_salted", g->esx_shared_salted},
		{"esx_saved_salted", g->esx_saved_salted},
		{"sampled", g->sampled},
		{"lz4_bytes", g->lz4_bytes},
		{"zstd_bytes", g->zstd_bytes},
	};
	fputs("{\n", f);
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
		fprintf(f, "%s  \"%s\": %llu,\n", indent, u[i].name,
			(unsigned long long)u[i].v);
	fprintf(f, "%s  \"lz4_hist\": [%llu, %llu, %llu]\n%s}", indent,
		(unsigned long long)g->lz4_hist[0],
		(unsigned long long)g->lz4_hist[1],
		(unsigned long long)g->lz4_hist[2], indent);
}

static void json_top(FILE *f, const struct report *r)
{
	fputs(",\n  \"top\": [", f);
	for (int i = 0; i < r->ntop; i++) {
		const struct top_entry *t = &r->top[i];
		fprintf(f,
			"%s\n    {\"hash\": \"%016llx\", \"pages\": %llu, "
			"\"zero\": %s, \"lz4_size\": %d, \"zstd_size\": %d,\n"
			"     \"images\": [",
			i ? "," : "", (unsigned long long)t->ci.hash,
			(unsigned long long)t->ci.pages,
			t->ci.zero ? "true" : "false", t->ci.lz4_size,
			t->ci.zstd_size);
		for (int k = 0; k < t->ci.nimages; k++) {
			fprintf(f,
				"%s\n       {\"image\": %d, \"pages\": %llu, "
				"\"addresses\": [",
				k ? "," : "", t->image[k],
				(unsigned long long)t->copies[k]);
			for (int j = 0; j < t->naddrs[k]; j++)
				fprintf(f, "%s\"0x%llx\"", j ? ", " : "",
					(unsigned long long)
						t->addrs[k * MV_CONTENT_ADDRS +
							 j]);
			fputs("]}", f);
		}
		fputs("]}", f);
	}
	fputs(r->ntop ? "\n  ]" : "]", f);
}

static int write_json(FILE *f, const struct report *r)
{
	const struct mv_analysis *a = r->a;
	const struct mv_analysis_opts *o = &r->o->ao;
	fprintf(f,
		"{\n  \"settings\": {\"page_size\": %u, \"max_page_sharing\": "
		"%u, \"use_zero_pages\": %s, \"compress_every\": %u, "
		"\"lz4_acceleration\": %d, \"zstd_level\": %d, \"top\": %d},\n"
		"  \"images\": [",
		MV_PAGE_SIZE, o->max_page_sharing,
		o->use_zero_pages ? "true" : "false", o->compress_every,
		LZ4_ACCELERATION, ZSTD_LEVEL, o->top);
	for (int i = 0; i < mv_analysis_images(a); i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_string(f, image_name(a, i));
		fprintf(f, ", \"kind\": \"%s\",\n     \"figures\": ",
			kind_name(mv_image_kind(mv_analysis_image(a, i))));
		json_figures(f, mv_analysis_figures(a, i), "     ");
		fputc('}', f);
	}
	fputs("\n  ],\n  \"total\": ", f);
	json_figures(f, mv_analysis_total(a), "  ");
	if (o->top)
		json_top(f, r);
	fputs("\n}\n", f);
	return ferror(f) ? MV_EIO : 0;
}

/* ---- the command -----------------------------------------------------------
 */

struct job {
	const struct report *r;
	int json;
};

static int write_job(FILE *f, const void *ctx)
{
	const struct job *j = ctx;
	return j->json ? write_json(f, j->r) : write_text(f, j->r);
}

/* One report to path, or to stdout when path is NULL. */
static int emit(const struct report *r, int json, const char *path)
{
	struct job j = {r, json};
	struct mv_error err = {0};
	if (path) {
		if (mv_report_write_file(path, write_job, &j, &err)) {
			mv_cli_error(&err);
			return MV_EXIT_FAILURE;
		}
		return MV_EXIT_OK;
	}
	if (write_job(stdout, &j) || fflush(stdout)) {
		mv_cli_errorf("standard output: write error");
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

/* Every input file and output path before a page is read: exit 2 for the
 * first that cannot be used. */
static int check_paths(const struct analyze_opts *o)
{
	for (int i = 0; i < o->nin; i++) {
		int st = o->in[i].path ? mv_cli_check_input(o->in[i].path,
							    "memory image", 0)
				       : MV_EXIT_OK;
		if (st != MV_EXIT_OK)
			return st;
	}
	struct mv_error err = {0};
	for (int i = 0; i < o->nprofile; i++)
		if (mv_report_output_check(o->profile[i], "--profile", NULL, 0,
					   &err) < 0) {
			mv_cli_error(&err);
			return MV_EXIT_USAGE;
		}
	if ((o->output && mv_report_output_check(o->output, "--output", NULL, 0,
						 &err) < 0) ||
	    (o->json_file && mv_report_output_check(o->json_file, "--json",
						    NULL, 0, &err) < 0)) {
		mv_cli_error(&err);
		return MV_EXIT_USAGE;
	}
	return MV_EXIT_OK;
}

/* How an input is named in messages and profiles. */
static void input_name(const struct input *in, char *buf, size_t n)
{
	if (in->path)
		snprintf(buf, n, "%.60s", in->path);
	else
		snprintf(buf, n, "pid %d", in->pid);
}

/* Open input in and add it to a: 0, or the exit status after one line
 * naming the file or PID. */
static int add_one(struct mv_analysis *a, const struct input *in)
{
	struct mv_error err = {0};
	struct mv_image *img = NULL;
	char name[64];
	input_name(in, name, sizeof name);
	int rc = in->path ? mv_image_open(in->path, &img, &err)
			  : mv_image_open_pid(in->pid, &img, &err);
	if (!rc)
		rc = mv_analysis_add(a, img, &err);
	if (!rc)
		return MV_EXIT_OK;
	if (!err.file[0])
		snprintf(err.file, sizeof err.file, "%s",
			 in->path ? in->path : name);
	if (!err.msg[0])
		snprintf(err.msg, sizeof err.msg, "%s", mv_strerror(rc));
	mv_cli_error(&err);
	return rc == MV_ENOMEM ? MV_EXIT_FAILURE : MV_EXIT_USAGE;
}

struct profile_job {
	const struct mv_analysis *a;
	int image;
	const char *name;
};

static int write_profile_job(FILE *f, const void *ctx)
{
	const struct profile_job *j = ctx;
	struct mv_error err = {0};
	return mv_profile_write(j->a, j->image, j->name, f, &err);
}

/* Input i's content profile to path, replaced only when complete. */
static int write_profile(const struct mv_analysis *a, int i,
			 const struct input *in, const char *path)
{
	char name[64];
	input_name(in, name, sizeof name);
	struct profile_job j = {a, i, name};
	struct mv_error err = {0};
	if (mv_report_write_file(path, write_profile_job, &j, &err)) {
		mv_cli_error(&err);
		return MV_EXIT_FAILURE;
	}
	return MV_EXIT_OK;
}

static int analyze(const struct analyze_opts *o)
{
	struct mv_analysis *a = NULL;
	if (mv_analysis_create(&o->ao, &a)) {
		mv_cli_errorf("analyze: out of memory");
		return MV_EXIT_FAILURE;
	}
	int st = MV_EXIT_OK;
	for (int i = 0; i < o->nin && st == MV_EXIT_OK; i++)
		st = add_one(a, &o->in[i]);
	struct mv_error err = {0};
	if (st == MV_EXIT_OK && mv_analysis_finish(a, &err)) {
		mv_cli_error(&err);
		st = MV_EXIT_FAILURE;
	}
	/* the top contents' hashes re-read pages: before any output */
	struct report r = {.o = o, .a = a};
	if (st == MV_EXIT_OK && o->ao.top) {
		r.top = calloc((size_t)o->ao.top, sizeof *r.top);
		int rc = r.top ? mv_analysis_top(a, keep_top, &r) : MV_ENOMEM;
		if (rc) {
			mv_cli_errorf("analyze: cannot list the most shared "
				      "contents: %s",
				      mv_strerror(rc));
			st = rc == MV_ENOMEM ? MV_EXIT_FAILURE : MV_EXIT_USAGE;
		}
	}
	if (st == MV_EXIT_OK) {
		/* --json without FILE replaces the text report */
		int text_too = !o->json || o->json_file;
		if (text_too)
			st = emit(&r, 0, o->output);
		if (st == MV_EXIT_OK && o->json)
			st = emit(&r, 1,
				  o->json_file ? o->json_file : o->output);
		for (int i = 0; i < o->nprofile && st == MV_EXIT_OK; i++)
			st = write_profile(a, i, &o->in[i], o->profile[i]);
	}
	free_top(&r);
	mv_analysis_destroy(a);
	return st;
}

int mv_cli_analyze(int argc, char **argv)
{
	struct analyze_opts o;
	int st = parse_options(argc, argv, &o);
	if (st < 0) {
		st = check_paths(&o);
		if (st == MV_EXIT_OK)
			st = analyze(&o);
	}
	free(o.in);
	free(o.profile);
	return st;
}

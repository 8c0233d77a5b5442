/*
 * scenario.c - loading a scenario: one host, its VMs, their guests and
 * workloads, from XML (docs/scenario.md is the user's reference).
 *
 * VMs are described the way operators already describe them: libvirt
 * domain XML exactly as `virsh dumpxml` prints it, inline or in a file of
 * its own. From a domain we read only what concerns memory (formatdomain:
 * <memory>, <currentMemory>, <memtune>, <memoryBacking>, <numatune>, the
 * <memballoon> device) and memvisor's own settings, which live in the
 * domain's <metadata> under the namespace urn:memvisor:domain:1, where
 * libvirt keeps foreign metadata untouched. Everything else in a domain
 * (disks, interfaces, CPU model, ...) is ignored, so real dumps load as
 * they are. The host and the workloads are memvisor's own elements; there
 * an unknown element or attribute is an error, to catch typos.
 *
 * Errors name the file, the line of the element at fault and a field the
 * user recognises ("memtune/hard_limit", "workload/size"), and the loader
 * stops at the first one. XML syntax errors come from libxml2's structured
 * error of the parser context, so nothing is ever printed. Documents are
 * read with XML_PARSE_NONET, entities are not expanded, and documents that
 * declare entities are refused: a scenario is data, not a program.
 *
 * Loading goes: parse the <scenario> attributes, the one <host>, then each
 * <vm> in order (its domain, its metadata, its workloads, its clones), and
 * validates each VM through mv_vm_config_check and
 * mv_workload_config_check, the same rules every VM source obeys.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/sim.h"
#include "sim/readers.h"

#define MV_NS_DOMAIN "urn:memvisor:domain:1"
#define MAX_VMS 1024         /* VMs in one scenario */
#define MAX_VM_COUNT 256     /* clones from one <vm count=N> */
#define MAX_STEPS 100000000ull /* duration / step */
#define MAX_FILE_BYTES MV_READER_MAX_BYTES
#define MAX_HOST_BYTES (1024 * MV_GIB)
#define MIN_HOST_BYTES (16 * MV_MIB)
/* libvirt's "unlimited" for memtune values, in KiB (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED). */
#define LIBVIRT_UNLIMITED_KIB 9007199254740991ull

/* The document being read: its name for errors, and where errors go. */
struct src {
	const char *file;
	struct mv_error *err;
};

struct loader {
	struct mv_scenario *sc;
	const char *base_dir;
	struct mv_error *err;
	int cap; /* allocated entries of sc->vms */
};

/* ---------------------------------------------------------------- *
 * Small helpers: errors, formatting, element and attribute access.
 * ---------------------------------------------------------------- */

static int line_of(const xmlNode *n)
{
	long l = n ? xmlGetLineNo((xmlNode *)n) : 0;
	return l > 0 && l < INT_MAX ? (int)l : 0;
}

static int fail(const struct src *s, const xmlNode *n, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Report bad input at element n (MV_EINVAL); returns MV_EINVAL. */
static int fail(const struct src *s, const xmlNode *n, const char *field,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mv_error_vset(s->err, MV_EINVAL, s->file, line_of(n), field,
			       fmt, ap);
	va_end(ap);
	return rc;
}

/* A duration as the user would write it: the largest exact unit. */
static const char *fmt_duration(uint64_t ns, char *buf, size_t n)
{
	static const struct {
		uint64_t ns;
		const char *unit;
	} units[] = {
		{3600 * MV_NS_PER_S, "h"}, {60 * MV_NS_PER_S, "m"},
		{MV_NS_PER_S, "s"},        {MV_NS_PER_MS, "ms"},
		{MV_NS_PER_US, "us"},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ns && ns % units[i].ns == 0) {
			snprintf(buf, n, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].unit);
			return buf;
		}
	snprintf(buf, n, "%lluns", (unsigned long long)ns);
	return buf;
}

static const char *fmt_bytes(uint64_t bytes, char *buf, size_t n)
{
	return mv_format_bytes(bytes, buf, n);
}

static int is_elem(const xmlNode *n)
{
	return n && n->type == XML_ELEMENT_NODE;
}

/* An element of no namespace (libvirt's and the scenario's own). */
static int is_plain(const xmlNode *n, const char *name)
{
	return is_elem(n) && n->ns == NULL &&
	       strcmp((const char *)n->name, name) == 0;
}

static int in_mv_ns(const xmlNode *n)
{
	return is_elem(n) && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, MV_NS_DOMAIN) == 0;
}

/* An element in memvisor's domain metadata namespace, any prefix. */
static int is_mv(const xmlNode *n, const char *name)
{
	return in_mv_ns(n) && strcmp((const char *)n->name, name) == 0;
}

/* "<name>" or "<prefix:name>" for messages. */
static const char *elem_label(const xmlNode *n, char *buf, size_t size)
{
	if (n->ns && n->ns->prefix)
		snprintf(buf, size, "<%s:%s>", (const char *)n->ns->prefix,
			 (const char *)n->name);
	else
		snprintf(buf, size, "<%s>", (const char *)n->name);
	return buf;
}

static int fail_unknown(const struct src *s, const xmlNode *n,
			const char *field)
{
	char label[128];
	return fail(s, n, field, "unknown element %s",
		    elem_label(n, label, sizeof label));
}

static int fail_duplicate(const struct src *s, const xmlNode *n,
			  const xmlNode *first, const char *field)
{
	char label[128];
	return fail(s, n, field, "duplicate %s (first at line %d)",
		    elem_label(n, label, sizeof label), line_of(first));
}

/*
 * The value of attribute `name` (no namespace) of n, or NULL if absent.
 * Documents with entity references are refused at load (check_entities),
 * so a value is always one text node.
 */
static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || strcmp((const char *)a->name, name) != 0)
			continue;
		const xmlNode *t = a->children;
		if (t && t->type == XML_TEXT_NODE && t->content)
			return (const char *)t->content;
		return "";
	}
	return NULL;
}

/*
 * memvisor's own elements take only the attributes in `allowed` (NULL
 * terminated) and no child elements unless leaf == 0: a typo is an error,
 * not a silently ignored setting.
 */
static int check_attrs(const struct src *s, const xmlNode *n,
		       const char *field, const char *const *allowed)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		int ok = 0;
		for (const char *const *p = allowed; !a->ns && p && *p; p++)
			if (strcmp((const char *)a->name, *p) == 0)
				ok = 1;
		if (!ok) {
			if (a->ns && a->ns->prefix)
				return fail(s, n, field,
					    "unknown attribute '%s:%s'",
					    (const char *)a->ns->prefix,
					    (const char *)a->name);
			return fail(s, n, field, "unknown attribute '%s'",
				    (const char *)a->name);
		}
	}
	return 0;
}

static int check_leaf(const struct src *s, const xmlNode *n,
		      const char *field, const char *const *allowed)
{
	int rc = check_attrs(s, n, field, allowed);
	if (rc)
		return rc;
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is_elem(c)) {
			char a[128], b[128];
			return fail(s, c, field, "unexpected element %s in %s",
				    elem_label(c, a, sizeof a),
				    elem_label(n, b, sizeof b));
		}
	return 0;
}

/* The text of element n, without surrounding white space, into buf. */
static int elem_text(const struct src *s, const xmlNode *n, const char *field,
		     char *buf, size_t size)
{
	xmlChar *c = xmlNodeGetContent((xmlNode *)n);
	const char *p = c ? (const char *)c : "";
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	size_t len = strlen(p);
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
		       p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	int rc = 0;
	if (len >= size)
		rc = fail(s, n, field, "value is too long (at most %zu "
				       "characters)", size - 1);
	else {
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	xmlFree(c);
	return rc;
}

/* Copy a name attribute or text (1..63 characters) into dst[64]. */
static int set_name(const struct src *s, const xmlNode *n, const char *field,
		    const char *v, char *dst, size_t size)
{
	if (!*v)
		return fail(s, n, field, "must not be empty");
	if (strlen(v) >= size)
		return fail(s, n, field,
			    "'%s' is longer than %zu characters", v, size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/*
 * A size in an element's text with libvirt's optional unit='...'
 * attribute; a bare number is in KiB, as in libvirt.
 */
static int size_elem(const struct src *s, const xmlNode *n, const char *field,
		     uint64_t *out)
{
	const char *unit = attr(n, "unit");
	if (unit && mv_unit_multiplier(unit, 0) == 0)
		return fail(s, n, field, "unknown unit '%s'", unit);
	char text[128];
	int rc = elem_text(s, n, field, text, sizeof text);
	if (rc)
		return rc;
	if (!text[0])
		return fail(s, n, field, "is empty");
	if (mv_parse_size(text, unit, MV_KIB, out) != 0)
		return fail(s, n, field, "'%s' is not a size", text);
	return 0;
}

/* A size in an attribute: "512MiB", "8 GiB"; a bare number is bytes. */
static int size_attr(const struct src *s, const xmlNode *n, const char *field,
		     const char *v, uint64_t *out)
{
	if (mv_parse_size(v, NULL, 1, out) != 0)
		return fail(s, n, field,
			    "'%s' is not a size (e.g. 512MiB, 2 GiB)", v);
	return 0;
}

static int duration_attr(const struct src *s, const xmlNode *n,
			 const char *field, const char *v, uint64_t *out)
{
	if (mv_parse_duration(v, out) != 0)
		return fail(s, n, field,
			    "'%s' is not a duration (e.g. 10ms, 30s, 5m)", v);
	return 0;
}

static int fraction_attr(const struct src *s, const xmlNode *n,
			 const char *field, const char *v, double *out)
{
	if (mv_parse_fraction(v, out) != 0)
		return fail(s, n, field,
			    "'%s' is not a fraction between 0 and 1 "
			    "(e.g. 0.3 or 30%%)",
			    v);
	return 0;
}

static int rate_attr(const struct src *s, const xmlNode *n, const char *field,
		     const char *v, double *out)
{
	if (mv_parse_rate(v, out) != 0)
		return fail(s, n, field,
			    "'%s' is not a rate (e.g. 2000, 50k, 1.5M)", v);
	return 0;
}

/* yes/no (also on/off, true/false, 1/0), as libvirt writes switches. */
static int bool_attr(const struct src *s, const xmlNode *n, const char *field,
		     const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "off") ||
		 !strcmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else
		return fail(s, n, field, "'%s' is not yes or no", v);
	return 0;
}

/* A plain positive decimal such as a Zipf exponent ("0.99", "1.2"). */
static int positive_attr(const struct src *s, const xmlNode *n,
			 const char *field, const char *v, double *out)
{
	int ok = *v != '\0';
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			ok = 0;
	if (!ok || mv_parse_rate(v, out) != 0 || !(*out > 0))
		return fail(s, n, field, "'%s' is not a number above 0", v);
	return 0;
}

static int page_aligned(const struct src *s, const xmlNode *n,
			const char *field, uint64_t bytes)
{
	if (bytes % MV_PAGE_SIZE)
		return fail(s, n, field, "must be a multiple of 4 KiB");
	return 0;
}

/* ---------------------------------------------------------------- *
 * Files and XML documents.
 * ---------------------------------------------------------------- */

/* Read a whole regular file into a NUL-terminated buffer (readers.h). */
int mv_read_file(const char *path, char **buf, size_t *len)
{
	/* before opening: opening a FIFO would wait for a writer */
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
		return -1;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 0, n = 0;
	char *b = NULL;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= MAX_FILE_BYTES) {
				free(b);
				fclose(f);
				errno = EFBIG;
				return -1;
			}
			cap = cap ? cap * 2 : 16384;
			char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				fclose(f);
				errno = ENOMEM;
				return -1;
			}
			b = nb;
		}
		size_t got = fread(b + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				free(b);
				fclose(f);
				errno = e;
				return -1;
			}
			break;
		}
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* The first error libxml2 raised while parsing one document. */
struct xml_capture {
	int have;
	int line;
	char msg[200];
};

#if LIBXML_VERSION >= 21200
static void capture_error(void *data, const xmlError *e)
#else
static void capture_error(void *data, xmlErrorPtr e)
#endif
{
	xmlParserCtxtPtr ctxt = data;
	struct xml_capture *c = ctxt ? ctxt->_private : NULL;
	if (!c || c->have || e->level < XML_ERR_ERROR)
		return;
	c->have = 1;
	c->line = e->line;
	snprintf(c->msg, sizeof c->msg, "%s",
		 e->message ? e->message : "malformed XML");
	size_t n = strlen(c->msg);
	while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' '))
		c->msg[--n] = '\0';
}

/* Refuse entity references: with NOENT off they would stay unexpanded. */
static const xmlNode *find_entity_ref(const xmlNode *n)
{
	for (; n; n = n->next) {
		if (n->type == XML_ENTITY_REF_NODE)
			return n->parent ? n->parent : n;
		if (n->type == XML_ELEMENT_NODE) {
			for (const xmlAttr *a = n->properties; a; a = a->next)
				for (const xmlNode *t = a->children; t;
				     t = t->next)
					if (t->type != XML_TEXT_NODE)
						return n;
			const xmlNode *r = find_entity_ref(n->children);
			if (r)
				return r;
		}
	}
	return NULL;
}

/*
 * Parse buf as XML named `file` (for errors). On a syntax error: MV_EINVAL,
 * "file:line: xml: <libxml2's message>". Nothing is printed.
 */
static int parse_xml(const char *buf, size_t len, const char *file,
		     xmlDoc **out, struct mv_error *err)
{
	*out = NULL;
	if (len > MAX_FILE_BYTES)
		return mv_error_set(err, MV_EINVAL, file, 0, "xml",
				    "file is larger than 64 MiB");
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return mv_error_set(err, MV_ENOMEM, file, 0, "xml",
				    "out of memory");
	struct xml_capture cap = {0};
	ctxt->_private = &cap;
	ctxt->sax->serror = capture_error;
	xmlDoc *doc = xmlCtxtReadMemory(
		ctxt, buf, (int)len, NULL, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			XML_PARSE_BIG_LINES);
	int rc = 0;
	if (cap.have || !doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		if (!cap.have && e && e->message) {
			capture_error(ctxt, (xmlErrorPtr)e);
		}
		rc = mv_error_set(err, MV_EINVAL, file, cap.line, "xml", "%s",
				  cap.have ? cap.msg : "malformed XML");
	} else if (doc->intSubset && doc->intSubset->entities) {
		rc = mv_error_set(err, MV_EINVAL, file,
				  line_of(xmlDocGetRootElement(doc)), "xml",
				  "entity declarations are not supported");
	} else {
		const xmlNode *bad = find_entity_ref(doc->children);
		if (bad)
			rc = mv_error_set(err, MV_EINVAL, file, line_of(bad),
					  "xml",
					  "entity references are not supported");
	}
	if (!rc && !xmlDocGetRootElement(doc))
		rc = mv_error_set(err, MV_EINVAL, file, 0, "xml",
				  "no root element");
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

/* dir + "/" + file unless file is absolute or dir empty. */
static int join_path(const char *dir, const char *file, char *buf, size_t n)
{
	int w;
	if (file[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		w = snprintf(buf, n, "%s", file);
	else if (dir[strlen(dir) - 1] == '/')
		w = snprintf(buf, n, "%s%s", dir, file);
	else
		w = snprintf(buf, n, "%s/%s", dir, file);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* ---------------------------------------------------------------- *
 * Workloads: <workload> in the scenario and <mv:workload> in metadata.
 * ---------------------------------------------------------------- */

static const char *const workload_attrs[] = {
	"name",    "kind",   "dist",  "zipf-s",          "size",
	"rate",    "write-ratio",     "content",         "app",
	"compressibility", "start",   "stop",  "phase",  "region",
	"leak",    "leak-max",        "trace", NULL};

/*
 * Read one workload element into w (defaults for what is absent). Checks
 * that need the VM (size against its memory) come later in
 * finish_workloads.
 */
static int parse_workload(const struct src *s, const xmlNode *n,
			  struct mv_workload_config *w)
{
	int rc = check_leaf(s, n, "workload", workload_attrs);
	if (rc)
		return rc;
	mv_workload_config_default(w);
	snprintf(w->source, sizeof w->source, "%s", s->file);
	w->source_line = line_of(n);

	const char *v;
	if ((v = attr(n, "name")) &&
	    (rc = set_name(s, n, "workload/name", v, w->name, sizeof w->name)))
		return rc;
	if ((v = attr(n, "kind")) && mv_wl_kind_parse(v, &w->kind) != 0)
		return fail(s, n, "workload/kind",
			    "unknown kind '%s' (steady, idle, phased, leak, "
			    "trace)",
			    v);
	if (w->kind == MV_WL_TRACE) {
		/* the size is what the trace touches (finish_workloads) */
		if (!(v = attr(n, "trace")))
			return fail(s, n, "workload/trace",
				    "is required with kind=\"trace\" (an "
				    "address trace: valgrind lackey output "
				    "or memvisor's binary format)");
		if (attr(n, "size"))
			return fail(s, n, "workload/size",
				    "a trace workload's size is the pages its "
				    "trace touches");
		if (strlen(v) >= sizeof w->trace_file)
			return fail(s, n, "workload/trace", "path is too long");
		/* the trace says which page and whether it is written */
		static const char *const unused[] = {"dist", "zipf-s",
						     "write-ratio"};
		for (size_t k = 0; k < sizeof unused / sizeof *unused; k++)
			if (attr(n, unused[k])) {
				char f[32];
				snprintf(f, sizeof f, "workload/%s", unused[k]);
				return fail(s, n, f,
					    "is not used with kind=\"trace\": "
					    "the trace says which pages are "
					    "read and written");
			}
		snprintf(w->trace_file, sizeof w->trace_file, "%s", v);
	} else if (attr(n, "trace")) {
		return fail(s, n, "workload/trace",
			    "is only used with kind=\"trace\"");
	}
	if ((v = attr(n, "dist"))) {
		if (strcmp(v, "uniform") == 0)
			w->dist = MV_DIST_UNIFORM;
		else if (strcmp(v, "zipf") == 0)
			w->dist = MV_DIST_ZIPF;
		else
			return fail(s, n, "workload/dist",
				    "unknown distribution '%s' "
				    "(uniform, zipf)",
				    v);
	}
	if ((v = attr(n, "zipf-s")) &&
	    (rc = positive_attr(s, n, "workload/zipf-s", v, &w->zipf_s)))
		return rc;
	if (w->kind != MV_WL_TRACE) {
		if (!(v = attr(n, "size")))
			return fail(s, n, "workload/size", "is required");
		if ((rc = size_attr(s, n, "workload/size", v, &w->size_bytes)))
			return rc;
	}
	if ((v = attr(n, "rate"))) {
		if ((rc = rate_attr(s, n, "workload/rate", v, &w->rate)))
			return rc;
	} else if (w->kind == MV_WL_IDLE) {
		w->rate = 10;
	}
	if ((v = attr(n, "write-ratio")) &&
	    (rc = fraction_attr(s, n, "workload/write-ratio", v,
				&w->write_ratio)))
		return rc;
	if ((v = attr(n, "content")) && mv_content_parse(v, &w->content) != 0)
		return fail(s, n, "workload/content",
			    "unknown content '%s' "
			    "(zero, os, app, data, random)",
			    v);
	if ((v = attr(n, "app"))) {
		if (w->content != MV_CONTENT_APP)
			return fail(s, n, "workload/app",
				    "is only used with content=\"app\"");
		if ((rc = set_name(s, n, "workload/app", v, w->content_name,
				   sizeof w->content_name)))
			return rc;
	}
	if ((v = attr(n, "compressibility")) &&
	    (rc = fraction_attr(s, n, "workload/compressibility", v,
				&w->compressibility)))
		return rc;
	if ((v = attr(n, "start")) &&
	    (rc = duration_attr(s, n, "workload/start", v, &w->start_ns)))
		return rc;
	if ((v = attr(n, "stop")) &&
	    (rc = duration_attr(s, n, "workload/stop", v, &w->stop_ns)))
		return rc;
	if ((v = attr(n, "phase")) &&
	    (rc = duration_attr(s, n, "workload/phase", v, &w->phase_ns)))
		return rc;
	if ((v = attr(n, "region")) &&
	    (rc = size_attr(s, n, "workload/region", v, &w->region_bytes)))
		return rc;
	if ((v = attr(n, "leak"))) {
		/* bytes per second: "1MiB" or "1MiB/s" */
		char b[64];
		size_t len = strlen(v);
		if (len >= sizeof b)
			return fail(s, n, "workload/leak", "value is too long");
		memcpy(b, v, len + 1);
		while (len && b[len - 1] == ' ')
			b[--len] = '\0';
		if (len >= 2 && strcmp(b + len - 2, "/s") == 0)
			b[len - 2] = '\0';
		uint64_t bytes;
		if (mv_parse_size(b, NULL, 1, &bytes) != 0)
			return fail(s, n, "workload/leak",
				    "'%s' is not a size per second "
				    "(e.g. 1MiB)",
				    v);
		w->leak_bytes_per_s = (double)bytes;
	}
	if ((v = attr(n, "leak-max")) &&
	    (rc = size_attr(s, n, "workload/leak-max", v, &w->leak_max_bytes)))
		return rc;
	return 0;
}

/* Append the workload element n to g (at most MV_MAX_WORKLOADS). */
static int add_workload(const struct src *s, const xmlNode *n,
			struct mv_guest_config *g)
{
	if (g->nworkloads >= MV_MAX_WORKLOADS)
		return fail(s, n, "workload",
			    "a VM has at most %d workloads", MV_MAX_WORKLOADS);
	int rc = parse_workload(s, n, &g->workload[g->nworkloads]);
	if (rc)
		return rc;
	g->nworkloads++;
	return 0;
}

/*
 * The trace of trace workload w, loaded once per file for the scenario
 * (relative to base_dir; NULL: no scenario to hold it, an error). Its
 * size becomes the pages the trace touches.
 */
static int load_trace(struct mv_scenario *sc, const char *base_dir,
		      struct mv_workload_config *w, struct mv_error *err)
{
	char path[1024];
	if (!base_dir)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    "workload/trace",
				    "trace workloads are read with a scenario");
	if (join_path(base_dir, w->trace_file, path, sizeof path) != 0)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    "workload/trace", "path is too long");
	struct stat st;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		int e = errno;
		return mv_error_set(err, e == ENOENT || e == ENOTDIR ? MV_ENOENT
								   : MV_EIO,
				    w->source, w->source_line, "workload/trace",
				    "cannot open '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    "workload/trace",
				    "'%s' is not a regular file", path);
	/* one copy per file, however the scenario spells its path */
	const struct mv_access_trace *t = NULL;
	for (int i = 0; i < sc->ntraces && !t; i++)
		if (sc->traces[i]->dev == (uint64_t)st.st_dev &&
		    sc->traces[i]->ino == (uint64_t)st.st_ino)
			t = sc->traces[i];
	if (!t) {
		struct mv_access_trace **a =
			realloc(sc->traces, (size_t)(sc->ntraces + 1) * sizeof *a);
		if (!a)
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		sc->traces = a;
		struct mv_access_trace *nt;
		int rc = mv_access_trace_load(path, &nt, err);
		if (rc)
			return rc; /* names the trace's own file and line */
		nt->dev = (uint64_t)st.st_dev;
		nt->ino = (uint64_t)st.st_ino;
		sc->traces[sc->ntraces++] = nt;
		t = nt;
	}
	w->trace = t;
	w->size_bytes = t->npages * MV_PAGE_SIZE;
	return 0;
}

/*
 * A trace workload's pages, and with an MMU model the page tables its
 * addresses need (sparse programs need many), must fit in the VM.
 */
static int trace_fits(const struct mv_vm_spec *spec,
		      const struct mv_workload_config *w, struct mv_error *err)
{
	const struct mv_access_trace *t = w->trace;
	uint64_t tables = spec->guest.mmu ? t->table_pages : 0;
	if ((t->npages + tables) * MV_PAGE_SIZE <= spec->vm.mem_bytes)
		return 0;
	char a[32], b[32];
	return mv_error_set(
		err, MV_EINVAL, w->source, w->source_line, "workload/trace",
		"the trace touches %llu pages%s%llu page-table pages: %s, "
		"more than the VM's memory (%s)",
		(unsigned long long)t->npages,
		tables ? " and its addresses need " : "",
		(unsigned long long)tables,
		fmt_bytes((t->npages + tables) * MV_PAGE_SIZE, a, sizeof a),
		fmt_bytes(spec->vm.mem_bytes, b, sizeof b));
}

/*
 * Name the unnamed workloads "workload-N" (N: position in the VM's list),
 * load the traces of trace workloads, refuse duplicate names, and check
 * each against the VM and the scenario.
 */
static int finish_workloads(struct mv_scenario *sc, const char *base_dir,
			    struct mv_vm_spec *spec, struct mv_error *err)
{
	struct mv_guest_config *g = &spec->guest;
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		int rc = w->kind == MV_WL_TRACE && !w->trace
				 ? load_trace(sc, base_dir, w, err)
				 : 0;
		if (!rc && w->trace)
			rc = trace_fits(spec, w, err);
		if (rc)
			return rc;
	}
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		if (!w->name[0])
			snprintf(w->name, sizeof w->name, "workload-%d",
				 i + 1);
	}
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		for (int j = 0; j < i; j++)
			if (strcmp(g->workload[j].name, w->name) == 0)
				return mv_error_set(
					err, MV_EINVAL, w->source,
					w->source_line, "workload/name",
					"duplicate workload name '%s' in VM "
					"'%s' (first at %s:%d)",
					w->name, spec->vm.name,
					g->workload[j].source,
					g->workload[j].source_line);
		int rc = mv_workload_config_check(w, spec->vm.mem_bytes, err);
		if (rc)
			return rc;
		if (w->start_ns >= sc->duration_ns) {
			char a[32], b[32];
			return mv_error_set(
				err, MV_EINVAL, w->source, w->source_line,
				"workload/start",
				"starts at %s, after the scenario ends (%s)",
				fmt_duration(w->start_ns, a, sizeof a),
				fmt_duration(sc->duration_ns, b, sizeof b));
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- *
 * libvirt domains.
 * ---------------------------------------------------------------- */

/* Where things were in the domain, to place errors found later. */
struct domain_lines {
	char file[256];
	int name, memory, current, hard_limit, min_guarantee, memballoon,
		stats, numatune, soft_limit, swap_hard_limit;
};

/* First node of a libvirt nodeset ("0", "1-3", "0,2", "0-3,^1"). */
static int nodeset_first(const char *s, int *first)
{
	int got = -1;
	const char *p = s;
	for (;;) {
		while (*p == ' ')
			p++;
		int neg = 0;
		if (*p == '^')
			neg = 1, p++;
		if (*p < '0' || *p > '9')
			return MV_EINVAL;
		long a = 0;
		while (*p >= '0' && *p <= '9') {
			a = a * 10 + (*p++ - '0');
			if (a > 1000000)
				return MV_EINVAL;
		}
		if (*p == '-') {
			if (neg)
				return MV_EINVAL;
			p++;
			if (*p < '0' || *p > '9')
				return MV_EINVAL;
			long b = 0;
			while (*p >= '0' && *p <= '9') {
				b = b * 10 + (*p++ - '0');
				if (b > 1000000)
					return MV_EINVAL;
			}
			if (b < a)
				return MV_EINVAL;
		}
		if (!neg && got < 0)
			got = (int)a;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return MV_EINVAL;
	}
	if (got < 0)
		return MV_EINVAL;
	*first = got;
	return 0;
}

static int parse_memtune(const struct src *s, const xmlNode *mt,
			 struct mv_vm_config *vm, struct domain_lines *dl)
{
	static const char *const names[] = {"hard_limit", "soft_limit",
					    "swap_hard_limit", "min_guarantee"};
	const xmlNode *seen[4] = {0};
	uint64_t swap_hard = UINT64_MAX;
	for (const xmlNode *c = mt->children; c; c = c->next) {
		for (int i = 0; i < 4; i++) {
			if (!is_plain(c, names[i]))
				continue;
			char field[64];
			snprintf(field, sizeof field, "memtune/%s", names[i]);
			if (seen[i])
				return fail_duplicate(s, c, seen[i], field);
			seen[i] = c;
			uint64_t bytes;
			int rc = size_elem(s, c, field, &bytes);
			if (rc)
				return rc;
			int unlimited = bytes / MV_KIB >= LIBVIRT_UNLIMITED_KIB;
			if (i == 0) {
				dl->hard_limit = line_of(c);
				if (!unlimited)
					vm->limit_bytes = bytes;
			} else if (i == 1) {
				dl->soft_limit = line_of(c);
				if (!unlimited)
					vm->soft_limit_bytes = bytes;
			} else if (i == 2) {
				dl->swap_hard_limit = line_of(c);
				if (!unlimited)
					swap_hard = bytes;
			} else {
				dl->min_guarantee = line_of(c);
				vm->reservation_bytes = bytes;
			}
		}
	}
	/*
	 * swap_hard_limit is memory plus swap (cgroup v1's
	 * memory.memsw.limit_in_bytes; libvirt gives cgroup v2's
	 * memory.swap.max the difference), so what the hypervisor may swap
	 * of this VM is swap_hard_limit - hard_limit.
	 */
	if (swap_hard != UINT64_MAX) {
		char b[32];
		if (swap_hard % MV_PAGE_SIZE)
			return fail(s, seen[2], "memtune/swap_hard_limit",
				    "must be a multiple of 4 KiB");
		if (swap_hard < vm->limit_bytes)
			return fail(s, seen[2], "memtune/swap_hard_limit",
				    "must not be below memtune/hard_limit "
				    "(%s): it counts memory plus swap",
				    fmt_bytes(vm->limit_bytes, b, sizeof b));
		vm->swap_max_bytes = swap_hard - vm->limit_bytes;
	}
	return 0;
}

static int parse_memballoon(const struct src *s, const xmlNode *mb,
			    struct mv_vm_config *vm, struct domain_lines *dl)
{
	dl->memballoon = line_of(mb);
	const char *model = attr(mb, "model");
	if (!model)
		return fail(s, mb, "memballoon/model", "is required");
	if (strcmp(model, "none") == 0)
		vm->balloon_driver = 0;
	else if (strcmp(model, "virtio") == 0 ||
		 strcmp(model, "virtio-transitional") == 0 ||
		 strcmp(model, "virtio-non-transitional") == 0 ||
		 strcmp(model, "xen") == 0)
		vm->balloon_driver = 1;
	else
		return fail(s, mb, "memballoon/model",
			    "unknown model '%s' (virtio, "
			    "virtio-transitional, virtio-non-transitional, "
			    "xen, none)",
			    model);
	const xmlNode *stats = NULL;
	for (const xmlNode *c = mb->children; c; c = c->next) {
		if (!is_plain(c, "stats"))
			continue;
		if (stats)
			return fail_duplicate(s, c, stats, "memballoon/stats");
		stats = c;
		dl->stats = line_of(c);
		const char *p = attr(c, "period");
		uint64_t v;
		if (!p)
			return fail(s, c, "memballoon/stats",
				    "period is required");
		if (mv_parse_u64(p, &v) != 0 || v > INT_MAX)
			return fail(s, c, "memballoon/stats",
				    "period '%s' is not a whole number of "
				    "seconds",
				    p);
		vm->stats_period_s = (int)v;
	}
	return 0;
}

static int parse_numatune(const struct src *s, const xmlNode *nt,
			  int host_nodes, struct mv_vm_config *vm,
			  struct domain_lines *dl)
{
	const xmlNode *mem = NULL;
	for (const xmlNode *c = nt->children; c; c = c->next) {
		if (!is_plain(c, "memory"))
			continue;
		if (mem)
			return fail_duplicate(s, c, mem, "numatune/memory");
		mem = c;
		dl->numatune = line_of(c);
		/* mode (strict, preferred, interleave, restrictive) only
		 * changes what happens when the home node is full; the
		 * simulator always falls back to the other nodes. It is still
		 * checked: a typo would otherwise pass silently. */
		const char *mode = attr(c, "mode");
		if (mode && strcmp(mode, "strict") && strcmp(mode, "preferred") &&
		    strcmp(mode, "interleave") && strcmp(mode, "restrictive"))
			return fail(s, c, "numatune/memory",
				    "unknown mode '%s' (strict, preferred, "
				    "interleave, restrictive)",
				    mode);
		const char *placement = attr(c, "placement");
		if (placement && strcmp(placement, "static") &&
		    strcmp(placement, "auto"))
			return fail(s, c, "numatune/memory",
				    "unknown placement '%s' (static, auto)",
				    placement);
		/* placement='auto' (numad's advice in libvirt): the host
		 * chooses, whatever nodeset a live dump shows */
		const char *set = attr(c, "nodeset");
		if (!set || (placement && strcmp(placement, "auto") == 0))
			continue;
		int first;
		if (nodeset_first(set, &first) != 0)
			return fail(s, c, "numatune/memory",
				    "nodeset '%s' is not a list of NUMA nodes "
				    "(e.g. 0, 1-3, 0,2)",
				    set);
		if (first >= host_nodes)
			return fail(s, c, "numatune/memory",
				    "nodeset '%s' names node %d, but the host "
				    "has %d NUMA node%s",
				    set, first, host_nodes,
				    host_nodes == 1 ? "" : "s");
		vm->home_node = first;
	}
	return 0;
}

static const char *const guest_attrs[] = {"os",   "image",     "image-size",
					  "os-rate", "swap", "zero-rate",
					  "balloon-rate", NULL};

/* <mv:guest os=... image=... image-size=... os-rate=... swap=... zero-rate=...> */
static int parse_guest(const struct src *s, const xmlNode *n,
		       uint64_t mem_bytes, struct mv_guest_config *g,
		       int *image_given, int *size_given)
{
	int rc = check_leaf(s, n, "guest", guest_attrs);
	if (rc)
		return rc;
	const char *v;
	char b[32];
	if ((v = attr(n, "os")) && mv_guest_flavour_parse(v, &g->flavour))
		return fail(s, n, "guest/os",
			    "unknown guest OS '%s' (linux, windows)", v);
	if ((v = attr(n, "image"))) {
		if ((rc = set_name(s, n, "guest/image", v, g->os_image,
				   sizeof g->os_image)))
			return rc;
		*image_given = 1;
	}
	if ((v = attr(n, "image-size"))) {
		if ((rc = size_attr(s, n, "guest/image-size", v, &g->os_bytes)) ||
		    (rc = page_aligned(s, n, "guest/image-size", g->os_bytes)))
			return rc;
		if (g->os_bytes > mem_bytes)
			return fail(s, n, "guest/image-size",
				    "exceeds the VM's memory (%s)",
				    fmt_bytes(mem_bytes, b, sizeof b));
		*size_given = 1;
	}
	if ((v = attr(n, "os-rate")) &&
	    (rc = rate_attr(s, n, "guest/os-rate", v, &g->os_rate)))
		return rc;
	if ((v = attr(n, "swap")) &&
	    ((rc = size_attr(s, n, "guest/swap", v, &g->swap_bytes)) ||
	     (rc = page_aligned(s, n, "guest/swap", g->swap_bytes))))
		return rc;
	if ((v = attr(n, "zero-rate")) &&
	    (rc = rate_attr(s, n, "guest/zero-rate", v, &g->zero_rate)))
		return rc;
	if ((v = attr(n, "balloon-rate"))) {
		/* a size per second: "64MiB" -> pages/s */
		uint64_t bytes;
		if ((rc = size_attr(s, n, "guest/balloon-rate", v, &bytes)))
			return rc;
		g->balloon_rate = (double)bytes / MV_PAGE_SIZE;
	}
	return 0;
}

/*
 * <mv:mmu mode="native|shadow|nested" pages="4k|2m" tagged="yes|no"
 * l2-4k="1536x12" lat-exit="1500" ...>: translate the guest's accesses
 * through an MMU model. The host page size
 * is the domain's <memoryBacking><hugepages/> (finish_guest).
 */
static int parse_mmu(const struct src *s, const xmlNode *n,
		     struct mv_guest_config *g)
{
	const char *names[32] = {"mode", "pages", "tagged"};
	int nn = 3;
	for (const char *const *k = mv_mmu_config_keys; *k; k++)
		names[nn++] = *k;
	names[nn] = NULL;
	int rc = check_leaf(s, n, "mmu", names);
	if (rc)
		return rc;
	const char *v = attr(n, "mode");
	enum mv_mmu_mode mode;
	if (!v)
		return fail(s, n, "mmu/mode",
			    "missing (native, shadow or nested)");
	if (mv_mmu_mode_parse(v, &mode))
		return fail(s, n, "mmu/mode",
			    "unknown mode '%s' (native, shadow, nested)", v);
	mv_mmu_config_default(&g->mmu_cfg, mode);
	g->mmu = 1;
	if ((v = attr(n, "pages"))) {
		if (!strcmp(v, "2m") || !strcmp(v, "2M") || !strcmp(v, "2MiB"))
			g->mmu_cfg.guest_2m = 1;
		else if (strcmp(v, "4k") && strcmp(v, "4K") && strcmp(v, "4KiB"))
			return fail(s, n, "mmu/pages",
				    "'%s' is not a page size (4k, 2m)", v);
	}
	if ((v = attr(n, "tagged")) &&
	    (rc = bool_attr(s, n, "mmu/tagged", v, &g->mmu_cfg.tagged)))
		return rc;
	/* TLB sizes, walk caches, latencies: mv_mmu_config_set's names */
	for (const char *const *k = mv_mmu_config_keys; *k; k++) {
		struct mv_error e = {0};
		if ((v = attr(n, *k)) && mv_mmu_config_set(&g->mmu_cfg, *k, v, &e)) {
			char field[64];
			snprintf(field, sizeof field, "mmu/%s", *k);
			return fail(s, n, field, "%s", e.msg);
		}
	}
	return 0;
}

/*
 * <mv:memvisor xmlns:mv="urn:memvisor:domain:1"> in the domain's metadata:
 * shares, guest and workloads. Matched by namespace URI, any prefix.
 */
static int parse_memvisor(const struct src *s, const xmlNode *mvn,
			  struct mv_vm_spec *spec, int *image_given,
			  int *size_given)
{
	int rc = check_attrs(s, mvn, "memvisor", NULL);
	if (rc)
		return rc;
	const xmlNode *shares = NULL, *guest = NULL, *mmu = NULL;
	for (const xmlNode *c = mvn->children; c; c = c->next) {
		if (!is_elem(c))
			continue;
		if (is_mv(c, "shares")) {
			if (shares)
				return fail_duplicate(s, c, shares,
						      "memvisor/shares");
			shares = c;
			if ((rc = check_leaf(s, c, "memvisor/shares", NULL)))
				return rc;
			char t[64];
			if ((rc = elem_text(s, c, "memvisor/shares", t,
					    sizeof t)))
				return rc;
			uint64_t per_mib = 0, v;
			if (strcmp(t, "low") == 0)
				per_mib = 5;
			else if (strcmp(t, "normal") == 0)
				per_mib = 10;
			else if (strcmp(t, "high") == 0)
				per_mib = 20;
			else if (mv_parse_u64(t, &v) == 0)
				spec->vm.shares = v;
			else
				return fail(s, c, "memvisor/shares",
					    "'%s' is not low, normal, high or "
					    "a number",
					    t);
			if (per_mib)
				spec->vm.shares =
					per_mib * spec->vm.mem_bytes / MV_MIB;
		} else if (is_mv(c, "guest")) {
			if (guest)
				return fail_duplicate(s, c, guest, "guest");
			guest = c;
			if ((rc = parse_guest(s, c, spec->vm.mem_bytes,
					      &spec->guest, image_given,
					      size_given)))
				return rc;
		} else if (is_mv(c, "workload")) {
			if ((rc = add_workload(s, c, &spec->guest)))
				return rc;
		} else if (is_mv(c, "mmu")) {
			if (mmu)
				return fail_duplicate(s, c, mmu, "mmu");
			mmu = c;
			if ((rc = parse_mmu(s, c, &spec->guest)))
				return rc;
		} else {
			return fail_unknown(s, c, "memvisor");
		}
	}
	return 0;
}

/*
 * Guest defaults that depend on the VM, for every VM source: the OS image
 * is named after the flavour, and an image size not given is at most a
 * quarter of the VM's memory.
 */
static void finish_guest(struct mv_vm_spec *spec, int image_given,
			 int size_given)
{
	struct mv_guest_config *g = &spec->guest;
	/* <memoryBacking><hugepages/>: the host backs the VM with 2 MiB pages */
	g->mmu_cfg.host_2m = spec->vm.hugepages;
	if (!image_given)
		snprintf(g->os_image, sizeof g->os_image, "%s-generic",
			 mv_guest_flavour_name(g->flavour));
	if (!size_given) {
		uint64_t quarter = spec->vm.mem_bytes / 4 / MV_PAGE_SIZE *
				   MV_PAGE_SIZE;
		if (g->os_bytes > quarter)
			g->os_bytes = quarter;
	}
}

/* The libvirt elements we read; everything else in a domain is ignored. */
enum {
	D_NAME,
	D_MEMORY,
	D_CURRENT,
	D_MEMTUNE,
	D_BACKING,
	D_NUMATUNE,
	D_METADATA,
	D_DEVICES,
	D_COUNT
};
static const char *const domain_elems[D_COUNT] = {
	"name",	    "memory",	"currentMemory", "memtune",
	"memoryBacking", "numatune", "metadata",	 "devices"};

/*
 * Read a libvirt <domain> (and its memvisor metadata) into spec->vm and
 * spec->guest, then validate the VM. dl receives where things were.
 */
static int parse_domain(const struct loader *L, const struct src *s,
			const xmlNode *dom, struct mv_vm_spec *spec,
			struct domain_lines *dl)
{
	memset(dl, 0, sizeof *dl);
	snprintf(dl->file, sizeof dl->file, "%s", s->file);
	if (!is_plain(dom, "domain")) {
		char label[128];
		return fail(s, dom, "domain",
			    "root element is %s, expected <domain>",
			    elem_label(dom, label, sizeof label));
	}
	const xmlNode *el[D_COUNT] = {0};
	for (const xmlNode *c = dom->children; c; c = c->next) {
		/* libvirt would ignore it too; it is surely misplaced */
		if (is_plain(c, "workload"))
			return fail(s, c, "workload",
				    "belongs in <vm> or in the domain's "
				    "<metadata><mv:memvisor>, not directly in "
				    "<domain>");
		for (int i = 0; i < D_COUNT; i++)
			if (is_plain(c, domain_elems[i])) {
				if (el[i])
					return fail_duplicate(s, c, el[i],
							      domain_elems[i]);
				el[i] = c;
			}
	}

	int rc;
	char name[256];
	if (!el[D_NAME])
		return fail(s, dom, "name", "is required");
	if ((rc = elem_text(s, el[D_NAME], "name", name, sizeof name)))
		return rc;
	dl->name = line_of(el[D_NAME]);
	if (!name[0])
		return fail(s, el[D_NAME], "name", "must not be empty");
	if (strlen(name) >= sizeof spec->vm.name)
		return fail(s, el[D_NAME], "name",
			    "'%s' is longer than %zu characters", name,
			    sizeof spec->vm.name - 1);

	uint64_t mem;
	if (!el[D_MEMORY])
		return fail(s, dom, "memory", "is required");
	if ((rc = size_elem(s, el[D_MEMORY], "memory", &mem)))
		return rc;
	dl->memory = line_of(el[D_MEMORY]);

	struct mv_vm_config *vm = &spec->vm;
	mv_vm_config_default(vm, name, mem);
	mv_guest_config_default(&spec->guest);
	snprintf(vm->source, sizeof vm->source, "%s", s->file);
	vm->source_line = line_of(dom);

	if (el[D_CURRENT]) {
		dl->current = line_of(el[D_CURRENT]);
		if ((rc = size_elem(s, el[D_CURRENT], "currentMemory",
				    &vm->current_bytes)))
			return rc;
	}
	if (el[D_MEMTUNE] && (rc = parse_memtune(s, el[D_MEMTUNE], vm, dl)))
		return rc;
	if (el[D_BACKING])
		for (const xmlNode *c = el[D_BACKING]->children; c;
		     c = c->next) {
			if (is_plain(c, "hugepages"))
				vm->hugepages = 1;
			else if (is_plain(c, "nosharepages"))
				vm->sharing = 0;
		}
	if (el[D_DEVICES]) {
		const xmlNode *mb = NULL;
		for (const xmlNode *c = el[D_DEVICES]->children; c;
		     c = c->next) {
			if (!is_plain(c, "memballoon"))
				continue;
			if (mb)
				return fail_duplicate(s, c, mb, "memballoon");
			mb = c;
			if ((rc = parse_memballoon(s, c, vm, dl)))
				return rc;
		}
	}
	if (el[D_NUMATUNE] &&
	    (rc = parse_numatune(s, el[D_NUMATUNE], L->sc->host.nodes, vm,
				 dl)))
		return rc;

	int image_given = 0, size_given = 0;
	if (el[D_METADATA]) {
		const xmlNode *mvn = NULL;
		for (const xmlNode *c = el[D_METADATA]->children; c;
		     c = c->next) {
			if (!is_mv(c, "memvisor"))
				continue; /* other applications' metadata */
			if (mvn)
				return fail_duplicate(s, c, mvn, "memvisor");
			mvn = c;
			if ((rc = parse_memvisor(s, c, spec, &image_given,
						 &size_given)))
				return rc;
		}
	}
	finish_guest(spec, image_given, size_given);

	rc = mv_vm_config_check(vm, s->err);
	if (rc) {
		/* place the error on the element it is about */
		const struct {
			const char *field;
			int line;
		} at[] = {
			{"name", dl->name},
			{"memory", dl->memory},
			{"currentMemory", dl->current},
			{"memtune/hard_limit", dl->hard_limit},
			{"memtune/min_guarantee", dl->min_guarantee},
			{"memtune/soft_limit", dl->soft_limit},
			{"memtune/swap_hard_limit", dl->swap_hard_limit},
			{"memballoon/model", dl->memballoon},
			{"memballoon/stats", dl->stats},
			{"numatune/memory", dl->numatune},
		};
		for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
			if (at[i].line > 0 &&
			    strcmp(s->err->field, at[i].field) == 0)
				s->err->line = at[i].line;
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- *
 * The scenario: <scenario>, <host>, <vm>.
 * ---------------------------------------------------------------- */

static int parse_host_memory(const struct src *s, const xmlNode *n,
			     struct mv_host_config *h)
{
	static const char *const allowed[] = {"unit", NULL};
	int rc = check_leaf(s, n, "host/memory", allowed);
	if (rc || (rc = size_elem(s, n, "host/memory", &h->mem_bytes)))
		return rc;
	if (h->mem_bytes < MIN_HOST_BYTES)
		return fail(s, n, "host/memory", "must be at least 16 MiB");
	if (h->mem_bytes % MV_PAGE_SIZE)
		return fail(s, n, "host/memory",
			    "must be a multiple of 4 KiB");
	if (h->mem_bytes > MAX_HOST_BYTES)
		return fail(s, n, "host/memory", "must be at most 1 TiB");
	return 0;
}

static int parse_thresholds(const struct src *s, const xmlNode *n,
			    struct mv_thresholds *t)
{
	static const char *const names[] = {"high", "soft", "hard", "low",
					    NULL};
	int rc = check_leaf(s, n, "thresholds", names);
	if (rc)
		return rc;
	double *val[4] = {&t->high, &t->soft, &t->hard, &t->low};
	int given[4] = {0};
	for (int i = 0; i < 4; i++) {
		const char *v = attr(n, names[i]);
		if (!v)
			continue;
		char field[32];
		snprintf(field, sizeof field, "thresholds/%s", names[i]);
		if ((rc = fraction_attr(s, n, field, v, val[i])))
			return rc;
		given[i] = 1;
	}
	if (!(t->low > 0))
		return fail(s, n, "thresholds/low", "must be greater than 0");
	/* high > soft > hard > low: blame the one the user wrote */
	for (int i = 0; i < 3; i++) {
		if (*val[i] > *val[i + 1])
			continue;
		char field[32];
		if (given[i + 1] || !given[i]) {
			snprintf(field, sizeof field, "thresholds/%s",
				 names[i + 1]);
			return fail(s, n, field, "must be below %s (%g%%)",
				    names[i], *val[i] * 100);
		}
		snprintf(field, sizeof field, "thresholds/%s", names[i]);
		return fail(s, n, field, "must be above %s (%g%%)",
			    names[i + 1], *val[i + 1] * 100);
	}
	return 0;
}

static int parse_latency(const struct src *s, const xmlNode *n,
			 struct mv_latency *lat)
{
	static const char *const names[] = {
		"zero-fill",   "cow",	      "decompress",  "swap-in-ssd",
		"swap-in-hdd", "guest-major", "remote-numa", NULL};
	uint64_t *val[] = {&lat->zero_fill,  &lat->cow,
			   &lat->decompress, &lat->swapin_ssd,
			   &lat->swapin_hdd, &lat->guest_major,
			   &lat->remote_numa};
	int rc = check_leaf(s, n, "latency", names);
	if (rc)
		return rc;
	for (int i = 0; names[i]; i++) {
		const char *v = attr(n, names[i]);
		char field[32];
		snprintf(field, sizeof field, "latency/%s", names[i]);
		if (v && (rc = duration_attr(s, n, field, v, val[i])))
			return rc;
	}
	return 0;
}

/* <sharing enabled pages-to-scan sleep zero-pages hints page-cost> */
static int parse_sharing(const struct src *s, const xmlNode *n,
			 struct mv_share_config *c)
{
	static const char *const names[] = {"enabled", "pages-to-scan", "sleep",
					    "zero-pages", "hints", "page-cost",
					    NULL};
	int rc = check_leaf(s, n, "sharing", names);
	const char *v;
	if (rc)
		return rc;
	if ((v = attr(n, "enabled")) &&
	    (rc = bool_attr(s, n, "sharing/enabled", v, &c->enabled)))
		return rc;
	if ((v = attr(n, "pages-to-scan"))) {
		uint64_t x;
		if (mv_parse_u64(v, &x) || x == 0 || x > 1000000)
			return fail(s, n, "sharing/pages-to-scan",
				    "'%s' is not a page count from 1 to 1000000", v);
		c->pages_to_scan = (uint32_t)x;
	}
	if ((v = attr(n, "sleep"))) {
		if ((rc = duration_attr(s, n, "sharing/sleep", v, &c->sleep_ns)))
			return rc;
		if (c->sleep_ns < MV_NS_PER_MS)
			return fail(s, n, "sharing/sleep", "must be at least 1ms");
	}
	if ((v = attr(n, "zero-pages")) &&
	    (rc = bool_attr(s, n, "sharing/zero-pages", v, &c->use_zero_pages)))
		return rc;
	if ((v = attr(n, "hints")) &&
	    (rc = bool_attr(s, n, "sharing/hints", v, &c->hints)))
		return rc;
	if ((v = attr(n, "page-cost")) &&
	    (rc = duration_attr(s, n, "sharing/page-cost", v, &c->page_cost_ns)))
		return rc;
	return 0;
}

/* <compression enabled cache> */
static int parse_compression(const struct src *s, const xmlNode *n,
			     struct mv_reclaim_config *r)
{
	static const char *const names[] = {"enabled", "cache", NULL};
	int rc = check_leaf(s, n, "compression", names);
	const char *v;
	if (rc)
		return rc;
	if ((v = attr(n, "enabled")) &&
	    (rc = bool_attr(s, n, "compression/enabled", v, &r->compression)))
		return rc;
	if ((v = attr(n, "cache")) &&
	    (rc = fraction_attr(s, n, "compression/cache", v,
				&r->zcache_fraction)))
		return rc;
	return 0;
}

/* <memstate model>: which free-memory state model (docs/policy.md) */
static int parse_memstate(const struct src *s, const xmlNode *n,
			  struct mv_reclaim_config *r)
{
	static const char *const names[] = {"model", NULL};
	int rc = check_leaf(s, n, "memstate", names);
	const char *v;
	if (rc)
		return rc;
	if (!(v = attr(n, "model")))
		return fail(s, n, "memstate/model", "is required");
	if (mv_memstate_model_parse(v, &r->memstate_model) != 0)
		return fail(s, n, "memstate/model",
			    "unknown model '%s' (esx41, vsphere5, vsphere6)", v);
	return 0;
}

/* <idle-tax rate>: ESX's Mem.IdleTax, 0% to 99% */
static int parse_idle_tax(const struct src *s, const xmlNode *n,
			  struct mv_reclaim_config *r)
{
	static const char *const names[] = {"rate", NULL};
	int rc = check_leaf(s, n, "idle-tax", names);
	const char *v;
	if (rc)
		return rc;
	if (!(v = attr(n, "rate")))
		return fail(s, n, "idle-tax/rate", "is required");
	if ((rc = fraction_attr(s, n, "idle-tax/rate", v, &r->idle_tax)))
		return rc;
	if (r->idle_tax > MV_IDLE_TAX_MAX + 1e-12)
		return fail(s, n, "idle-tax/rate",
			    "'%s' is above 99%% (a 100%% tax would make idle "
			    "memory infinitely expensive)",
			    v);
	return 0;
}

/*
 * <sampling pages period>: the active-memory estimator (src/vm/sample.c),
 * ESX's sample size and period (Waldspurger 2002: 100 pages per 30 s).
 */
static int parse_sampling(const struct src *s, const xmlNode *n,
			  struct mv_active_config *a, uint64_t step_ns)
{
	static const char *const names[] = {"pages", "period", NULL};
	int rc = check_leaf(s, n, "sampling", names);
	const char *v;
	if (rc)
		return rc;
	if ((v = attr(n, "pages"))) {
		uint64_t x;
		if (mv_parse_u64(v, &x) || x == 0 || x > 1000000)
			return fail(s, n, "sampling/pages",
				    "'%s' is not a page count from 1 to 1000000",
				    v);
		a->pages = (uint32_t)x;
	}
	if ((v = attr(n, "period"))) {
		if ((rc = duration_attr(s, n, "sampling/period", v,
					&a->period_ns)))
			return rc;
		/* periods end on step boundaries: a shorter one would be
		 * silently stretched to a step */
		if (a->period_ns < step_ns) {
			char d[32];
			return fail(s, n, "sampling/period",
				    "must be at least one step (%s)",
				    fmt_duration(step_ns, d, sizeof d));
		}
	}
	return 0;
}

/* <reclaim enabled period> */
static int parse_reclaim(const struct src *s, const xmlNode *n,
			 struct mv_reclaim_config *r)
{
	static const char *const names[] = {"enabled", "period", NULL};
	int rc = check_leaf(s, n, "reclaim", names);
	const char *v;
	if (rc)
		return rc;
	if ((v = attr(n, "enabled")) &&
	    (rc = bool_attr(s, n, "reclaim/enabled", v, &r->enabled)))
		return rc;
	if ((v = attr(n, "period"))) {
		if ((rc = duration_attr(s, n, "reclaim/period", v, &r->balance_ns)))
			return rc;
		if (r->balance_ns == 0)
			return fail(s, n, "reclaim/period", "must be positive");
	}
	return 0;
}

static int parse_host(const struct src *s, const xmlNode *hn,
		      struct mv_host_config *h, struct mv_reclaim_config *r,
		      struct mv_active_config *sampling, uint64_t step_ns)
{
	static const char *const host_attrs[] = {"name", NULL};
	static const char *const numa_attrs[] = {"nodes", NULL};
	static const char *const swap_attrs[] = {"device", "dir", "keep", NULL};
	static const char *const balloon_attrs[] = {"max", NULL};
	static const char *const kids[] = {"memory",  "numa",	     "thresholds",
					   "latency", "swap",	     "sharing",
					   "compression", "balloon", "reclaim",
					   "memstate", "idle-tax", "sampling"};
	enum { NKIDS = sizeof kids / sizeof kids[0] };
	int rc = check_attrs(s, hn, "host", host_attrs);
	if (rc)
		return rc;
	const char *v = attr(hn, "name");
	if (v && (rc = set_name(s, hn, "host/name", v, h->name,
				sizeof h->name)))
		return rc;
	const xmlNode *seen[NKIDS] = {0};
	for (const xmlNode *c = hn->children; c; c = c->next) {
		if (!is_elem(c))
			continue;
		int k = -1;
		for (int i = 0; i < NKIDS; i++)
			if (is_plain(c, kids[i]))
				k = i;
		if (k < 0)
			return fail_unknown(s, c, "host");
		if (seen[k]) {
			char field[32];
			snprintf(field, sizeof field, "host/%s", kids[k]);
			return fail_duplicate(s, c, seen[k], field);
		}
		seen[k] = c;
		switch (k) {
		case 0:
			rc = parse_host_memory(s, c, h);
			break;
		case 1: {
			uint64_t nodes;
			if ((rc = check_leaf(s, c, "numa", numa_attrs)))
				break;
			if (!(v = attr(c, "nodes")))
				rc = fail(s, c, "numa/nodes", "is required");
			else if (mv_parse_u64(v, &nodes) != 0 || nodes < 1 ||
				 nodes > MV_MAX_NODES)
				rc = fail(s, c, "numa/nodes",
					  "'%s' is not a number of nodes "
					  "between 1 and %d",
					  v, MV_MAX_NODES);
			else
				h->nodes = (int)nodes;
			break;
		}
		case 2:
			rc = parse_thresholds(s, c, &h->thresholds);
			break;
		case 3:
			rc = parse_latency(s, c, &h->lat);
			break;
		case 4:
			if ((rc = check_leaf(s, c, "swap", swap_attrs)))
				break;
			if (!(v = attr(c, "device")))
				;
			else if (strcmp(v, "ssd") == 0)
				h->swap_device = MV_SWAP_SSD;
			else if (strcmp(v, "hdd") == 0)
				h->swap_device = MV_SWAP_HDD;
			else
				rc = fail(s, c, "swap/device",
					  "unknown device '%s' (ssd, hdd)", v);
			if (!rc && (v = attr(c, "dir")))
				rc = set_name(s, c, "swap/dir", v, r->swap_dir,
					      sizeof r->swap_dir);
			if (!rc && (v = attr(c, "keep")))
				rc = bool_attr(s, c, "swap/keep", v, &r->keep_swap);
			break;
		case 5:
			rc = parse_sharing(s, c, &r->share);
			break;
		case 6:
			rc = parse_compression(s, c, r);
			break;
		case 7:
			if ((rc = check_leaf(s, c, "balloon", balloon_attrs)))
				break;
			if ((v = attr(c, "max")))
				rc = fraction_attr(s, c, "balloon/max", v,
						   &r->balloon_max);
			break;
		case 8:
			rc = parse_reclaim(s, c, r);
			break;
		case 9:
			rc = parse_memstate(s, c, r);
			break;
		case 10:
			rc = parse_idle_tax(s, c, r);
			break;
		case 11:
			rc = parse_sampling(s, c, sampling, step_ns);
			break;
		}
		if (rc)
			return rc;
	}
	if (!seen[0])
		return fail(s, hn, "host/memory", "is required");
	/* the later models derive every threshold from minFree */
	if (seen[2] && r->memstate_model != MV_MEMSTATE_ESX41)
		return fail(s, seen[2], "host/thresholds",
			    "only with <memstate model=\"esx41\"/>: %s "
			    "derives its thresholds from the host's memory",
			    mv_memstate_model_name(r->memstate_model));
	return 0;
}

/* Room for n more VMs in sc->vms. */
static int reserve_vms(struct loader *L, int n)
{
	if (L->sc->nvms + n <= L->cap)
		return 0;
	int cap = L->cap ? L->cap : 4;
	while (cap < L->sc->nvms + n)
		cap *= 2;
	struct mv_vm_spec *v = realloc(L->sc->vms, (size_t)cap * sizeof *v);
	if (!v)
		return mv_error_set(L->err, MV_ENOMEM, NULL, 0, NULL,
				    "out of memory");
	L->sc->vms = v;
	L->cap = cap;
	return 0;
}

/*
 * One <vm>: its domain (inline or file=), the scenario's workloads for it,
 * then `count` copies named NAME-1..NAME-N when count > 1.
 */
static void default_name(const char *file, char *out, size_t n);

static int parse_vm(struct loader *L, const struct src *s, const xmlNode *vn)
{
	static const char *const vm_attrs[] = {"count", "file", NULL};
	struct mv_scenario *sc = L->sc;
	int rc = check_attrs(s, vn, "vm", vm_attrs);
	if (rc)
		return rc;
	uint64_t count = 1;
	const char *v = attr(vn, "count");
	if (v && (mv_parse_u64(v, &count) != 0 || count < 1 ||
		  count > MAX_VM_COUNT))
		return fail(s, vn, "vm/count",
			    "'%s' is not a number between 1 and %d", v,
			    MAX_VM_COUNT);
	const xmlNode *dom = NULL;
	for (const xmlNode *c = vn->children; c; c = c->next) {
		if (!is_elem(c) || is_plain(c, "workload"))
			continue;
		if (!is_plain(c, "domain"))
			return fail_unknown(s, c, "vm");
		if (dom)
			return fail_duplicate(s, c, dom, "vm/domain");
		dom = c;
	}
	const char *file = attr(vn, "file");
	if (file && dom)
		return fail(s, vn, "vm",
			    "give either file=\"...\" or an inline <domain>, "
			    "not both");
	if (!file && !dom)
		return fail(s, vn, "vm",
			    "needs an inline <domain> or file=\"...\"");
	if (sc->nvms + (int)count > MAX_VMS)
		return fail(s, vn, "vm/count",
			    "the scenario would have %d VMs; at most %d",
			    sc->nvms + (int)count, MAX_VMS);

	struct mv_vm_spec *spec = calloc(1, sizeof *spec);
	struct domain_lines *dl = calloc(1, sizeof *dl);
	if (!spec || !dl) {
		free(spec);
		free(dl);
		return mv_error_set(s->err, MV_ENOMEM, NULL, 0, NULL,
				    "out of memory");
	}
	if (file) {
		char path[4096];
		char *buf = NULL;
		size_t len = 0;
		xmlDoc *doc = NULL;
		if (!*file)
			rc = fail(s, vn, "vm/file", "must not be empty");
		else if (join_path(L->base_dir, file, path, sizeof path) != 0)
			rc = fail(s, vn, "vm/file", "path is too long");
		else if (mv_read_file(path, &buf, &len) != 0) {
			int e = errno;
			rc = mv_error_set(s->err,
					  e == ENOENT || e == ENOTDIR
						  ? MV_ENOENT
						  : MV_EIO,
					  s->file, line_of(vn), "vm/file",
					  "cannot open '%s': %s", path,
					  strerror(e));
		} else if (mv_vmx_is_path(path)) {
			/* a VMware VM: src/sim/vmx.c */
			char dn[64];
			default_name(path, dn, sizeof dn);
			rc = mv_vmx_parse(buf, len, path, dn,
					  L->sc->host.nodes, spec, s->err);
			if (!rc) {
				finish_guest(spec, 0, 0);
				snprintf(dl->file, sizeof dl->file, "%s",
					 spec->vm.source);
				dl->name = spec->vm.source_line;
			}
		} else if ((rc = parse_xml(buf, len, path, &doc, s->err)) ==
			   0) {
			struct src ds = {path, s->err};
			rc = parse_domain(L, &ds, xmlDocGetRootElement(doc),
					  spec, dl);
		}
		free(buf);
		xmlFreeDoc(doc);
	} else {
		rc = parse_domain(L, s, dom, spec, dl);
	}
	for (const xmlNode *c = vn->children; !rc && c; c = c->next)
		if (is_plain(c, "workload"))
			rc = add_workload(s, c, &spec->guest);
	if (!rc)
		rc = finish_workloads(sc, L->base_dir, spec, s->err);
	if (!rc)
		rc = reserve_vms(L, (int)count);

	for (int i = 0; !rc && i < (int)count; i++) {
		struct mv_vm_spec *out = &sc->vms[sc->nvms];
		*out = *spec;
		if (count > 1) {
			char nm[128];
			snprintf(nm, sizeof nm, "%s-%d", spec->vm.name, i + 1);
			if (strlen(nm) >= sizeof out->vm.name) {
				rc = mv_error_set(
					s->err, MV_EINVAL, dl->file, dl->name,
					"name",
					"'%s' is longer than %zu characters",
					nm, sizeof out->vm.name - 1);
				break;
			}
			memcpy(out->vm.name, nm, strlen(nm) + 1);
		}
		for (int j = 0; j < sc->nvms; j++)
			if (strcmp(sc->vms[j].vm.name, out->vm.name) == 0) {
				rc = mv_error_set(
					s->err, MV_EINVAL, dl->file, dl->name,
					"name",
					"duplicate VM name '%s' (first in "
					"%s:%d)",
					out->vm.name, sc->vms[j].vm.source,
					sc->vms[j].vm.source_line);
				break;
			}
		if (!rc)
			sc->nvms++;
	}
	free(spec);
	free(dl);
	return rc;
}

static int parse_scenario_attrs(const struct src *s, const xmlNode *root,
				struct mv_scenario *sc)
{
	static const char *const allowed[] = {
		"name", "seed", "duration", "step", "stats-interval",
		"active-window", NULL};
	int rc = check_attrs(s, root, "scenario", allowed);
	if (rc)
		return rc;
	const char *v;
	if ((v = attr(root, "name")) &&
	    (rc = set_name(s, root, "scenario/name", v, sc->name,
			   sizeof sc->name)))
		return rc;
	if ((v = attr(root, "seed")) && mv_parse_u64(v, &sc->seed) != 0)
		return fail(s, root, "scenario/seed",
			    "'%s' is not a whole number", v);
	if ((v = attr(root, "duration")) &&
	    (rc = duration_attr(s, root, "scenario/duration", v,
				&sc->duration_ns)))
		return rc;
	if ((v = attr(root, "step")) &&
	    (rc = duration_attr(s, root, "scenario/step", v, &sc->step_ns)))
		return rc;
	if ((v = attr(root, "stats-interval")) &&
	    (rc = duration_attr(s, root, "scenario/stats-interval", v,
				&sc->stats_interval_ns)))
		return rc;
	if ((v = attr(root, "active-window")) &&
	    (rc = duration_attr(s, root, "scenario/active-window", v,
				&sc->active_window_ns)))
		return rc;

	char a[32];
	if (sc->duration_ns == 0)
		return fail(s, root, "scenario/duration",
			    "must be greater than 0");
	if (sc->step_ns == 0)
		return fail(s, root, "scenario/step", "must be greater than 0");
	if (sc->stats_interval_ns < sc->step_ns)
		return fail(s, root, "scenario/stats-interval",
			    "must be at least one step (%s)",
			    fmt_duration(sc->step_ns, a, sizeof a));
	if (sc->active_window_ns < sc->step_ns)
		return fail(s, root, "scenario/active-window",
			    "must be at least one step (%s)",
			    fmt_duration(sc->step_ns, a, sizeof a));
	if (sc->duration_ns / sc->step_ns > MAX_STEPS)
		return fail(s, root, "scenario/step",
			    "the run would take %llu steps; at most %llu "
			    "(make the step longer or the duration shorter)",
			    (unsigned long long)(sc->duration_ns / sc->step_ns),
			    MAX_STEPS);
	return 0;
}

static int parse_scenario(struct loader *L, const struct src *s,
			  const xmlNode *root)
{
	struct mv_scenario *sc = L->sc;
	if (!is_plain(root, "scenario")) {
		char label[128];
		return fail(s, root, "scenario",
			    "root element is %s, expected <scenario>",
			    elem_label(root, label, sizeof label));
	}
	int rc = parse_scenario_attrs(s, root, sc);
	if (rc)
		return rc;
	const xmlNode *host = NULL;
	int nvm = 0;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!is_elem(c))
			continue;
		if (is_plain(c, "vm")) {
			nvm++;
		} else if (is_plain(c, "host")) {
			if (host)
				return fail_duplicate(s, c, host, "host");
			host = c;
		} else {
			return fail_unknown(s, c, "scenario");
		}
	}
	if (!host)
		return fail(s, root, "host", "is required");
	/* the host first: VMs are checked against it (NUMA nodes) */
	if ((rc = parse_host(s, host, &sc->host, &sc->reclaim, &sc->sampling,
			     sc->step_ns)))
		return rc;
	if (nvm == 0)
		return fail(s, root, "vm", "at least one <vm> is required");
	for (const xmlNode *c = root->children; c; c = c->next)
		if (is_plain(c, "vm") && (rc = parse_vm(L, s, c)))
			return rc;
	return 0;
}

/* The name of `file` without directory and extension. */
static void default_name(const char *file, char *out, size_t n)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t len = strlen(b);
	const char *dot = strrchr(b, '.');
	if (dot && dot != b)
		len = (size_t)(dot - b);
	if (len == 0) {
		snprintf(out, n, "scenario");
		return;
	}
	if (len >= n)
		len = n - 1;
	memcpy(out, b, len);
	out[len] = '\0';
}

static int load_buffer(const char *buf, size_t len, const char *name,
		       const char *base_dir, struct mv_scenario **out,
		       struct mv_error *err)
{
	struct mv_scenario *sc = calloc(1, sizeof *sc);
	if (!sc)
		return mv_error_set(err, MV_ENOMEM, name, 0, NULL,
				    "out of memory");
	mv_scenario_default(sc);
	snprintf(sc->source, sizeof sc->source, "%s", name);
	default_name(name, sc->name, sizeof sc->name);

	xmlDoc *doc = NULL;
	int rc = parse_xml(buf, len, name, &doc, err);
	if (rc == 0) {
		struct loader L = {sc, base_dir, err, 0};
		struct src s = {name, err};
		rc = parse_scenario(&L, &s, xmlDocGetRootElement(doc));
		xmlFreeDoc(doc);
	}
	if (rc) {
		mv_scenario_free(sc);
		return rc;
	}
	*out = sc;
	return 0;
}

/* ---------------------------------------------------------------- *
 * Public functions.
 * ---------------------------------------------------------------- */

/* Reclamation defaults: ESX's (compression cache 10%, balloon at most
 * 65%) and KSM's (100 pages every 20 ms); policy period 1 s. */
void mv_reclaim_config_default(struct mv_reclaim_config *r)
{
	memset(r, 0, sizeof *r);
	r->enabled = 1;
	r->balance_ns = MV_NS_PER_S;
	mv_share_config_default(&r->share);
	r->compression = 1;
	r->zcache_fraction = 0.10;
	r->balloon_max = 0.65;
	r->swap_dir[0] = '\0';
	r->keep_swap = 0;
	r->memstate_model = MV_MEMSTATE_ESX41;
	r->idle_tax = 0.75; /* ESX's Mem.IdleTax default */
}

/*
 * Defaults for everything but host memory and VMs: seed 1, 60 s at 10 ms
 * steps, statistics every 10 s, a 60 s true-active window, the default
 * host (mv_host_config_default).
 */
void mv_scenario_default(struct mv_scenario *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "scenario");
	s->seed = 1;
	s->duration_ns = 60 * MV_NS_PER_S;
	s->step_ns = 10 * MV_NS_PER_MS;
	s->stats_interval_ns = 10 * MV_NS_PER_S;
	s->active_window_ns = 60 * MV_NS_PER_S;
	mv_active_config_default(&s->sampling);
	mv_host_config_default(&s->host);
	mv_reclaim_config_default(&s->reclaim);
	s->nvms = 0;
	s->vms = NULL;
}

/*
 * Load the scenario in `path`; domains given by file are found relative to
 * path's directory. *out is set only on success (free with
 * mv_scenario_free). A file that cannot be opened: MV_ENOENT (or MV_EIO)
 * with err->file = path and line 0.
 */
int mv_scenario_load(const char *path, struct mv_scenario **out,
		     struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	*out = NULL;
	char *buf;
	size_t len;
	if (mv_read_file(path, &buf, &len) != 0) {
		int e = errno;
		return mv_error_set(err,
				    e == ENOENT || e == ENOTDIR ? MV_ENOENT
								: MV_EIO,
				    path, 0, NULL, "cannot open: %s",
				    strerror(e));
	}
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (slash && dlen == 0)
		dlen = 1; /* "/scenario.xml" */
	if (dlen >= sizeof dir) {
		free(buf);
		return mv_error_set(err, MV_EINVAL, path, 0, NULL,
				    "path is too long");
	}
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	int rc = load_buffer(buf, len, path, dir, out, err);
	free(buf);
	return rc;
}

/*
 * Load a scenario from the string xml; `name` stands for the file in
 * errors and base_dir (NULL or "" for the current directory) anchors
 * domain files.
 */
int mv_scenario_load_string(const char *xml, const char *name,
			    const char *base_dir, struct mv_scenario **out,
			    struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	*out = NULL;
	if (!name || !*name)
		name = "<string>";
	if (!xml)
		return mv_error_set(err, MV_EINVAL, name, 0, NULL,
				    "no scenario text");
	return load_buffer(xml, strlen(xml), name, base_dir ? base_dir : "",
			   out, err);
}

/*
 * One libvirt domain document on its own (readers.h), checked as the
 * scenario loader checks a domain file, its workloads against a scenario
 * of the default duration.
 */
int mv_domain_parse(const char *xml, size_t len, const char *file,
		    int host_nodes, struct mv_vm_spec *spec,
		    struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	if (!file || !*file)
		file = "<domain>";
	struct mv_scenario sc;
	mv_scenario_default(&sc);
	sc.host.nodes = host_nodes;
	struct loader L = {&sc, "", err, 0};
	struct src ds = {file, err};
	struct domain_lines dl;
	xmlDoc *doc = NULL;
	int rc = parse_xml(xml, len, file, &doc, err);
	if (!rc)
		rc = parse_domain(&L, &ds, xmlDocGetRootElement(doc), spec, &dl);
	if (!rc)
		rc = finish_workloads(&sc, NULL, spec, err);
	xmlFreeDoc(doc);
	return rc;
}

void mv_scenario_free(struct mv_scenario *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->ntraces; i++)
		mv_access_trace_free(s->traces[i]);
	free(s->traces);
	free(s->vms);
	free(s);
}

/*
 * xmlattr.c - safe XML documents and typed attributes for the scenario
 * and domain readers (xmlattr.h).
 *
 * Documents are read with XML_PARSE_NONET, entities are not expanded, and
 * documents that declare or reference entities are refused: a scenario is
 * data, not a program. XML syntax errors come from libxml2's structured
 * error of the parser context, so nothing is ever printed.
 *
 * The typed readers below turn one attribute value into bytes,
 * nanoseconds, a fraction, a rate or a switch, each with one error
 * message naming an example of what is expected; mv_xml_props drives them
 * from a table (one row per attribute) so that the parsers of memvisor's
 * elements list their attributes instead of repeating the pattern
 * "if present, parse, else fail" once per attribute.
 */
#include <assert.h>
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

#include "sim/readers.h"
#include "sim/xmlattr.h"

#define MAX_FILE_BYTES MV_READER_MAX_BYTES

/* ---------------------------------------------------------------- *
 * Small helpers: errors, formatting, element and attribute access.
 * ---------------------------------------------------------------- */

int mv_xml_line(const xmlNode *n)
{
	long l = n ? xmlGetLineNo((xmlNode *)n) : 0;
	return l > 0 && l < INT_MAX ? (int)l : 0;
}

/* Report bad input at element n (MV_EINVAL); returns MV_EINVAL. */
int mv_xml_fail(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mv_error_vset(s->err, MV_EINVAL, s->file, mv_xml_line(n),
			       field, fmt, ap);
	va_end(ap);
	return rc;
}

/* A duration as the user would write it: the largest exact unit. */
const char *mv_xml_duration_str(uint64_t ns, char *buf, size_t n)
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

int mv_xml_is_elem(const xmlNode *n)
{
	return n && n->type == XML_ELEMENT_NODE;
}

/* An element of no namespace (libvirt's and the scenario's own). */
int mv_xml_is_plain(const xmlNode *n, const char *name)
{
	return mv_xml_is_elem(n) && n->ns == NULL &&
	       strcmp((const char *)n->name, name) == 0;
}

/* "<name>" or "<prefix:name>" for messages. */
const char *mv_xml_label(const xmlNode *n, char *buf, size_t size)
{
	if (n->ns && n->ns->prefix)
		snprintf(buf, size, "<%s:%s>", (const char *)n->ns->prefix,
			 (const char *)n->name);
	else
		snprintf(buf, size, "<%s>", (const char *)n->name);
	return buf;
}

int mv_xml_fail_unknown(const struct mv_xsrc *s, const xmlNode *n,
			const char *field)
{
	char label[128];
	return mv_xml_fail(s, n, field, "unknown element %s",
			   mv_xml_label(n, label, sizeof label));
}

int mv_xml_fail_duplicate(const struct mv_xsrc *s, const xmlNode *n,
			  const xmlNode *first, const char *field)
{
	char label[128];
	return mv_xml_fail(s, n, field, "duplicate %s (first at line %d)",
			   mv_xml_label(n, label, sizeof label),
			   mv_xml_line(first));
}

/*
 * The value of attribute `name` (no namespace) of n, or NULL if absent.
 * Documents with entity references are refused at load (check_entities),
 * so a value is always one text node.
 */
const char *mv_xml_attr(const xmlNode *n, const char *name)
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
int mv_xml_check_attrs(const struct mv_xsrc *s, const xmlNode *n,
		       const char *field, const char *const *allowed)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		int ok = 0;
		for (const char *const *p = allowed; !a->ns && p && *p; p++)
			if (strcmp((const char *)a->name, *p) == 0)
				ok = 1;
		if (!ok) {
			if (a->ns && a->ns->prefix)
				return mv_xml_fail(s, n, field,
						   "unknown attribute '%s:%s'",
						   (const char *)a->ns->prefix,
						   (const char *)a->name);
			return mv_xml_fail(s, n, field,
					   "unknown attribute '%s'",
					   (const char *)a->name);
		}
	}
	return 0;
}

int mv_xml_check_leaf(const struct mv_xsrc *s, const xmlNode *n,
		      const char *field, const char *const *allowed)
{
	int rc = mv_xml_check_attrs(s, n, field, allowed);
	if (rc)
		return rc;
	for (const xmlNode *c = n->children; c; c = c->next)
		if (mv_xml_is_elem(c)) {
			char a[128], b[128];
			return mv_xml_fail(s, c, field,
					   "unexpected element %s in %s",
					   mv_xml_label(c, a, sizeof a),
					   mv_xml_label(n, b, sizeof b));
		}
	return 0;
}

/* The text of element n, without surrounding white space, into buf. */
int mv_xml_text(const struct mv_xsrc *s, const xmlNode *n, const char *field,
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
		rc = mv_xml_fail(s, n, field,
				 "value is too long (at most %zu "
				 "characters)",
				 size - 1);
	else {
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	xmlFree(c);
	return rc;
}

/* Copy a name attribute or text (1..63 characters) into dst[64]. */
int mv_xml_name(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, char *dst, size_t size)
{
	if (!*v)
		return mv_xml_fail(s, n, field, "must not be empty");
	if (strlen(v) >= size)
		return mv_xml_fail(s, n, field,
				   "'%s' is longer than %zu characters", v,
				   size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/*
 * A size in an element's text with libvirt's optional unit='...'
 * attribute; a bare number is in KiB, as in libvirt.
 */
int mv_xml_size_elem(const struct mv_xsrc *s, const xmlNode *n,
		     const char *field, uint64_t *out)
{
	const char *unit = mv_xml_attr(n, "unit");
	if (unit && mv_unit_multiplier(unit, 0) == 0)
		return mv_xml_fail(s, n, field, "unknown unit '%s'", unit);
	char text[128];
	int rc = mv_xml_text(s, n, field, text, sizeof text);
	if (rc)
		return rc;
	if (!text[0])
		return mv_xml_fail(s, n, field, "is empty");
	rc = mv_parse_size(text, unit, MV_KIB, out);
	if (rc)
		return rc == MV_ERANGE
			       ? mv_xml_fail(s, n, field,
					     "'%s'%s%s is too large: sizes "
					     "stop below 16 EiB (2^64 bytes)",
					     text, unit ? " " : "",
					     unit ? unit : " KiB")
			       : mv_xml_fail(s, n, field, "'%s' is not a size",
					     text);
	return 0;
}

/* A size in an attribute: "512MiB", "8 GiB"; a bare number is bytes. */
int mv_xml_size(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, uint64_t *out)
{
	int rc = mv_parse_size(v, NULL, 1, out);
	if (rc)
		return rc == MV_ERANGE
			       ? mv_xml_fail(s, n, field,
					     "'%s' is too large: sizes stop "
					     "below 16 EiB (2^64 bytes)",
					     v)
			       : mv_xml_fail(s, n, field,
					     "'%s' is not a size (e.g. 512MiB, "
					     "2 GiB)",
					     v);
	return 0;
}

static int duration_attr(const struct mv_xsrc *s, const xmlNode *n,
			 const char *field, const char *v, uint64_t *out)
{
	int rc = mv_parse_duration(v, out);
	if (rc)
		return rc == MV_ERANGE
			       ? mv_xml_fail(s, n, field,
					     "'%s' is too long: durations stop "
					     "below 2^64 ns (about 570 years)",
					     v)
			       : mv_xml_fail(s, n, field,
					     "'%s' is not a duration (e.g. "
					     "10ms, 30s, 5m)",
					     v);
	return 0;
}

static int fraction_attr(const struct mv_xsrc *s, const xmlNode *n,
			 const char *field, const char *v, double *out)
{
	if (mv_parse_fraction(v, out) != 0)
		return mv_xml_fail(s, n, field,
				   "'%s' is not a fraction between 0 and 1 "
				   "(e.g. 0.3 or 30%%)",
				   v);
	return 0;
}

static int rate_attr(const struct mv_xsrc *s, const xmlNode *n,
		     const char *field, const char *v, double *out)
{
	if (mv_parse_rate(v, out) != 0)
		return mv_xml_fail(s, n, field,
				   "'%s' is not a rate (e.g. 2000, 50k, 1.5M)",
				   v);
	return 0;
}

/* yes/no (also on/off, true/false, 1/0), as libvirt writes switches. */
int mv_xml_bool(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false") ||
		 !strcmp(v, "0"))
		*out = 0;
	else
		return mv_xml_fail(s, n, field, "'%s' is not yes or no", v);
	return 0;
}

/* A plain positive decimal such as a Zipf exponent ("0.99", "1.2"). */
static int positive_attr(const struct mv_xsrc *s, const xmlNode *n,
			 const char *field, const char *v, double *out)
{
	int ok = *v != '\0';
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			ok = 0;
	if (!ok || mv_parse_rate(v, out) != 0 || !(*out > 0))
		return mv_xml_fail(s, n, field, "'%s' is not a number above 0",
				   v);
	return 0;
}

static int page_aligned(const struct mv_xsrc *s, const xmlNode *n,
			const char *field, uint64_t bytes)
{
	if (bytes % MV_PAGE_SIZE)
		return mv_xml_fail(s, n, field, "must be a multiple of 4 KiB");
	return 0;
}

/* ---------------------------------------------------------------- *
 * Property tables.
 * ---------------------------------------------------------------- */

/* The size of the value each kind writes (0: any, a buffer). */
static size_t kind_size(enum mv_xprop_kind k)
{
	switch (k) {
	case MV_XP_NAME:
		return 0;
	case MV_XP_SIZE:
	case MV_XP_PAGESIZE:
	case MV_XP_DURATION:
	case MV_XP_U64:
		return sizeof(uint64_t);
	case MV_XP_FRACTION:
	case MV_XP_RATE:
	case MV_XP_POSITIVE:
		return sizeof(double);
	case MV_XP_BOOL:
		return sizeof(int);
	case MV_XP_PAGES:
		return sizeof(uint32_t);
	}
	return 0;
}

/* Read one attribute value v of kind p->kind into dst. */
static int read_prop(const struct mv_xsrc *s, const xmlNode *n,
		     const char *field, const struct mv_xprop *p, const char *v,
		     void *dst)
{
	uint64_t x;
	int rc;
	/* a table row whose member has another type is a bug */
	assert(!kind_size(p->kind) || kind_size(p->kind) == p->size);
	switch (p->kind) {
	case MV_XP_NAME:
		return mv_xml_name(s, n, field, v, dst, p->size);
	case MV_XP_SIZE:
		return mv_xml_size(s, n, field, v, dst);
	case MV_XP_PAGESIZE:
		if ((rc = mv_xml_size(s, n, field, v, &x)) ||
		    (rc = page_aligned(s, n, field, x)))
			return rc;
		*(uint64_t *)dst = x;
		return 0;
	case MV_XP_DURATION:
		return duration_attr(s, n, field, v, dst);
	case MV_XP_FRACTION:
		return fraction_attr(s, n, field, v, dst);
	case MV_XP_RATE:
		return rate_attr(s, n, field, v, dst);
	case MV_XP_POSITIVE:
		return positive_attr(s, n, field, v, dst);
	case MV_XP_BOOL:
		return mv_xml_bool(s, n, field, v, dst);
	case MV_XP_U64:
		if (mv_parse_u64(v, dst) != 0)
			return mv_xml_fail(s, n, field,
					   "'%s' is not a whole number", v);
		return 0;
	case MV_XP_PAGES:
		if (mv_parse_u64(v, &x) || x == 0 || x > 1000000)
			return mv_xml_fail(s, n, field,
					   "'%s' is not a page count from 1 to "
					   "1000000",
					   v);
		*(uint32_t *)dst = (uint32_t)x;
		return 0;
	}
	return mv_xml_fail(s, n, field, "unknown property kind");
}

/* Read the attributes of table props into base (xmlattr.h). */
int mv_xml_props(const struct mv_xsrc *s, const xmlNode *n, const char *elem,
		 const struct mv_xprop *props, void *base)
{
	for (const struct mv_xprop *p = props; p->name; p++) {
		const char *v = mv_xml_attr(n, p->name);
		if (!v)
			continue;
		char field[64];
		snprintf(field, sizeof field, "%s/%s", elem, p->name);
		int rc = read_prop(s, n, field, p, v, (char *)base + p->offset);
		if (rc)
			return rc;
	}
	return 0;
}

/* Accept only the attributes of props and extra (xmlattr.h). */
int mv_xml_check_props(const struct mv_xsrc *s, const xmlNode *n,
		       const char *field, const struct mv_xprop *props,
		       const char *const *extra, int leaf)
{
	const char *names[48];
	size_t k = 0;
	for (const struct mv_xprop *p = props; p && p->name; p++)
		if (k + 1 < sizeof names / sizeof names[0])
			names[k++] = p->name;
	for (const char *const *e = extra; e && *e; e++)
		if (k + 1 < sizeof names / sizeof names[0])
			names[k++] = *e;
	names[k] = NULL;
	return leaf ? mv_xml_check_leaf(s, n, field, names)
		    : mv_xml_check_attrs(s, n, field, names);
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
			if (mv_array_room(&b, &cap, n + 1, 1, 16384)) {
				free(b);
				fclose(f);
				errno = ENOMEM;
				return -1;
			}
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

int mv_read_input(const char *path, const char *what, const char *file,
		  int line, const char *field, char **buf, size_t *len,
		  struct mv_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		return mv_error_set(
			err, e == ENOENT || e == ENOTDIR ? MV_ENOENT : MV_EIO,
			file, line, field, "cannot open '%s': %s", path,
			strerror(e));
	}
	if (S_ISDIR(st.st_mode))
		return mv_error_set(err, MV_EINVAL, file, line, field,
				    "'%s' is a directory, not a %s", path,
				    what);
	if (!S_ISREG(st.st_mode))
		return mv_error_set(err, MV_EINVAL, file, line, field,
				    "'%s' is %s, not a regular file: a %s "
				    "must be a file",
				    path, mv_file_kind(st.st_mode), what);
	if ((uint64_t)st.st_size > MAX_FILE_BYTES)
		return mv_error_set(
			err, MV_EINVAL, file, line, field,
			"'%s' is %.1f MiB, larger than the %llu "
			"MiB limit for a %s",
			path, (double)st.st_size / (double)MV_MIB,
			(unsigned long long)(MAX_FILE_BYTES / MV_MIB), what);
	if (mv_read_file(path, buf, len) != 0) {
		int e = errno;
		return mv_error_set(err, e == EFBIG ? MV_EINVAL : MV_EIO, file,
				    line, field, "cannot read '%s': %s", path,
				    e == EFBIG ? "it grew past the limit"
					       : strerror(e));
	}
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
int mv_xml_parse(const char *buf, size_t len, const char *file, xmlDoc **out,
		 struct mv_error *err)
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
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
					XML_PARSE_NONET | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING |
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
				  mv_xml_line(xmlDocGetRootElement(doc)), "xml",
				  "entity declarations are not supported");
	} else {
		const xmlNode *bad = find_entity_ref(doc->children);
		if (bad)
			rc = mv_error_set(
				err, MV_EINVAL, file, mv_xml_line(bad), "xml",
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
int mv_path_join(const char *dir, const char *file, char *buf, size_t n)
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

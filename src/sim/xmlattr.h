/*
 * xmlattr.h - safe XML documents and typed attributes for the readers of
 * src/sim/ (the scenario and the libvirt domain reader).
 *
 * Documents are parsed without network access, entity declarations and
 * references are refused, and libxml2 never prints: its first error
 * becomes a struct mv_error. Errors name the file, the line of the
 * element at fault and a field the user recognises ("workload/size").
 *
 * Attributes of memvisor's own elements are read from declarative
 * property tables (as QEMU's device properties are): one row per
 * attribute names its type and where its value goes, so every attribute
 * of a kind is checked and reported the same way.
 */
#ifndef MEMVISOR_SIM_XMLATTR_H
#define MEMVISOR_SIM_XMLATTR_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "memvisor/core.h"

/* The document being read: its name for errors, and where errors go. */
struct mv_xsrc {
	const char *file;
	struct mv_error *err;
};

/* The line of element n (0 if unknown). */
int mv_xml_line(const xmlNode *n);

/* Report bad input at element n: fills s->err, returns MV_EINVAL. */
int mv_xml_fail(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "unknown element <x>" at n. */
int mv_xml_fail_unknown(const struct mv_xsrc *s, const xmlNode *n,
			const char *field);

/* "duplicate <x> (first at line N)" at n. */
int mv_xml_fail_duplicate(const struct mv_xsrc *s, const xmlNode *n,
			  const xmlNode *first, const char *field);

/* Is n an element? */
int mv_xml_is_elem(const xmlNode *n);

/* Is n the element `name` of no namespace (libvirt's and the scenario's)? */
int mv_xml_is_plain(const xmlNode *n, const char *name);

/* "<name>" or "<prefix:name>" for messages, in buf. */
const char *mv_xml_label(const xmlNode *n, char *buf, size_t size);

/* The value of attribute `name` (no namespace) of n, or NULL if absent. */
const char *mv_xml_attr(const xmlNode *n, const char *name);

/* Only the attributes in `allowed` (NULL terminated) are accepted. */
int mv_xml_check_attrs(const struct mv_xsrc *s, const xmlNode *n,
		       const char *field, const char *const *allowed);

/* As mv_xml_check_attrs, and no child elements either. */
int mv_xml_check_leaf(const struct mv_xsrc *s, const xmlNode *n,
		      const char *field, const char *const *allowed);

/* The text of n without surrounding white space into buf[size]. */
int mv_xml_text(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		char *buf, size_t size);

/* Copy a name (1..size-1 characters) into dst[size]. */
int mv_xml_name(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, char *dst, size_t size);

/*
 * A size in an element's text with libvirt's optional unit='...'; a bare
 * number is in KiB, as in libvirt.
 */
int mv_xml_size_elem(const struct mv_xsrc *s, const xmlNode *n,
		     const char *field, uint64_t *out);

/* A size in an attribute value: "512MiB", "8 GiB"; a bare number is bytes. */
int mv_xml_size(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, uint64_t *out);

/* yes/no (also on/off, true/false, 1/0), as libvirt writes switches. */
int mv_xml_bool(const struct mv_xsrc *s, const xmlNode *n, const char *field,
		const char *v, int *out);

/* A duration as the user would write it ("30s", "10ms") into buf. */
const char *mv_xml_duration_str(uint64_t ns, char *buf, size_t n);

/* The kinds of value a property table reads. */
enum mv_xprop_kind {
	MV_XP_NAME,     /* char[size]: 1..size-1 characters */
	MV_XP_SIZE,     /* uint64_t bytes: "512MiB"; a bare number is bytes */
	MV_XP_PAGESIZE, /* the same, a multiple of 4 KiB */
	MV_XP_DURATION, /* uint64_t ns: "10ms", "30s", "5m" */
	MV_XP_FRACTION, /* double from 0 to 1: "0.3", "30%" */
	MV_XP_RATE,     /* double per second: "2000", "50k", "1.5M" */
	MV_XP_POSITIVE, /* double above 0, a plain decimal: "0.99" */
	MV_XP_BOOL,     /* int 0/1: yes/no, on/off, true/false, 1/0 */
	MV_XP_U64,      /* uint64_t: a whole number */
	MV_XP_PAGES,    /* uint32_t: a page count from 1 to 1000000 */
};

/* One attribute: its name, type and place in the struct being filled. */
struct mv_xprop {
	const char *name;
	enum mv_xprop_kind kind;
	size_t offset; /* of the value in the struct */
	size_t size;   /* of the value (MV_XP_NAME: the buffer) */
};

/* A row of a property table for `member` of `type`. */
#define MV_XPROP(name, kind, type, member)                                     \
	{                                                                      \
		name, kind, offsetof(type, member),                            \
			sizeof(((type *)0)->member)                            \
	}

/*
 * Read every attribute of n that table `props` (ended by a row with a
 * NULL name) names into the struct at base; absent ones keep their
 * value. Fields are "<elem>/<name>". Other attributes are not checked
 * here (mv_xml_check_props).
 */
int mv_xml_props(const struct mv_xsrc *s, const xmlNode *n, const char *elem,
		 const struct mv_xprop *props, void *base);

/*
 * n is a leaf (no child elements, unless leaf is 0) whose attributes are
 * those of `props` and of `extra` (NULL-terminated, may be NULL).
 */
int mv_xml_check_props(const struct mv_xsrc *s, const xmlNode *n,
		       const char *field, const struct mv_xprop *props,
		       const char *const *extra, int leaf);

/*
 * Parse buf (len bytes) as XML named `file`. On a syntax error MV_EINVAL,
 * "file:line: xml: <libxml2's message>"; entity declarations and
 * references are refused. Nothing is printed. Free *out with xmlFreeDoc.
 */
int mv_xml_parse(const char *buf, size_t len, const char *file, xmlDoc **out,
		 struct mv_error *err);

/* dir + "/" + file unless file is absolute or dir empty; -1 if too long. */
int mv_path_join(const char *dir, const char *file, char *buf, size_t n);

#endif

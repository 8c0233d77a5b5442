/*
 * mvjson.h - a strict little JSON reader for tests (RFC 8259).
 *
 * Tests of the JSON report need to know that the output is valid JSON and
 * to look fields up in it. This parses a document into a tree and rejects
 * anything RFC 8259 does not allow (trailing commas, leading zeros, raw
 * control characters in strings, bad escapes, invalid UTF-8, trailing
 * garbage) plus duplicate keys in one object, which a correct writer never
 * produces. Not for production: no streaming, no depth limit beyond 64.
 */
#ifndef MVJSON_H
#define MVJSON_H

#include <stddef.h>
#include <stdint.h>

enum mvj_type {
	MVJ_NULL,
	MVJ_BOOL,
	MVJ_NUMBER,
	MVJ_STRING,
	MVJ_ARRAY,
	MVJ_OBJECT
};

struct mvj {
	enum mvj_type type;
	int boolean;
	double number;
	int is_uint;   /* number written as a non-negative integer */
	uint64_t uint; /* its exact value when is_uint */
	char *string;  /* decoded, NUL-terminated (MVJ_STRING) */
	size_t n;      /* members (ARRAY, OBJECT) */
	struct mvj **item;
	char **key; /* OBJECT only */
};

/* Parse text[0..len); NULL on error with a message in err (if not NULL). */
struct mvj *mvj_parse(const char *text, size_t len, char *err, size_t errn);
void mvj_free(struct mvj *v);

/* Member of an object by key; NULL if absent or not an object. */
const struct mvj *mvj_get(const struct mvj *obj, const char *key);
/*
 * Follow a dotted path: "vms.0.final.state_pages.private" (numbers index
 * arrays). NULL if any step is missing.
 */
const struct mvj *mvj_path(const struct mvj *root, const char *path);
/* The exact unsigned value at path, or UINT64_MAX if missing / not one. */
uint64_t mvj_uint(const struct mvj *root, const char *path);

#endif

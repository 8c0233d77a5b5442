/*
 * mvjson.c - a strict recursive-descent JSON parser for tests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvjson.h"

struct parser {
	const char *p, *end, *start;
	char *err;
	size_t errn;
	int depth;
	int failed;
};

static void fail(struct parser *ps, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (!ps->err || !ps->errn)
		return;
	int off = snprintf(ps->err, ps->errn,
			   "offset %ld: ", (long)(ps->p - ps->start));
	if (off < 0 || (size_t)off >= ps->errn)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err + off, ps->errn - (size_t)off, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct mvj *new_value(enum mvj_type t)
{
	struct mvj *v = calloc(1, sizeof *v);
	if (v)
		v->type = t;
	return v;
}

void mvj_free(struct mvj *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		mvj_free(v->item[i]);
		if (v->key)
			free(v->key[i]);
	}
	free(v->item);
	free(v->key);
	free(v->string);
	free(v);
}

/* Append cp as UTF-8 to buf. */
static size_t put_utf8(char *buf, unsigned cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(struct parser *ps, unsigned *out)
{
	if (ps->end - ps->p < 4) {
		fail(ps, "short \\u escape");
		return -1;
	}
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else {
			fail(ps, "bad hex digit in \\u escape");
			return -1;
		}
	}
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t utf8_ok(const unsigned char *p, size_t n)
{
	unsigned c = p[0], cp, min;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Parse a string at ps->p (which is '"'); returns malloc'd decoded text. */
static char *parse_string(struct parser *ps)
{
	ps->p++; /* '"' */
	/* Decoded text is never longer than the source. */
	const char *q = ps->p;
	while (q < ps->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	char *buf = malloc((size_t)(q - ps->p) + 8);
	if (!buf) {
		fail(ps, "out of memory");
		return NULL;
	}
	size_t n = 0;
	for (;;) {
		if (ps->p >= ps->end) {
			fail(ps, "unterminated string");
			break;
		}
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"') {
			ps->p++;
			buf[n] = '\0';
			return buf;
		}
		if (c < 0x20) {
			fail(ps, "raw control character 0x%02x in string", c);
			break;
		}
		if (c >= 0x80) {
			size_t len = utf8_ok((const unsigned char *)ps->p,
					     (size_t)(ps->end - ps->p));
			if (!len) {
				fail(ps, "invalid UTF-8 in string");
				break;
			}
			memcpy(buf + n, ps->p, len);
			n += len;
			ps->p += len;
			continue;
		}
		if (c != '\\') {
			buf[n++] = (char)c;
			ps->p++;
			continue;
		}
		ps->p++;
		if (ps->p >= ps->end) {
			fail(ps, "unterminated escape");
			break;
		}
		char e = *ps->p++;
		unsigned cp;
		switch (e) {
		case '"':
			buf[n++] = '"';
			break;
		case '\\':
			buf[n++] = '\\';
			break;
		case '/':
			buf[n++] = '/';
			break;
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u':
			if (hex4(ps, &cp))
				goto bad;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
				    ps->p[1] != 'u') {
					fail(ps, "lone high surrogate");
					goto bad;
				}
				ps->p += 2;
				if (hex4(ps, &lo))
					goto bad;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(ps, "bad low surrogate");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(ps, "lone low surrogate");
				goto bad;
			}
			n += put_utf8(buf + n, cp);
			break;
		default:
			fail(ps, "bad escape '\\%c'", e);
			goto bad;
		}
	}
bad:
	free(buf);
	return NULL;
}

static struct mvj *parse_value(struct parser *ps);

static int append(struct mvj *v, struct mvj *item, char *key)
{
	struct mvj **it = realloc(v->item, (v->n + 1) * sizeof *it);
	if (!it)
		return -1;
	v->item = it;
	if (v->type == MVJ_OBJECT) {
		char **k = realloc(v->key, (v->n + 1) * sizeof *k);
		if (!k)
			return -1;
		v->key = k;
		v->key[v->n] = key;
	}
	v->item[v->n++] = item;
	return 0;
}

static struct mvj *parse_container(struct parser *ps, int object)
{
	char close = object ? '}' : ']';
	struct mvj *v = new_value(object ? MVJ_OBJECT : MVJ_ARRAY);
	if (!v) {
		fail(ps, "out of memory");
		return NULL;
	}
	if (++ps->depth > 64) {
		fail(ps, "nesting too deep");
		goto bad;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a key string");
				goto bad;
			}
			key = parse_string(ps);
			if (!key)
				goto bad;
			if (mvj_get(v, key)) {
				fail(ps, "duplicate key \"%s\"", key);
				free(key);
				goto bad;
			}
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				fail(ps, "expected ':'");
				free(key);
				goto bad;
			}
			ps->p++;
		}
		struct mvj *item = parse_value(ps);
		if (!item) {
			free(key);
			goto bad;
		}
		if (append(v, item, key)) {
			mvj_free(item);
			free(key);
			fail(ps, "out of memory");
			goto bad;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return v;
		}
		fail(ps, "expected ',' or '%c'", close);
		goto bad;
	}
bad:
	mvj_free(v);
	return NULL;
}

static struct mvj *parse_number(struct parser *ps)
{
	const char *s = ps->p, *q = s;
	int integer = 1;
	if (q < ps->end && *q == '-')
		q++, integer = 0;
	if (q >= ps->end || *q < '0' || *q > '9') {
		fail(ps, "bad number");
		return NULL;
	}
	if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9') {
		fail(ps, "leading zero in number");
		return NULL;
	}
	while (q < ps->end && *q >= '0' && *q <= '9')
		q++;
	if (q < ps->end && *q == '.') {
		integer = 0;
		q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			fail(ps, "bad fraction");
			return NULL;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		integer = 0;
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			fail(ps, "bad exponent");
			return NULL;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	char tmp[64];
	size_t len = (size_t)(q - s);
	if (len >= sizeof tmp) {
		fail(ps, "number too long");
		return NULL;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	struct mvj *v = new_value(MVJ_NUMBER);
	if (!v) {
		fail(ps, "out of memory");
		return NULL;
	}
	v->number = strtod(tmp, NULL);
	if (integer && len <= 20) {
		v->uint = strtoull(tmp, NULL, 10);
		v->is_uint = !(len == 20 &&
			       strcmp(tmp, "18446744073709551615") > 0);
	}
	ps->p = q;
	return v;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
		ps->p += n;
		return 1;
	}
	return 0;
}

static struct mvj *parse_value(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, "unexpected end of input");
		return NULL;
	}
	struct mvj *v;
	switch (*ps->p) {
	case '{':
		return parse_container(ps, 1);
	case '[':
		return parse_container(ps, 0);
	case '"': {
		char *s = parse_string(ps);
		if (!s)
			return NULL;
		v = new_value(MVJ_STRING);
		if (!v) {
			free(s);
			fail(ps, "out of memory");
			return NULL;
		}
		v->string = s;
		return v;
	}
	case 't':
	case 'f':
	case 'n':
		if (literal(ps, "true") || literal(ps, "false")) {
			v = new_value(MVJ_BOOL);
			if (v)
				v->boolean = ps->p[-1] == 'e' &&
					     ps->p[-4] == 't';
			return v;
		}
		if (literal(ps, "null"))
			return new_value(MVJ_NULL);
		fail(ps, "bad literal");
		return NULL;
	default:
		return parse_number(ps);
	}
}

struct mvj *mvj_parse(const char *text, size_t len, char *err, size_t errn)
{
	struct parser ps = {
		.p = text,
		.end = text + len,
		.start = text,
		.err = err,
		.errn = errn,
	};
	if (err && errn)
		err[0] = '\0';
	struct mvj *v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "trailing characters after the document");
		mvj_free(v);
		return NULL;
	}
	return v;
}

const struct mvj *mvj_get(const struct mvj *obj, const char *key)
{
	if (!obj || obj->type != MVJ_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->key[i], key) == 0)
			return obj->item[i];
	return NULL;
}

const struct mvj *mvj_path(const struct mvj *root, const char *path)
{
	const struct mvj *v = root;
	char part[128];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		path += n + (path[n] == '.');
		if (v->type == MVJ_ARRAY) {
			char *end;
			unsigned long i = strtoul(part, &end, 10);
			if (*end || !part[0] || i >= v->n)
				return NULL;
			v = v->item[i];
		} else {
			v = mvj_get(v, part);
		}
	}
	return v;
}

uint64_t mvj_uint(const struct mvj *root, const char *path)
{
	const struct mvj *v = mvj_path(root, path);
	if (!v || v->type != MVJ_NUMBER || !v->is_uint)
		return UINT64_MAX;
	return v->uint;
}

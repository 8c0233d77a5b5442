/*
 * units.c - sizes, durations, fractions and rates as users write them.
 *
 * Size units follow libvirt's domain XML (formatdomain "Memory
 * Allocation") as its virScaleInteger reads them, in any case: b, byte,
 * bytes; KB, MB, GB, TB, PB, EB are powers of 1000; K/KiB, M/MiB, G/GiB,
 * T/TiB, P/PiB, E/EiB powers of 1024. Every parser is strict: trailing garbage,
 * negative numbers and overflow are errors, never clamped.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "memvisor/core.h"

/*
 * libvirt's virScaleInteger (src/util/virutil.c), exactly: "b", "byte",
 * "bytes" are 1; otherwise the first letter, any case, is k, m, g, t, p or
 * e, and it stands alone or is followed by "iB" (any case) for powers of
 * 1024, or by "B"/"b" for powers of 1000. So "KiB", "kib", "K", "k" are
 * 1024 and "KB", "kb" 1000; "PiB" is 2^50 and "EB" 10^18.
 */
uint64_t mv_unit_multiplier(const char *unit, uint64_t default_unit)
{
	if (!unit || !*unit)
		return default_unit;
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") ||
	    !strcasecmp(unit, "bytes"))
		return 1;
	uint64_t base;
	if (!unit[1] || !strcasecmp(unit + 1, "iB"))
		base = 1024;
	else if ((unit[1] == 'b' || unit[1] == 'B') && !unit[2])
		base = 1000;
	else
		return 0;
	static const char powers[] = "kmgtpe";
	const char *p = strchr(powers, tolower((unsigned char)unit[0]));
	if (!p || !*p)
		return 0;
	uint64_t mult = 1;
	for (const char *q = powers; q <= p; q++)
		mult *= base;
	return mult;
}

static const char *skip_space(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* Parse a non-negative decimal (digits, optional fraction); sets *end. */
static int parse_decimal(const char *s, double *out, const char **end)
{
	s = skip_space(s);
	if (!isdigit((unsigned char)*s) && *s != '.')
		return MV_EINVAL;
	errno = 0;
	char *e;
	double v = strtod(s, &e);
	if (e == s || errno == ERANGE || !isfinite(v) || v < 0)
		return MV_EINVAL;
	/* strtod accepts hex and exponents; we accept only plain decimals */
	for (const char *p = s; p < e; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return MV_EINVAL;
	*out = v;
	*end = e;
	return 0;
}

int mv_parse_u64(const char *s, uint64_t *out)
{
	if (!s)
		return MV_EINVAL;
	s = skip_space(s);
	if (!isdigit((unsigned char)*s))
		return MV_EINVAL;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return MV_EINVAL;
	if (*skip_space(e))
		return MV_EINVAL;
	*out = v;
	return 0;
}

/* A size as a number of bytes, possibly fractional; 0 or MV_EINVAL. */
static int parse_size_bytes(const char *s, const char *unit,
			    uint64_t default_unit, double *out)
{
	if (!s)
		return MV_EINVAL;
	const char *e;
	double v;
	if (parse_decimal(s, &v, &e) != 0)
		return MV_EINVAL;
	e = skip_space(e);
	uint64_t mult;
	if (*e) {
		if (unit && *unit)
			return MV_EINVAL; /* unit given twice */
		char u[16];
		size_t n = strlen(e);
		while (n && isspace((unsigned char)e[n - 1]))
			n--;
		if (n == 0 || n >= sizeof u)
			return MV_EINVAL;
		memcpy(u, e, n);
		u[n] = '\0';
		mult = mv_unit_multiplier(u, 0);
	} else {
		mult = mv_unit_multiplier(unit, default_unit);
	}
	if (mult == 0)
		return MV_EINVAL;
	*out = v * (double)mult;
	return 0;
}

int mv_parse_size(const char *s, const char *unit, uint64_t default_unit,
		  uint64_t *out)
{
	double bytes;
	int rc = parse_size_bytes(s, unit, default_unit, &bytes);
	if (rc)
		return rc;
	if (bytes >= 18446744073709551615.0)
		return MV_ERANGE; /* too large, not malformed */
	if (bytes != floor(bytes))
		return MV_EINVAL; /* fractional bytes */
	*out = (uint64_t)bytes;
	return 0;
}

int mv_parse_size_round(const char *s, uint64_t granule, uint64_t *out)
{
	double bytes;
	int rc = parse_size_bytes(s, NULL, 1, &bytes);
	if (rc)
		return rc;
	if (bytes >= 18446744073709551615.0)
		return MV_ERANGE;
	uint64_t b = (uint64_t)bytes;
	*out = granule > 1 ? b / granule * granule : b;
	return 0;
}

int mv_parse_duration(const char *s, uint64_t *ns)
{
	if (!s)
		return MV_EINVAL;
	const char *e;
	double v;
	if (parse_decimal(s, &v, &e) != 0)
		return MV_EINVAL;
	e = skip_space(e);
	double mult;
	if (!*e || strcmp(e, "s") == 0)
		mult = 1e9;
	else if (strcmp(e, "ms") == 0)
		mult = 1e6;
	else if (strcmp(e, "us") == 0)
		mult = 1e3;
	else if (strcmp(e, "ns") == 0)
		mult = 1;
	else if (strcmp(e, "m") == 0 || strcmp(e, "min") == 0)
		mult = 60e9;
	else if (strcmp(e, "h") == 0)
		mult = 3600e9;
	else
		return MV_EINVAL;
	double t = v * mult;
	if (t >= MV_DURATION_MAX_NS)
		return MV_ERANGE; /* too long, not malformed */
	*ns = (uint64_t)llround(t);
	return 0;
}

int mv_parse_fraction(const char *s, double *out)
{
	if (!s)
		return MV_EINVAL;
	const char *e;
	double v;
	if (parse_decimal(s, &v, &e) != 0)
		return MV_EINVAL;
	e = skip_space(e);
	if (*e == '%') {
		v /= 100.0;
		e = skip_space(e + 1);
	}
	if (*e || v > 1.0)
		return MV_EINVAL;
	*out = v;
	return 0;
}

int mv_parse_rate(const char *s, double *out)
{
	if (!s)
		return MV_EINVAL;
	const char *e;
	double v;
	if (parse_decimal(s, &v, &e) != 0)
		return MV_EINVAL;
	e = skip_space(e);
	if (*e == 'k' || *e == 'K')
		v *= 1e3, e++;
	else if (*e == 'M')
		v *= 1e6, e++;
	else if (*e == 'G')
		v *= 1e9, e++;
	if (strcmp(e, "/s") == 0)
		e += 2;
	if (*skip_space(e))
		return MV_EINVAL;
	*out = v;
	return 0;
}

const char *mv_format_bytes(uint64_t bytes, char *buf, size_t n)
{
	if (bytes >= MV_GIB)
		snprintf(buf, n, "%.2f GiB", (double)bytes / (double)MV_GIB);
	else if (bytes >= MV_MIB)
		snprintf(buf, n, "%.1f MiB", (double)bytes / (double)MV_MIB);
	else
		snprintf(buf, n, "%llu KiB",
			 (unsigned long long)(bytes / MV_KIB));
	return buf;
}

int mv_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mv_wall_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double mv_cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

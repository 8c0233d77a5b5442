/*
 * units.c - sizes, durations, fractions and rates as users write them.
 *
 * Size units follow libvirt's domain XML (formatdomain "Memory
 * Allocation"): b/bytes; KB, MB, GB, TB are powers of 1000; k/KiB, M/MiB,
 * G/GiB, T/TiB powers of 1024. Every parser is strict: trailing garbage,
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

static const struct {
	const char *name;
	uint64_t mult;
} size_units[] = {
	{"b", 1},
	{"bytes", 1},
	{"KB", 1000ull},
	{"k", MV_KIB},
	{"KiB", MV_KIB},
	{"MB", 1000ull * 1000},
	{"M", MV_MIB},
	{"MiB", MV_MIB},
	{"GB", 1000ull * 1000 * 1000},
	{"G", MV_GIB},
	{"GiB", MV_GIB},
	{"TB", 1000ull * 1000 * 1000 * 1000},
	{"T", 1024 * MV_GIB},
	{"TiB", 1024 * MV_GIB},
};

uint64_t mv_unit_multiplier(const char *unit, uint64_t default_unit)
{
	if (!unit || !*unit)
		return default_unit;
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
		if (strcmp(unit, size_units[i].name) == 0)
			return size_units[i].mult;
	/* libvirt accepts "K" as KiB too, and unit names case-insensitively
	 * only for the binary forms' single letters. */
	if (strcmp(unit, "K") == 0)
		return MV_KIB;
	return 0;
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

int mv_parse_size(const char *s, const char *unit, uint64_t default_unit,
		  uint64_t *out)
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
	double bytes = v * (double)mult;
	if (bytes >= 18446744073709551615.0)
		return MV_EINVAL;
	if (bytes != floor(bytes))
		return MV_EINVAL; /* fractional bytes */
	*out = (uint64_t)bytes;
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
	if (t >= 1.8e19)
		return MV_EINVAL;
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
		snprintf(buf, n, "%llu KiB", (unsigned long long)(bytes / MV_KIB));
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

/*
 * rng.c - seeding the xoshiro256** generator and sampling Zipf ranks.
 *
 * xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", 2018) is seeded through splitmix64 as its authors advise.
 * Zipf uses rejection-inversion (Hormann & Derflinger 1996), the method
 * Apache Commons RNG also uses: constant time per sample for any n.
 */
#include <math.h>

#include "memvisor/core.h"

void mv_rng_seed(struct mv_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ull;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		r->s[i] = z ^ (z >> 31);
	}
}

/* H(x) = ((x)^(1-s) - 1) / (1 - s), or log(x) when s == 1. */
static double zipf_h(double x, double s)
{
	double l = log(x);
	double t = (1.0 - s) * l;
	/* (exp(t) - 1) / t * l, stable near s == 1 */
	if (fabs(t) < 1e-8)
		return l * (1.0 + t / 2.0);
	return expm1(t) / t * l;
}

static double zipf_h_inv(double x, double s)
{
	double t = x * (1.0 - s);
	if (t < -1.0)
		t = -1.0;
	if (fabs(t) < 1e-8)
		return exp(x * (1.0 - t / 2.0));
	return exp(log1p(t) / t * x);
}

int mv_zipf_init(struct mv_zipf *z, uint64_t n, double s)
{
	if (n == 0 || !(s > 0) || !isfinite(s))
		return MV_EINVAL;
	z->n = n;
	z->s = s;
	z->h_x1 = zipf_h(1.5, s) - 1.0;
	z->h_n = zipf_h((double)n + 0.5, s);
	z->cut = 2.0 - zipf_h_inv(zipf_h(2.5, s) - pow(2.0, -s), s);
	return 0;
}

uint64_t mv_zipf_next(const struct mv_zipf *z, struct mv_rng *r)
{
	if (z->n == 1)
		return 0;
	for (;;) {
		double u = z->h_n + mv_rng_double(r) * (z->h_x1 - z->h_n);
		double x = zipf_h_inv(u, z->s);
		double k = floor(x + 0.5);
		if (k < 1)
			k = 1;
		else if (k > (double)z->n)
			k = (double)z->n;
		if (k - x <= z->cut ||
		    u >= zipf_h(k + 0.5, z->s) - pow(k, -z->s))
			return (uint64_t)k - 1;
	}
}

#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/mvtest.h"

struct mv_host *mvt_host(uint64_t mib, int nodes)
{
	struct mv_host_config c;
	mv_host_config_default(&c);
	c.mem_bytes = mib * MV_MIB;
	c.nodes = nodes;
	struct mv_host *h = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_host_create(&c, &h, &err), &err, "mv_host_create");
	return h;
}

struct mv_vm *mvt_vm(struct mv_host *h, const char *name, uint64_t mib, int id)
{
	struct mv_vm_config c;
	mv_vm_config_default(&c, name, mib * MV_MIB);
	struct mv_vm *vm = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_vm_create(h, &c, id, &vm, &err), &err, "mv_vm_create");
	return vm;
}

void mvt_ok(int rc, const struct mv_error *err, const char *what)
{
	if (rc) {
		char buf[600];
		fail_msg("%s failed (%d): %s", what, rc,
			 err ? mv_error_format(err, buf, sizeof buf) : "");
	}
}

char *mvt_tmpdir(const char *prefix)
{
	char *d = malloc(strlen(prefix) + 16);
	assert_non_null(d);
	sprintf(d, "/tmp/%s.XXXXXX", prefix);
	assert_non_null(mkdtemp(d));
	return d;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int mvt_rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

void mvt_rmdir(char *d)
{
	DIR *dir = opendir(d);
	if (dir) {
		struct dirent *de;
		char p[512];
		while ((de = readdir(dir)) != NULL) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", d, de->d_name);
			unlink(p);
		}
		closedir(dir);
	}
	rmdir(d);
	free(d);
}

struct mv_sim *mvt_sim(const char *xml, const char *name, int verify)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, name, ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, verify, &s, &err), &err, "mv_sim_create");
	return s;
}

void mvt_sim_run(struct mv_sim *s)
{
	struct mv_error err = {0};
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
}

void mvt_assert_same_run(const struct mv_sim *a, const struct mv_sim *b)
{
	assert_int_equal(a->nsamples, b->nsamples);
	for (int i = 0; i < a->nsamples; i++) {
		assert_int_equal(a->samples[i].host_free,
				 b->samples[i].host_free);
		assert_int_equal(a->samples[i].memstate,
				 b->samples[i].memstate);
		assert_int_equal(a->samples[i].share.merges,
				 b->samples[i].share.merges);
		assert_int_equal(a->samples[i].nvms, b->samples[i].nvms);
		for (int v = 0; v < a->samples[i].nvms; v++) {
			/* all but the swap file's fs_bytes, the filesystem's
			 * own metadata, which varies with where its blocks
			 * landed (struct mv_swap_stats: not reported) */
			struct mv_sample_vm x = a->samples[i].vm[v],
					    y = b->samples[i].vm[v];
			x.swap.fs_bytes = y.swap.fs_bytes = 0;
			assert_memory_equal(&x, &y, sizeof x);
		}
	}
	assert_int_equal(a->nvms, b->nvms);
	for (int v = 0; v < a->nvms; v++)
		for (mv_gppn_t g = 0; a->vm[v] && g < a->vm[v]->npages; g++) {
			const struct mv_pme *x = &a->vm[v]->pmap[g];
			const struct mv_pme *y = &b->vm[v]->pmap[g];
			assert_int_equal(x->state, y->state);
			if (x->state == MV_PS_PRIVATE ||
			    x->state == MV_PS_SHARED) {
				/* the same form and the same bytes */
				uint8_t ba[MV_PAGE_SIZE], bb[MV_PAGE_SIZE];
				assert_int_equal(
					mv_host_frame_desc(a->host, x->mpn),
					mv_host_frame_desc(b->host, y->mpn));
				assert_memory_equal(
					mv_host_frame_read(a->host, x->mpn, ba),
					mv_host_frame_read(b->host, y->mpn, bb),
					MV_PAGE_SIZE);
			}
		}
}

void mvt_memvisor_bin(char *out, size_t n)
{
	const char *bin = getenv("MV_BIN"), *build = getenv("MV_BUILD");
	char path[4096];
	if (bin && *bin) {
		snprintf(path, sizeof path, "%s", bin);
	} else if (build && *build) {
		snprintf(path, sizeof path, "%s/memvisor", build);
	} else {
		ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
		path[len > 0 ? len : 0] = '\0';
		for (int i = 0; i < 3; i++) {
			char *slash = strrchr(path, '/');
			if (slash)
				*slash = '\0';
		}
		strncat(path, "/memvisor", sizeof path - strlen(path) - 1);
	}
	if (path[0] == '/') {
		snprintf(out, n, "%s", path);
		return;
	}
	char cwd[2048];
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = '\0';
	snprintf(out, n, "%s/%s", cwd, path);
}

char *mvt_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	buf[len] = '\0';
	if (n)
		*n = len;
	return buf;
}

void mvt_read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(buf, 1, n - 1, f) : 0;
	buf[got] = '\0';
	if (f)
		fclose(f);
}

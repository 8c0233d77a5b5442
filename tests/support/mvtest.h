/* mvtest.h - helpers shared by memvisor's cmocka tests. */
#ifndef MVTEST_H
#define MVTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memvisor/memvisor.h"

/* A host of `mib` MiB with `nodes` nodes and default latencies. */
struct mv_host *mvt_host(uint64_t mib, int nodes);
/* A VM of `mib` MiB on h with default config. */
struct mv_vm *mvt_vm(struct mv_host *h, const char *name, uint64_t mib, int id);
/* Fail the test with err's message if rc != 0. */
void mvt_ok(int rc, const struct mv_error *err, const char *what);
/* A simulator for scenario XML (named `name` in errors); fails the test
 * on any error. */
struct mv_sim *mvt_sim(const char *xml, const char *name, int verify);
/* Run it to the end; fails the test on any error. */
void mvt_sim_run(struct mv_sim *s);
/* Two finished runs are the same: every sample (free memory, state,
 * sharing merges, every VM's figures), every page's state and the bytes
 * of every mapped page. */
void mvt_assert_same_run(const struct mv_sim *a, const struct mv_sim *b);
/* A new directory /tmp/<prefix>.XXXXXX (malloc'd path). */
char *mvt_tmpdir(const char *prefix);
/* Remove it and the files in it (no subdirectories), free the path. */
void mvt_rmdir(char *dir);
/* Remove dir and everything below it, links not followed (rm -rf): 0 or
 * -1. For the CLI tests' scratch directories, whose runs make folders. */
int mvt_rm_tree(const char *dir);

/*
 * The memvisor program the CLI tests run, as an absolute path: $MV_BIN,
 * else $MV_BUILD/memvisor, else the memvisor three directories above the
 * running test (BUILD/tests/LAYER/test_x -> BUILD/memvisor).
 */
void mvt_memvisor_bin(char *out, size_t n);
/* A whole file, NUL-terminated, in a malloc'd buffer (NULL if it cannot
 * be read); *n (if not NULL) its length. */
char *mvt_slurp(const char *path, size_t *n);
/* At most n - 1 bytes of a file into buf, NUL-terminated ("" if it
 * cannot be read). */
void mvt_read_file(const char *path, char *buf, size_t n);

#endif

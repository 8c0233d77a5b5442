/*
 * libvirt's own test data as a corpus for the readers (src/sim/domain.c,
 * src/sim/vmx.c): every domain in libvirt's tests/qemuxml2argvdata and
 * every file in tests/vmx2xmldata that libvirt accepts must load in
 * memvisor as a VM of a scenario.
 *
 * The files are not in our repository: scripts/libvirt-corpus.sh fetches
 * Debian's libvirt source package (cached in build/libvirt-src/) and
 * lists the files libvirt's own test programs expect to fail; those are
 * left out. Without network the test is skipped, saying why. Run from
 * the source root.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

#define CORPUS_SCRIPT "scripts/libvirt-corpus.sh build/libvirt-src"

static char corpus[1024];
static char skip_reason[1100];

/* Fetch (or find cached) the corpus; its directory into `corpus`. */
static int setup(void **state)
{
	(void)state;
	FILE *p = popen("sh " CORPUS_SCRIPT " 2>&1", "r");
	if (!p) {
		snprintf(skip_reason, sizeof skip_reason,
			 "cannot run scripts/libvirt-corpus.sh");
		return 0;
	}
	char line[1024] = "";
	while (fgets(line, sizeof line, p))
		;
	int rc = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (rc == 0)
		snprintf(corpus, sizeof corpus, "%s", line);
	else
		snprintf(skip_reason, sizeof skip_reason, "%s",
			 strncmp(line, "SKIP: ", 6) == 0 ? line + 6 : line);
	return 0;
}

/* Is `name` (without extension) a line of the file `list`? */
static int listed(const char *list, const char *name)
{
	char path[1200], line[512];
	snprintf(path, sizeof path, "%s/%s", corpus, list);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, name) == 0;
	}
	fclose(f);
	return found;
}

/* Load file as the one VM of a scenario; 0 or the error in msg. */
static int load_as_vm(const char *path, char *msg, size_t n)
{
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<scenario duration='1s'><host><memory unit='TiB'>1</memory>"
		 "<numa nodes='%d'/></host><vm file='%s'/></scenario>",
		 MV_MAX_NODES, path);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(xml, "corpus.xml", "", &sc, &err);
	if (rc)
		mv_error_format(&err, msg, n);
	mv_scenario_free(sc);
	return rc;
}

/*
 * Every file of dir/ ending in ext and not in the rejected list loads.
 * Prints the count and the first failures.
 */
static void check_folder(const char *dir, const char *ext, const char *list,
			 const char *what)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", corpus, dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	int total = 0, excluded = 0, loaded = 0, failed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), el = strlen(ext);
		if (len <= el || strcmp(e->d_name + len - el, ext) != 0)
			continue;
		total++;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(len - el), e->d_name);
		if (listed(list, name)) {
			excluded++;
			continue;
		}
		char file[1600], msg[600];
		snprintf(file, sizeof file, "%s/%s", path, e->d_name);
		if (load_as_vm(file, msg, sizeof msg) == 0) {
			loaded++;
		} else if (++failed <= 40) {
			printf("does not load: %s\n", msg);
		}
	}
	closedir(d);
	printf("note: libvirt corpus: %d of %d %s load (%d left out: "
	       "libvirt's tests expect them to fail), %d fail\n",
	       loaded, total - excluded, what, excluded, failed);
	assert_true(total > 0);
	assert_int_equal(failed, 0);
}

static void test_every_domain_libvirt_accepts_loads(void **state)
{
	(void)state;
	if (!corpus[0]) {
		printf("SKIP: libvirt corpus: %s\n", skip_reason);
		skip();
	}
	check_folder("qemuxml2argvdata", ".xml", "xml-rejected.txt",
		     "libvirt domains (tests/qemuxml2argvdata)");
}

static void test_every_vmx_libvirt_accepts_loads(void **state)
{
	(void)state;
	if (!corpus[0]) {
		printf("SKIP: libvirt corpus: %s\n", skip_reason);
		skip();
	}
	check_folder("vmx2xmldata", ".vmx", "vmx-rejected.txt",
		     ".vmx files (tests/vmx2xmldata)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_domain_libvirt_accepts_loads),
		cmocka_unit_test(test_every_vmx_libvirt_accepts_loads),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * test_kvm_guest.c - the real-guest tests' generators (docs/agent.md,
 * "Real guests for the tests"), checked without libvirt or QEMU so that a
 * broken generator shows in `make check`, not first in `make check-kvm`:
 *
 * - tests/kvm/mkdomain.sh: its XML parsed with libxml2 and each element the
 *   agent and the tests rely on read back (type, memory, currentMemory,
 *   memtune, memvisor's shares in <metadata> under its namespace, the
 *   balloon's stats period, the kernel command line, the console log);
 *   bad arguments give one "mkdomain:" line, exit 2 and no XML.
 * - tests/kvm/mkguest.sh: where the host has a Debian cloud kernel and
 *   busybox-static, the initramfs it builds holds /init, busybox and the
 *   six virtio modules, as ELF files, and /init loads them in the order
 *   the kernel needs.
 * Tests run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "support/mvtest.h"

#define MV_NS "urn:memvisor:domain:1"

static char *g_dir;

/* Run a shell command; its stdout and stderr end up in the two buffers. */
static int run(const char *cmd, char **out, char **err)
{
	char full[8192], path[600];
	snprintf(full, sizeof full, "%s >'%s/out' 2>'%s/err'", cmd, g_dir,
		 g_dir);
	int rc = system(full);
	assert_true(rc != -1 && WIFEXITED(rc));
	snprintf(path, sizeof path, "%s/out", g_dir);
	*out = mvt_slurp(path, NULL);
	snprintf(path, sizeof path, "%s/err", g_dir);
	*err = mvt_slurp(path, NULL);
	assert_non_null(*out);
	assert_non_null(*err);
	return WEXITSTATUS(rc);
}

/* The text of the first node XPATH selects, or fail. */
static char *xp(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	assert_non_null(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "mv", BAD_CAST MV_NS);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	if (!o || !o->nodesetval || o->nodesetval->nodeNr < 1)
		fail_msg("nothing at %s", xpath);
	xmlChar *s = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
	char *copy = strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return copy;
}

static void has(xmlDocPtr doc, const char *xpath, const char *want)
{
	char *got = xp(doc, xpath);
	if (strcmp(got, want) != 0)
		fail_msg("%s is \"%s\", want \"%s\"", xpath, got, want);
	free(got);
}

static int setup(void **state)
{
	(void)state;
	g_dir = mvt_tmpdir("mvkvmguest-test");
	if (!g_dir)
		return -1;
	/* mkdomain.sh wants a guest directory with the two files */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "mkdir -p '%s/g' && : >'%s/g/vmlinuz' && : >'%s/g/initrd.gz'",
		 g_dir, g_dir, g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole tree: the guest directory g/ and the unpacked initramfs are
 * folders, which mvt_rmdir leaves behind. */
static int teardown(void **state)
{
	(void)state;
	int rc = mvt_rm_tree(g_dir);
	free(g_dir);
	return rc;
}

static void test_mkdomain_writes_what_the_agent_reads(void **state)
{
	(void)state;
	char cmd[2048], *out, *err, want[600];
	snprintf(cmd, sizeof cmd,
		 "tests/kvm/mkdomain.sh --name t1 --guest '%s/g' --log "
		 "'%s/t1.console' --memory 512 --current 384 --soft-limit 256 "
		 "--shares 10240 --cmdline 'mv.work=busy mv.ws=200M'",
		 g_dir, g_dir);
	assert_int_equal(run(cmd, &out, &err), 0);
	assert_string_equal(err, "");
	xmlDocPtr doc = xmlReadMemory(out, (int)strlen(out), "t1.xml", NULL,
				      XML_PARSE_NONET);
	if (!doc)
		fail_msg("not XML:\n%s", out);
	has(doc, "/domain/@type", "qemu");
	has(doc, "/domain/name", "t1");
	has(doc, "/domain/memory[@unit='MiB']", "512");
	has(doc, "/domain/currentMemory[@unit='MiB']", "384");
	has(doc, "/domain/memtune/soft_limit[@unit='MiB']", "256");
	has(doc, "/domain/metadata/mv:memvisor/mv:shares", "10240");
	has(doc, "/domain/devices/memballoon/@model", "virtio");
	has(doc, "/domain/devices/memballoon/stats/@period", "2");
	snprintf(want, sizeof want, "%s/t1.console", g_dir);
	has(doc, "/domain/devices/serial[@type='file']/source/@path", want);
	snprintf(want, sizeof want, "%s/g/vmlinuz", g_dir);
	has(doc, "/domain/os/kernel", want);
	char *cl = xp(doc, "/domain/os/cmdline");
	assert_non_null(strstr(cl, "console=ttyS0"));
	assert_non_null(strstr(cl, "mv.work=busy mv.ws=200M"));
	free(cl);
	xmlFreeDoc(doc);
	free(out);
	free(err);
}

static void test_mkdomain_without_memtune_or_shares_has_neither(void **state)
{
	(void)state;
	char cmd[2048], *out, *err;
	snprintf(cmd, sizeof cmd,
		 "tests/kvm/mkdomain.sh --name t2 --guest '%s/g' --log x.log",
		 g_dir);
	assert_int_equal(run(cmd, &out, &err), 0);
	assert_null(strstr(out, "<memtune>"));
	assert_null(strstr(out, "<metadata>"));
	assert_non_null(strstr(out, "<memory unit='MiB'>512</memory>"));
	assert_non_null(
		strstr(out, "<currentMemory unit='MiB'>512</currentMemory>"));
	free(out);
	free(err);
}

static void test_mkdomain_bad_arguments_one_line_exit_2(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"--memory 12x", "--current 600", "--type xen",
		"--bogus 1",    "--shares",      "--name",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char cmd[2048], *out, *err;
		snprintf(cmd, sizeof cmd,
			 "tests/kvm/mkdomain.sh --guest '%s/g' --log x.log "
			 "--name t3 %s",
			 g_dir, bad[i]);
		int rc = run(cmd, &out, &err);
		if (rc != 2 || out[0] || strncmp(err, "mkdomain: ", 10) ||
		    strchr(err, '\n') != err + strlen(err) - 1)
			fail_msg("%s: exit %d, stdout \"%s\", stderr \"%s\"",
				 bad[i], rc, out, err);
		free(out);
		free(err);
	}
	/* a guest directory without the kernel */
	char *out, *err;
	assert_int_equal(
		run("tests/kvm/mkdomain.sh --name t --guest /nonexistent "
		    "--log x.log",
		    &out, &err),
		2);
	assert_non_null(strstr(err, "/nonexistent"));
	free(out);
	free(err);
}

/* Why mkguest.sh cannot run here, or NULL. */
static const char *mkguest_skip_reason(void)
{
	if (system("ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1") != 0)
		return "no /boot/vmlinuz-*-cloud-amd64 "
		       "(linux-image-cloud-amd64)";
	if (access("/bin/busybox", X_OK) != 0)
		return "no /bin/busybox (busybox-static)";
	if (system("command -v modinfo >/dev/null") != 0)
		return "no modinfo (kmod)";
	return NULL;
}

static void test_mkguest_initramfs_has_init_busybox_and_modules(void **state)
{
	(void)state;
	const char *why = mkguest_skip_reason();
	if (why) {
		printf("SKIP: mkguest.sh: %s\n", why);
		skip();
	}
	char cmd[2048], *out, *err;
	snprintf(cmd, sizeof cmd, "tests/kvm/mkguest.sh '%s/built'", g_dir);
	if (run(cmd, &out, &err) != 0)
		fail_msg("mkguest.sh failed: %s", err);
	free(out);
	free(err);
	/* unpack it as the kernel would */
	snprintf(cmd, sizeof cmd,
		 "mkdir '%s/root' && cd '%s/root' && gzip -dc "
		 "../built/initrd.gz "
		 "| busybox cpio -i -d 2>/dev/null && ls -R . | wc -l",
		 g_dir, g_dir);
	assert_int_equal(run(cmd, &out, &err), 0);
	free(out);
	free(err);
	static const char *const mods[] = {
		"virtio_ring",           "virtio",     "virtio_pci_legacy_dev",
		"virtio_pci_modern_dev", "virtio_pci", "virtio_balloon",
	};
	char path[700];
	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
		snprintf(path, sizeof path, "%s/root/lib/mv/%s.ko", g_dir,
			 mods[i]);
		char magic[4] = {0};
		FILE *f = fopen(path, "rb");
		if (!f)
			fail_msg("no %s in the initramfs", path);
		assert_int_equal(fread(magic, 1, 4, f), 4);
		fclose(f);
		if (memcmp(magic, "\177ELF", 4) != 0)
			fail_msg("%s is not ELF (left compressed?)", path);
	}
	snprintf(path, sizeof path, "%s/root/bin/busybox", g_dir);
	assert_int_equal(access(path, X_OK), 0);
	snprintf(path, sizeof path, "%s/root/init", g_dir);
	assert_int_equal(access(path, X_OK), 0);
	char *init = mvt_slurp(path, NULL);
	assert_non_null(init);
	assert_non_null(strstr(init, "for m in virtio_ring virtio "
				     "virtio_pci_legacy_dev "
				     "virtio_pci_modern_dev virtio_pci "
				     "virtio_balloon; do"));
	assert_non_null(strstr(init, "mv.work=*"));
	free(init);
	/* the /init is valid shell */
	snprintf(cmd, sizeof cmd, "sh -n '%s/root/init'", g_dir);
	assert_int_equal(run(cmd, &out, &err), 0);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdomain_writes_what_the_agent_reads),
		cmocka_unit_test(
			test_mkdomain_without_memtune_or_shares_has_neither),
		cmocka_unit_test(test_mkdomain_bad_arguments_one_line_exit_2),
		cmocka_unit_test(
			test_mkguest_initramfs_has_init_busybox_and_modules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

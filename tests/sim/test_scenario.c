/*
 * Tests of scenario loading (src/sim/scenario.c) and of the configuration
 * defaults and checks it relies on (src/host/config.c, src/vm/config.c,
 * src/guest/config.c). Run from the source root: they read examples/ and
 * tests/data/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/readers.h"
#include "support/mvtest.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Load xml (named "t.xml", domain files under examples/); must succeed. */
static struct mv_scenario *load_ok(const char *xml)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "t.xml", "examples", &sc, &err),
	       &err, "mv_scenario_load_string");
	assert_non_null(sc);
	return sc;
}

/*
 * Load xml; it must fail with `code` at file:line in `field`, and the
 * message must contain `part`. Returns the formatted error in buf.
 */
static const char *load_err_in(const char *xml, const char *base_dir, int code,
			       const char *file, int line, const char *field,
			       const char *part, char *buf, size_t n)
{
	struct mv_scenario *sc = (struct mv_scenario *)&sc;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(xml, "t.xml", base_dir, &sc, &err);
	mv_error_format(&err, buf, n);
	if (rc != code || err.line != line || strcmp(err.field, field) != 0 ||
	    strcmp(err.file, file) != 0 || !strstr(err.msg, part))
		fail_msg("expected %s:%d: %s: ...%s... (code %d), got \"%s\" "
			 "(code %d)",
			 file, line, field, part, code, buf, rc);
	assert_int_equal(err.code, code);
	assert_null(sc);
	return buf;
}

static const char *load_err(const char *xml, int line, const char *field,
			    const char *part)
{
	static char buf[600];
	return load_err_in(xml, "examples", MV_EINVAL, "t.xml", line, field,
			   part, buf, sizeof buf);
}

/* A scenario around one inline domain body; the domain starts on line 4. */
static char *with_domain(const char *body)
{
	static char buf[8192];
	snprintf(buf, sizeof buf,
		 "<scenario>\n"                                   /* 1 */
		 "  <host><memory unit='GiB'>8</memory></host>\n" /* 2 */
		 "  <vm>\n"                                       /* 3 */
		 "    <domain type='kvm'>\n"                      /* 4 */
		 "%s"                                             /* 5.. */
		 "    </domain>\n"
		 "  </vm>\n"
		 "</scenario>\n",
		 body);
	return buf;
}

/* A scenario with a 1 GiB VM "a" (domain at line 4) and a workload line. */
static char *with_workload(const char *wl)
{
	static char buf[8192];
	snprintf(buf, sizeof buf,
		 "<scenario duration='60s'>\n"                    /* 1 */
		 "  <host><memory unit='GiB'>8</memory></host>\n" /* 2 */
		 "  <vm>\n"                                       /* 3 */
		 "    <domain type='kvm'><name>a</name>"
		 "<memory unit='GiB'>1</memory></domain>\n" /* 4 */
		 "    %s\n"                                 /* 5 */
		 "  </vm>\n"
		 "</scenario>\n",
		 wl);
	return buf;
}

/* A scenario with the given <scenario> attributes and host body. */
static char *with_host(const char *scenario_attrs, const char *host_body)
{
	static char buf[8192];
	snprintf(buf, sizeof buf,
		 "<scenario %s>\n" /* 1 */
		 "  <host>\n"      /* 2 */
		 "%s"              /* 3.. */
		 "  </host>\n"
		 "  <vm><domain><name>a</name><memory>1048576</memory>"
		 "</domain></vm>\n"
		 "</scenario>\n",
		 scenario_attrs, host_body);
	return buf;
}

#define MEM1G "      <name>a</name><memory unit='GiB'>1</memory>\n" /* 5 */

/* ------------------------------------------------------------------ */
/* loading real libvirt domains                                        */
/* ------------------------------------------------------------------ */

static void
test_debian12_dumpxml_file_loads_memory_balloon_and_guest(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory></host>\n"
		"  <vm file='domains/debian12.xml'/>\n"
		"</scenario>\n");
	assert_int_equal(sc->nvms, 1);
	const struct mv_vm_config *vm = &sc->vms[0].vm;
	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_string_equal(vm->name, "debian12");
	assert_int_equal(vm->mem_bytes, 2 * MV_GIB);
	assert_int_equal(vm->current_bytes, 2 * MV_GIB);
	assert_int_equal(vm->limit_bytes, 2 * MV_GIB);
	assert_int_equal(vm->reservation_bytes, 0);
	assert_int_equal(vm->shares, 20480); /* 10 per MiB */
	assert_int_equal(vm->balloon_driver, 1);
	assert_int_equal(vm->stats_period_s, 10);
	assert_int_equal(vm->sharing, 1);
	assert_int_equal(vm->hugepages, 0);
	assert_int_equal(vm->home_node, -1);
	assert_string_equal(vm->source, "examples/domains/debian12.xml");
	assert_int_equal(vm->source_line, 1);
	assert_int_equal(g->flavour, MV_GUEST_LINUX);
	assert_string_equal(g->os_image, "debian-12");
	assert_int_equal(g->os_bytes, 300 * MV_MIB);
	assert_int_equal(g->nworkloads, 0);
	mv_scenario_free(sc);
}

static void test_win2019_dumpxml_file_is_a_windows_guest(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory></host>\n"
		"  <vm file='domains/win2019.xml'/>\n"
		"</scenario>\n");
	const struct mv_vm_config *vm = &sc->vms[0].vm;
	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_string_equal(vm->name, "win2019");
	assert_int_equal(vm->mem_bytes, 2 * MV_GIB);
	assert_int_equal(vm->balloon_driver, 1);
	assert_int_equal(vm->stats_period_s, 10);
	assert_int_equal(g->flavour, MV_GUEST_WINDOWS);
	assert_string_equal(g->os_image, "win2019");
	assert_int_equal(g->os_bytes, 512 * MV_MIB);
	mv_scenario_free(sc);
}

static void
test_scenario_file_resolves_domains_relative_to_its_directory(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load("tests/data/scenario-files.xml", &sc, &err),
	       &err, "mv_scenario_load");
	assert_string_equal(sc->name, "files");
	assert_string_equal(sc->source, "tests/data/scenario-files.xml");
	assert_int_equal(sc->duration_ns, 30 * MV_NS_PER_S);
	assert_string_equal(sc->host.name, "kvm01");
	assert_int_equal(sc->host.mem_bytes, 4 * MV_GIB);
	assert_int_equal(sc->nvms, 2);
	assert_string_equal(sc->vms[0].vm.name, "debian12");
	assert_string_equal(sc->vms[0].vm.source,
			    "tests/data/../../examples/domains/debian12.xml");
	assert_string_equal(sc->vms[1].vm.name, "win2019");
	/* the scenario's workload is the VM's, sourced from the scenario */
	const struct mv_workload_config *w = &sc->vms[0].guest.workload[0];
	assert_int_equal(sc->vms[0].guest.nworkloads, 1);
	assert_string_equal(w->name, "web");
	assert_int_equal(w->size_bytes, 256 * MV_MIB);
	assert_true(w->rate == 20000);
	assert_string_equal(w->source, "tests/data/scenario-files.xml");
	assert_int_equal(w->source_line, 7);
	assert_int_equal(sc->vms[1].guest.nworkloads, 0);
	mv_scenario_free(sc);
}

static void
test_inline_domain_reads_memtune_backing_numatune_balloon(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory><numa "
		"nodes='4'/></host>\n"
		"  <vm>\n"
		"    <domain type='kvm'>\n"
		"      <name>db</name>\n"
		"      <memory unit='GiB'>4</memory>\n"
		"      <currentMemory unit='GiB'>3</currentMemory>\n"
		"      <memtune>\n"
		"        <hard_limit unit='MiB'>3584</hard_limit>\n"
		"        <soft_limit unit='GiB'>3</soft_limit>\n"
		"        <swap_hard_limit unit='GiB'>6</swap_hard_limit>\n"
		"        <min_guarantee unit='KiB'>1048576</min_guarantee>\n"
		"      </memtune>\n"
		"      <memoryBacking><hugepages/><nosharepages/>"
		"</memoryBacking>\n"
		"      <numatune><memory mode='strict' nodeset='2-3'/>"
		"</numatune>\n"
		"      <devices><disk type='file'/>"
		"<memballoon model='none'/></devices>\n"
		"    </domain>\n"
		"  </vm>\n"
		"</scenario>\n");
	const struct mv_vm_config *vm = &sc->vms[0].vm;
	assert_string_equal(vm->name, "db");
	assert_int_equal(vm->mem_bytes, 4 * MV_GIB);
	assert_int_equal(vm->current_bytes, 3 * MV_GIB);
	assert_int_equal(vm->limit_bytes, 3584 * MV_MIB);
	assert_int_equal(vm->reservation_bytes, MV_GIB);
	assert_int_equal(vm->hugepages, 1);
	assert_int_equal(vm->sharing, 0);
	assert_int_equal(vm->home_node, 2);
	assert_int_equal(vm->balloon_driver, 0);
	assert_int_equal(vm->stats_period_s, 0);
	assert_string_equal(vm->source, "t.xml");
	assert_int_equal(vm->source_line, 4);
	assert_int_equal(sc->host.nodes, 4);
	mv_scenario_free(sc);
}

static void test_libvirt_unlimited_hard_limit_means_no_limit(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memtune><hard_limit unit='KiB'>9007199254740991"
		      "</hard_limit></memtune>\n"));
	assert_int_equal(sc->vms[0].vm.limit_bytes, MV_GIB);
	mv_scenario_free(sc);
}

static void test_count_makes_numbered_clones_with_the_same_config(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>16</memory></host>\n"
		"  <vm count='3' file='domains/debian12.xml'>\n"
		"    <workload size='64MiB'/>\n"
		"  </vm>\n"
		"  <vm count='1'><domain><name>solo</name>"
		"<memory>1048576</memory></domain></vm>\n"
		"</scenario>\n");
	assert_int_equal(sc->nvms, 4);
	assert_string_equal(sc->vms[0].vm.name, "debian12-1");
	assert_string_equal(sc->vms[1].vm.name, "debian12-2");
	assert_string_equal(sc->vms[2].vm.name, "debian12-3");
	assert_string_equal(sc->vms[3].vm.name, "solo"); /* count 1: as is */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sc->vms[i].vm.mem_bytes, 2 * MV_GIB);
		assert_int_equal(sc->vms[i].guest.nworkloads, 1);
		assert_int_equal(sc->vms[i].guest.workload[0].size_bytes,
				 64 * MV_MIB);
		assert_string_equal(sc->vms[i].guest.os_image, "debian-12");
	}
	mv_scenario_free(sc);
}

static void test_metadata_is_matched_by_namespace_uri_not_prefix(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G
		"      <metadata>\n"
		"        <mv:memvisor xmlns:mv='urn:example:not-memvisor'>\n"
		"          <mv:shares>1</mv:shares>\n"
		"        </mv:memvisor>\n"
		"        <sim:memvisor xmlns:sim='urn:memvisor:domain:1'>\n"
		"          <sim:shares>high</sim:shares>\n"
		"          <sim:guest os='windows' swap='2GiB'/>\n"
		"          <sim:workload name='w' size='16MiB'/>\n"
		"        </sim:memvisor>\n"
		"      </metadata>\n"));
	const struct mv_vm_spec *v = &sc->vms[0];
	assert_int_equal(v->vm.shares, 20 * 1024); /* high: 20 per MiB */
	assert_int_equal(v->guest.flavour, MV_GUEST_WINDOWS);
	assert_string_equal(v->guest.os_image, "windows-generic");
	assert_int_equal(v->guest.swap_bytes, 2 * MV_GIB);
	assert_int_equal(v->guest.nworkloads, 1);
	assert_string_equal(v->guest.workload[0].name, "w");
	assert_int_equal(v->guest.workload[0].source_line, 13);
	mv_scenario_free(sc);
}

static void test_default_namespace_metadata_is_found_too(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <metadata><memvisor xmlns='urn:memvisor:domain:1'>"
		      "<shares>1234</shares></memvisor></metadata>\n"));
	assert_int_equal(sc->vms[0].vm.shares, 1234);
	mv_scenario_free(sc);
}

static void test_shares_low_normal_high_scale_with_memory(void **state)
{
	(void)state;
	const char *names[] = {"low", "normal", "high"};
	const uint64_t per_mib[] = {5, 10, 20};
	for (int i = 0; i < 3; i++) {
		char body[512];
		snprintf(
			body, sizeof body,
			"<name>a</name><memory unit='MiB'>512</memory>"
			"<metadata><m:memvisor xmlns:m='urn:memvisor:domain:1'>"
			"<m:shares>%s</m:shares></m:memvisor></metadata>\n",
			names[i]);
		struct mv_scenario *sc = load_ok(with_domain(body));
		assert_int_equal(sc->vms[0].vm.shares, per_mib[i] * 512);
		mv_scenario_free(sc);
	}
}

static void test_metadata_and_scenario_workloads_are_concatenated(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory></host>\n"
		"  <vm>\n"
		"    <workload name='late' size='8MiB'/>\n"
		"    <domain><name>a</name><memory unit='GiB'>1</memory>\n"
		"      <metadata><mv:memvisor "
		"xmlns:mv='urn:memvisor:domain:1'>\n"
		"        <mv:workload size='4MiB'/>\n"
		"      </mv:memvisor></metadata>\n"
		"    </domain>\n"
		"    <workload size='12MiB' kind='idle'/>\n"
		"  </vm>\n"
		"</scenario>\n");
	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_int_equal(g->nworkloads, 3);
	/* metadata first, then the scenario's in document order */
	assert_int_equal(g->workload[0].size_bytes, 4 * MV_MIB);
	assert_string_equal(g->workload[0].name, "workload-1");
	assert_int_equal(g->workload[0].source_line, 7);
	assert_string_equal(g->workload[1].name, "late");
	assert_int_equal(g->workload[1].source_line, 4);
	assert_string_equal(g->workload[2].name, "workload-3");
	assert_int_equal(g->workload[2].kind, MV_WL_IDLE);
	mv_scenario_free(sc);
}

/* ------------------------------------------------------------------ */
/* defaults                                                            */
/* ------------------------------------------------------------------ */

static void test_defaults_are_applied_to_everything_not_given(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory>4194304</memory></host>\n"
		"  <vm><domain><name>a</name><memory>2097152</memory>"
		"</domain><workload size='1MiB'/></vm>\n"
		"</scenario>\n");
	assert_string_equal(sc->name, "t");
	assert_int_equal(sc->seed, 1);
	assert_int_equal(sc->duration_ns, 60 * MV_NS_PER_S);
	assert_int_equal(sc->step_ns, 10 * MV_NS_PER_MS);
	assert_int_equal(sc->stats_interval_ns, 10 * MV_NS_PER_S);
	assert_int_equal(sc->active_window_ns, 60 * MV_NS_PER_S);

	const struct mv_host_config *h = &sc->host;
	assert_string_equal(h->name, "host");
	assert_int_equal(h->mem_bytes, 4 * MV_GIB); /* KiB by default */
	assert_int_equal(h->nodes, 1);
	assert_true(h->thresholds.high == 0.06 && h->thresholds.soft == 0.04 &&
		    h->thresholds.hard == 0.02 && h->thresholds.low == 0.01);
	assert_int_equal(h->lat.zero_fill, 2000);
	assert_int_equal(h->lat.cow, 3000);
	assert_int_equal(h->lat.decompress, 12000);
	assert_int_equal(h->lat.swapin_ssd, 120000);
	assert_int_equal(h->lat.swapin_hdd, 8000000);
	assert_int_equal(h->lat.guest_major, 150000);
	assert_int_equal(h->lat.remote_numa, 1000);
	assert_int_equal(h->swap_device, MV_SWAP_SSD);

	const struct mv_vm_config *vm = &sc->vms[0].vm;
	assert_int_equal(vm->mem_bytes, 2 * MV_GIB);
	assert_int_equal(vm->current_bytes, 2 * MV_GIB);
	assert_int_equal(vm->limit_bytes, 2 * MV_GIB);
	assert_int_equal(vm->reservation_bytes, 0);
	assert_int_equal(vm->shares, 20480);
	assert_int_equal(vm->balloon_driver, 1); /* no <memballoon>: virtio */
	assert_int_equal(vm->stats_period_s, 0);
	assert_int_equal(vm->sharing, 1);
	assert_int_equal(vm->hugepages, 0);
	assert_int_equal(vm->home_node, -1);

	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_int_equal(g->flavour, MV_GUEST_LINUX);
	assert_string_equal(g->os_image, "linux-generic");
	assert_int_equal(g->os_bytes, 256 * MV_MIB);
	assert_true(g->os_rate == 2000);
	assert_int_equal(g->swap_bytes, MV_GIB);
	assert_true(g->zero_rate == 25600);
	assert_int_equal(g->boot_structures, 0); /* opt-in: ballooning.md */

	const struct mv_workload_config *w = &g->workload[0];
	assert_string_equal(w->name, "workload-1");
	assert_int_equal(w->kind, MV_WL_STEADY);
	assert_int_equal(w->dist, MV_DIST_UNIFORM);
	assert_true(w->zipf_s == 0.99);
	assert_int_equal(w->size_bytes, MV_MIB);
	assert_true(w->rate == 10000);
	assert_true(w->write_ratio == 0.2);
	assert_int_equal(w->content, MV_CONTENT_DATA);
	assert_true(w->compressibility == 0.5);
	assert_int_equal(w->start_ns, 0);
	assert_int_equal(w->stop_ns, 0);
	assert_true(w->cpu == 0); /* the zero page thread runs at its rate */
	assert_int_equal(w->phase_ns, 60 * MV_NS_PER_S);
	assert_int_equal(w->region_bytes, 0);
	assert_true(w->leak_bytes_per_s == 0);
	assert_int_equal(w->leak_max_bytes, 0);
	mv_scenario_free(sc);
}

static void test_idle_workload_defaults_to_ten_accesses_per_second(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_workload("<workload kind='idle' size='1MiB'/>"));
	assert_true(sc->vms[0].guest.workload[0].rate == 10);
	mv_scenario_free(sc);
	sc = load_ok(
		with_workload("<workload kind='idle' size='1MiB' rate='5'/>"));
	assert_true(sc->vms[0].guest.workload[0].rate == 5);
	mv_scenario_free(sc);
}

static void test_default_os_image_is_at_most_a_quarter_of_the_vm(void **state)
{
	(void)state;
	/* 512 MiB VM: default 256 MiB image clamped to 128 MiB */
	struct mv_scenario *sc = load_ok(
		with_domain("<name>a</name><memory unit='MiB'>512</memory>\n"));
	assert_int_equal(sc->vms[0].guest.os_bytes, 128 * MV_MIB);
	mv_scenario_free(sc);
	/* an explicit image-size is taken as given */
	sc = load_ok(with_domain(
		"<name>a</name><memory unit='MiB'>512</memory>"
		"<metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		"<mv:guest image-size='300MiB'/></mv:memvisor></metadata>\n"));
	assert_int_equal(sc->vms[0].guest.os_bytes, 300 * MV_MIB);
	mv_scenario_free(sc);
}

static void
test_config_defaults_functions_match_the_documented_values(void **state)
{
	(void)state;
	struct mv_host_config h;
	mv_host_config_default(&h);
	assert_int_equal(h.mem_bytes, 0);
	assert_int_equal(h.nodes, 1);
	struct mv_vm_config vm;
	mv_vm_config_default(&vm, "x", 100 * MV_MIB);
	assert_string_equal(vm.name, "x");
	assert_int_equal(vm.shares, 1000);
	assert_int_equal(vm.limit_bytes, 100 * MV_MIB);
	assert_int_equal(mv_vm_config_check(&vm, NULL), 0);
	struct mv_workload_config w;
	mv_workload_config_default(&w);
	assert_int_equal(w.size_bytes, 0);
	struct mv_scenario s;
	mv_scenario_default(&s);
	assert_int_equal(s.nvms, 0);
	assert_null(s.vms);
	assert_int_equal(s.host.mem_bytes, 0);
	mv_scenario_free(NULL); /* allowed */
}

/* ------------------------------------------------------------------ */
/* attributes are read                                                 */
/* ------------------------------------------------------------------ */

static void test_scenario_and_host_settings_are_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_host(
		"name='overcommit' seed='42' duration='5m' step='20ms' "
		"stats-interval='5s' active-window='30s'",
		"    <memory unit='GiB'>8</memory>\n"
		"    <numa nodes='2'/>\n"
		"    <thresholds high='8%' soft='0.05' hard='3%' low='1.5%'/>\n"
		"    <latency zero-fill='1us' cow='4us' decompress='10us' "
		"swap-in-ssd='100us' swap-in-hdd='10ms' guest-major='200us' "
		"remote-numa='500ns'/>\n"
		"    <swap device='hdd'/>\n"));
	assert_string_equal(sc->name, "overcommit");
	assert_int_equal(sc->seed, 42);
	assert_int_equal(sc->duration_ns, 300 * MV_NS_PER_S);
	assert_int_equal(sc->step_ns, 20 * MV_NS_PER_MS);
	assert_int_equal(sc->stats_interval_ns, 5 * MV_NS_PER_S);
	assert_int_equal(sc->active_window_ns, 30 * MV_NS_PER_S);
	assert_int_equal(sc->host.mem_bytes, 8 * MV_GIB);
	assert_int_equal(sc->host.nodes, 2);
	assert_true(sc->host.thresholds.high == 0.08);
	assert_true(sc->host.thresholds.soft == 0.05);
	assert_true(sc->host.thresholds.hard == 0.03);
	assert_true(sc->host.thresholds.low == 0.015);
	assert_int_equal(sc->host.lat.zero_fill, 1000);
	assert_int_equal(sc->host.lat.cow, 4000);
	assert_int_equal(sc->host.lat.decompress, 10000);
	assert_int_equal(sc->host.lat.swapin_ssd, 100000);
	assert_int_equal(sc->host.lat.swapin_hdd, 10000000);
	assert_int_equal(sc->host.lat.guest_major, 200000);
	assert_int_equal(sc->host.lat.remote_numa, 500);
	assert_int_equal(sc->host.swap_device, MV_SWAP_HDD);
	mv_scenario_free(sc);
}

static void test_memstate_model_and_idle_tax_are_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_host("", "    <memory unit='GiB'>8</memory>\n"
			      "    <memstate model='vsphere6'/>\n"
			      "    <idle-tax rate='30%'/>\n"));
	assert_int_equal(sc->reclaim.memstate_model, MV_MEMSTATE_VSPHERE6);
	assert_true(sc->reclaim.idle_tax == 0.30);
	mv_scenario_free(sc);
	/* defaults: ESX 4.1 thresholds, ESX's 75% tax */
	sc = load_ok(with_host("", "    <memory unit='GiB'>8</memory>\n"
				   "    <idle-tax rate='0'/>\n"));
	assert_int_equal(sc->reclaim.memstate_model, MV_MEMSTATE_ESX41);
	assert_true(sc->reclaim.idle_tax == 0);
	mv_scenario_free(sc);
	sc = load_ok(with_host("", "    <memory unit='GiB'>8</memory>\n"));
	assert_true(sc->reclaim.idle_tax == 0.75);
	mv_scenario_free(sc);
}

static void test_bad_memstate_and_idle_tax_are_rejected(void **state)
{
	(void)state;
	const char *mem = "    <memory unit='GiB'>8</memory>\n";
	char body[512];
	snprintf(body, sizeof body, "%s    <memstate model='esx5'/>\n", mem);
	load_err(with_host("", body), 4, "memstate/model",
		 "unknown model 'esx5' (esx41, vsphere5, vsphere6)");
	snprintf(body, sizeof body, "%s    <memstate/>\n", mem);
	load_err(with_host("", body), 4, "memstate/model", "is required");
	snprintf(body, sizeof body, "%s    <memstate model='esx41' max='1'/>\n",
		 mem);
	load_err(with_host("", body), 4, "memstate", "unknown attribute 'max'");
	snprintf(body, sizeof body, "%s    <idle-tax rate='100%%'/>\n", mem);
	load_err(with_host("", body), 4, "idle-tax/rate", "above 99%");
	snprintf(body, sizeof body, "%s    <idle-tax rate='high'/>\n", mem);
	load_err(with_host("", body), 4, "idle-tax/rate", "is not a fraction");
	snprintf(body, sizeof body, "%s    <idle-tax/>\n", mem);
	load_err(with_host("", body), 4, "idle-tax/rate", "is required");
	snprintf(body, sizeof body,
		 "%s    <idle-tax rate='10%%'/>\n    <idle-tax rate='20%%'/>\n",
		 mem);
	load_err(with_host("", body), 5, "host/idle-tax", "");
	/* thresholds are the ESX 4.1 model's; the others derive them */
	snprintf(body, sizeof body,
		 "%s    <thresholds high='8%%'/>\n"
		 "    <memstate model='vsphere5'/>\n",
		 mem);
	load_err(with_host("", body), 4, "host/thresholds",
		 "only with <memstate model=\"esx41\"/>: vsphere5");
}

/* <idle-tax><change at rate/>: the tax set on the running host, in time
 * order, and the tax in force at each moment */
static void test_idle_tax_changes_are_read_in_time_order(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_host(
		"duration='1h'", "    <memory unit='GiB'>8</memory>\n"
				 "    <idle-tax rate='0%'>\n"
				 "      <change at='30m' rate='75%'/>\n"
				 "      <change at='40m' rate='10%'/>\n"
				 "    </idle-tax>\n"));
	const struct mv_reclaim_config *r = &sc->reclaim;
	assert_int_equal(r->ntax_changes, 2);
	assert_true(r->tax_change[0].at_ns == 1800 * MV_NS_PER_S);
	assert_true(r->tax_change[1].rate == 0.10);
	assert_true(mv_reclaim_idle_tax_at(r, 0) == 0);
	assert_true(mv_reclaim_idle_tax_at(r, 1800 * MV_NS_PER_S - 1) == 0);
	assert_true(mv_reclaim_idle_tax_at(r, 1800 * MV_NS_PER_S) == 0.75);
	assert_true(mv_reclaim_idle_tax_at(r, 2400 * MV_NS_PER_S) == 0.10);
	mv_scenario_free(sc);
}

static void test_bad_idle_tax_changes_are_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *change; /* the <change> elements, on line 5 */
		int line;
		const char *field, *part;
	} bad[] = {
		{"<change rate='75%'/>", 5, "change/at", "is required"},
		{"<change at='30s'/>", 5, "change/rate", "is required"},
		{"<change at='0s' rate='75%'/>", 5, "change/at",
		 "'0s' is not a positive duration"},
		{"<change at='soon' rate='75%'/>", 5, "change/at",
		 "'soon' is not a positive duration"},
		{"<change at='60s' rate='75%'/>", 5, "change/at",
		 "'60s' is not before the end of the run "
		 "(scenario/duration 1m)"},
		{"<change at='30s' rate='100%'/>", 5, "change/rate",
		 "above 99%"},
		{"<change at='30s' rate='lots'/>", 5, "change/rate",
		 "'lots' is not a fraction"},
		{"<change at='30s' rate='75%' why='x'/>", 5, "change",
		 "unknown attribute 'why'"},
		{"<set at='30s' rate='75%'/>", 5, "idle-tax", "<set>"},
		{"<change at='30s' rate='75%'/>\n<change at='30s' rate='5%'/>",
		 6, "change/at", "'30s' is not after the change before it"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[512];
		snprintf(body, sizeof body,
			 "    <memory unit='GiB'>8</memory>\n" /* 3 */
			 "    <idle-tax rate='0%%'>\n"         /* 4 */
			 "%s\n"                                /* 5.. */
			 "    </idle-tax>\n",
			 bad[i].change);
		load_err(with_host("duration='60s'", body), bad[i].line,
			 bad[i].field, bad[i].part);
	}
}

static void test_sampling_size_and_period_are_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_host("", "    <memory unit='GiB'>8</memory>\n"
			      "    <sampling pages='250' period='1m'/>\n"));
	assert_int_equal(sc->sampling.pages, 250);
	assert_int_equal(sc->sampling.period_ns, 60 * MV_NS_PER_S);
	mv_scenario_free(sc);
	/* ESX's defaults (Waldspurger 2002): 100 pages per 30 s */
	sc = load_ok(with_host("", "    <memory unit='GiB'>8</memory>\n"
				   "    <sampling period='45s'/>\n"));
	assert_int_equal(sc->sampling.pages, 100);
	assert_int_equal(sc->sampling.period_ns, 45 * MV_NS_PER_S);
	mv_scenario_free(sc);
	sc = load_ok(with_host("", "    <memory unit='GiB'>8</memory>\n"));
	assert_int_equal(sc->sampling.pages, 100);
	assert_int_equal(sc->sampling.period_ns, 30 * MV_NS_PER_S);
	mv_scenario_free(sc);
}

static void test_bad_sampling_is_rejected(void **state)
{
	(void)state;
	const char *mem = "    <memory unit='GiB'>8</memory>\n";
	char body[512];
	snprintf(body, sizeof body, "%s    <sampling pages='0'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/pages",
		 "'0' is not a page count from 1 to 1000000");
	snprintf(body, sizeof body, "%s    <sampling pages='many'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/pages", "'many'");
	snprintf(body, sizeof body, "%s    <sampling period='soon'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/period", "soon");
	snprintf(body, sizeof body, "%s    <sampling period='5ms'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/period",
		 "must be at least one step (10ms)");
	snprintf(body, sizeof body,
		 "%s    <sampling period='5s' phase='6s'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/phase",
		 "must be from one step (10ms) to the period");
	snprintf(body, sizeof body, "%s    <sampling phase='5ms'/>\n", mem);
	load_err(with_host("", body), 4, "sampling/phase",
		 "must be from one step (10ms) to the period");
	snprintf(body, sizeof body, "%s    <sampling size='5'/>\n", mem);
	load_err(with_host("", body), 4, "sampling",
		 "unknown attribute 'size'");
	snprintf(body, sizeof body,
		 "%s    <sampling pages='5'/>\n    <sampling pages='6'/>\n",
		 mem);
	load_err(with_host("", body), 5, "host/sampling", "");
}

static void test_every_workload_attribute_is_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_workload(
		"<workload name='db' kind='phased' dist='zipf' zipf-s='1.2' "
		"size='512MiB' rate='50k' write-ratio='30%' content='app' "
		"app='postgres' compressibility='0.6' start='10s' stop='50s' "
		"phase='20s' region='2GiB' leak='1MiB' leak-max='1GiB' "
		"cpu='25%'/>"));
	const struct mv_workload_config *w = &sc->vms[0].guest.workload[0];
	assert_string_equal(w->name, "db");
	assert_int_equal(w->kind, MV_WL_PHASED);
	assert_int_equal(w->dist, MV_DIST_ZIPF);
	assert_true(w->zipf_s == 1.2);
	assert_int_equal(w->size_bytes, 512 * MV_MIB);
	assert_true(w->rate == 50000);
	assert_true(w->write_ratio == 0.3);
	assert_int_equal(w->content, MV_CONTENT_APP);
	assert_string_equal(w->content_name, "postgres");
	assert_true(w->compressibility == 0.6);
	assert_int_equal(w->start_ns, 10 * MV_NS_PER_S);
	assert_int_equal(w->stop_ns, 50 * MV_NS_PER_S);
	assert_int_equal(w->phase_ns, 20 * MV_NS_PER_S);
	assert_int_equal(w->region_bytes, 2 * MV_GIB);
	assert_true(w->leak_bytes_per_s == (double)MV_MIB);
	assert_true(w->cpu == 0.25);
	assert_int_equal(w->leak_max_bytes, MV_GIB);
	assert_string_equal(w->source, "t.xml");
	assert_int_equal(w->source_line, 5);
	mv_scenario_free(sc);

	sc = load_ok(with_workload(
		"<workload kind='leak' size='8 MiB' leak='64KiB/s'/>"));
	assert_true(sc->vms[0].guest.workload[0].leak_bytes_per_s == 65536);
	assert_int_equal(sc->vms[0].guest.workload[0].size_bytes, 8 * MV_MIB);
	mv_scenario_free(sc);
}

static void test_guest_attributes_are_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <metadata><mv:memvisor "
		      "xmlns:mv='urn:memvisor:domain:1'><mv:guest os='linux' "
		      "image='rhel-9' image-size='200MiB' os-rate='3k' "
		      "swap='512MiB' zero-rate='1000' boot-structures='yes' "
		      "boot-freed='34MiB'/>"
		      "</mv:memvisor></metadata>\n"));
	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_int_equal(g->boot_structures, 1);
	assert_int_equal(g->boot_freed_bytes, 34 * MV_MIB);
	assert_string_equal(g->os_image, "rhel-9");
	assert_int_equal(g->os_bytes, 200 * MV_MIB);
	assert_true(g->os_rate == 3000);
	assert_int_equal(g->swap_bytes, 512 * MV_MIB);
	assert_true(g->zero_rate == 1000);
	mv_scenario_free(sc);
}

static void test_mmu_mode_pages_tags_and_hugepages_are_read(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memoryBacking><hugepages/></memoryBacking>\n"
		      "      <metadata><mv:memvisor "
		      "xmlns:mv='urn:memvisor:domain:1'><mv:mmu mode='shadow' "
		      "pages='2m' tagged='no' l2-4k='2048x16' pwc='4,8,64' "
		      "lat-exit='1200' cpu-mhz='2400'/></mv:memvisor>"
		      "</metadata>\n"));
	const struct mv_guest_config *g = &sc->vms[0].guest;
	assert_int_equal(g->mmu, 1);
	assert_int_equal(g->mmu_cfg.mode, MV_MMU_SHADOW);
	assert_int_equal(g->mmu_cfg.guest_2m, 1);
	assert_int_equal(g->mmu_cfg.host_2m, 1); /* from <hugepages/> */
	assert_int_equal(g->mmu_cfg.tagged, 0);
	assert_int_equal(g->mmu_cfg.tlb[MV_TLB_L2][MV_PG_4K].sets, 128);
	assert_int_equal(g->mmu_cfg.tlb[MV_TLB_L2][MV_PG_4K].ways, 16);
	assert_int_equal(g->mmu_cfg.pwc[2], 64);
	assert_int_equal(g->mmu_cfg.npwc[2], 32);
	assert_int_equal(g->mmu_cfg.lat_exit, 1200);
	assert_int_equal(g->mmu_cfg.cpu_mhz, 2400);
	/* the rest are the Skylake-SP defaults */
	assert_int_equal(g->mmu_cfg.tlb[MV_TLB_L2][MV_PG_2M].sets, 128);
	assert_int_equal(g->mmu_cfg.tlb[MV_TLB_L2][MV_PG_2M].ways, 12);
	assert_int_equal(g->mmu_cfg.lat_walk_ref, 20);
	mv_scenario_free(sc);

	sc = load_ok(with_domain(MEM1G));
	assert_int_equal(sc->vms[0].guest.mmu, 0); /* no <mv:mmu>: none */
	mv_scenario_free(sc);
}

static void test_bad_mmu_is_rejected(void **state)
{
	(void)state;
#define MMU(x)                                                                 \
	MEM1G "      <metadata><mv:memvisor "                                  \
	      "xmlns:mv='urn:memvisor:domain:1'>" x                            \
	      "</mv:memvisor></metadata>\n"
	load_err(with_domain(MMU("<mv:mmu/>")), 6, "mmu/mode", "missing");
	load_err(with_domain(MMU("<mv:mmu mode='ept'/>")), 6, "mmu/mode",
		 "unknown mode 'ept'");
	load_err(with_domain(MMU("<mv:mmu mode='nested' pages='1g'/>")), 6,
		 "mmu/pages", "'1g' is not a page size");
	load_err(with_domain(MMU("<mv:mmu mode='nested' tagged='maybe'/>")), 6,
		 "mmu/tagged", "not yes or no");
	load_err(with_domain(MMU("<mv:mmu mode='nested' tlb='big'/>")), 6,
		 "mmu", "tlb");
	load_err(with_domain(MMU("<mv:mmu mode='nested' l2-4k='1000x3'/>")), 6,
		 "mmu/l2-4k", "not ENTRIESxWAYS");
	load_err(with_domain(MMU("<mv:mmu mode='nested' lat-exit='fast'/>")), 6,
		 "mmu/lat-exit", "not a whole number");
	load_err(with_domain(
			 MMU("<mv:mmu mode='nested'/><mv:mmu mode='shadow'/>")),
		 6, "mmu", "");
#undef MMU
}

/* ------------------------------------------------------------------ */
/* units                                                               */
/* ------------------------------------------------------------------ */

static void test_domain_memory_units_follow_libvirt(void **state)
{
	(void)state;
	/* bare number: KiB */
	struct mv_scenario *sc = load_ok(
		with_domain("<name>a</name><memory>1048576</memory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, MV_GIB);
	mv_scenario_free(sc);
	sc = load_ok(
		with_domain("<name>a</name><memory unit='GiB'>3</memory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, 3 * MV_GIB);
	mv_scenario_free(sc);
	sc = load_ok(
		with_domain("<name>a</name><memory unit='M'>1536</memory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, 1536 * MV_MIB);
	mv_scenario_free(sc);
	/* MB is 10^6: 4096 MB is a whole number of pages ... */
	sc = load_ok(
		with_domain("<name>a</name><memory unit='MB'>4096</memory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, 4096000000ull);
	mv_scenario_free(sc);
}

/* The warning recorded under key, or NULL. */
static const struct mv_warning *warning(const struct mv_scenario *sc,
					const char *key)
{
	for (int i = 0; i < sc->nwarnings; i++)
		if (strcmp(sc->warnings[i].key, key) == 0)
			return &sc->warnings[i];
	return NULL;
}

/* <locked/> and <hugepages/> are modelled: memory the hypervisor never
 * swaps or compresses; hugetlbfs pages are not shared either. */
static void test_locked_and_hugepages_keep_memory_in_host_ram(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memoryBacking><locked/></memoryBacking>\n"));
	assert_int_equal(sc->vms[0].vm.locked, 1);
	assert_int_equal(sc->vms[0].vm.sharing, 1); /* KSM merges mlocked */
	assert_int_equal(sc->vms[0].vm.hugepages, 0);
	assert_null(warning(sc, "memoryBacking/locked"));
	mv_scenario_free(sc);
	sc = load_ok(with_domain(
		MEM1G "      <memoryBacking><hugepages/></memoryBacking>\n"));
	assert_int_equal(sc->vms[0].vm.locked, 1);
	assert_int_equal(sc->vms[0].vm.sharing, 0);
	assert_int_equal(sc->vms[0].vm.hugepages, 1);
	mv_scenario_free(sc);
	sc = load_ok(with_domain(MEM1G));
	assert_int_equal(sc->vms[0].vm.locked, 0);
	assert_int_equal(sc->vms[0].vm.sharing, 1);
	mv_scenario_free(sc);
}

/* Settings read but not modelled are said, once each, with file:line. */
static void test_settings_not_modelled_are_warned_once(void **state)
{
	(void)state;
	const char *xml =
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory></host>\n"
		"  <vm count='3'>\n"
		"    <domain><name>a</name><memory unit='GiB'>1</memory>\n"
		"      <memtune><soft_limit unit='MiB'>512</soft_limit>"
		"</memtune>\n"
		"      <devices><memballoon model='virtio' autodeflate='on' "
		"freePageReporting='on'/></devices>\n"
		"    </domain>\n"
		"    <workload size='64MiB'/>\n"
		"  </vm>\n"
		"  <vm><domain><name>b</name><memory unit='GiB'>1</memory>\n"
		"      <devices><memballoon model='virtio' autodeflate='off'/>"
		"</devices></domain>\n"
		"    <workload size='64MiB'/>\n"
		"  </vm>\n"
		"</scenario>\n";
	struct mv_scenario *sc = load_ok(xml);
	/* freePageReporting is modelled now (docs/ballooning.md): no
	 * warning; soft_limit is, under <host preset="kvm"> only */
	assert_int_equal(sc->nwarnings, 2);
	const struct mv_warning *w = warning(sc, "memtune/soft_limit");
	assert_non_null(w);
	assert_string_equal(w->text,
			    "t.xml:5: <memtune><soft_limit> is read but not "
			    "modelled; see docs/scenario.md, \"The libvirt "
			    "domain\"");
	assert_int_equal(w->more, 0); /* the clones share one element */
	w = warning(sc, "memballoon/autodeflate");
	assert_non_null(w);
	assert_non_null(strstr(w->text, "t.xml:6: <memballoon "
					"autodeflate='on'> is read but not "
					"modelled"));
	assert_null(warning(sc, "memballoon/freePageReporting"));
	assert_int_equal(sc->vms[0].guest.free_page_reporting, 1);
	assert_null(warning(sc, "no-workload"));
	/* printed once each, through the one helper */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	mv_scenario_print_warnings(sc, f);
	fclose(f);
	assert_non_null(strstr(buf, "memvisor: warning: t.xml:5: "
				    "<memtune><soft_limit>"));
	int lines = 0;
	for (const char *p = buf; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	free(buf);
	mv_scenario_free(sc);
}

/* Plain `virsh dumpxml` VMs without a workload: one warning naming them. */
static void test_vms_without_a_workload_are_named_in_one_warning(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario>\n"
		"  <host><memory unit='GiB'>8</memory></host>\n"
		"  <vm><domain><name>web</name><memory unit='GiB'>1</memory>"
		"</domain></vm>\n"
		"  <vm><domain><name>db</name><memory unit='GiB'>1</memory>"
		"</domain></vm>\n"
		"  <vm><domain><name>busy</name><memory unit='GiB'>1</memory>"
		"</domain><workload size='64MiB'/></vm>\n"
		"</scenario>\n");
	assert_int_equal(sc->nwarnings, 1);
	const struct mv_warning *w = warning(sc, "no-workload");
	assert_non_null(w);
	assert_string_equal(w->text,
			    "t.xml: 2 VMs without a workload (web, db) only "
			    "boot and stay idle, so the host looks calm; give "
			    "them a <workload> from measured figures: see "
			    "docs/scenario.md, \"From measurements to "
			    "workloads\"");
	mv_scenario_free(sc);
}

/*
 * A VM description where a scenario is expected says so and shows the
 * wrapper, which loads. Before: "Start tag expected" for a .vmx, "root
 * element is <domain>" for a domain.
 */
static void check_wrap_hint(const char *path, const char *what)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_scenario_load(path, &sc, &err), MV_EINVAL);
	assert_null(sc);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.field, "scenario");
	if (!strstr(err.msg, what) || !strstr(err.msg, "not a memvisor "
						       "scenario; wrap it: "))
		fail_msg("unexpected message: %s", err.msg);
	/* the suggested scenario, next to the file, loads */
	const char *wrap = strstr(err.msg, "wrap it: ") + strlen("wrap it: ");
	struct mv_error e2 = {0};
	mvt_ok(mv_scenario_load_string(wrap, "wrap.xml", "examples/domains",
				       &sc, &e2),
	       &e2, "the suggested wrapper");
	assert_int_equal(sc->nvms, 1);
	mv_scenario_free(sc);
}

static void test_vm_file_given_as_scenario_shows_how_to_wrap_it(void **state)
{
	(void)state;
	check_wrap_hint("examples/domains/esx-db.vmx", "a VMware .vmx file");
	check_wrap_hint("examples/domains/debian12.xml", "a libvirt domain");
	/* a .vmx by its content, whatever its name */
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_scenario_load_string("# VMware\n.encoding = "
						 "\"UTF-8\"\nmemsize = \"4\"\n",
						 "vm.cfg", "", &sc, &err),
			 MV_EINVAL);
	assert_non_null(strstr(err.msg, "a VMware .vmx file"));
	assert_non_null(strstr(err.msg, "<vm file='vm.cfg'/>"));
}

/* libvirt's hugepages-numa-default.xml: 1572863 KiB. QEMU aligns guest
 * RAM up to whole pages; so does memvisor (docs/scenario.md). */
static void test_memory_that_is_not_whole_pages_is_aligned_up(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_domain("      <name>a</name>\n"
			    "      <memory unit='KiB'>1572863</memory>\n"
			    "      <currentMemory unit='KiB'>1572862"
			    "</currentMemory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, 1572864ull * MV_KIB);
	assert_int_equal(sc->vms[0].vm.current_bytes, 1572864ull * MV_KIB);
	mv_scenario_free(sc);
	/* 1000 MB = 10^9 bytes: 244140.625 pages -> 244141 */
	sc = load_ok(with_domain("      <name>a</name>\n"
				 "      <memory unit='MB'>1000</memory>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, 244141ull * MV_PAGE_SIZE);
	mv_scenario_free(sc);
}

/* Every spelling libvirt's virScaleInteger takes, any case. */
static void test_lower_case_and_long_unit_names_load(void **state)
{
	(void)state;
	static const struct {
		const char *unit, *value;
		uint64_t bytes;
	} cases[] = {
		{"kib", "1048576", MV_GIB},
		{"KIB", "1048576", MV_GIB},
		{"k", "1048576", MV_GIB},
		{"mib", "1024", MV_GIB},
		{"gb", "1", 1000000000ull + 1536},
		{"byte", "1073741824", MV_GIB},
		{"bytes", "1073741824", MV_GIB},
		{"G", "1", MV_GIB},
		{"TiB", "1", 1024 * MV_GIB},
		{"tb", "1", 1000000000000ull},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[256];
		snprintf(body, sizeof body,
			 "      <name>a</name>\n"
			 "      <memory unit='%s'>%s</memory>\n",
			 cases[i].unit, cases[i].value);
		struct mv_scenario *sc = load_ok(with_domain(body));
		if (sc->vms[0].vm.mem_bytes != cases[i].bytes)
			fail_msg("unit '%s': %llu bytes", cases[i].unit,
				 (unsigned long long)sc->vms[0].vm.mem_bytes);
		mv_scenario_free(sc);
	}
	/* P, PiB, EiB: units libvirt takes, sizes above any host */
	struct mv_scenario *sc = load_ok(
		with_domain(MEM1G "      <memtune><hard_limit unit='P'>1"
				  "</hard_limit><swap_hard_limit unit='EiB'>1"
				  "</swap_hard_limit><soft_limit unit='PiB'>1"
				  "</soft_limit></memtune>\n"));
	assert_int_equal(sc->vms[0].vm.limit_bytes, 1ull << 50);
	assert_int_equal(sc->vms[0].vm.soft_limit_bytes, 1ull << 50);
	mv_scenario_free(sc);
}

/* libvirt's cpu-numa-no-memory-element.xml: the memory is the sum of the
 * guest NUMA cells. */
static void
test_memory_from_numa_cells_when_there_is_no_memory_element(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_domain("      <name>a</name>\n"
			    "      <cpu><numa>\n"
			    "        <cell id='0' cpus='0' memory='524288'/>\n"
			    "        <cell id='1' cpus='1' memory='512' "
			    "unit='MiB'/>\n"
			    "      </numa></cpu>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, MV_GIB);
	mv_scenario_free(sc);
	load_err(with_domain("      <name>a</name>\n"
			     "      <cpu><numa>\n"
			     "        <cell id='0' cpus='0'/>\n"
			     "      </numa></cpu>\n"),
		 7, "cpu/numa/cell", "memory is required");
}

static void test_unknown_unit_is_rejected(void **state)
{
	(void)state;
	load_err(with_domain("      <name>a</name>\n"
			     "      <memory unit='XB'>1</memory>\n"),
		 6, "memory", "unknown unit 'XB'");
	load_err(with_domain("      <name>a</name>\n"
			     "      <memory>lots</memory>\n"),
		 6, "memory", "'lots' is not a size");
}

/* ------------------------------------------------------------------ */
/* required things                                                     */
/* ------------------------------------------------------------------ */

static void test_missing_memory_is_reported_with_line(void **state)
{
	(void)state;
	const char *msg = load_err(with_domain("      <name>a</name>\n"), 4,
				   "memory", "is required");
	assert_string_equal(msg, "t.xml:4: memory: is required");
}

static void test_missing_name_is_reported_with_line(void **state)
{
	(void)state;
	load_err(with_domain("      <memory>1048576</memory>\n"), 4, "name",
		 "is required");
	load_err(with_domain("      <name> </name><memory>1048576</memory>\n"),
		 5, "name", "must not be empty");
}

static void test_missing_host_memory_is_reported_with_line(void **state)
{
	(void)state;
	const char *msg = load_err(with_host("", "    <numa nodes='1'/>\n"), 2,
				   "host/memory", "is required");
	assert_string_equal(msg, "t.xml:2: host/memory: is required");
}

static void test_missing_host_is_reported(void **state)
{
	(void)state;
	load_err("<scenario>\n"
		 "  <vm><domain><name>a</name><memory>1048576</memory>"
		 "</domain></vm>\n"
		 "</scenario>\n",
		 1, "host", "is required");
}

static void test_scenario_without_vms_is_rejected(void **state)
{
	(void)state;
	load_err("<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "</scenario>\n",
		 1, "vm", "at least one <vm>");
}

static void test_vm_without_domain_is_rejected(void **state)
{
	(void)state;
	load_err("<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "  <vm>\n"
		 "    <workload size='1MiB'/>\n"
		 "  </vm>\n"
		 "</scenario>\n",
		 3, "vm", "needs an inline <domain> or file=");
	load_err("<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "  <vm file='domains/debian12.xml'>\n"
		 "    <domain><name>a</name><memory>4</memory></domain>\n"
		 "  </vm>\n"
		 "</scenario>\n",
		 3, "vm", "not both");
}

static void test_workload_without_size_is_rejected(void **state)
{
	(void)state;
	const char *msg = load_err(with_workload("<workload rate='5k'/>"), 5,
				   "workload/size", "is required");
	assert_string_equal(msg, "t.xml:5: workload/size: is required");
}

static void test_root_element_must_be_scenario(void **state)
{
	(void)state;
	load_err("<domain>\n</domain>\n", 1, "scenario",
		 "this is a libvirt domain, not a memvisor scenario");
	load_err("<host>\n</host>\n", 1, "scenario",
		 "root element is <host>, expected <scenario>");
}

/* ------------------------------------------------------------------ */
/* validation                                                          */
/* ------------------------------------------------------------------ */

static void test_workload_larger_than_its_vm_is_rejected(void **state)
{
	(void)state;
	const char *msg = load_err(with_workload("<workload size='2GiB'/>"), 5,
				   "workload/size",
				   "exceeds the VM's memory (1.00 GiB)");
	assert_string_equal(
		msg,
		"t.xml:5: workload/size: exceeds the VM's memory (1.00 GiB)");
}

static void test_workload_values_out_of_range_are_rejected(void **state)
{
	(void)state;
	load_err(with_workload("<workload size='1MiB' write-ratio='1.5'/>"), 5,
		 "workload/write-ratio", "'1.5' is not a fraction");
	load_err(with_workload("<workload size='1MiB' write-ratio='120%'/>"), 5,
		 "workload/write-ratio", "is not a fraction");
	load_err(with_workload("<workload size='1MiB' compressibility='2'/>"),
		 5, "workload/compressibility", "is not a fraction");
	load_err(with_workload("<workload size='1MiB' cpu='1.2'/>"), 5,
		 "workload/cpu", "is not a fraction");
	load_err(with_workload("<workload size='1000'/>"), 5, "workload/size",
		 "multiple of 4 KiB");
	load_err(with_workload("<workload size='0'/>"), 5, "workload/size",
		 "greater than 0");
	load_err(with_workload("<workload size='1MiB' kind='bursty'/>"), 5,
		 "workload/kind", "unknown kind 'bursty'");
	load_err(with_workload("<workload size='1MiB' dist='normal'/>"), 5,
		 "workload/dist", "unknown distribution");
	load_err(with_workload("<workload size='1MiB' zipf-s='0'/>"), 5,
		 "workload/zipf-s", "above 0");
	load_err(with_workload("<workload size='1MiB' rate='fast'/>"), 5,
		 "workload/rate", "is not a rate");
	load_err(with_workload("<workload size='1MiB' start='soon'/>"), 5,
		 "workload/start", "is not a duration");
	load_err(with_workload("<workload size='1MiB' start='2m'/>"), 5,
		 "workload/start", "after the scenario ends (1m)");
	load_err(
		with_workload("<workload size='1MiB' start='20s' stop='10s'/>"),
		5, "workload/stop", "after start");
	load_err(with_workload(
			 "<workload size='4MiB' kind='phased' region='2MiB'/>"),
		 5, "workload/region", "smaller than size");
	load_err(with_workload(
			 "<workload size='4MiB' kind='phased' phase='0s'/>"),
		 5, "workload/phase", "greater than 0");
	load_err(with_workload("<workload size='1MiB' leak='x'/>"), 5,
		 "workload/leak", "size per second");
	load_err(with_workload("<workload size='1MiB' content='text'/>"), 5,
		 "workload/content", "unknown content 'text'");
}

static void test_app_content_needs_an_app_name(void **state)
{
	(void)state;
	load_err(with_workload("<workload size='1MiB' content='app'/>"), 5,
		 "workload/app", "is required with content=\"app\"");
	load_err(with_workload("<workload size='1MiB' app='nginx'/>"), 5,
		 "workload/app", "only used with content=\"app\"");
}

static void test_duplicate_workload_names_in_a_vm_are_rejected(void **state)
{
	(void)state;
	load_err(with_workload("<workload name='x' size='1MiB'/>"
			       "<workload name='x' size='1MiB'/>"),
		 5, "workload/name", "duplicate workload name 'x'");
}

static void test_more_than_sixteen_workloads_are_rejected(void **state)
{
	(void)state;
	char wl[2048] = "";
	for (int i = 0; i < MV_MAX_WORKLOADS + 1; i++)
		strcat(wl, "<workload size='4KiB'/>");
	load_err(with_workload(wl), 5, "workload", "at most 16 workloads");
}

static void test_scenario_timing_is_validated(void **state)
{
	(void)state;
	const char *host = "    <memory unit='GiB'>1</memory>\n";
	load_err(with_host("step='0'", host), 1, "scenario/step",
		 "greater than 0");
	load_err(with_host("duration='0s'", host), 1, "scenario/duration",
		 "greater than 0");
	const char *msg = load_err(
		with_host("step='1s' stats-interval='500ms'", host), 1,
		"scenario/stats-interval", "at least one step (1s)");
	assert_string_equal(msg, "t.xml:1: scenario/stats-interval: must be "
				 "at least one step (1s)");
	load_err(with_host("step='1s' active-window='10ms'", host), 1,
		 "scenario/active-window", "at least one step");
	load_err(with_host("duration='2h' step='10us'", host), 1,
		 "scenario/step", "720000000 steps; at most 100000000");
	load_err(with_host("duration='forever'", host), 1, "scenario/duration",
		 "is not a duration");
	load_err(with_host("seed='-1'", host), 1, "scenario/seed",
		 "not a whole number");
	/* exactly 100 million steps is fine */
	struct mv_scenario *sc = load_ok(
		with_host("duration='1000s' step='10us'", host));
	mv_scenario_free(sc);
}

static void test_host_memory_limits_are_enforced(void **state)
{
	(void)state;
	load_err(with_host("", "    <memory unit='MiB'>8</memory>\n"), 3,
		 "host/memory", "at least 16 MiB");
	load_err(with_host("", "    <memory unit='b'>16781313</memory>\n"), 3,
		 "host/memory", "multiple of 4 KiB");
	load_err(with_host("", "    <memory unit='TiB'>2</memory>\n"), 3,
		 "host/memory", "at most 1 TiB");
	struct mv_scenario *sc = load_ok(
		with_host("", "    <memory unit='TiB'>1</memory>\n"));
	assert_int_equal(sc->host.mem_bytes, 1024 * MV_GIB);
	mv_scenario_free(sc);
}

static void test_numa_node_count_must_be_one_to_eight(void **state)
{
	(void)state;
	const char *mem = "    <memory unit='GiB'>1</memory>\n";
	char body[256];
	snprintf(body, sizeof body, "%s    <numa nodes='0'/>\n", mem);
	load_err(with_host("", body), 4, "numa/nodes", "between 1 and 8");
	snprintf(body, sizeof body, "%s    <numa nodes='9'/>\n", mem);
	load_err(with_host("", body), 4, "numa/nodes", "between 1 and 8");
	snprintf(body, sizeof body, "%s    <numa/>\n", mem);
	load_err(with_host("", body), 4, "numa/nodes", "is required");
}

static void test_thresholds_must_be_ordered_and_positive(void **state)
{
	(void)state;
	const char *mem = "    <memory unit='GiB'>1</memory>\n";
	char body[256];
	snprintf(body, sizeof body, "%s    <thresholds soft='7%%'/>\n", mem);
	const char *msg = load_err(with_host("", body), 4, "thresholds/soft",
				   "must be below high (6%)");
	assert_string_equal(
		msg, "t.xml:4: thresholds/soft: must be below high (6%)");
	snprintf(body, sizeof body, "%s    <thresholds high='3%%'/>\n", mem);
	load_err(with_host("", body), 4, "thresholds/high",
		 "must be above soft (4%)");
	snprintf(body, sizeof body, "%s    <thresholds low='0'/>\n", mem);
	load_err(with_host("", body), 4, "thresholds/low", "greater than 0");
	snprintf(body, sizeof body,
		 "%s    <thresholds hard='1%%' low='1%%'/>\n", mem);
	load_err(with_host("", body), 4, "thresholds/low", "below hard");
	snprintf(body, sizeof body, "%s    <thresholds high='x'/>\n", mem);
	load_err(with_host("", body), 4, "thresholds/high", "not a fraction");
}

static void test_host_swap_and_latency_values_are_checked(void **state)
{
	(void)state;
	const char *mem = "    <memory unit='GiB'>1</memory>\n";
	char body[256];
	snprintf(body, sizeof body, "%s    <swap device='tape'/>\n", mem);
	load_err(with_host("", body), 4, "swap/device",
		 "unknown device 'tape'");
	snprintf(body, sizeof body, "%s    <latency cow='fast'/>\n", mem);
	load_err(with_host("", body), 4, "latency/cow", "not a duration");
}

static void test_numa_home_node_must_exist_on_the_host(void **state)
{
	(void)state;
	const char *msg = load_err(
		with_domain(MEM1G
			    "      <numatune>\n"
			    "        <memory mode='strict' nodeset='1'/>\n"
			    "      </numatune>\n"),
		7, "numatune/memory",
		"names node 1, but the host has 1 NUMA node");
	assert_string_equal(msg, "t.xml:7: numatune/memory: nodeset '1' names "
				 "node 1, but the host has 1 NUMA node");
	load_err(with_domain(MEM1G "      <numatune><memory nodeset='a-b'/>"
				   "</numatune>\n"),
		 6, "numatune/memory", "not a list of NUMA nodes");
	load_err(with_domain(MEM1G "      <numatune><memory mode='strikt' "
				   "nodeset='0'/></numatune>\n"),
		 6, "numatune/memory", "unknown mode 'strikt'");
	load_err(with_domain(MEM1G "      <numatune><memory placement='x'/>"
				   "</numatune>\n"),
		 6, "numatune/memory", "unknown placement 'x'");
	/* placement='auto': the host chooses even with a nodeset shown */
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <numatune><memory mode='interleave' "
		      "placement='auto' nodeset='0'/></numatune>\n"));
	assert_int_equal(sc->vms[0].vm.home_node, -1);
	mv_scenario_free(sc);
}

static void test_nodeset_lists_take_their_first_node(void **state)
{
	(void)state;
	const char *sets[] = {"0", "1-3", "2,0", " 3 ", "^0,1-2"};
	const int first[] = {0, 1, 2, 3, 1};
	for (int i = 0; i < 5; i++) {
		char xml[1024];
		snprintf(xml, sizeof xml,
			 "<scenario><host><memory unit='GiB'>1</memory>"
			 "<numa nodes='4'/></host><vm><domain><name>a</name>"
			 "<memory>4096</memory><numatune><memory "
			 "nodeset='%s'/></numatune></domain></vm></scenario>",
			 sets[i]);
		struct mv_scenario *sc = load_ok(xml);
		assert_int_equal(sc->vms[0].vm.home_node, first[i]);
		mv_scenario_free(sc);
	}
}

/* <numatune> modes (libvirt's default strict), <memnode> per guest cell,
 * <cpu><numa><cell> ranges, and their errors (docs/numa.md) */
static void test_numatune_modes_memnodes_and_cells(void **state)
{
	(void)state;
	const char *head = "<scenario><host><memory unit='GiB'>1</memory>"
			   "<numa nodes='2'/></host><vm><domain><name>a</name>"
			   "<memory unit='MiB'>64</memory>";
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "%s<cpu><numa><cell id='0' cpus='0' memory='16' "
		 "unit='MiB'/><cell id='1' cpus='1' memory='48' "
		 "unit='MiB'/></numa></cpu><numatune><memory "
		 "mode='interleave' nodeset='0-1'/><memnode cellid='1' "
		 "mode='preferred' nodeset='1'/></numatune></domain></vm>"
		 "</scenario>",
		 head);
	struct mv_scenario *sc = load_ok(xml);
	const struct mv_vm_config *vm = &sc->vms[0].vm;
	assert_int_equal(vm->numa.mode, MV_NUMA_INTERLEAVE);
	assert_int_equal(vm->numa.nodeset, 3);
	assert_int_equal(vm->home_node, 0);
	assert_int_equal(vm->ncells, 2);
	assert_int_equal(vm->cell[0].bytes, 16 * MV_MIB);
	assert_int_equal(vm->cell[0].node, -1);
	assert_int_equal(vm->cell[0].policy.mode, MV_NUMA_NONE);
	assert_int_equal(vm->cell[1].bytes, 48 * MV_MIB);
	assert_int_equal(vm->cell[1].node, 1);
	assert_int_equal(vm->cell[1].policy.mode, MV_NUMA_PREFERRED);
	assert_int_equal(vm->cell[1].policy.nodeset, 2);
	mv_scenario_free(sc);

	snprintf(xml, sizeof xml,
		 "%s<numatune><memory nodeset='1'/></numatune></domain></vm>"
		 "</scenario>",
		 head);
	sc = load_ok(xml);
	assert_int_equal(sc->vms[0].vm.numa.mode, MV_NUMA_STRICT);
	assert_int_equal(sc->vms[0].vm.numa.nodeset, 2);
	mv_scenario_free(sc);

	snprintf(xml, sizeof xml,
		 "%s<numatune><memory nodeset='0-2'/></numatune></domain>"
		 "</vm></scenario>",
		 head);
	load_err(xml, 1, "numatune/memory",
		 "nodeset '0-2' names node 2, but the host has 2");
	snprintf(xml, sizeof xml,
		 "%s<numatune><memnode cellid='0' nodeset='1'/></numatune>"
		 "</domain></vm></scenario>",
		 head);
	load_err(xml, 1, "numatune/memnode",
		 "cellid '0' names no <cpu><numa> cell (the domain has 0)");

	/* <numa local-latency remote-ratio>: the remote access cost */
	sc = load_ok("<scenario><host><memory unit='GiB'>1</memory><numa "
		     "nodes='2' local-latency='80ns' remote-ratio='2'/></host>"
		     "<vm><domain><name>a</name><memory>4096</memory>"
		     "</domain></vm></scenario>");
	assert_int_equal(sc->host.numa_local_ns, 80);
	assert_true(sc->host.numa_remote_ratio == 2.0);
	mv_scenario_free(sc);
	load_err("<scenario><host><memory unit='GiB'>1</memory><numa "
		 "nodes='2' remote-ratio='0.5'/></host><vm><domain><name>a"
		 "</name><memory>4096</memory></domain></vm></scenario>",
		 1, "numa/remote-ratio", "0.5 is not between 1 and 10");
}

static void test_vm_count_must_be_between_one_and_256(void **state)
{
	(void)state;
	const char *fmt = "<scenario>\n"
			  "  <host><memory unit='GiB'>1</memory></host>\n"
			  "  <vm count='%s' file='domains/debian12.xml'/>\n"
			  "</scenario>\n";
	char xml[512];
	snprintf(xml, sizeof xml, fmt, "0");
	load_err(xml, 3, "vm/count", "between 1 and 256");
	snprintf(xml, sizeof xml, fmt, "257");
	load_err(xml, 3, "vm/count", "between 1 and 256");
	snprintf(xml, sizeof xml, fmt, "256");
	struct mv_scenario *sc = load_ok(xml);
	assert_int_equal(sc->nvms, 256);
	assert_string_equal(sc->vms[255].vm.name, "debian12-256");
	mv_scenario_free(sc);
}

static void test_more_than_1024_vms_are_rejected(void **state)
{
	(void)state;
	char xml[2048] = "<scenario>\n"
			 "  <host><memory unit='GiB'>1</memory></host>\n";
	for (int i = 0; i < 5; i++) {
		char vm[256];
		snprintf(vm, sizeof vm,
			 "  <vm count='256'><domain><name>v%d</name>"
			 "<memory>4096</memory></domain></vm>\n",
			 i);
		strcat(xml, vm);
	}
	strcat(xml, "</scenario>\n");
	load_err(xml, 7, "vm/count", "1280 VMs; at most 1024");
}

static void test_duplicate_vm_names_are_rejected(void **state)
{
	(void)state;
	const char *msg = load_err(
		"<scenario>\n"
		"  <host><memory unit='GiB'>1</memory></host>\n"
		"  <vm count='2'><domain><name>web</name>"
		"<memory>4096</memory></domain></vm>\n"
		"  <vm><domain>\n"
		"    <name>web-2</name><memory>4096</memory>\n"
		"  </domain></vm>\n"
		"</scenario>\n",
		5, "name", "duplicate VM name 'web-2'");
	assert_string_equal(msg, "t.xml:5: name: duplicate VM name 'web-2' "
				 "(first in t.xml:3)");
}

static void
test_clone_names_longer_than_63_characters_are_rejected(void **state)
{
	(void)state;
	char name[64];
	memset(name, 'n', 62);
	name[62] = '\0';
	char body[256];
	snprintf(body, sizeof body, "<name>%s</name><memory>4096</memory>",
		 name);
	char xml[1024];
	snprintf(xml, sizeof xml,
		 "<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "  <vm count='2'><domain>\n"
		 "    %s\n"
		 "  </domain></vm>\n"
		 "</scenario>\n",
		 body);
	load_err(xml, 4, "name", "longer than 63 characters");
}

static void test_current_memory_above_memory_is_rejected(void **state)
{
	(void)state;
	const char *msg = load_err(
		with_domain(
			MEM1G
			"      <currentMemory unit='GiB'>2</currentMemory>\n"),
		6, "currentMemory", "must not exceed memory");
	assert_string_equal(msg, "t.xml:6: currentMemory: must not exceed "
				 "memory (1.00 GiB)");
	/* 5000 bytes is aligned up to two pages, as QEMU would */
	struct mv_scenario *sc = load_ok(
		with_domain(MEM1G "      <currentMemory unit='b'>5000"
				  "</currentMemory>\n"));
	assert_int_equal(sc->vms[0].vm.current_bytes, 8192);
	mv_scenario_free(sc);
}

static void test_hard_limit_below_min_guarantee_is_rejected(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G
			     "      <memtune>\n"
			     "        <min_guarantee unit='MiB'>512"
			     "</min_guarantee>\n"
			     "        <hard_limit unit='MiB'>256</hard_limit>\n"
			     "      </memtune>\n"),
		 8, "memtune/hard_limit", "below memtune/min_guarantee");
	/* a limit above memory is allowed */
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memtune><hard_limit unit='GiB'>2</hard_limit>"
		      "</memtune>\n"));
	assert_int_equal(sc->vms[0].vm.limit_bytes, 2 * MV_GIB);
	mv_scenario_free(sc);
	/* ignored fields are still validated as sizes */
	load_err(with_domain(MEM1G "      <memtune><soft_limit>big</soft_limit>"
				   "</memtune>\n"),
		 6, "memtune/soft_limit", "not a size");
}

static void test_memballoon_model_and_stats_period_are_validated(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G "      <devices><memballoon model='foo'/>"
				   "</devices>\n"),
		 6, "memballoon/model", "unknown model 'foo'");
	load_err(with_domain(MEM1G "      <devices><memballoon model='virtio'>"
				   "<stats period='-5'/></memballoon>"
				   "</devices>\n"),
		 6, "memballoon/stats", "period '-5'");
}

static void test_unknown_elements_in_scenario_host_vm_are_rejected(void **state)
{
	(void)state;
	load_err("<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "  <vms/>\n"
		 "</scenario>\n",
		 3, "scenario", "unknown element <vms>");
	load_err(with_host("", "    <memory unit='GiB'>1</memory>\n"
			       "    <numa-nodes>2</numa-nodes>\n"),
		 4, "host", "unknown element <numa-nodes>");
	load_err(with_workload("<workloads/>"), 5, "vm",
		 "unknown element <workloads>");
	load_err(with_domain(MEM1G
			     "      <metadata><mv:memvisor "
			     "xmlns:mv='urn:memvisor:domain:1'><mv:share>high"
			     "</mv:share></mv:memvisor></metadata>\n"),
		 6, "memvisor", "unknown element <mv:share>");
}

static void
test_unknown_attributes_on_memvisor_elements_are_rejected(void **state)
{
	(void)state;
	const char *msg = load_err(with_workload("<workload sise='1MiB'/>"), 5,
				   "workload", "unknown attribute 'sise'");
	assert_string_equal(msg, "t.xml:5: workload: unknown attribute 'sise'");
	load_err(with_host("seeds='3'", "    <memory unit='GiB'>1</memory>\n"),
		 1, "scenario", "unknown attribute 'seeds'");
	load_err(with_host("", "    <memory unit='GiB' size='1'>1</memory>\n"),
		 3, "host/memory", "unknown attribute 'size'");
	load_err(with_domain(MEM1G "      <metadata><mv:memvisor "
				   "xmlns:mv='urn:memvisor:domain:1'><mv:guest "
				   "flavour='windows'/></mv:memvisor>"
				   "</metadata>\n"),
		 6, "guest", "unknown attribute 'flavour'");
}

static void test_unknown_libvirt_elements_are_ignored(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G
		"      <maxMemory slots='16' unit='KiB'>8388608"
		"</maxMemory>\n"
		"      <vcpu placement='static'>4</vcpu>\n"
		"      <iothreads>1</iothreads>\n"
		"      <qemu:commandline "
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'/>\n"
		"      <memoryBacking><locked/><source type='memfd'/>"
		"</memoryBacking>\n"));
	assert_int_equal(sc->vms[0].vm.mem_bytes, MV_GIB);
	assert_int_equal(sc->vms[0].vm.sharing, 1);
	assert_int_equal(sc->vms[0].vm.hugepages, 0);
	mv_scenario_free(sc);
}

static void test_workload_directly_in_a_domain_is_rejected(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G "      <workload size='1MiB'/>\n"), 6,
		 "workload", "not directly in <domain>");
}

static void test_duplicate_elements_are_rejected(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G "      <memory>4096</memory>\n"), 6,
		 "memory", "duplicate <memory> (first at line 5)");
	load_err("<scenario>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "  <host><memory unit='GiB'>1</memory></host>\n"
		 "</scenario>\n",
		 3, "host", "duplicate <host>");
}

static void test_guest_values_are_validated(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G "      <metadata><mv:memvisor "
				   "xmlns:mv='urn:memvisor:domain:1'><mv:guest "
				   "os='beos'/></mv:memvisor></metadata>\n"),
		 6, "guest/os", "unknown guest OS 'beos'");
	load_err(with_domain(MEM1G "      <metadata><mv:memvisor "
				   "xmlns:mv='urn:memvisor:domain:1'><mv:guest "
				   "image-size='2GiB'/></mv:memvisor>"
				   "</metadata>\n"),
		 6, "guest/image-size", "exceeds the VM's memory");
	load_err(with_domain(MEM1G "      <metadata><mv:memvisor "
				   "xmlns:mv='urn:memvisor:domain:1'><mv:guest "
				   "boot-freed='2GiB'/></mv:memvisor>"
				   "</metadata>\n"),
		 6, "guest/boot-freed", "exceeds the VM's memory");
	load_err(with_domain(MEM1G
			     "      <metadata><mv:memvisor "
			     "xmlns:mv='urn:memvisor:domain:1'><mv:shares>"
			     "lots</mv:shares></mv:memvisor>"
			     "</metadata>\n"),
		 6, "memvisor/shares", "not low, normal, high or a number");
}

/* ------------------------------------------------------------------ */
/* XML and files                                                       */
/* ------------------------------------------------------------------ */

static void test_malformed_xml_is_reported_with_its_line(void **state)
{
	(void)state;
	const char *msg = load_err("<scenario>\n"
				   "  <host>\n"
				   "    <memory unit='GiB'>1</memroy>\n"
				   "  </host>\n"
				   "</scenario>\n",
				   3, "xml", "Opening and ending tag mismatch");
	assert_non_null(strstr(msg, "t.xml:3: xml: Opening and ending tag "
				    "mismatch: memory line 3 and memroy"));
	assert_null(strchr(msg, '\n'));
	load_err("", 1, "xml", "empty");
	load_err("<scenario>\n<host a='1' a='2'/></scenario>", 2, "xml",
		 "redefined");
}

static void test_undefined_namespace_prefix_is_a_syntax_error(void **state)
{
	(void)state;
	load_err("<scenario>\n"
		 "  <mv:host/>\n"
		 "</scenario>\n",
		 2, "xml", "mv");
}

static void test_entity_declarations_are_refused(void **state)
{
	(void)state;
	load_err("<!DOCTYPE scenario [ <!ENTITY m \"8\"> ]>\n"
		 "<scenario>\n"
		 "  <host><memory unit='GiB'>&m;</memory></host>\n"
		 "</scenario>\n",
		 2, "xml", "entity declarations are not supported");
}

static void test_predefined_entities_in_attributes_are_decoded(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		with_workload("<workload name='a&amp;b&#33;' size='1MiB'/>"));
	assert_string_equal(sc->vms[0].guest.workload[0].name, "a&b!");
	mv_scenario_free(sc);
}

static void test_malformed_xml_prints_nothing(void **state)
{
	(void)state;
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string("<scenario><oops></scenario>", "t.xml",
					 NULL, &sc, &err);
	int rc2 = mv_scenario_load_string("<scenario><mv:x/></scenario>",
					  "t.xml", NULL, &sc, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, MV_EINVAL);
	assert_int_equal(rc2, MV_EINVAL);
	assert_int_equal(ftell(tmp), 0);
	fseek(tmp, 0, SEEK_END);
	assert_int_equal(ftell(tmp), 0);
	fclose(tmp);
}

static void test_missing_domain_file_is_enoent_at_the_vm_line(void **state)
{
	(void)state;
	char buf[600];
	const char *msg = load_err_in(
		"<scenario>\n"
		"  <host><memory unit='GiB'>1</memory></host>\n"
		"  <vm file='domains/nosuch.xml'/>\n"
		"</scenario>\n",
		"examples", MV_ENOENT, "t.xml", 3, "vm/file", "cannot open",
		buf, sizeof buf);
	assert_string_equal(msg, "t.xml:3: vm/file: cannot open "
				 "'examples/domains/nosuch.xml': No such file "
				 "or directory");
}

static void test_missing_scenario_file_is_enoent_naming_the_file(void **state)
{
	(void)state;
	struct mv_scenario *sc = (struct mv_scenario *)&sc;
	struct mv_error err = {0};
	int rc = mv_scenario_load("tests/data/nosuch.xml", &sc, &err);
	assert_int_equal(rc, MV_ENOENT);
	assert_null(sc);
	assert_int_equal(err.code, MV_ENOENT);
	assert_string_equal(err.file, "tests/data/nosuch.xml");
	assert_int_equal(err.line, 0);
	char buf[600];
	assert_string_equal(mv_error_format(&err, buf, sizeof buf),
			    "tests/data/nosuch.xml: cannot open: No such file "
			    "or directory");
	/* err may be NULL */
	assert_int_equal(mv_scenario_load("tests/data/nosuch.xml", &sc, NULL),
			 MV_ENOENT);
}

static void test_errors_inside_a_domain_file_name_that_file(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	char buf[600];
	assert_int_equal(mv_scenario_load("tests/data/scenario-bad-domain.xml",
					  &sc, &err),
			 MV_EINVAL);
	assert_null(sc);
	assert_string_equal(mv_error_format(&err, buf, sizeof buf),
			    "tests/data/bad-current-memory.xml:4: "
			    "currentMemory: must not exceed memory (1.00 GiB)");

	assert_int_equal(
		mv_scenario_load("tests/data/scenario-malformed-domain.xml",
				 &sc, &err),
		MV_EINVAL);
	assert_string_equal(err.file, "tests/data/malformed-domain.xml");
	assert_string_equal(err.field, "xml");
	assert_int_equal(err.line, 6);
	assert_non_null(strstr(err.msg, "mismatch"));
}

static void test_domain_file_must_hold_a_domain(void **state)
{
	(void)state;
	char buf[600];
	load_err_in("<scenario>\n"
		    "  <host><memory unit='GiB'>1</memory></host>\n"
		    "  <vm file='scenario-files.xml'/>\n"
		    "</scenario>\n",
		    "tests/data", MV_EINVAL, "tests/data/scenario-files.xml", 2,
		    "domain", "root element is <scenario>, expected <domain>",
		    buf, sizeof buf);
}

/* ------------------------------------------------------------------ */
/* config checks and names                                             */
/* ------------------------------------------------------------------ */

static void test_vm_config_check_names_the_libvirt_field(void **state)
{
	(void)state;
	struct mv_vm_config c;
	struct mv_error err = {0};
	mv_vm_config_default(&c, "vm", MV_GIB);
	strcpy(c.source, "x.xml");
	c.source_line = 9;
	c.reservation_bytes = 2 * MV_GIB;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	assert_string_equal(err.field, "memtune/min_guarantee");
	assert_string_equal(err.file, "x.xml");
	assert_int_equal(err.line, 9);
	mv_vm_config_default(&c, "a/b", MV_GIB);
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	assert_string_equal(err.field, "name");
	mv_vm_config_default(&c, "vm", 0);
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	assert_string_equal(err.field, "memory");
	mv_vm_config_default(&c, "vm", MV_GIB);
	c.limit_bytes = 12345;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	assert_string_equal(err.field, "memtune/hard_limit");
	mv_vm_config_default(&c, "vm", MV_GIB);
	c.home_node = MV_MAX_NODES;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	assert_string_equal(err.field, "numatune/memory");
}

static void test_names_round_trip_through_parse(void **state)
{
	(void)state;
	for (int k = 0; k < MV_WL_COUNT; k++) {
		enum mv_wl_kind out;
		assert_int_equal(mv_wl_kind_parse(mv_wl_kind_name(k), &out), 0);
		assert_int_equal(out, k);
	}
	for (int c = 0; c < MV_CONTENT_COUNT; c++) {
		enum mv_content out;
		assert_int_equal(mv_content_parse(mv_content_name(c), &out), 0);
		assert_int_equal(out, c);
	}
	enum mv_guest_flavour f;
	assert_int_equal(mv_guest_flavour_parse("windows", &f), 0);
	assert_int_equal(f, MV_GUEST_WINDOWS);
	assert_string_equal(mv_guest_flavour_name(MV_GUEST_LINUX), "linux");
	assert_int_equal(mv_guest_flavour_parse("Linux", &f), 0);
	assert_int_equal(mv_guest_flavour_parse("bsd", &f), MV_EINVAL);
	enum mv_wl_kind k;
	assert_int_equal(mv_wl_kind_parse("", &k), MV_EINVAL);
	assert_int_equal(mv_wl_kind_parse(NULL, &k), MV_EINVAL);
	assert_string_equal(mv_wl_kind_name(MV_WL_PHASED), "phased");
	assert_string_equal(mv_content_name(MV_CONTENT_RANDOM), "random");
	assert_string_equal(mv_content_name(MV_CONTENT_COUNT), "?");
}

static void test_workload_config_check_uses_its_source(void **state)
{
	(void)state;
	struct mv_workload_config w;
	struct mv_error err = {0};
	mv_workload_config_default(&w);
	strcpy(w.name, "w");
	strcpy(w.source, "d.xml");
	w.source_line = 3;
	w.size_bytes = 8 * MV_MIB;
	assert_int_equal(mv_workload_config_check(&w, MV_GIB, &err), 0);
	assert_int_equal(mv_workload_config_check(&w, 4 * MV_MIB, &err),
			 MV_EINVAL);
	assert_string_equal(err.file, "d.xml");
	assert_int_equal(err.line, 3);
	assert_string_equal(err.field, "workload/size");
}

/* ------------------------------------------------------------------ */
/* memtune soft_limit / swap_hard_limit, memoryBacking, numatune,      */
/* mv_domain_parse, files that are not regular                         */
/* ------------------------------------------------------------------ */

static void test_soft_limit_and_swap_hard_limit_are_recorded(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memtune>\n"
		      "        <hard_limit unit='MiB'>768</hard_limit>\n"
		      "        <soft_limit unit='MiB'>512</soft_limit>\n"
		      "        <swap_hard_limit unit='MiB'>1024"
		      "</swap_hard_limit>\n"
		      "      </memtune>\n"));
	const struct mv_vm_config *vm = &sc->vms[0].vm;
	assert_int_equal(vm->limit_bytes, 768 * MV_MIB);
	assert_int_equal(vm->soft_limit_bytes, 512 * MV_MIB);
	/* memory plus swap: the hypervisor may swap the difference */
	assert_int_equal(vm->swap_max_bytes, 256 * MV_MIB);
	mv_scenario_free(sc);

	/* absent or libvirt's "unlimited": no soft limit, no swap bound */
	sc = load_ok(with_domain(
		MEM1G "      <memtune><soft_limit unit='KiB'>9007199254740991"
		      "</soft_limit><swap_hard_limit unit='KiB'>"
		      "9007199254740991</swap_hard_limit></memtune>\n"));
	assert_int_equal(sc->vms[0].vm.soft_limit_bytes, 0);
	assert_int_equal(sc->vms[0].vm.swap_max_bytes, UINT64_MAX);
	mv_scenario_free(sc);

	/* swap_hard_limit without hard_limit counts from the memory size */
	sc = load_ok(with_domain(MEM1G
				 "      <memtune><swap_hard_limit unit='GiB'>1"
				 "</swap_hard_limit></memtune>\n"));
	assert_int_equal(sc->vms[0].vm.swap_max_bytes, 0);
	mv_scenario_free(sc);
}

static void test_soft_and_swap_limits_are_validated(void **state)
{
	(void)state;
	load_err(with_domain(MEM1G
			     "      <memtune>\n"
			     "        <hard_limit unit='MiB'>512</hard_limit>\n"
			     "        <swap_hard_limit unit='MiB'>256"
			     "</swap_hard_limit>\n"
			     "      </memtune>\n"),
		 8, "memtune/swap_hard_limit", "below memtune/hard_limit");
	load_err(with_domain(MEM1G "      <memtune>\n"
				   "        <swap_hard_limit unit='b'>"
				   "2147483649</swap_hard_limit>\n"
				   "      </memtune>\n"),
		 7, "memtune/swap_hard_limit", "multiple of 4 KiB");
	load_err(with_domain(MEM1G
			     "      <memtune>\n"
			     "        <hard_limit unit='MiB'>512</hard_limit>\n"
			     "        <soft_limit unit='MiB'>768</soft_limit>\n"
			     "      </memtune>\n"),
		 8, "memtune/soft_limit", "must not exceed memtune/hard_limit");
	load_err(with_domain(MEM1G "      <memtune><soft_limit unit='b'>1000"
				   "</soft_limit></memtune>\n"),
		 6, "memtune/soft_limit", "multiple of 4 KiB");
	load_err(with_domain(MEM1G "      <memtune><swap_hard_limit>x"
				   "</swap_hard_limit></memtune>\n"),
		 6, "memtune/swap_hard_limit", "not a size");
}

static void test_hugepages_flag_and_numatune_home_node_alone(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(with_domain(
		MEM1G "      <memoryBacking><hugepages><page size='2048' "
		      "unit='KiB'/></hugepages></memoryBacking>\n"));
	assert_int_equal(sc->vms[0].vm.hugepages, 1);
	assert_int_equal(sc->vms[0].vm.sharing, 0); /* hugetlbfs: no KSM */
	assert_int_equal(sc->vms[0].vm.home_node, -1);
	mv_scenario_free(sc);
	sc = load_ok(with_domain(MEM1G "      <memoryBacking><locked/>"
				       "</memoryBacking>\n"));
	assert_int_equal(sc->vms[0].vm.hugepages, 0);
	mv_scenario_free(sc);
	/* placement='auto' (no nodeset): the host chooses */
	sc = load_ok(with_domain(MEM1G "      <numatune><memory mode='strict' "
				       "placement='auto'/></numatune>\n"));
	assert_int_equal(sc->vms[0].vm.home_node, -1);
	mv_scenario_free(sc);
}

static void test_domain_parse_reads_a_domain_on_its_own(void **state)
{
	(void)state;
	static const char xml[] =
		"<domain type='kvm'>\n"
		"  <name>solo</name>\n"
		"  <memory unit='MiB'>512</memory>\n"
		"  <numatune><memory mode='preferred' "
		"nodeset='1'/></numatune>\n"
		"  <memoryBacking><hugepages/></memoryBacking>\n"
		"  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		"<mv:workload size='64MiB'/></mv:memvisor></metadata>\n"
		"</domain>\n";
	struct mv_vm_spec spec;
	struct mv_error err = {0};
	mvt_ok(mv_domain_parse(xml, strlen(xml), "solo.xml", 2, &spec, &err),
	       &err, "mv_domain_parse");
	assert_string_equal(spec.vm.name, "solo");
	assert_int_equal(spec.vm.mem_bytes, 512 * MV_MIB);
	assert_int_equal(spec.vm.home_node, 1);
	assert_int_equal(spec.vm.hugepages, 1);
	assert_int_equal(spec.guest.nworkloads, 1);
	assert_string_equal(spec.guest.workload[0].name, "workload-1");
	assert_string_equal(spec.guest.os_image, "linux-generic");
	/* the same node on a one-node host is an error at its line */
	assert_int_equal(
		mv_domain_parse(xml, strlen(xml), "solo.xml", 1, &spec, &err),
		MV_EINVAL);
	assert_string_equal(err.file, "solo.xml");
	assert_int_equal(err.line, 4);
	assert_string_equal(err.field, "numatune/memory");
}

static void test_domain_files_must_be_regular_files(void **state)
{
	(void)state;
	char buf[600];
	load_err_in("<scenario>\n"
		    "  <host><memory unit='GiB'>8</memory></host>\n"
		    "  <vm file='/dev/null'/>\n"
		    "</scenario>\n",
		    "", MV_EINVAL, "t.xml", 3, "vm/file",
		    "is a character device, not a regular file", buf,
		    sizeof buf);
	load_err_in("<scenario>\n"
		    "  <host><memory unit='GiB'>8</memory></host>\n"
		    "  <vm file='domains'/>\n"
		    "</scenario>\n",
		    "examples", MV_EINVAL, "t.xml", 3, "vm/file",
		    "is a directory, not a domain file", buf, sizeof buf);
}

/* The hypervisor swap file holds memory - min_guarantee, bounded by
 * swap_hard_limit - hard_limit. */
static void test_swap_file_is_bounded_by_swap_hard_limit(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_ok(
		"<scenario duration='1s'>\n"
		"  <host><memory unit='MiB'>256</memory></host>\n"
		"  <vm><domain><name>a</name><memory unit='MiB'>64</memory>"
		"<memtune><min_guarantee unit='MiB'>16</min_guarantee>"
		"</memtune></domain></vm>\n"
		"  <vm><domain><name>b</name><memory unit='MiB'>64</memory>"
		"<memtune><hard_limit unit='MiB'>48</hard_limit>"
		"<swap_hard_limit unit='MiB'>56</swap_hard_limit>"
		"</memtune></domain></vm>\n"
		"  <vm><domain><name>c</name><memory unit='MiB'>64</memory>"
		"<memtune><swap_hard_limit unit='MiB'>64</swap_hard_limit>"
		"</memtune></domain></vm>\n"
		"</scenario>\n");
	struct mv_sim *sim = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "mv_sim_create");
	const uint64_t want[3] = {48 * MV_MIB / MV_PAGE_SIZE,
				  8 * MV_MIB / MV_PAGE_SIZE, 0};
	for (int i = 0; i < 3; i++) {
		struct mv_swap_stats st;
		mv_swapfile_stats(sim->swap[i], &st);
		assert_int_equal(st.slots, want[i]);
	}
	mv_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_debian12_dumpxml_file_loads_memory_balloon_and_guest),
		cmocka_unit_test(
			test_soft_limit_and_swap_hard_limit_are_recorded),
		cmocka_unit_test(test_soft_and_swap_limits_are_validated),
		cmocka_unit_test(
			test_hugepages_flag_and_numatune_home_node_alone),
		cmocka_unit_test(test_domain_parse_reads_a_domain_on_its_own),
		cmocka_unit_test(test_domain_files_must_be_regular_files),
		cmocka_unit_test(test_swap_file_is_bounded_by_swap_hard_limit),
		cmocka_unit_test(test_win2019_dumpxml_file_is_a_windows_guest),
		cmocka_unit_test(
			test_scenario_file_resolves_domains_relative_to_its_directory),
		cmocka_unit_test(
			test_inline_domain_reads_memtune_backing_numatune_balloon),
		cmocka_unit_test(
			test_libvirt_unlimited_hard_limit_means_no_limit),
		cmocka_unit_test(
			test_count_makes_numbered_clones_with_the_same_config),
		cmocka_unit_test(
			test_metadata_is_matched_by_namespace_uri_not_prefix),
		cmocka_unit_test(test_default_namespace_metadata_is_found_too),
		cmocka_unit_test(test_shares_low_normal_high_scale_with_memory),
		cmocka_unit_test(
			test_metadata_and_scenario_workloads_are_concatenated),
		cmocka_unit_test(
			test_defaults_are_applied_to_everything_not_given),
		cmocka_unit_test(
			test_idle_workload_defaults_to_ten_accesses_per_second),
		cmocka_unit_test(
			test_default_os_image_is_at_most_a_quarter_of_the_vm),
		cmocka_unit_test(
			test_config_defaults_functions_match_the_documented_values),
		cmocka_unit_test(test_scenario_and_host_settings_are_read),
		cmocka_unit_test(test_memstate_model_and_idle_tax_are_read),
		cmocka_unit_test(test_bad_memstate_and_idle_tax_are_rejected),
		cmocka_unit_test(test_idle_tax_changes_are_read_in_time_order),
		cmocka_unit_test(test_bad_idle_tax_changes_are_rejected),
		cmocka_unit_test(test_sampling_size_and_period_are_read),
		cmocka_unit_test(test_bad_sampling_is_rejected),
		cmocka_unit_test(test_every_workload_attribute_is_read),
		cmocka_unit_test(test_guest_attributes_are_read),
		cmocka_unit_test(
			test_mmu_mode_pages_tags_and_hugepages_are_read),
		cmocka_unit_test(test_bad_mmu_is_rejected),
		cmocka_unit_test(test_domain_memory_units_follow_libvirt),
		cmocka_unit_test(
			test_memory_that_is_not_whole_pages_is_aligned_up),
		cmocka_unit_test(
			test_locked_and_hugepages_keep_memory_in_host_ram),
		cmocka_unit_test(test_settings_not_modelled_are_warned_once),
		cmocka_unit_test(
			test_vms_without_a_workload_are_named_in_one_warning),
		cmocka_unit_test(
			test_vm_file_given_as_scenario_shows_how_to_wrap_it),
		cmocka_unit_test(test_lower_case_and_long_unit_names_load),
		cmocka_unit_test(
			test_memory_from_numa_cells_when_there_is_no_memory_element),
		cmocka_unit_test(test_unknown_unit_is_rejected),
		cmocka_unit_test(test_missing_memory_is_reported_with_line),
		cmocka_unit_test(test_missing_name_is_reported_with_line),
		cmocka_unit_test(
			test_missing_host_memory_is_reported_with_line),
		cmocka_unit_test(test_missing_host_is_reported),
		cmocka_unit_test(test_scenario_without_vms_is_rejected),
		cmocka_unit_test(test_vm_without_domain_is_rejected),
		cmocka_unit_test(test_workload_without_size_is_rejected),
		cmocka_unit_test(test_root_element_must_be_scenario),
		cmocka_unit_test(test_workload_larger_than_its_vm_is_rejected),
		cmocka_unit_test(
			test_workload_values_out_of_range_are_rejected),
		cmocka_unit_test(test_app_content_needs_an_app_name),
		cmocka_unit_test(
			test_duplicate_workload_names_in_a_vm_are_rejected),
		cmocka_unit_test(test_more_than_sixteen_workloads_are_rejected),
		cmocka_unit_test(test_scenario_timing_is_validated),
		cmocka_unit_test(test_host_memory_limits_are_enforced),
		cmocka_unit_test(test_numa_node_count_must_be_one_to_eight),
		cmocka_unit_test(test_thresholds_must_be_ordered_and_positive),
		cmocka_unit_test(test_host_swap_and_latency_values_are_checked),
		cmocka_unit_test(test_numa_home_node_must_exist_on_the_host),
		cmocka_unit_test(test_nodeset_lists_take_their_first_node),
		cmocka_unit_test(test_numatune_modes_memnodes_and_cells),
		cmocka_unit_test(test_vm_count_must_be_between_one_and_256),
		cmocka_unit_test(test_more_than_1024_vms_are_rejected),
		cmocka_unit_test(test_duplicate_vm_names_are_rejected),
		cmocka_unit_test(
			test_clone_names_longer_than_63_characters_are_rejected),
		cmocka_unit_test(test_current_memory_above_memory_is_rejected),
		cmocka_unit_test(
			test_hard_limit_below_min_guarantee_is_rejected),
		cmocka_unit_test(
			test_memballoon_model_and_stats_period_are_validated),
		cmocka_unit_test(
			test_unknown_elements_in_scenario_host_vm_are_rejected),
		cmocka_unit_test(
			test_unknown_attributes_on_memvisor_elements_are_rejected),
		cmocka_unit_test(test_unknown_libvirt_elements_are_ignored),
		cmocka_unit_test(
			test_workload_directly_in_a_domain_is_rejected),
		cmocka_unit_test(test_duplicate_elements_are_rejected),
		cmocka_unit_test(test_guest_values_are_validated),
		cmocka_unit_test(test_malformed_xml_is_reported_with_its_line),
		cmocka_unit_test(
			test_undefined_namespace_prefix_is_a_syntax_error),
		cmocka_unit_test(test_entity_declarations_are_refused),
		cmocka_unit_test(
			test_predefined_entities_in_attributes_are_decoded),
		cmocka_unit_test(test_malformed_xml_prints_nothing),
		cmocka_unit_test(
			test_missing_domain_file_is_enoent_at_the_vm_line),
		cmocka_unit_test(
			test_missing_scenario_file_is_enoent_naming_the_file),
		cmocka_unit_test(
			test_errors_inside_a_domain_file_name_that_file),
		cmocka_unit_test(test_domain_file_must_hold_a_domain),
		cmocka_unit_test(test_vm_config_check_names_the_libvirt_field),
		cmocka_unit_test(test_names_round_trip_through_parse),
		cmocka_unit_test(test_workload_config_check_uses_its_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

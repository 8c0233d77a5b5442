/*
 * Tests of the VMware .vmx reader (src/sim/vmx.c): the file format (quotes,
 * |XX escapes, comments, key case, duplicates, CRLF), the mapping of the
 * memory keys to the VM configuration, errors naming file, line and key,
 * and .vmx files referenced from a scenario. Run from the source root:
 * they read tests/data/vmx/ and examples/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/readers.h"
#include "support/mvtest.h"

/* Parse text as "t.vmx" (default name "t"); must succeed. */
static struct mv_vm_spec parse_ok(const char *text)
{
	struct mv_vm_spec spec;
	struct mv_error err = {0};
	memset(&spec, 0, sizeof spec);
	mvt_ok(mv_vmx_parse(text, strlen(text), "t.vmx", "t", 2, &spec, &err),
	       &err, "mv_vmx_parse");
	return spec;
}

/* Parse text; it must fail at t.vmx:line in field with part in the message. */
static void parse_err(const char *text, int line, const char *field,
		      const char *part)
{
	struct mv_vm_spec spec;
	struct mv_error err = {0};
	char buf[600];
	int rc = mv_vmx_parse(text, strlen(text), "t.vmx", "t", 2, &spec, &err);
	mv_error_format(&err, buf, sizeof buf);
	if (rc != MV_EINVAL || err.line != line ||
	    strcmp(err.field, field) != 0 || strcmp(err.file, "t.vmx") != 0 ||
	    !strstr(err.msg, part))
		fail_msg("expected t.vmx:%d: %s: ...%s..., got \"%s\" (rc %d)",
			 line, field, part, buf, rc);
}

static struct mv_scenario *load_file(const char *path)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load(path, &sc, &err), &err, path);
	return sc;
}

static void test_memory_keys_map_to_size_reservation_limit_shares(void **state)
{
	(void)state;
	struct mv_vm_spec s = parse_ok("memsize = \"2048\"\n"
				       "sched.mem.min = \"512\"\n"
				       "sched.mem.max = \"1536\"\n"
				       "sched.mem.shares = \"4242\"\n");
	assert_string_equal(s.vm.name, "t");
	assert_int_equal(s.vm.mem_bytes, 2048 * MV_MIB);
	assert_int_equal(s.vm.current_bytes, 2048 * MV_MIB);
	assert_int_equal(s.vm.reservation_bytes, 512 * MV_MIB);
	assert_int_equal(s.vm.limit_bytes, 1536 * MV_MIB);
	assert_int_equal(s.vm.shares, 4242);
	assert_int_equal(s.vm.sharing, 1);
	assert_int_equal(s.vm.home_node, -1);
	assert_int_equal(s.guest.flavour, MV_GUEST_LINUX);
	assert_string_equal(s.vm.source, "t.vmx");
	assert_int_equal(s.vm.source_line, 1);
}

static void test_named_shares_scale_with_memsize_as_esx(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		uint64_t per_mib;
	} c[] = {{"low", 5}, {"Normal", 10}, {"HIGH", 20}};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char text[128];
		snprintf(text, sizeof text,
			 "memsize = \"1024\"\nsched.mem.shares = \"%s\"\n",
			 c[i].v);
		struct mv_vm_spec s = parse_ok(text);
		assert_int_equal(s.vm.shares, c[i].per_mib * 1024);
	}
	/* absent: normal */
	assert_int_equal(parse_ok("memsize = \"64\"\n").vm.shares, 640);
}

static void test_unlimited_max_and_absent_limits_keep_defaults(void **state)
{
	(void)state;
	struct mv_vm_spec s = parse_ok(
		"memsize = \"1024\"\nsched.mem.max = \"-1\"\n");
	assert_int_equal(s.vm.limit_bytes, 1024 * MV_MIB);
	assert_int_equal(s.vm.reservation_bytes, 0);
	/* a limit above memsize is allowed, as in ESX */
	s = parse_ok("memsize = \"1024\"\nsched.mem.max = \"4096\"\n");
	assert_int_equal(s.vm.limit_bytes, 4096 * MV_MIB);
}

static void test_minsize_is_read_as_the_reservation_too(void **state)
{
	(void)state;
	struct mv_vm_spec s = parse_ok(
		"memsize = \"1024\"\nsched.mem.minsize = \"256\"\n");
	assert_int_equal(s.vm.reservation_bytes, 256 * MV_MIB);
	/* both given: the later line wins */
	s = parse_ok("memsize = \"1024\"\nsched.mem.minsize = \"256\"\n"
		     "sched.mem.min = \"128\"\n");
	assert_int_equal(s.vm.reservation_bytes, 128 * MV_MIB);
	s = parse_ok("memsize = \"1024\"\nsched.mem.min = \"128\"\n"
		     "sched.mem.minsize = \"256\"\n");
	assert_int_equal(s.vm.reservation_bytes, 256 * MV_MIB);
}

static void test_pshare_enable_false_turns_sharing_off(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "sched.mem.pshare.enable = \"FALSE\"\n")
				 .vm.sharing,
			 0);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "sched.mem.pshare.enable = \"true\"\n")
				 .vm.sharing,
			 1);
}

/* sched.mem.pshare.salt: the VM's salt group under Mem.ShareForceSalting */
static void test_pshare_salt_is_the_vms_sharing_salt(void **state)
{
	(void)state;
	assert_string_equal(parse_ok("memsize = \"64\"\n"
				     "sched.mem.pshare.salt = \"web tier\"\n")
				    .vm.pshare_salt,
			    "web tier");
	assert_string_equal(parse_ok("memsize = \"64\"\n").vm.pshare_salt, "");
	parse_err("memsize = \"64\"\nsched.mem.pshare.salt = \"\"\n", 2,
		  "sched.mem.pshare.salt", "is not a salt of 1 to 63");
}

static void test_balloon_driver_follows_tools_installation(void **state)
{
	(void)state;
	/* no evidence of Tools: no vmmemctl */
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "tools.syncTime = \"TRUE\"\n"
				  "tools.upgrade.policy = \"manual\"\n")
				 .vm.balloon_driver,
			 0);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "toolsInstallManager.updateCounter = \"2\"\n")
				 .vm.balloon_driver,
			 1);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "toolsInstallManager.updateCounter = \"0\"\n")
				 .vm.balloon_driver,
			 0);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "tools.remindInstall = \"FALSE\"\n")
				 .vm.balloon_driver,
			 1);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "tools.remindInstall = \"TRUE\"\n")
				 .vm.balloon_driver,
			 0);
	assert_int_equal(
		parse_ok("memsize = \"64\"\nmemvisor.tools = \"TRUE\"\n")
			.vm.balloon_driver,
		1);
	/* memvisor.tools = FALSE and maxmemctl = 0 take the balloon away */
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "tools.remindInstall = \"FALSE\"\n"
				  "memvisor.tools = \"FALSE\"\n")
				 .vm.balloon_driver,
			 0);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "toolsInstallManager.updateCounter = \"1\"\n"
				  "sched.mem.maxmemctl = \"0\"\n")
				 .vm.balloon_driver,
			 0);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "toolsInstallManager.updateCounter = \"1\"\n"
				  "sched.mem.maxmemctl = \"-1\"\n")
				 .vm.balloon_driver,
			 1);
	struct mv_vm_spec c = parse_ok("memsize = \"64\"\n"
				       "memvisor.tools = \"TRUE\"\n"
				       "sched.mem.maxmemctl = \"8\"\n");
	assert_int_equal(c.vm.balloon_driver, 1);
	assert_int_equal(c.vm.balloon_max_bytes, 8 * MV_MIB);
}

static void test_guest_os_windows_ids_give_the_windows_model(void **state)
{
	(void)state;
	static const struct {
		const char *id;
		enum mv_guest_flavour f;
	} c[] = {
		{"windows2019srv-64", MV_GUEST_WINDOWS},
		{"winNetStandard", MV_GUEST_WINDOWS},
		{"longhorn-64", MV_GUEST_WINDOWS},
		{"Windows9-64", MV_GUEST_WINDOWS},
		{"rhel8-64", MV_GUEST_LINUX},
		{"other-64", MV_GUEST_LINUX},
		{"darwin19-64", MV_GUEST_LINUX},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char text[128];
		snprintf(text, sizeof text,
			 "memsize = \"64\"\nguestOS = \"%s\"\n", c[i].id);
		assert_int_equal(parse_ok(text).guest.flavour, c[i].f);
	}
}

static void test_numa_node_affinity_gives_the_home_node(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("memsize = \"64\"\n").vm.home_node, -1);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "numa.nodeAffinity = \"1\"\n")
				 .vm.home_node,
			 1);
	assert_int_equal(parse_ok("memsize = \"64\"\n"
				  "numa.nodeAffinity = \"1, 0\"\n")
				 .vm.home_node,
			 1);
	/* the host of parse_ok has two nodes */
	parse_err("memsize = \"64\"\nnuma.nodeAffinity = \"0,2\"\n", 2,
		  "numa.nodeAffinity", "names node 2, but the host has 2");
	parse_err("memsize = \"64\"\nnuma.nodeAffinity = \"0-1\"\n", 2,
		  "numa.nodeAffinity", "not a list of NUMA nodes");
	parse_err("memsize = \"64\"\nnuma.nodeAffinity = \"\"\n", 2,
		  "numa.nodeAffinity", "not a list of NUMA nodes");
}

static void test_virtual_mmu_picks_shadow_or_nested_paging(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("memsize = \"64\"\n").guest.mmu, 0);
	struct mv_vm_spec sp = parse_ok(
		"memsize = \"64\"\nmonitor.virtual_mmu = \"software\"\n");
	assert_int_equal(sp.guest.mmu, 1);
	assert_int_equal(sp.guest.mmu_cfg.mode, MV_MMU_SHADOW);
	assert_int_equal(sp.vm.hugepages, 0);
	/* hardware MMU: EPT/RVI, and ESX backs the VM with large pages */
	sp = parse_ok("memsize = \"64\"\nmonitor.virtual_mmu = \"Hardware\"\n");
	assert_int_equal(sp.guest.mmu_cfg.mode, MV_MMU_NESTED);
	assert_int_equal(sp.vm.hugepages, 1);
	sp = parse_ok(
		"memsize = \"64\"\nmonitor.virtual_mmu = \"automatic\"\n");
	assert_int_equal(sp.guest.mmu_cfg.mode, MV_MMU_NESTED);
	parse_err("memsize = \"64\"\nmonitor.virtual_mmu = \"ept\"\n", 2,
		  "monitor.virtual_mmu", "not automatic, software or hardware");
}

static void test_format_comments_case_escapes_and_last_duplicate(void **state)
{
	(void)state;
	struct mv_vm_spec s = parse_ok(
		"# comment line\n"
		"   \n"
		"\t# indented comment\n"
		"DISPLAYNAME = \"a |22quoted|22 name |7C x\" # trailing\n"
		"memSize=\"512\"\n"
		"memsize = \"1024\"\n"
		"unknown.key = \"ignored\"\n"
		"bare = word\n"
		"hash.in.value = \"a#b\"\n");
	assert_string_equal(s.vm.name, "a \"quoted\" name | x");
	assert_int_equal(s.vm.mem_bytes, 1024 * MV_MIB);
	assert_int_equal(s.vm.source_line, 4);
}

static void test_crlf_and_byte_order_mark_are_accepted(void **state)
{
	(void)state;
	struct mv_vm_spec s = parse_ok("\xEF\xBB\xBF"
				       "displayName = \"w\"\r\n"
				       "memsize = \"256\"\r\n");
	assert_string_equal(s.vm.name, "w");
	assert_int_equal(s.vm.mem_bytes, 256 * MV_MIB);
}

static void test_syntax_errors_name_the_line_and_key(void **state)
{
	(void)state;
	parse_err("memsize = \"64\"\n= \"x\"\n", 2, "vmx", "expected a key");
	parse_err("memsize = \"64\"\nfoo \"x\"\n", 2, "foo", "expected '='");
	parse_err("memsize = \"64\n", 1, "memsize", "no closing");
	parse_err("memsize = \"64\"\nname = \"a|2\"\n", 2, "name",
		  "two hexadecimal digits");
	parse_err("memsize = \"64\"\nname = \"a|zz\"\n", 2, "name",
		  "two hexadecimal digits");
	parse_err("memsize = \"64\"\nname = \"a|00\"\n", 2, "name", "|00");
	parse_err("memsize = \"64\" junk\n", 1, "memsize",
		  "unexpected text after the value");
	char nul[] = "memsize = \"64\"\nx = \"a\0b\"\n";
	struct mv_vm_spec spec;
	struct mv_error err = {0};
	assert_int_equal(
		mv_vmx_parse(nul, sizeof nul - 1, "t.vmx", "t", 2, &spec, &err),
		MV_EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.field, "vmx");
}

/* libvirt's VMX driver and VMware assume 32 MiB when memsize is absent
 * (libvirt's vmx2xmldata/minimal.vmx has none). */
static void test_missing_memsize_is_32_mib_as_in_libvirt(void **state)
{
	(void)state;
	struct mv_vm_spec spec = parse_ok("displayName = \"x\"\n");
	assert_int_equal(spec.vm.mem_bytes, 32 * MV_MIB);
	assert_string_equal(spec.vm.name, "x");
	assert_int_equal(spec.vm.source_line, 1);
}

/* "pciPassthru*.present" (libvirt's esx-in-the-wild-14.vmx): a key with
 * '*' is a key like any other, ignored as libvirt ignores it. */
static void test_key_with_a_star_is_accepted(void **state)
{
	(void)state;
	struct mv_vm_spec spec = parse_ok("memsize = \"1024\"\n"
					  "pciPassthru*.present = \"FALSE\"\n"
					  "displayName = \"star\"\n");
	assert_int_equal(spec.vm.mem_bytes, 1024 * MV_MIB);
	assert_string_equal(spec.vm.name, "star");
}

static void
test_memory_values_are_validated_with_the_key_as_written(void **state)
{
	(void)state;
	parse_err("memSize = \"1023\"\n", 1, "memSize", "not a multiple of 4");
	parse_err("memsize = \"0\"\n", 1, "memsize", "greater than 0");
	parse_err("memsize = \"2GB\"\n", 1, "memsize", "whole number of MiB");
	parse_err("memsize = \"-4\"\n", 1, "memsize", "whole number of MiB");
	parse_err("memsize = \"2097152\"\n", 1, "memsize",
		  "whole number of MiB");
	parse_err("memsize = \"1024\"\nsched.mem.min = \"2048\"\n", 2,
		  "sched.mem.min", "exceeds memsize");
	parse_err("memsize = \"1024\"\nsched.mem.min = \"512\"\n"
		  "sched.mem.max = \"256\"\n",
		  3, "sched.mem.max", "below the reservation");
	parse_err("memsize = \"1024\"\nsched.mem.max = \"0\"\n", 2,
		  "sched.mem.max", "greater than 0");
	parse_err("memsize = \"1024\"\nsched.mem.shares = \"lots\"\n", 2,
		  "sched.mem.shares", "low, normal, high");
	parse_err("memsize = \"1024\"\nsched.mem.pshare.enable = \"maybe\"\n",
		  2, "sched.mem.pshare.enable", "TRUE or FALSE");
	parse_err("memsize = \"64\"\ntools.remindInstall = \"2\"\n", 2,
		  "tools.remindInstall", "TRUE or FALSE");
	parse_err("memsize = \"64\"\nsched.mem.maxmemctl = \"x\"\n", 2,
		  "sched.mem.maxmemctl", "whole number");
	parse_err("memsize = \"64\"\ndisplayName = \"\"\n", 2, "displayName",
		  "must not be empty");
	parse_err("memsize = \"64\"\ndisplayName = \"a/b\"\n", 2, "displayName",
		  "'/'");
	parse_err("memsize = \"64\"\ndisplayName = \"a|0Ab\"\n", 2,
		  "displayName", "control characters");
}

static void test_vmx_files_load_from_a_scenario(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_file("tests/data/vmx/scenario-vmx.xml");
	assert_int_equal(sc->nvms, 4);

	const struct mv_vm_spec *db = &sc->vms[0];
	assert_string_equal(db->vm.name, "db \"primary\"");
	assert_int_equal(db->vm.mem_bytes, 2048 * MV_MIB);
	/* SCHED.MEM.MIN later in the file overrides sched.mem.min */
	assert_int_equal(db->vm.reservation_bytes, 1024 * MV_MIB);
	assert_int_equal(db->vm.limit_bytes, 1536 * MV_MIB);
	assert_int_equal(db->vm.shares, 20 * 2048);
	assert_int_equal(db->vm.sharing, 0);
	assert_int_equal(db->vm.balloon_driver, 1);
	assert_string_equal(db->vm.source, "tests/data/vmx/db.vmx");
	assert_int_equal(db->vm.source_line, 5);
	assert_int_equal(db->guest.nworkloads, 1);
	assert_string_equal(db->guest.workload[0].name, "sql");
	/* guest defaults as for a libvirt domain */
	assert_string_equal(db->guest.os_image, "linux-generic");
	assert_true(db->guest.os_bytes <= db->vm.mem_bytes / 4);

	assert_string_equal(sc->vms[1].vm.name, "win2019-1");
	assert_string_equal(sc->vms[2].vm.name, "win2019-2");
	assert_int_equal(sc->vms[1].guest.flavour, MV_GUEST_WINDOWS);
	assert_string_equal(sc->vms[1].guest.os_image, "windows-generic");
	assert_int_equal(sc->vms[1].vm.shares, 25000);
	assert_int_equal(sc->vms[1].vm.balloon_driver, 1);

	assert_string_equal(sc->vms[3].vm.name, "crlf");
	assert_int_equal(sc->vms[3].vm.mem_bytes, 256 * MV_MIB);
	assert_int_equal(sc->vms[3].vm.balloon_driver, 0);
	mv_scenario_free(sc);
}

static void test_errors_in_a_vmx_file_name_that_file(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_scenario_load("tests/data/vmx/scenario-bad-vmx.xml",
					  &sc, &err),
			 MV_EINVAL);
	assert_null(sc);
	assert_string_equal(err.file, "tests/data/vmx/bad-memsize.vmx");
	assert_int_equal(err.line, 3);
	assert_string_equal(err.field, "memsize");
}

static void
test_default_name_is_the_file_name_and_extension_any_case(void **state)
{
	(void)state;
	assert_true(mv_vmx_is_path("a/b.vmx"));
	assert_true(mv_vmx_is_path("B.VMX"));
	assert_false(mv_vmx_is_path("b.xml"));
	assert_false(mv_vmx_is_path(".vmx"));
	assert_false(mv_vmx_is_path("b.vmxf"));
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(
		       "<scenario><host><memory unit='GiB'>4</memory></host>"
		       "<vm file='notools.vmx'/></scenario>",
		       "t.xml", "tests/data/vmx", &sc, &err),
	       &err, "load");
	assert_string_equal(sc->vms[0].vm.name, "fresh");
	assert_int_equal(sc->vms[0].vm.balloon_driver, 0);
	mv_scenario_free(sc);
}

/*
 * sched.mem.maxmemctl bounds one VM's balloon below the host's bound: of
 * two identical VMs under the same pressure, the capped one's balloon
 * never passes 16 MiB while the other's does (the host reclaims the rest
 * by compression and swapping, as ESX does when the balloon is capped).
 */
static void test_maxmemctl_caps_the_balloon_in_a_run(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_file(
		"tests/data/vmx/scenario-maxmemctl.xml");
	assert_int_equal(sc->vms[0].vm.balloon_max_bytes, 16 * MV_MIB);
	assert_int_equal(sc->vms[1].vm.balloon_max_bytes, UINT64_MAX);
	sc->duration_ns = 6 * MV_NS_PER_S;
	struct mv_sim *sim = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(sim, NULL, NULL, &err), &err, "mv_sim_run");
	const uint64_t cap = 16 * MV_MIB / MV_PAGE_SIZE;
	uint64_t max_free = 0;
	for (int k = 0; k < sim->nsamples; k++) {
		assert_true(sim->samples[k].vm[0].balloon_target <= cap);
		if (sim->samples[k].vm[1].balloon_target > max_free)
			max_free = sim->samples[k].vm[1].balloon_target;
	}
	assert_true(mv_guest_balloon_size(sim->guest[0]) <= cap);
	assert_true(max_free > cap);
	mv_sim_destroy(sim);
}

static void test_example_vmware_scenario_loads(void **state)
{
	(void)state;
	struct mv_scenario *sc = load_file("examples/vmware.xml");
	int vmx = 0;
	for (int i = 0; i < sc->nvms; i++)
		vmx += mv_vmx_is_path(sc->vms[i].vm.source);
	assert_true(vmx >= 1);
	mv_scenario_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_memory_keys_map_to_size_reservation_limit_shares),
		cmocka_unit_test(test_named_shares_scale_with_memsize_as_esx),
		cmocka_unit_test(
			test_unlimited_max_and_absent_limits_keep_defaults),
		cmocka_unit_test(test_minsize_is_read_as_the_reservation_too),
		cmocka_unit_test(test_pshare_enable_false_turns_sharing_off),
		cmocka_unit_test(test_pshare_salt_is_the_vms_sharing_salt),
		cmocka_unit_test(
			test_balloon_driver_follows_tools_installation),
		cmocka_unit_test(
			test_guest_os_windows_ids_give_the_windows_model),
		cmocka_unit_test(test_numa_node_affinity_gives_the_home_node),
		cmocka_unit_test(
			test_virtual_mmu_picks_shadow_or_nested_paging),
		cmocka_unit_test(
			test_format_comments_case_escapes_and_last_duplicate),
		cmocka_unit_test(test_crlf_and_byte_order_mark_are_accepted),
		cmocka_unit_test(test_syntax_errors_name_the_line_and_key),
		cmocka_unit_test(test_missing_memsize_is_32_mib_as_in_libvirt),
		cmocka_unit_test(test_key_with_a_star_is_accepted),
		cmocka_unit_test(
			test_memory_values_are_validated_with_the_key_as_written),
		cmocka_unit_test(test_vmx_files_load_from_a_scenario),
		cmocka_unit_test(test_errors_in_a_vmx_file_name_that_file),
		cmocka_unit_test(
			test_default_name_is_the_file_name_and_extension_any_case),
		cmocka_unit_test(test_maxmemctl_caps_the_balloon_in_a_run),
		cmocka_unit_test(test_example_vmware_scenario_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_scenario.c - libFuzzer harness for the scenario loader
 * (mv_scenario_load_string, src/sim/scenario.c): <scenario>, <host>,
 * <vm>, inline domains and workloads.
 *
 * The input is taken as a NUL-terminated string (the API's contract).
 * Domain and .vmx files are looked up under examples/, so inputs from the
 * corpus that name examples/domains/... reach the file readers too. The
 * loader must return 0 or a negative MV_E* code without crashing, leaking
 * or reading out of bounds; a scenario it accepts must hold only VMs that
 * pass mv_vm_config_check. Corpus: fuzz/corpus/scenario/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml = malloc(size + 1);
	if (!xml)
		return 0;
	memcpy(xml, data, size);
	xml[size] = '\0';
	struct mv_scenario *sc = NULL;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	int rc = mv_scenario_load_string(xml, "fuzz.xml", "examples", &sc,
					 &err);
	if (rc == 0) {
		if (!sc || sc->nvms < 1)
			abort();
		for (int i = 0; i < sc->nvms; i++) {
			struct mv_error e2;
			if (mv_vm_config_check(&sc->vms[i].vm, &e2) != 0)
				abort();
		}
		mv_scenario_free(sc);
	} else if (sc != NULL || !err.msg[0]) {
		abort();
	}
	free(xml);
	return 0;
}

/*
 * fuzz_domain.c - libFuzzer harness for the libvirt domain XML reader
 * (mv_domain_parse, src/sim/domain.c): the same code that reads a
 * <domain> from a scenario or a domain file, with its memvisor metadata.
 *
 * Any bytes go in, for a host of two NUMA nodes. The reader must return 0
 * or a negative MV_E* code without crashing, leaking or reading out of
 * bounds; on success the VM must pass mv_vm_config_check, on failure the
 * error must name a field. Corpus: fuzz/corpus/domain/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mv_vm_spec spec;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	int rc = mv_domain_parse((const char *)data, size, "fuzz.xml", 2, &spec,
				 &err);
	if (rc == 0) {
		struct mv_error e2;
		if (mv_vm_config_check(&spec.vm, &e2) != 0 ||
		    spec.vm.home_node >= 2)
			abort();
	} else if (rc == MV_EINVAL) {
		if (strcmp(err.file, "fuzz.xml") != 0 || !err.field[0] ||
		    !err.msg[0] || err.line < 0)
			abort();
	} else if (rc != MV_ENOMEM) {
		abort();
	}
	return 0;
}

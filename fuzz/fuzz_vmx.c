/*
 * fuzz_vmx.c - libFuzzer harness for the VMware .vmx reader
 * (mv_vmx_parse, src/sim/vmx.c).
 *
 * Any bytes go in. The reader must return 0 or a negative MV_E* code
 * without crashing, leaking or reading out of bounds (ASan, UBSan and
 * LeakSanitizer watch); on success the VM it produced must pass the same
 * checks every VM source obeys, and on failure the error must say where.
 * Corpus: fuzz/corpus/vmx/; run with `make fuzz` (docs/fuzzing.md).
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
	int rc = mv_vmx_parse((const char *)data, size, "fuzz.vmx", "fuzz", 2,
			      &spec, &err);
	if (rc == 0) {
		struct mv_error e2;
		if (mv_vm_config_check(&spec.vm, &e2) != 0 ||
		    spec.vm.home_node >= 2)
			abort(); /* the reader let an invalid VM through */
	} else if (rc == MV_EINVAL) {
		if (strcmp(err.file, "fuzz.vmx") != 0 || !err.field[0] ||
		    !err.msg[0] || err.line < 0)
			abort(); /* an error that does not say where */
	} else if (rc != MV_ENOMEM) {
		abort();
	}
	return 0;
}

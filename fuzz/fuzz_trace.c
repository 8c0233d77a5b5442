/*
 * fuzz_trace.c - libFuzzer harness for the address-trace reader
 * (mv_trace_open / mv_trace_next, src/sim/trace.c: valgrind lackey text
 * or memvisor's binary format) and, behind it, the MMU model
 * (mv_trace_replay): every record the reader accepts is replayed, at most
 * 4,000 of them, in a small VM, in the mode the input's length picks.
 *
 * Any bytes go in, through a memfd (the reader takes a path). The reader
 * must return 1, 0, MV_EINVAL or MV_EIO, give records of a known kind and
 * a size of 1 to 4096 bytes, and say where a bad line is; a replay may run
 * out of guest memory (MV_EAGAIN: the VM is small) or meet a bad record,
 * and must not crash or leak. Corpus: fuzz/corpus/trace/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memvisor/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const char *path)
{
	struct mv_trace *t;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	if (mv_trace_open(path, &t, &err) != 0)
		abort(); /* the file exists: opening cannot fail */
	struct mv_trace_rec r;
	int rc;
	while ((rc = mv_trace_next(t, &r, &err)) == 1)
		if (r.kind > MV_TR_MODIFY || r.size == 0 || r.size > 4096)
			abort(); /* a record the reader should have refused */
	if (rc == MV_EINVAL &&
	    (strcmp(err.file, path) != 0 || err.line <= 0 || !err.msg[0]))
		abort(); /* an error that does not say where */
	if (rc != 0 && rc != MV_EINVAL && rc != MV_EIO)
		abort();
	mv_trace_close(t);
}

static void replay(const char *path, enum mv_mmu_mode mode)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = 64 * MV_MIB;
	hc.nodes = 1;
	struct mv_host *h;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	if (mv_host_create(&hc, &h, &err))
		abort();
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "fuzz", 16 * MV_MIB);
	struct mv_vm *vm;
	struct mv_mmu *m;
	struct mv_mmu_proc *p;
	struct mv_trace *t;
	struct mv_mmu_config mc;
	mv_mmu_config_default(&mc, mode);
	if (mv_vm_create(h, &vc, 0, &vm, &err) ||
	    mv_mmu_create(vm, &mc, &m, &err) || mv_mmu_proc_create(m, &p) ||
	    mv_trace_open(path, &t, &err))
		abort();
	int rc = mv_trace_replay(m, t, 4000, &err);
	if (rc != 0 && rc != MV_EINVAL && rc != MV_EIO && rc != MV_EAGAIN)
		abort();
	mv_trace_close(t);
	mv_mmu_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("trace", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	read_all(path);
	replay(path, (enum mv_mmu_mode)(size % MV_MMU_MODES));
	close(fd);
	return 0;
}

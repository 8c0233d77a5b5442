#include <stdio.h>
#include <string.h>

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

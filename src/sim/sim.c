/*
 * sim.c - the deterministic discrete-time simulator.
 *
 * Time advances in fixed steps (scenario step, default 10 ms). In each step
 * the VMs' guests run in VM order, each issuing its workloads' accesses for
 * the step through the one access path; then the host's free-memory state
 * is updated. Every stats interval a sample of every figure is stored for
 * the report; every active window each VM's true active set is closed.
 * With verification on, every invariant of every layer is checked after
 * every step (tests do this; `memvisor run --verify` too).
 *
 * Reclamation: the page-sharing scanner runs every step at its own rate;
 * every policy period (default 1 s) the policy (src/policy/plan.c) looks at
 * a snapshot of the host and VMs and returns balloon targets, pages to
 * compress or swap, and whether allocations are blocked; the simulator
 * carries them out. Each VM's swap file has no name (in the scenario's
 * swap directory, else $TMPDIR), so nothing outlives the process; only a
 * scenario that keeps its swap files gets named files, in its directory
 * or a fresh temporary one.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/sim.h"

void mv_sim_destroy(struct mv_sim *s)
{
	if (!s)
		return;
	mv_share_destroy(s->sharer);
	int keep = s->sc && s->sc->reclaim.keep_swap;
	/* every VM goes: keeping the owners table's sums right page by
	 * page as each unmaps its shared frames was 3% of a long run */
	if (s->host)
		mv_owners_detach_host(s->host);
	for (int i = 0; i < s->nvms; i++) {
		if (s->guest)
			mv_guest_destroy(s->guest[i]);
		if (s->zcache)
			mv_zcache_destroy(s->zcache[i]);
		if (s->swap)
			mv_swapfile_destroy(s->swap[i], keep);
		if (s->vm)
			mv_vm_destroy(s->vm[i]);
	}
	if (s->own_run_dir && !keep)
		rmdir(s->run_dir);
	free(s->zcache);
	free(s->swap);
	free(s->action);
	free(s->period);
	free(s->oom);
	free(s->start);
	free(s->moved);
	free(s->incoming);
	for (int i = 0; i < s->nsamples; i++)
		free(s->samples[i].vm);
	free(s->samples);
	free(s->guest);
	free(s->vm);
	mv_host_destroy(s->host);
	mv_scenario_free(s->sc);
	free(s);
}

void mv_sim_share_stats(const struct mv_sim *s, struct mv_share_stats *st)
{
	if (s->sharer)
		mv_share_stats(s->sharer, st);
	else
		memset(st, 0, sizeof *st);
}

const char *mv_access_model_name(enum mv_access_model m)
{
	static const char *const names[] = {"auto", "exact", "interval"};
	return (unsigned)m < 3 ? names[m] : "?";
}

double mv_scenario_est_accesses(const struct mv_scenario *sc)
{
	double dur = (double)sc->duration_ns / 1e9, n = 0;
	for (int i = 0; i < sc->nvms; i++) {
		const struct mv_guest_config *g = &sc->vms[i].guest;
		n += g->os_rate * dur;
		for (int k = 0; k < g->nworkloads; k++) {
			const struct mv_workload_config *w = &g->workload[k];
			uint64_t end = w->stop_ns && w->stop_ns <
							       sc->duration_ns
					       ? w->stop_ns
					       : sc->duration_ns;
			if (end > w->start_ns)
				n += w->rate * (double)(end - w->start_ns) /
				     1e9;
		}
	}
	return n;
}

/* Resolve the run's access model and switch the guests that can to the
 * interval model. */
static int choose_model(struct mv_sim *s, struct mv_error *err)
{
	s->est_accesses = mv_scenario_est_accesses(s->sc);
	s->model = s->sc->access_model;
	if (s->model == MV_MODEL_AUTO)
		s->model = s->est_accesses <= MV_EXACT_MAX_ACCESSES
				   ? MV_MODEL_EXACT
				   : MV_MODEL_INTERVAL;
	if (s->model != MV_MODEL_INTERVAL)
		return 0;
	for (int i = 0; i < s->nvms; i++) {
		if (!mv_guest_interval_capable(&s->sc->vms[i].guest))
			continue;
		int rc = mv_guest_use_interval(s->guest[i], s->sc->step_ns,
					       s->sc->duration_ns);
		if (rc)
			return mv_error_set(err, rc, NULL, 0, "",
					    "out of memory");
		s->interval_guests++;
	}
	return 0;
}

static const char *tmp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp ? tmp : "/tmp";
}

/*
 * The directory for swap files: the scenario's; a new temporary one only
 * when the files are to be kept without a directory named; else none
 * (run_dir ""): the files are made without names in $TMPDIR.
 */
static int make_run_dir(struct mv_sim *s, struct mv_error *err)
{
	const char *dir = s->sc->reclaim.swap_dir;
	if (dir[0]) {
		struct stat st;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return mv_error_set(err, MV_ENOENT, s->sc->source, 0,
					    "swap/dir",
					    "'%s' is not a directory", dir);
		snprintf(s->run_dir, sizeof s->run_dir, "%s", dir);
		return 0;
	}
	s->run_dir[0] = '\0';
	if (!s->sc->reclaim.keep_swap)
		return 0;
	snprintf(s->run_dir, sizeof s->run_dir, "%s/memvisor-XXXXXX",
		 tmp_dir());
	if (!mkdtemp(s->run_dir))
		return mv_error_set(err, MV_EIO, s->run_dir, 0, "swap/dir",
				    "cannot create a run directory: %s",
				    strerror(errno));
	s->own_run_dir = 1;
	return 0;
}

/*
 * VM i's page-sharing salt group under ESX's Mem.ShareForceSalting
 * (VMware KB 2097593; docs/presets.md): 0 ignores salts (one group); 1
 * and 2 group VMs by their sched.mem.pshare.salt, a group numbered 1 +
 * the index of its first VM; a VM without a salt is in group 0 with
 * the others without one under 1, and alone (its vc.uuid) under 2,
 * numbered 1 + its own index, which no salted group can have.
 */
static uint32_t salt_group(const struct mv_scenario *sc, int i)
{
	const char *salt = sc->vms[i].vm.pshare_salt;
	if (sc->reclaim.share.salting == 0)
		return 0;
	if (!salt[0])
		return sc->reclaim.share.salting == 1 ? 0 : (uint32_t)i + 1;
	int j = 0;
	while (strcmp(sc->vms[j].vm.pshare_salt, salt) != 0)
		j++;
	return (uint32_t)j + 1;
}

/* Power on VM i's reclamation: swap file (a new one, or `adopt`, which
 * the slot takes only on success), compression cache, sharing. */
static int power_on_reclaim(struct mv_sim *s, int i, struct mv_swapfile *adopt,
			    struct mv_error *err)
{
	const struct mv_reclaim_config *r = &s->sc->reclaim;
	struct mv_vm *vm = s->vm[i];
	uint64_t slots = (vm->cfg.mem_bytes - vm->cfg.reservation_bytes) /
			 MV_PAGE_SIZE;
	/* libvirt's swap_hard_limit bounds what may be swapped */
	if (vm->cfg.swap_max_bytes / MV_PAGE_SIZE < slots)
		slots = vm->cfg.swap_max_bytes / MV_PAGE_SIZE;
	const char *dir = s->run_dir[0] ? s->run_dir : tmp_dir();
	int rc = adopt ? 0
		 : r->keep_swap
			 ? mv_swapfile_create_named(vm, s->run_dir, slots,
						    &s->swap[i], err)
		 : r->swap_names
			 ? mv_swapfile_create_shared(vm, dir, slots,
						     &s->swap[i], err)
			 : mv_swapfile_create(vm, dir, slots, &s->swap[i],
					      err);
	if (rc)
		return rc;
	uint64_t cache = r->compression
				 ? (uint64_t)(r->zcache_fraction *
					      (double)vm->cfg.mem_bytes) /
					   MV_PAGE_SIZE * MV_PAGE_SIZE
				 : 0;
	rc = mv_zcache_create(vm, cache, adopt ? adopt : s->swap[i],
			      &s->zcache[i], err);
	if (rc)
		return rc;
	if (s->sharer && (rc = mv_share_add_vm(s->sharer, vm)) != 0)
		return mv_error_set(err, rc, NULL, 0, vm->cfg.name,
				    "cannot join page sharing: the VMs of one "
				    "host hold at most 8 TiB of memory");
	if (s->sharer &&
	    (rc = mv_share_set_salt(s->sharer, vm, salt_group(s->sc, i))) != 0)
		return mv_error_set(err, rc, NULL, 0, vm->cfg.name,
				    "out of memory for page sharing's salts");
	if (s->sharer && s->sc->reclaim.share.before_swap)
		vm->share_first = s->sharer;
	if (adopt) {
		mv_swapfile_attach(adopt, vm);
		s->swap[i] = adopt;
	}
	return 0;
}

/* Machine memory VM i holds: its frames (a shared one divided among its
 * users) and its compression cache, as ESX counts consumed memory. */
static uint64_t consumed_frames(const struct mv_sim *s, int i,
				const struct mv_vm_usage *u)
{
	struct mv_zcache_stats z = {0};
	if (s->zcache && s->zcache[i])
		mv_zcache_stats(s->zcache[i], &z);
	return u->consumed + z.frames;
}

/* The VMs' <mv:guest overhead>, in pages: memory the policy counts as
 * theirs and the host's, which the frames do not hold. */
static uint64_t vmm_pages(const struct mv_sim *s, int i)
{
	if (mv_sim_vm_down(s, i))
		return 0; /* its QEMU is gone, or never ran */
	return s->sc->vms[i].guest.vmm_bytes / MV_PAGE_SIZE;
}

/*
 * One VM's figures now. Any object may be missing (a simulator that failed
 * half-way through mv_sim_create): its figures are then zero.
 */
void mv_sim_sample_vm(const struct mv_sim *s, int i, struct mv_sample_vm *v)
{
	memset(v, 0, sizeof *v);
	const struct mv_vm *vm = s->vm ? s->vm[i] : NULL;
	if (!vm)
		return;
	struct mv_vm_usage u;
	mv_vm_usage(vm, &u);
	memcpy(v->state, u.state, sizeof v->state);
	if (s->zcache && s->zcache[i])
		mv_zcache_stats(s->zcache[i], &v->zcache);
	if (s->swap && s->swap[i])
		mv_swapfile_stats(s->swap[i], &v->swap);
	v->granted = u.granted;
	v->consumed = consumed_frames(s, i, &u);
	v->vmm_pages = s->sc ? vmm_pages(s, i) : 0;
	v->shared_saved = u.shared_saved;
	v->touched = u.touched;
	/* before the first window closes, the set so far */
	v->active_true = s->sc && s->now_ns < s->sc->active_window_ns
				 ? vm->window_accessed
				 : u.active_true;
	/* the interval model: pages seen plus the others' expectation */
	if (s->sc && s->now_ns < s->sc->active_window_ns && s->guest &&
	    s->guest[i] && mv_guest_uses_interval(s->guest[i]))
		v->active_true = (uint64_t)llround(mv_guest_active_pages(
			s->guest[i], s->now_ns, (double)s->now_ns / 1e9));
	v->active_est = mv_vm_active_estimate(vm);
	memcpy(v->faults, vm->ctr.faults, sizeof v->faults);
	v->stall_ns = mv_vm_stall_ns(vm);
	v->xlat_ns = vm->ctr.xlat_ns;
	/* THP's figures; a hugetlbfs VM's 2 MiB pages are not AnonHugePages */
	v->thp = vm->region != NULL && !vm->cfg.hugepages;
	v->lpage_esx = vm->lpage_esx;
	v->thp_huge = vm->thp_huge;
	v->thp_fault_alloc = vm->ctr.thp_fault_alloc;
	v->thp_fault_fallback = vm->ctr.thp_fault_fallback;
	v->thp_collapse_alloc = vm->ctr.thp_collapse_alloc;
	v->thp_collapse_alloc_failed = vm->ctr.thp_collapse_alloc_failed;
	v->thp_split_page = vm->ctr.thp_split_page;
	if (s->guest && s->guest[i]) {
		mv_guest_progress(s->guest[i], &v->demanded, &v->done);
		mv_guest_stats(s->guest[i], &v->guest);
		v->balloon_target = mv_guest_balloon_target(s->guest[i]);
	}
	if (s->action)
		v->reclaim_wanted = s->action[i].reclaim;
	v->swap_target = u.state[MV_PS_SWAPPED] +
			 (s->period ? s->period[i].swap_short : 0);
	v->overhead_bytes = mv_vm_overhead_bytes(vm);
	/* cgroup v2: QEMU's own memory is the VM's overhead, charged to its
	 * memory.max as the kernel charges QEMU's RSS */
	if (s->sc->reclaim.memtune_cgroup && !mv_sim_vm_down(s, i))
		v->overhead_bytes += s->sc->vms[i].guest.vmm_bytes;
	if (s->swap && s->swap[i])
		v->overhead_bytes += mv_swapfile_overhead_bytes(s->swap[i]);
	if (s->zcache && s->zcache[i])
		v->overhead_bytes += mv_zcache_overhead_bytes(s->zcache[i]);
	const struct mv_mmu *mmu = s->guest && s->guest[i]
					   ? mv_guest_mmu(s->guest[i])
					   : NULL;
	if (mmu)
		v->overhead_bytes += mv_mmu_overhead_bytes(mmu);
}

void mv_sim_vm_view(const struct mv_sim *s, int i, struct mv_vm_view *v)
{
	const struct mv_vm *vm = s->vm ? s->vm[i] : NULL;
	const struct mv_vm_spec *spec = &s->sc->vms[i];
	memset(v, 0, sizeof *v);
	v->cfg = vm ? &vm->cfg : &spec->vm;
	v->name = v->cfg->name;
	v->guest = &spec->guest;
	v->pages = vm ? vm->npages : spec->vm.mem_bytes / MV_PAGE_SIZE;
	v->home_node = vm ? vm->home_node : spec->vm.home_node;
	v->page_in_errors = vm ? vm->ctr.page_in_errors : 0;
	v->mmu = s->guest && s->guest[i] ? mv_guest_mmu(s->guest[i]) : NULL;
	v->vm = vm;
}

/*
 * What the policy sees: the host's frames, or with <budget> that many,
 * free being the budget less the frames in use (0 when over it), as
 * `memvisor agent --host-memory` sees a host.
 */
static uint64_t policy_total(const struct mv_sim *s)
{
	uint64_t b = s->sc->host.budget_bytes / MV_PAGE_SIZE;
	return b ? b : mv_host_usable_frames(s->host);
}

const char *mv_oom_constraint_name(enum mv_oom_constraint c)
{
	return c == MV_OOM_MEMCG ? "memcg" : "mempolicy";
}

/*
 * OOM-kill VM i's QEMU (the kernel's oom_kill_process on the cgroup's or
 * the nodeset's one big process): its guest runs no more and every page
 * it held goes back to the host (frames, swap slots, compressed copies);
 * the report names the kill and its constraint.
 */
static void oom_kill(struct mv_sim *s, int i, enum mv_oom_constraint c,
		     uint64_t held, uint64_t max)
{
	struct mv_vm *vm = s->vm[i];
	struct mv_sim_oom *o = &s->oom[i];
	o->killed = 1;
	o->constraint = (int)c;
	o->at_ns = s->now_ns;
	o->held_pages = held;
	o->max_pages = max;
	mv_vm_hugetlb_release(vm); /* its 2 MiB pages back to the pool */
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		mv_vm_release_page(vm, g);
}

/*
 * cgroup v2's memory.max (libvirt's hard_limit on KVM) after the
 * kernel's reclaim: a VM whose QEMU (guest frames plus its own
 * overhead) is still above it when reclaim fell short (locked memory,
 * memory.swap.max reached) is OOM-killed, as the kernel's memcg OOM
 * killer kills the cgroup's one big process (mm/memcontrol.c,
 * mem_cgroup_out_of_memory).
 */
static void oom_check(struct mv_sim *s, int i)
{
	struct mv_vm *vm = s->vm[i];
	struct mv_vm_usage u;
	mv_vm_usage(vm, &u);
	uint64_t held = consumed_frames(s, i, &u) + vmm_pages(s, i);
	/* hugetlb pages are charged to the hugetlb controller, not
	 * memory.max (unless cgroup v2 is mounted with
	 * memory_hugetlb_accounting, Linux 6.6, off by default) */
	if (vm->hugetlb)
		held -= vm->npages;
	uint64_t max = vm->cfg.limit_bytes / MV_PAGE_SIZE;
	if (held <= max)
		return;
	oom_kill(s, i, MV_OOM_MEMCG, held, max);
}

/* Free frames (or all frames) of the host nodes in mask. */
static uint64_t nodes_frames(const struct mv_host *h, unsigned mask, int free)
{
	uint64_t n = 0;
	for (int k = 0; k < h->nnodes; k++)
		if (mask & (1u << k))
			n += free ? h->node[k].nfree : h->node[k].nframes;
	return n;
}

/* SWAP_CLUSTER_MAX (include/linux/swap.h): the pages a direct-reclaim
 * pass of the page allocator asks for */
#define DIRECT_RECLAIM_PAGES 32

/*
 * A strict (MPOL_BIND) or restrictive VM whose allocation found its
 * nodeset full since the last step (docs/numa.md). Linux's page
 * allocator reclaims on the bound nodes (direct reclaim, a
 * SWAP_CLUSTER_MAX pass) and, when that frees nothing there, invokes
 * the OOM killer with CONSTRAINT_MEMORY_POLICY (mm/oom_kill.c,
 * constrained_alloc: the nodemask does not cover every node with
 * memory), which kills within the nodeset, the QEMU itself. memvisor's
 * reclaim is per VM: it reclaims from the VM itself (swap or
 * compression, as the host's reclaim does), whose private pages are all
 * on those nodes; locked memory or a full swap file (swap_hard_limit)
 * frees nothing there, and the VM is OOM-killed.
 */
static void numa_oom_check(struct mv_sim *s, int i)
{
	struct mv_vm *vm = s->vm[i];
	struct mv_sim_oom *o = &s->oom[i];
	uint64_t failed = vm->ctr.numa_bind_failed - o->bind_seen;
	if (!failed || o->killed)
		return;
	o->bind_seen = vm->ctr.numa_bind_failed;
	unsigned nodes = mv_vm_numa_bound_nodes(vm);
	uint64_t before = nodes_frames(s->host, nodes, 1);
	if (!vm->cfg.locked) {
		uint64_t done = 0, freed = 0;
		struct mv_error e = {0};
		uint64_t want = failed > DIRECT_RECLAIM_PAGES
					? failed
					: DIRECT_RECLAIM_PAGES;
		if (mv_reclaim_frames(vm, s->zcache[i], s->swap[i],
				      &s->reclaim_rng, want, &done, &freed,
				      &e) == MV_EIO) {
			s->io_errors++;
			mv_error_format(&e, s->last_io_error,
					sizeof s->last_io_error);
		}
	}
	if (nodes_frames(s->host, nodes, 1) > before)
		return; /* the allocation is retried next step */
	struct mv_vm_usage u;
	mv_vm_usage(vm, &u);
	oom_kill(s, i, MV_OOM_MEMORY_POLICY,
		 consumed_frames(s, i, &u) + vmm_pages(s, i),
		 nodes_frames(s->host, nodes, 0));
}

static uint64_t policy_free(const struct mv_sim *s)
{
	uint64_t b = s->sc->host.budget_bytes / MV_PAGE_SIZE, vmm = 0;
	for (int i = 0; i < s->nvms; i++)
		vmm += vmm_pages(s, i);
	uint64_t free = s->host->nfree > vmm ? s->host->nfree - vmm : 0;
	if (!b)
		return free;
	uint64_t used = mv_host_usable_frames(s->host) - free;
	return b > used ? b - used : 0;
}

static double policy_free_fraction(const struct mv_sim *s)
{
	return (double)policy_free(s) / (double)policy_total(s);
}

uint64_t mv_sim_usable_frames(const struct mv_sim *s)
{
	return s->host ? mv_host_usable_frames(s->host) : 0;
}

uint64_t mv_sim_free_frames(const struct mv_sim *s)
{
	return s->host ? s->host->nfree : 0;
}

void mv_sim_books(const struct mv_sim *s, struct mv_books *b)
{
	memset(b, 0, sizeof *b);
	if (s->host) {
		mv_host_books(s->host, b);
		mv_owners_books(s->host, b);
	}
	if (s->sharer)
		mv_share_books(s->sharer, b);
	for (int i = 0; i < s->nvms; i++) {
		if (s->vm && s->vm[i])
			mv_vm_books(s->vm[i], b);
		if (s->swap && s->swap[i])
			mv_swapfile_books(s->swap[i], b);
		if (s->zcache && s->zcache[i])
			mv_zcache_books(s->zcache[i], b);
		if (s->guest && s->guest[i]) {
			mv_guest_books(s->guest[i], b);
			const struct mv_mmu *m = mv_guest_mmu(s->guest[i]);
			if (m)
				mv_mmu_books(m, b);
		}
	}
	/* take_sample's: the array of samples and each one's VM figures */
	mv_books_add(b, "series", "sim.samples", sizeof *s->samples,
		     (uint64_t)s->cap_samples);
	uint64_t nv = 0;
	for (int k = 0; k < s->nsamples; k++)
		nv += (uint64_t)s->samples[k].nvms;
	mv_books_add(b, "series", "sim.sample-vms", sizeof *s->samples->vm, nv);
}

static int take_sample(struct mv_sim *s)
{
	if (s->nsamples == s->cap_samples) {
		int cap = s->cap_samples ? 2 * s->cap_samples : 64;
		struct mv_sample *n = realloc(s->samples,
					      (size_t)cap * sizeof *n);
		if (!n)
			return MV_ENOMEM;
		s->samples = n;
		s->cap_samples = cap;
	}
	struct mv_sample *sm = &s->samples[s->nsamples];
	sm->vm = calloc((size_t)s->nvms, sizeof *sm->vm);
	if (!sm->vm)
		return MV_ENOMEM;
	sm->nvms = s->nvms;
	sm->t_ns = s->now_ns;
	sm->host_free = s->host->nfree;
	sm->memstate = s->memstate.state;
	/* the gauges that walk every page only at the end of the run */
	if (s->now_ns >= s->sc->duration_ns)
		mv_sim_share_stats(s, &sm->share);
	else if (s->sharer)
		mv_share_series(s->sharer, &sm->share);
	else
		memset(&sm->share, 0, sizeof sm->share);
	for (int i = 0; i < s->nvms; i++)
		mv_sim_sample_vm(s, i, &sm->vm[i]);
	s->nsamples++;
	return 0;
}

/*
 * Admission control (ESX): a VM powers on only if its reservation fits in
 * the host memory not yet reserved by the VMs powered on before it, so
 * that reservations can always be honoured. The first VM that does not
 * fit stops the run, named with the figures.
 */
static int admit(const struct mv_scenario *sc, struct mv_error *err)
{
	uint64_t host = sc->host.mem_bytes - MV_PAGE_SIZE; /* the zero frame */
	uint64_t reserved = 0;
	for (int i = 0; i < sc->nvms; i++) {
		const struct mv_vm_config *c = &sc->vms[i].vm;
		if (c->reservation_bytes <= host - reserved) {
			reserved += c->reservation_bytes;
			continue;
		}
		char want[32], left[32], total[32];
		mv_format_bytes(c->reservation_bytes, want, sizeof want);
		mv_format_bytes(host - reserved, left, sizeof left);
		mv_format_bytes(host, total, sizeof total);
		return mv_error_set(
			err, MV_EINVAL, c->source, c->source_line,
			"memtune/min_guarantee",
			"VM '%s' cannot power on: it reserves %s "
			"but only %s of the host's %s is unreserved",
			c->name, want, left, total);
	}
	return 0;
}

/*
 * A <hugepages/> VM on a host with a pool: preallocated from it whole
 * (src/vm/hugetlb.c), or, when the pool is short, not started, as
 * libvirt's start fails; the run goes on with the others.
 */
static int back_hugetlb(struct mv_sim *s, int i, struct mv_error *err)
{
	struct mv_vm *vm = s->vm[i];
	if (mv_vm_thp_enable(vm))
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	uint64_t need, free = s->host->hugetlb.free;
	if (mv_vm_hugetlb_back(vm, &need) == MV_ENOMEM)
		s->start[i] = (struct mv_sim_start){
			.failed = 1, .need = need, .free = free};
	return 0;
}

void mv_sim_start_error(const struct mv_sim *s, int i, char *buf, size_t n)
{
	const struct mv_sim_start *st = &s->start[i];
	/* libvirt reports QEMU's exit while it waits for the monitor */
	snprintf(buf, n,
		 "internal error: process exited while connecting to "
		 "monitor: qemu-system-x86_64: unable to map backing store "
		 "for guest RAM: Cannot allocate memory (needs %llu 2 MiB "
		 "pages, HugePages_Free %llu)",
		 (unsigned long long)st->need, (unsigned long long)st->free);
}

/* Start VM i's active-memory sampler with the scenario's settings, seeded
 * from the run's seed and the VM so that runs repeat. */
static int start_sampler(struct mv_sim *s, int i, struct mv_error *err)
{
	uint64_t seed = mv_mix64(s->sc->seed ^ mv_mix64((uint64_t)i + 0xac7));
	int rc = mv_vm_active_configure(s->vm[i], &s->sc->sampling, seed, 0);
	if (rc == MV_EINVAL)
		return mv_error_set(err, rc, s->sc->source, 0, "sampling",
				    "needs pages and a period above zero");
	if (rc)
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	return 0;
}

int mv_sim_create(struct mv_scenario *sc, int verify, struct mv_sim **out,
		  struct mv_error *err)
{
	*out = NULL;
	struct mv_sim *s = calloc(1, sizeof *s);
	if (!s) {
		mv_scenario_free(sc);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	s->sc = sc;
	s->verify = verify;
	int rc = mv_host_create(&sc->host, &s->host, err);
	if (rc) {
		if (err && !err->file[0])
			snprintf(err->file, sizeof err->file, "%s", sc->source);
		mv_sim_destroy(s);
		return rc;
	}
	s->vm = calloc((size_t)sc->nvms, sizeof *s->vm);
	s->guest = calloc((size_t)sc->nvms, sizeof *s->guest);
	s->swap = calloc((size_t)sc->nvms, sizeof *s->swap);
	s->zcache = calloc((size_t)sc->nvms, sizeof *s->zcache);
	s->action = calloc((size_t)sc->nvms, sizeof *s->action);
	s->period = calloc((size_t)sc->nvms, sizeof *s->period);
	s->oom = calloc((size_t)sc->nvms, sizeof *s->oom);
	s->start = calloc((size_t)sc->nvms, sizeof *s->start);
	s->moved = calloc((size_t)sc->nvms, sizeof *s->moved);
	s->cap_vms = (size_t)sc->nvms;
	if (!s->vm || !s->guest || !s->swap || !s->zcache || !s->action ||
	    !s->period || !s->oom || !s->start || !s->moved) {
		mv_sim_destroy(s);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	if (sc->reclaim.share.enabled &&
	    (rc = mv_share_create(s->host, &sc->reclaim.share, &s->sharer,
				  err))) {
		mv_sim_destroy(s);
		return rc;
	}
	if ((rc = make_run_dir(s, err))) {
		mv_sim_destroy(s);
		return rc;
	}
	mv_rng_seed(&s->reclaim_rng, mv_mix64(sc->seed ^ 0x5eed5a9ull));
	mv_khugepaged_init(&s->khugepaged, &sc->reclaim.thp);
	if ((rc = admit(sc, err))) {
		mv_sim_destroy(s);
		return rc;
	}
	s->nvms = sc->nvms;
	for (int i = 0; i < sc->nvms; i++) {
		rc = mv_vm_create(s->host, &sc->vms[i].vm, i, &s->vm[i], err);
		if (!rc && verify && mv_vm_enable_verify(s->vm[i]))
			rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					  "out of memory");
		/* THP or ESX's large pages; not for hugetlbfs-backed VMs */
		if (!rc &&
		    (sc->reclaim.thp.enabled != MV_THP_NEVER ||
		     sc->reclaim.large_pages) &&
		    !sc->vms[i].vm.hugepages) {
			s->vm[i]->lpage_esx = sc->reclaim.large_pages;
			if (mv_vm_thp_enable(s->vm[i]))
				rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "",
						  "out of memory");
		}
		/* static huge pages: the whole guest from the pool, or the
		 * VM does not start */
		if (!rc && sc->vms[i].vm.hugepages && sc->host.hugepages_pool)
			rc = back_hugetlb(s, i, err);
		if (!rc)
			rc = start_sampler(s, i, err);
		if (!rc)
			rc = power_on_reclaim(s, i, NULL, err);
		if (!rc)
			rc = mv_guest_create(
				s->vm[i], &sc->vms[i].guest,
				mv_mix64(sc->seed ^ mv_mix64((uint64_t)i + 1)),
				&s->guest[i], err);
		if (rc) {
			mv_sim_destroy(s);
			return rc;
		}
	}
	if ((rc = choose_model(s, err))) {
		mv_sim_destroy(s);
		return rc;
	}
	mv_memstate_init(&s->memstate, sc->reclaim.memstate_model,
			 &sc->host.thresholds,
			 sc->host.budget_bytes ? sc->host.budget_bytes
					       : sc->host.mem_bytes);
	s->min_free = s->host->nfree;
	s->next_sample_ns = 0;
	s->next_window_ns = sc->active_window_ns;
	s->next_balance_ns = sc->reclaim.balance_ns;
	s->balance_state = s->memstate.state;
	rc = take_sample(s);
	if (rc) {
		mv_sim_destroy(s);
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	}
	s->next_sample_ns = sc->stats_interval_ns;
	*out = s;
	return 0;
}

int mv_sim_check(const struct mv_sim *s, struct mv_error *err)
{
	int rc = mv_host_check(s->host, err);
	if (rc)
		return rc;
	/* every frame's refcount equals the guest pages mapping it */
	uint32_t *refs = calloc(s->host->nframes, sizeof *refs);
	if (!refs)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_vm *vm = s->vm[i];
		if (mv_sim_vm_gone(s, i))
			continue;
		/* a killed VM's guest is gone: its books describe the pages
		 * it had, which the host took back */
		if ((rc = mv_vm_check(vm, err)) != 0 ||
		    (!mv_sim_vm_down(s, i) &&
		     (rc = mv_guest_check(s->guest[i], err)) != 0)) {
			free(refs);
			return rc;
		}
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			if (vm->pmap[g].state == MV_PS_PRIVATE ||
			    vm->pmap[g].state == MV_PS_SHARED)
				refs[vm->pmap[g].mpn]++;
		/* the compression cache's frames are the VM's too */
		if ((rc = mv_zcache_check(s->zcache[i], err)) != 0) {
			free(refs);
			return rc;
		}
		uint64_t nz = mv_zcache_frames(s->zcache[i], NULL, 0);
		mv_mpn_t *zf = malloc((nz + 1) * sizeof *zf);
		if (!zf) {
			free(refs);
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		}
		nz = mv_zcache_frames(s->zcache[i], zf, nz);
		for (uint64_t k = 0; k < nz; k++)
			refs[zf[k]]++;
		free(zf);
		/* and the MMU model's table frames (EPT, shadow) */
		const struct mv_mmu *mmu = mv_guest_mmu(s->guest[i]);
		uint64_t nt = mmu ? mv_mmu_frames(mmu, NULL, 0) : 0;
		mv_mpn_t *tf = malloc((nt + 1) * sizeof *tf);
		if (!tf) {
			free(refs);
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		}
		nt = mmu ? mv_mmu_frames(mmu, tf, nt) : 0;
		for (uint64_t k = 0; k < nt; k++)
			refs[tf[k]]++;
		free(tf);
	}
	/* VMs arriving by live migration: their frames so far */
	for (int k = 0; k < s->nincoming; k++) {
		const struct mv_vm *vm = s->incoming[k];
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			if (vm->pmap[g].state == MV_PS_PRIVATE)
				refs[vm->pmap[g].mpn]++;
	}
	if (s->sharer && (rc = mv_share_check(s->sharer, err)) != 0) {
		free(refs);
		return rc;
	}
	mv_hugetlb_refs(s->host, refs); /* the pool's own references */
	for (uint64_t m = 1; m < s->host->nframes; m++) {
		uint64_t hr = mv_host_frame_refs(s->host, (mv_mpn_t)m);
		if (refs[m] != hr) {
			rc = mv_error_set(err, MV_EINVAL, NULL, 0, "host",
					  "frame %llu has refcount %llu but %u "
					  "guest pages map it",
					  (unsigned long long)m,
					  (unsigned long long)hr, refs[m]);
			break;
		}
	}
	free(refs);
	return rc;
}

/*
 * One policy period: snapshot, plan, act. Swap I/O errors lose nothing
 * (the page stays resident); they are counted and the last one kept for
 * the report, and the run goes on.
 */
static void balance(struct mv_sim *s)
{
	const struct mv_reclaim_config *r = &s->sc->reclaim;
	/* the VMs here (a slot whose VM left by live migration is not) */
	struct mv_policy_vm *pv = calloc((size_t)s->nvms + 1, sizeof *pv);
	struct mv_policy_action *act = calloc((size_t)s->nvms + 1, sizeof *act);
	int *slot = calloc((size_t)s->nvms + 1, sizeof *slot);
	int n = 0;
	if (!pv || !act || !slot) {
		free(pv);
		free(act);
		free(slot);
		return;
	}
	for (int i = 0; i < s->nvms; i++)
		if (!mv_sim_vm_gone(s, i))
			slot[n++] = i;
	double period_s = (double)r->balance_ns / 1e9;
	for (int k = 0; k < n; k++) {
		int i = slot[k];
		const struct mv_vm *vm = s->vm[i];
		struct mv_vm_usage u;
		mv_vm_usage(vm, &u);
		pv[k].size = vm->npages;
		pv[k].consumed = consumed_frames(s, i, &u) + vmm_pages(s, i);
		pv[k].shared_saved = u.shared_saved;
		pv[k].reservation = vm->cfg.reservation_bytes / MV_PAGE_SIZE;
		/* nothing can take a hugetlbfs VM's pages (src/vm/hugetlb.c):
		 * what it holds is its floor, the others give instead */
		if (vm->hugetlb)
			pv[k].reservation = pv[k].consumed;
		pv[k].limit = vm->cfg.limit_bytes / MV_PAGE_SIZE;
		pv[k].cgroup = r->memtune_cgroup;
		pv[k].high = r->memtune_cgroup
				     ? vm->cfg.soft_limit_bytes / MV_PAGE_SIZE
				     : 0;
		pv[k].shares = vm->cfg.shares;
		/* f for the idle memory tax: the active set as the hypervisor
		 * can know it, by sampling (mv_vm_active_estimate; Waldspurger
		 * 2002, section 5.3), not the true set only the simulator
		 * sees, as a fraction of its allocation P (policy.h) */
		uint64_t act = mv_vm_active_estimate(vm);
		uint64_t alloc = pv[k].consumed + pv[k].shared_saved;
		pv[k].active = alloc ? (double)act / (double)alloc : 0;
		if (pv[k].active > 1)
			pv[k].active = 1;
		/* ballooning a hugetlbfs guest frees nothing on the host
		 * (mv_vm_balloon_page): the policy does not ask it; and no
		 * balloon until the guest has loaded its driver */
		pv[k].balloon = vm->cfg.balloon_driver && !vm->hugetlb &&
				s->now_ns >=
					s->sc->vms[i].guest.balloon_start_ns;
		pv[k].balloon_size = mv_guest_balloon_size(s->guest[i]);
		/* pages still in the ballooned state are the balloon's and
		 * those it returned that the guest has not used yet */
		uint64_t bs = vm->count[MV_PS_BALLOONED];
		pv[k].balloon_unbacked = bs > pv[k].balloon_size
						 ? bs - pv[k].balloon_size
						 : 0;
		pv[k].balloon_max = (uint64_t)(r->balloon_max *
					       (double)vm->npages);
		/* a per-VM bound (.vmx sched.mem.maxmemctl) below the host's */
		if (vm->cfg.balloon_max_bytes / MV_PAGE_SIZE <
		    pv[k].balloon_max)
			pv[k].balloon_max = vm->cfg.balloon_max_bytes /
					    MV_PAGE_SIZE;
		pv[k].balloon_min = (vm->cfg.mem_bytes -
				     vm->cfg.current_bytes) /
				    MV_PAGE_SIZE;
		if (r->balloon_only) {
			/* the agent's floor: use + 20% of actual (decide.c) */
			struct mv_guest_stats gs;
			mv_guest_stats(s->guest[i], &gs);
			uint64_t actual = vm->npages - pv[k].balloon_size;
			uint64_t used = actual > gs.free_pages
						? actual - gs.free_pages
						: 0;
			uint64_t floor = used + actual / 5;
			uint64_t most = floor < vm->npages ? vm->npages - floor
							   : 0;
			if (most < pv[k].balloon_size)
				most = pv[k].balloon_size;
			if (most < pv[k].balloon_max)
				pv[k].balloon_max = most;
		}
		if (pv[k].balloon_max < pv[k].balloon_min)
			pv[k].balloon_max = pv[k].balloon_min;
		pv[k].balloon_step =
			(uint64_t)(s->sc->vms[i].guest.balloon_rate * period_s);
		/* measured: until the balloon has moved, assume every page
		 * it takes holds a frame */
		struct mv_sim_period *b = &s->period[i];
		uint64_t dp = vm->ctr.balloon_pages - b->pages;
		if (dp)
			b->yield = (double)(vm->ctr.balloon_frames -
					    b->frames) /
				   (double)dp;
		else if (!b->pages)
			b->yield = 1.0;
		b->pages = vm->ctr.balloon_pages;
		b->frames = vm->ctr.balloon_frames;
		pv[k].balloon_yield = b->yield;
	}
	struct mv_policy_host h = {
		.total = policy_total(s),
		.free = policy_free(s),
		.state = s->memstate.state,
		.goal = mv_memstate_goal(&s->memstate),
		.soft = s->memstate.line[MV_MEMSTATE_SOFT],
		.margin = s->memstate.margin,
		.idle_tax = mv_reclaim_idle_tax_at(r, s->now_ns),
	};
	mv_policy_plan(&h, n, pv, act);
	for (int k = 0; k < n; k++)
		s->action[slot[k]] = act[k];
	if (r->balloon_only)
		for (int k = 0; k < n; k++) {
			s->action[slot[k]].swap_pages = 0;
			s->action[slot[k]].block_alloc = 0;
		}
	for (int k = 0; k < n; k++) {
		int i = slot[k];
		const struct mv_policy_action *a = &s->action[i];
		struct mv_vm *vm = s->vm[i];
		if (mv_sim_vm_down(s, i))
			continue;
		if (pv[k].balloon)
			mv_guest_balloon_set_target(s->guest[i],
						    a->balloon_target);
		vm->alloc_blocked = a->block_alloc;
		s->period[i].swap_short = 0;
		/* locked memory (mlock, hugetlbfs) cannot be swapped or
		 * compressed: the host stays short by that much */
		if (a->swap_pages && vm->cfg.locked)
			s->period[i].swap_short = a->swap_pages;
		if (a->swap_pages && !vm->cfg.locked) {
			uint64_t done = 0;
			struct mv_error e = {0};
			/* swap_pages is what the host needs back in frames;
			 * compressed pages free half a frame each */
			uint64_t freed = 0;
			int rc = mv_reclaim_frames(
				vm, s->zcache[i], s->swap[i], &s->reclaim_rng,
				a->swap_pages, &done, &freed, &e);
			s->period[i].swap_short = a->swap_pages > freed
							  ? a->swap_pages -
								    freed
							  : 0;
			struct mv_swap_stats sw = {0};
			if (s->swap[i])
				mv_swapfile_stats(s->swap[i], &sw);
			if (rc == MV_ENOSPC && sw.used >= sw.slots) {
				s->swap_full++; /* bounded file, not a fault */
			} else if (rc == MV_EIO || rc == MV_ENOSPC) {
				s->io_errors++;
				mv_error_format(&e, s->last_io_error,
						sizeof s->last_io_error);
			}
		}
		if (r->memtune_cgroup && s->period[i].swap_short)
			oom_check(s, i);
	}
	free(pv);
	free(act);
	free(slot);
}

/*
 * ESX's large pages (docs/largepages.md): backed while memory is
 * plentiful; from the state where ESX starts reclaiming (clear in
 * vSphere 6, soft before it) new memory gets small pages and every large
 * page is broken, so page sharing can take its zero and duplicate 4 KiB
 * pages (VMware KB 1021095).
 */
static void esx_large_pages(struct mv_sim *s, enum mv_memstate st)
{
	int tight = st >= MV_MEMSTATE_CLEAR;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_vm *vm = s->vm[i];
		if (!vm || !vm->lpage_esx)
			continue;
		vm->thp_fault = !tight;
		if (tight)
			mv_vm_thp_split_all(vm);
	}
}

int mv_sim_step(struct mv_sim *s, struct mv_error *err)
{
	uint64_t dt = s->sc->step_ns;
	for (int i = 0; i < s->nvms; i++) {
		if (s->stop && *s->stop)
			return MV_ECANCELED;
		if (mv_sim_vm_gone(s, i))
			continue;
		/* a long boot (the first step) checks it too */
		mv_guest_set_stop(s->guest[i], s->stop);
		if (!mv_sim_vm_down(s, i))
			mv_guest_run(s->guest[i], s->now_ns, dt);
	}
	for (int i = 0; i < s->nvms; i++)
		if (!mv_sim_vm_gone(s, i))
			numa_oom_check(s, i);
	if (s->sharer)
		mv_share_run(s->sharer, dt);
	/* NUMA migration toward each VM's home (docs/numa.md) */
	for (int i = 0; i < s->nvms; i++)
		if (!mv_sim_vm_gone(s, i))
			mv_vm_numa_migrate(s->vm[i], dt);
	s->now_ns += dt;
	s->steps++;
	/* ESX's NUMA rebalancer, every two seconds (docs/numa.md) */
	if (s->host->cfg.numa_rebalance &&
	    s->now_ns / MV_NUMA_REBALANCE_NS !=
		    (s->now_ns - dt) / MV_NUMA_REBALANCE_NS)
		mv_numa_rebalance(s->vm, s->nvms);
	mv_khugepaged_run(&s->khugepaged, s->vm, s->nvms, s->now_ns);
	/* sampling periods end on simulated time; before the policy runs, so
	 * it sees the period just closed */
	for (int i = 0; i < s->nvms; i++)
		if (!mv_sim_vm_gone(s, i))
			mv_vm_active_tick(s->vm[i], s->now_ns);

	enum mv_memstate st = mv_memstate_update(&s->memstate,
						 policy_free_fraction(s));
	/* every period, and with <reclaim on-state-change> at once when the
	 * free-memory state changed since the last plan ("reallocations are
	 * also triggered by significant changes in the amount of free
	 * memory": ESX's Mem.BalancePeriod); the period then starts again */
	if (s->sc->reclaim.enabled &&
	    (s->now_ns >= s->next_balance_ns ||
	     (s->sc->reclaim.on_state_change && st != s->balance_state))) {
		balance(s);
		s->next_balance_ns = s->now_ns >= s->next_balance_ns
					     ? s->next_balance_ns +
						       s->sc->reclaim.balance_ns
					     : s->now_ns + s->sc->reclaim
								   .balance_ns;
		/* what the samples and the time in states show is the state
		 * after the policy acted, matching the free memory they show */
		st = mv_memstate_update(&s->memstate, policy_free_fraction(s));
		s->balance_state = st;
	}
	if (s->sc->reclaim.large_pages)
		esx_large_pages(s, st);
	s->state_ns[st] += dt;
	if (s->host->nfree < s->min_free)
		s->min_free = s->host->nfree;

	if (s->now_ns >= s->next_window_ns) {
		for (int i = 0; i < s->nvms; i++) {
			struct mv_vm *vm = s->vm[i];
			if (mv_sim_vm_gone(s, i))
				continue;
			/* the interval model: the pages seen accessed plus
			 * the expected number of the resident others */
			int iv = mv_guest_uses_interval(s->guest[i]);
			double win = (double)s->sc->active_window_ns / 1e9;
			double x = iv ? mv_guest_active_pages(s->guest[i],
							      s->now_ns, win)
				      : 0;
			/* verifying: the sums kept as pages change agree
			 * with the walk over every page (rounding aside) */
			if (iv && s->verify) {
				double r = mv_guest_active_pages_walk(
					s->guest[i], s->now_ns, win);
				if (fabs(x - r) >
				    1e-6 + (double)vm->npages / 2147483648.0)
					return mv_error_set(
						err, MV_EINVAL, NULL, 0,
						vm->cfg.name,
						"active set %.6f pages, the "
						"walk over the pages says "
						"%.6f",
						x, r);
			}
			mv_vm_close_window(vm);
			if (iv)
				vm->active_true = (uint64_t)llround(x);
		}
		s->next_window_ns += s->sc->active_window_ns;
	}
	if (s->now_ns >= s->next_sample_ns || s->now_ns >= s->sc->duration_ns) {
		int rc = take_sample(s);
		if (rc)
			return mv_error_set(err, rc, NULL, 0, "",
					    "out of memory");
		s->next_sample_ns += s->sc->stats_interval_ns;
	}
	if (s->verify) {
		int rc = mv_sim_check(s, err);
		if (rc)
			return rc;
		/* mv_vm_check hashes every page but the ballooned ones */
		s->verify_checks++;
		for (int i = 0; i < s->nvms; i++)
			if (!mv_sim_vm_gone(s, i))
				s->verify_pages +=
					s->vm[i]->npages -
					s->vm[i]->count[MV_PS_BALLOONED];
	}
	return 0;
}

int mv_sim_run(struct mv_sim *s,
	       void (*progress)(const struct mv_sim *, void *), void *ctx,
	       struct mv_error *err)
{
	double t0 = mv_wall_s();
	int rc = 0;
	while (!rc && s->now_ns < s->sc->duration_ns) {
		rc = mv_sim_step(s, err);
		if (!rc && progress)
			progress(s, ctx);
	}
	/* a run stopped early: its last sample gets the full gauges too */
	if (s->nsamples && s->samples[s->nsamples - 1].t_ns == s->now_ns &&
	    s->now_ns < s->sc->duration_ns)
		mv_sim_share_stats(s, &s->samples[s->nsamples - 1].share);
	s->wall_s = mv_wall_s() - t0;
	return rc;
}

/* ---- VM slots (live migration between simulators, src/cluster/move.c) --
 */

/* Grow *pp (n entries of size bytes, room for cap) to room for n + 1,
 * the new entry zero. */
static int slot_room(void *pp, size_t cap, size_t n, size_t size)
{
	if (mv_array_room(pp, &cap, n, size, 4))
		return MV_ENOMEM;
	char *p;
	memcpy(&p, pp, sizeof p);
	memset(p + n * size, 0, size);
	return 0;
}

int mv_sim_slot_append(struct mv_sim *s, const struct mv_vm_spec *spec)
{
	struct mv_scenario *sc = s->sc;
	size_t n = (size_t)s->nvms, cap = s->cap_vms;
	/* the loader's array holds at least its VMs */
	if (sc->cap_vms < (size_t)sc->nvms)
		sc->cap_vms = (size_t)sc->nvms;
	size_t scap = sc->cap_vms;
	if (mv_array_room(&sc->vms, &scap, (size_t)sc->nvms, sizeof *sc->vms,
			  4))
		return MV_ENOMEM;
	sc->cap_vms = scap;
	/* each array from the same room grows to the same room */
	if (slot_room(&s->vm, cap, n, sizeof *s->vm) ||
	    slot_room(&s->guest, cap, n, sizeof *s->guest) ||
	    slot_room(&s->swap, cap, n, sizeof *s->swap) ||
	    slot_room(&s->zcache, cap, n, sizeof *s->zcache) ||
	    slot_room(&s->action, cap, n, sizeof *s->action) ||
	    slot_room(&s->period, cap, n, sizeof *s->period) ||
	    slot_room(&s->oom, cap, n, sizeof *s->oom) ||
	    slot_room(&s->start, cap, n, sizeof *s->start) ||
	    slot_room(&s->moved, cap, n, sizeof *s->moved))
		return MV_ENOMEM; /* the arrays that grew keep their room */
	if (n == cap)
		s->cap_vms = cap ? 2 * cap : 4;
	sc->vms[sc->nvms++] = *spec;
	return s->nvms++;
}

int mv_sim_slot_power_on(struct mv_sim *s, int i, struct mv_error *err)
{
	return power_on_reclaim(s, i, NULL, err);
}

int mv_sim_slot_power_on_with(struct mv_sim *s, int i, struct mv_swapfile *sf,
			      struct mv_error *err)
{
	return power_on_reclaim(s, i, sf, err);
}

int mv_sim_incoming_add(struct mv_sim *s, const struct mv_vm *vm)
{
	if (mv_array_room(&s->incoming, &s->cap_incoming, (size_t)s->nincoming,
			  sizeof *s->incoming, 4))
		return MV_ENOMEM;
	s->incoming[s->nincoming++] = vm;
	return 0;
}

void mv_sim_incoming_remove(struct mv_sim *s, const struct mv_vm *vm)
{
	for (int k = 0; k < s->nincoming; k++)
		if (s->incoming[k] == vm) {
			memmove(&s->incoming[k], &s->incoming[k + 1],
				(size_t)(s->nincoming - k - 1) *
					sizeof *s->incoming);
			s->nincoming--;
			return;
		}
}

void mv_sim_slot_clear(struct mv_sim *s, int i)
{
	if (s->sharer && s->vm[i])
		mv_share_remove_vm(s->sharer, s->vm[i]);
	mv_zcache_destroy(s->zcache[i]);
	mv_swapfile_destroy(s->swap[i], 0);
	mv_vm_destroy(s->vm[i]);
	s->zcache[i] = NULL;
	s->swap[i] = NULL;
	s->vm[i] = NULL;
}

/*
 * guest.h - the guest operating system inside a VM, and its workloads.
 *
 * The hypervisor cannot see inside a guest; the simulator can. This layer
 * models what a guest kernel does with the guest-physical pages the VM
 * gives it: a free list, processes with their own virtual address spaces
 * (anonymous memory), a page cache of file pages (the OS image, application
 * binaries), and the guest's own swap device. Every byte the guest reads or
 * writes goes through mv_vm_access(), so the hypervisor sees exactly the
 * accesses a real guest would make and nothing more.
 *
 * Flavours: "linux" leaves freed pages with their stale contents; "windows"
 * zeroes freed pages in the background (the zero page thread), so they
 * become all-zero pages that page sharing can collapse.
 */
#ifndef MEMVISOR_GUEST_H
#define MEMVISOR_GUEST_H

#include <signal.h>

#include "memvisor/mmu.h"
#include "memvisor/vm.h"

enum mv_guest_flavour { MV_GUEST_LINUX, MV_GUEST_WINDOWS };

/* What a page holds; deterministic generators (see content.c). */
enum mv_content {
	MV_CONTENT_ZERO,   /* all zeros */
	MV_CONTENT_OS,     /* page i of a named OS image: same in every VM */
	MV_CONTENT_APP,    /* page i of a named application: same in every VM */
	MV_CONTENT_DATA,   /* private data, configurable compressibility */
	MV_CONTENT_RANDOM, /* incompressible random bytes */
	MV_CONTENT_COUNT
};

const char *mv_content_name(enum mv_content c);
int mv_content_parse(const char *s, enum mv_content *out);

/*
 * The descriptor (host.h) of a page of content class c. name_hash is the
 * image or application name's hash (OS/APP), index the page's index in
 * it; for DATA and RANDOM, key makes the bytes unique. compressibility
 * (DATA only) is the fraction of the page made of redundant blocks (0 =
 * random, 1 = all redundant), kept in 64ths.
 */
mv_desc_t mv_content_desc(enum mv_content c, uint64_t name_hash, uint64_t index,
			  uint64_t key, double compressibility);
/* Fill one page with those bytes: G(mv_content_desc(...)). */
void mv_content_page(uint8_t *page, enum mv_content c, uint64_t name_hash,
		     uint64_t index, uint64_t key, double compressibility);

struct mv_profile;
struct mv_profile_page;
/*
 * The descriptor of one page of a content profile (image.h): zeros, or
 * bytes that are a function of d->key and compress with LZ4 into bucket
 * d->bucket; and the page filled with them.
 */
mv_desc_t mv_content_profile_desc(const struct mv_profile_page *d);
void mv_content_fill_profile(uint8_t *page, const struct mv_profile_page *d);

enum mv_wl_kind {
	MV_WL_STEADY, /* fixed working set, accessed at `rate` */
	MV_WL_IDLE,   /* populates its memory at start, then almost nothing */
	MV_WL_PHASED, /* working set moves every `phase` through a region */
	MV_WL_LEAK,   /* steady working set plus memory that grows and stays */
	MV_WL_TRACE, /* a real program's page accesses, from an address trace */
	MV_WL_USAGE, /* memory in use follows a per-VM usage trace over time */
	MV_WL_COUNT
};
enum mv_wl_dist { MV_DIST_UNIFORM, MV_DIST_ZIPF };

const char *mv_wl_kind_name(enum mv_wl_kind k);
int mv_wl_kind_parse(const char *s, enum mv_wl_kind *out);

/* What a traced access did: instruction fetch, load, store, modify. */
enum mv_trace_kind { MV_TR_INSTR, MV_TR_LOAD, MV_TR_STORE, MV_TR_MODIFY };

/*
 * A real program's accesses at page granularity, as the simulator loads
 * them from an address trace (src/sim/trace.c): the distinct pages it
 * touched, ascending, and each access as the index of its page. A trace
 * workload replays them in order, over and over, at its rate; with an MMU
 * model the program's own virtual addresses are mapped, so its page
 * tables have the program's real shape.
 */
struct mv_access_trace {
	char path[512];
	uint64_t nrec;
	uint32_t *rec; /* page index << 2 | enum mv_trace_kind */
	uint64_t npages;
	uint64_t *page; /* virtual page numbers (address >> 12), ascending */
	uint64_t table_pages; /* 4-level tables those addresses need */
	uint64_t dev, ino;    /* the file, to load each only once */
};

/* The index of virtual page `page` among t's pages: 0, or -1 if the
 * trace never touches it (*index is then where it would go, less one). */
int mv_access_trace_find(const struct mv_access_trace *t, uint64_t page,
			 uint64_t *index);

/* Formats of per-VM usage traces (src/sim/usage.c, docs/usage.md). */
enum mv_usage_format {
	MV_USAGE_BITBRAINS, /* GWA-T-12: ";\t"-separated, header, 300 s rows */
	MV_USAGE_GOOGLE,    /* "CPU% MEM%" per line, a row every 300 s */
	MV_USAGE_FORMAT_COUNT
};

const char *mv_usage_format_name(enum mv_usage_format f);
int mv_usage_format_parse(const char *s, enum mv_usage_format *out);

/*
 * A VM's memory in use over time, as the simulator loads it from a public
 * per-VM usage trace (src/sim/usage.c): for every row its time since the
 * first row and the memory in use as a fraction of the memory provisioned.
 * A usage workload's set follows it (docs/usage.md).
 */
struct mv_usage_trace {
	char path[512];
	enum mv_usage_format format;
	uint64_t nrows;
	uint64_t *t_ns; /* row i's time since row 0, strictly increasing */
	double *frac;   /* memory used / memory provisioned, 0..1 */
	uint64_t provisioned_kib; /* bitbrains: the largest provisioned */
	uint64_t dev, ino;        /* the file, to load each only once */
};

/*
 * The fraction of its memory the trace's VM uses at trace time tau_ns
 * (since row 0): linear between the rows around it, the last row's from
 * there on. *row is a cursor (a row at or before tau_ns; 0 to start) kept
 * between calls so that a run forward in time costs O(1) per call.
 */
double mv_usage_trace_at(const struct mv_usage_trace *u, uint64_t tau_ns,
			 uint64_t *row);

struct mv_workload_config {
	char name[64];
	enum mv_wl_kind kind;
	enum mv_wl_dist dist;
	double zipf_s;       /* Zipf exponent; default 0.99 */
	uint64_t size_bytes; /* working set (leak: the steady part) */
	double rate;         /* page accesses per simulated second */
	double write_ratio;  /* 0..1 */
	enum mv_content content;
	char content_name[64];  /* application name for MV_CONTENT_APP */
	double compressibility; /* MV_CONTENT_DATA: 0..1, default 0.5 */
	uint64_t start_ns;      /* when the workload starts */
	uint64_t stop_ns; /* when its process exits, freeing its memory (0:
			     never) */
	double cpu;       /* share of the VM's CPU time it keeps busy while it
			     runs (0..1): the idle time left is the zero page
			     thread's */
	int sampled; /* 0 (sampled="no"): the active-memory sampler does not
			see its accesses (pages written before a recording
			began, which the measured accessed bits missed) */
	uint64_t phase_ns;     /* phased: length of a phase */
	uint64_t region_bytes; /* phased: region the set moves in; default 4x */
	double leak_bytes_per_s; /* leak: growth rate */
	uint64_t leak_max_bytes; /* leak: stops growing here (0: never) */
	char trace_file[512];    /* trace, usage: the file as the scenario names
				    it */
	const struct mv_access_trace *trace; /* trace: loaded, not owned */
	char profile_file[512]; /* <content profile>: as the scenario names it
				 */
	const struct mv_profile *profile; /* loaded, not owned; its mix in
					     place of content */
	/* usage: the trace (loaded, not owned) and its format; the row the
	 * workload's start maps to; trace seconds per simulated second */
	const struct mv_usage_trace *usage;
	enum mv_usage_format usage_format;
	uint64_t usage_start_row;
	double usage_speedup; /* default 1 */
	char source[256];     /* where it was defined, for errors */
	int source_line;
};

void mv_workload_config_default(struct mv_workload_config *w);
int mv_workload_config_check(const struct mv_workload_config *w,
			     uint64_t vm_bytes, struct mv_error *err);

#define MV_MAX_WORKLOADS 16

struct mv_guest_config {
	enum mv_guest_flavour flavour;
	char os_image[64]; /* OS image name; VMs with the same name share it */
	uint64_t os_bytes; /* image pages read into memory at boot */
	double os_rate;    /* accesses/s the OS makes to its own pages */
	uint64_t swap_bytes; /* the guest's own swap device */
	double zero_rate;    /* windows: pages/s the zero page thread clears */
	double balloon_rate; /* pages/s the balloon driver can inflate or
				deflate */
	/* pages/s at most while inflating makes the guest reclaim (the
	 * vmmemctl driver's sleeping allocations: 2048; docs/ballooning.md) */
	double balloon_reclaim_rate;
	/* when the balloon driver starts, from power-on: before it the host
	 * cannot balloon this VM (Windows loads vmmemctl late in its boot,
	 * Waldspurger 2002, section 6.3; <mv:guest balloon-start>, default 0)
	 */
	uint64_t balloon_start_ns;
	/* the kernel's boot-time structures sized to <memory> (struct page
	 * array, hash tables), wired (<mv:guest boot-structures>, default
	 * no; docs/ballooning.md) */
	int boot_structures;
	/* <mv:guest boot-freed>: guest memory the boot wrote and freed into
	 * the kernel's own pageblocks (decompression, initramfs, early
	 * allocations): free in the guest, backed on the host, and handed out
	 * after every other free page (guest.c, boot_freed); 0 = none */
	uint64_t boot_freed_bytes;
	/* <mv:guest overhead>: the hypervisor process's own memory outside
	 * guest RAM (QEMU's heap, TCG's buffer), as memvisor agent counts
	 * it in the VM's RSS: held by the VM and the host's for the policy;
	 * 0 = none (the simulator's own books are OVHD, apart) */
	uint64_t vmm_bytes;
	/* <memballoon freePageReporting='on'>: Linux's page_reporting
	 * through virtio-balloon (guest.c, free_page_report) */
	int free_page_reporting;
	/*
	 * Address translation (<mv:mmu>): with mmu set, every workload
	 * process has real x86-64 page tables in guest pages (kernel memory
	 * of the guest) and every workload access is translated by an MMU
	 * model (src/mmu) in mmu_cfg.mode; its cost is charged to the vCPU.
	 * With mmu_cfg.guest_2m the workloads' memory comes from hugetlbfs:
	 * a pool of 2 MiB pages reserved at boot (vm.nr_hugepages), enough
	 * for every workload, mapped 2 MiB at a time, never swapped.
	 */
	int mmu;
	struct mv_mmu_config mmu_cfg;
	int nworkloads;
	struct mv_workload_config workload[MV_MAX_WORKLOADS];
};

void mv_guest_config_default(struct mv_guest_config *g);
int mv_guest_flavour_parse(const char *s, enum mv_guest_flavour *out);
const char *mv_guest_flavour_name(enum mv_guest_flavour f);

/* What the guest would report through its balloon driver (virtio stats). */
struct mv_guest_stats {
	uint64_t swap_in, swap_out; /* pages, guest swap (PSWPIN, PSWPOUT) */
	/* faults (PGMAJFAULT, PGFAULT): a major fault is one disk request,
	 * whatever readahead it brought; minor_fault counts every fault,
	 * major ones included, as Linux's PGFAULT does */
	uint64_t major_fault, minor_fault;
	uint64_t readahead_pages; /* read beside a faulting page, cumulative */
	uint64_t free_pages;      /* "unused" */
	uint64_t cache_pages;     /* "disk_caches" */
	uint64_t anon_pages;
	uint64_t kernel_pages; /* boot-time structures sized to configured
				  memory (wired) + page tables */
	uint64_t balloon_pages;
	uint64_t available_pages; /* MemTotal: pages the guest can use (less
				     the balloon; Linux: less the boot-time
				     structures, never in totalram) */
	uint64_t oom_kills;       /* allocations the guest could not satisfy */
	uint64_t hugetlb_pgalloc; /* 2 MiB pages allocated to the pool */
	uint64_t hugetlb_pgfail;  /* 2 MiB pages it could not allocate */
	/* free page reporting: backed free pages the guest reported and the
	 * host discarded, cumulative, and the reporting passes */
	uint64_t fpr_reported, fpr_passes;
};

struct mv_guest;

int mv_guest_create(struct mv_vm *vm, const struct mv_guest_config *cfg,
		    uint64_t seed, struct mv_guest **out, struct mv_error *err);
/*
 * The guest model as bytes (src/guest/pack.c; issue 17: a VM's guest
 * moves between the processes of a cluster run): *buf (malloc'd, the
 * caller frees it) of *len bytes, everything mv_guest_unpack needs to
 * make the same guest again in a process running the same binary. 0,
 * MV_ENOMEM, or MV_EINVAL for a guest that cannot go as bytes: one with
 * an MMU model. Files the simulator loaded (an address trace, a usage
 * trace, a content profile) are not in the bytes, only which a workload
 * reads (mv_guest_unpack_with).
 */
int mv_guest_pack(const struct mv_guest *g, void **buf, size_t *len,
		  struct mv_error *err);
/*
 * A new guest on vm (of the packed guest's size, with no guest's hooks),
 * equal in every respect to the one packed into buf: its pages' uses,
 * lists, processes, page cache, guest swap, balloon, random streams,
 * statistics, the interval model's events and sums. Its stop flag is
 * NULL (mv_guest_set_stop). 0, MV_ENOMEM, or MV_EINVAL: buf is
 * truncated, altered, not a packed guest, or of another binary.
 */
int mv_guest_unpack(const void *buf, size_t len, struct mv_vm *vm,
		    struct mv_guest **out, struct mv_error *err);
/*
 * The same for a guest whose workloads read files the simulator loaded:
 * files is the receiver's own guest configuration of the VM (its
 * workloads in the same order, naming the same files, as the receiver
 * loaded them), whose loaded files the new guest reads. mv_guest_unpack
 * refuses such a guest (MV_EINVAL), and so does this one when files
 * name other files.
 */
int mv_guest_unpack_with(const void *buf, size_t len, struct mv_vm *vm,
			 const struct mv_guest_config *files,
			 struct mv_guest **out, struct mv_error *err);
/*
 * g was unpacked on its VM, a copy of a VM on another host (live
 * migration, src/cluster/move.c: every page's bytes equal, the source's
 * guest destroyed); was_private has bit p set for each page p that was
 * private on the source (mv_guest_private_bits). The interval model
 * takes every page as changed, and a private page that crossed as zeros
 * gets its next write drawn. Nothing to do for the exact model.
 */
void mv_guest_arrived(struct mv_guest *g, const uint64_t *was_private);
/* Bit p of bits (ceil(npages / 64) words) set when vm's page p is
 * private: what mv_guest_arrived needs of the source VM. */
void mv_guest_private_bits(const struct mv_vm *vm, uint64_t *bits);
/*
 * With the interval model and the VM's dirty log on: log the resident
 * pages the guest wrote in the dt_ns up to now_ns, which the model makes
 * only when a page is next observed (a page of write rate w with
 * probability 1 - exp(-w dt)); the pages logged. The exact model's writes
 * log themselves: 0.
 */
uint64_t mv_guest_log_writes(struct mv_guest *g, uint64_t now_ns,
			     uint64_t dt_ns);
void mv_guest_destroy(struct mv_guest *g);
/* Add the guest OS model's books (page kinds and owners, clock links,
 * free, zeroed and balloon lists, page cache index, swap slot stack,
 * processes' page tables, hugetlbfs pool) to b, as group "guest" (its
 * MMU model's are mv_mmu_books'). */
void mv_guest_books(const struct mv_guest *g, struct mv_books *b);

/*
 * Boot the guest: read the OS image into memory and populate idle
 * workloads. May stop early with MV_EAGAIN if the VM cannot get memory;
 * call again to continue.
 */
int mv_guest_boot(struct mv_guest *g);
int mv_guest_booted(const struct mv_guest *g);
/*
 * A flag (a signal handler's; NULL: none) the boot checks every few
 * thousand pages: when nonzero, mv_guest_boot returns MV_ECANCELED where
 * it is (a later call continues), so a stop request does not wait for a
 * long OS image to be read.
 */
void mv_guest_set_stop(struct mv_guest *g, const volatile sig_atomic_t *stop);

/*
 * The interval access model (src/guest/interval.c, docs/engine.md): a
 * guest can use it unless it has an MMU model or a trace workload, which
 * replay access by access. mv_guest_use_interval switches a guest created
 * a moment ago (before its first step) to it, with the simulator's step
 * and the time the run ends (0: none; accesses from then on are not
 * kept); 0 or MV_ENOMEM.
 */
int mv_guest_interval_capable(const struct mv_guest_config *cfg);
int mv_guest_use_interval(struct mv_guest *g, uint64_t step_ns,
			  uint64_t end_ns);
int mv_guest_uses_interval(const struct mv_guest *g);
/* With the interval model: the true active set of the window_s seconds
 * up to now_ns, pages seen accessed plus the expected number of the
 * resident others (call before the window's bits are cleared); else 0. */
double mv_guest_active_pages(struct mv_guest *g, uint64_t now_ns,
			     double window_s);
/* The same by a walk over every guest page: the reference the sums kept
 * as pages change are checked against (tests, --verify). */
double mv_guest_active_pages_walk(const struct mv_guest *g, uint64_t now_ns,
				  double window_s);

/*
 * Run the guest for `dt_ns` of simulated time starting at `now_ns`: every
 * workload issues its accesses for that time, less any stall time the VM
 * was charged (a stalled vCPU makes no progress). Returns 0.
 */
int mv_guest_run(struct mv_guest *g, uint64_t now_ns, uint64_t dt_ns);

void mv_guest_stats(const struct mv_guest *g, struct mv_guest_stats *s);

/* Accesses demanded and accesses completed (stalls make the difference). */
void mv_guest_progress(const struct mv_guest *g, uint64_t *demanded,
		       uint64_t *done);

/*
 * Allocate one guest page the way the guest kernel does under pressure:
 * free list first, then drop clean page cache, then swap out an anonymous
 * page to the guest's swap. Returns MV_EAGAIN if nothing can be freed.
 * (The balloon driver allocates through this.)
 */
int mv_guest_alloc_page(struct mv_guest *g, mv_gppn_t *out);

/*
 * The balloon driver (virtio-balloon, VMware vmmemctl). The hypervisor sets
 * a target in pages; while the guest runs, the driver inflates toward it
 * by allocating guest pages (free first, then dropping clean page cache,
 * then swapping the guest's own anonymous pages: mv_guest_alloc_page) and
 * handing them to the hypervisor, which frees their frames; or deflates by
 * returning pages to the guest's free list. At most balloon_rate pages per
 * second either way. Without a driver (vm->cfg.balloon_driver == 0) the
 * target is ignored.
 */
void mv_guest_balloon_set_target(struct mv_guest *g, uint64_t pages);
uint64_t mv_guest_balloon_target(const struct mv_guest *g);
/* Pages the balloon holds now. */
uint64_t mv_guest_balloon_size(const struct mv_guest *g);

/*
 * The MMU model translating this guest's workload accesses, or NULL
 * (cfg.mmu off). Its counters say what translation cost.
 */
const struct mv_mmu *mv_guest_mmu(const struct mv_guest *g);

/* Consistency of the guest's own books (free list, mappings, swap). */
int mv_guest_check(const struct mv_guest *g, struct mv_error *err);

#endif

/*
 * swap.c - hypervisor swapping: one real swap file per VM.
 *
 * As ESX does (Waldspurger, OSDI 2002, section 3.3; VMware, "Understanding
 * Memory Resource Management in VMware vSphere 5.0"), every VM gets a swap
 * file when it powers on, sized to what the hypervisor may ever have to
 * take from it: configured memory minus reservation.
 *
 * No name while it holds data. By default the file never has a name: it
 * is opened with O_TMPFILE in the directory (or, where the filesystem
 * cannot, made with mkstemp and unlinked before anything is written), so
 * however the run ends (exit, SIGKILL, SIGINT, a crash) the kernel frees
 * it with the last descriptor and nothing is left on disk. Only a file the
 * scenario asks to keep (mv_swapfile_create_named) is `dir`/NAME.vswp.
 *
 * Disk on demand. The file is sparse: ftruncate gives it its logical size
 * and no blocks. The blocks of a 1 MiB extent (CHUNK_SLOTS slots) are
 * allocated with fallocate when a slot in it is first written, so a run
 * takes disk only for what it swaps, a VM larger than the free disk space
 * powers on, and a full disk shows as ENOSPC from fallocate at a known
 * point: before the page's write, while the page is still resident (if
 * the whole extent does not fit, the page's own 4 KiB is tried, so a
 * nearly full disk is used to its last block). When the last page of an
 * extent comes back in (or is discarded), the extent's blocks are given
 * back with fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), so the
 * disk holds what is swapped, not the high-water mark (st_blocks, in the
 * stats); a filesystem that cannot punch keeps them, silently. On a
 * filesystem without fallocate the pwrite allocates and reports ENOSPC.
 *
 * Content descriptors (host.h): page_out writes the page's materialised
 * 4096 bytes (real pwrite) whatever its frame's form, and the slot also
 * records the frame's descriptor (8 bytes a slot). page_in reads the 4096
 * bytes back (real pread); for a descriptor page it compares them with
 * G(desc), as a checksum would, and a mismatch is an I/O error; the new
 * frame then takes the descriptor again and its arena is not written.
 *
 * File format: none beyond the page. Slot s holds one guest page, the 4096
 * bytes at offset s * 4096; there is no header, no checksum and no index:
 * which page is in which slot is only in memory (the slot number is the
 * pmap entry's mpn field while the page is MV_PS_SWAPPED). Like ESX's
 * .vswp the file is scratch: it is neither fsync'ed nor meaningful after
 * the process exits, and durability across a crash is not a goal.
 *
 * Free slots: slots never used are handed out in file order from `fresh`;
 * freed slots are recycled LIFO from a stack (the most recently freed slot
 * is reused first, as the host's frame lists do). A bitmap of slots in use
 * lets page-in and discard reject a pmap entry that does not name a live
 * slot instead of reading garbage.
 *
 * Nothing is ever lost: a page changes state only after its bytes are
 * safely in their new place. A failed allocation, a failed or short write
 * frees the slot and leaves the page resident and unchanged; a failed read
 * keeps the slot (the page stays swapped, the access waits and can be
 * retried). Errors name the file, field "swap", and the system's reason.
 *
 * Error injection (tests): mv_swapfile_inject_error makes the n-th next
 * swap-out write or swap-in read fail as a failing disk would. The
 * invariant checker's peek is not counted: it is not hypervisor I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/pack.h"
#include "reclaim/swap.h"

struct mv_swapfile {
	struct mv_vm *vm;
	struct mv_host *host;
	int fd;
	int named;      /* has the name path (kept files) */
	char path[256]; /* its name, or "DIR/NAME.vswp (deleted)" */
	uint64_t slots;
	uint64_t fresh;  /* slots >= fresh were never handed out */
	uint32_t *stack; /* freed slots, LIFO (sparse: core.h) */
	uint64_t nstack;
	uint64_t stack_hw;       /* most slots the stack ever held */
	struct mv_bitmap inuse;  /* slot holds a page */
	struct mv_bitmap extent; /* extent has its disk blocks */
	uint16_t *ext_used;      /* per extent: slots in use */
	mv_desc_t *desc;         /* per slot: the page's descriptor (BYTES:
				    the file's bytes are the page); sparse,
				    written below `fresh` only */
	int no_punch;            /* the filesystem cannot punch holes */
	uint64_t punched;        /* extents given back */
	uint64_t nextents;       /* extents with their disk blocks */
	uint64_t lone_pages;     /* pages given their own 4 KiB (no room
				    for their extent); kept until the end */
	int no_fallocate;        /* the filesystem cannot: pwrite allocates */
	struct mv_swap_stats st;
	uint64_t inject_nth; /* 0: nothing injected */
	int inject_code;
};

/*
 * The files of shared storage this process has open (create_shared,
 * adopt), by name, for mv_swapfile_unlink_shared: a process ended by a
 * signal must not leave them behind. A fixed table, so that a signal
 * handler can walk it: an entry's path is written before it is marked
 * used. Past SHARED_MAX files the rest are not listed.
 */
#define SHARED_MAX 1024
static char g_shared_path[SHARED_MAX][256];
static volatile sig_atomic_t g_shared_used[SHARED_MAX];

static void shared_list(const char *path)
{
	for (int k = 0; k < SHARED_MAX; k++)
		if (!g_shared_used[k]) {
			memcpy(g_shared_path[k], path, sizeof g_shared_path[k]);
			g_shared_used[k] = 1;
			return;
		}
}

static void shared_unlist(const char *path)
{
	for (int k = 0; k < SHARED_MAX; k++)
		if (g_shared_used[k] && !strcmp(g_shared_path[k], path)) {
			g_shared_used[k] = 0;
			return;
		}
}

void mv_swapfile_unlink_shared(void)
{
	for (int k = 0; k < SHARED_MAX; k++)
		if (g_shared_used[k])
			unlink(g_shared_path[k]);
}

/* A slot number must fit the pmap entry's 32-bit mpn field. */
#define MAX_SLOTS ((uint64_t)MV_PME_MPN_MAX + 1) /* a pmap entry's 29 bits */
/* Disk is allocated in extents of this many slots (1 MiB). */
#define CHUNK_SLOTS 256u

static uint32_t slot_alloc(struct mv_swapfile *sf)
{
	uint32_t s;
	if (sf->nstack)
		s = sf->stack[--sf->nstack];
	else if (sf->fresh < sf->slots)
		s = (uint32_t)sf->fresh++;
	else
		return UINT32_MAX;
	mv_bitmap_set(&sf->inuse, s);
	sf->ext_used[s / CHUNK_SLOTS]++;
	sf->st.used++;
	return s;
}

/* Give the disk blocks of extent c back: every slot in it is free. */
static void punch_extent(struct mv_swapfile *sf, uint64_t c)
{
	if (sf->no_punch || !mv_bitmap_test(&sf->extent, c))
		return;
	uint64_t first = c * CHUNK_SLOTS;
	uint64_t n = sf->slots - first < CHUNK_SLOTS ? sf->slots - first
						     : CHUNK_SLOTS;
	if (fallocate(sf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(first << MV_PAGE_SHIFT),
		      (off_t)(n << MV_PAGE_SHIFT)) != 0) {
		/* not supported here: keep the blocks, as before */
		if (errno == EOPNOTSUPP || errno == ENOSYS)
			sf->no_punch = 1;
		return;
	}
	mv_bitmap_clear(&sf->extent, c);
	sf->nextents--;
	sf->punched++;
}

static void slot_free(struct mv_swapfile *sf, uint32_t s)
{
	mv_bitmap_clear(&sf->inuse, s);
	sf->stack[sf->nstack++] = s;
	if (sf->nstack > sf->stack_hw)
		sf->stack_hw = sf->nstack;
	sf->st.used--;
	if (--sf->ext_used[s / CHUNK_SLOTS] == 0)
		punch_extent(sf, s / CHUNK_SLOTS);
}

static int slot_valid(const struct mv_swapfile *sf, uint32_t s)
{
	return s < sf->slots && mv_bitmap_test(&sf->inuse, s);
}

/* Consume one I/O of the injection countdown; the code to fail with or 0. */
static int injected(struct mv_swapfile *sf)
{
	if (!sf->inject_nth || --sf->inject_nth)
		return 0;
	return sf->inject_code;
}

static int errno_code(int e)
{
	return e == ENOSPC || e == EDQUOT ? MV_ENOSPC : MV_EIO;
}

/* fallocate, EINTR retried; 0 or the errno. */
static int allocate(int fd, off_t off, off_t len)
{
	while (fallocate(fd, 0, off, len) != 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

/*
 * Give slot s its disk blocks before its first write: the whole 1 MiB
 * extent around it, or if that does not fit, its own 4 KiB. 0, or MV_EIO /
 * MV_ENOSPC with err filled (nothing was written).
 */
static int allocate_slot(struct mv_swapfile *sf, uint32_t s, mv_gppn_t gppn,
			 struct mv_error *err)
{
	uint64_t c = s / CHUNK_SLOTS;
	if (sf->no_fallocate || mv_bitmap_test(&sf->extent, c))
		return 0;
	uint64_t first = c * CHUNK_SLOTS;
	uint64_t n = sf->slots - first < CHUNK_SLOTS ? sf->slots - first
						     : CHUNK_SLOTS;
	int e = allocate(sf->fd, (off_t)(first << MV_PAGE_SHIFT),
			 (off_t)(n << MV_PAGE_SHIFT));
	if (!e) {
		mv_bitmap_set(&sf->extent, c);
		sf->nextents++;
		return 0;
	}
	if (e == EOPNOTSUPP || e == ENOSYS) {
		sf->no_fallocate = 1; /* the write itself will allocate */
		return 0;
	}
	/* not room for the extent: perhaps for this page (it is not marked,
	 * so the next page in it tries the extent again) */
	e = allocate(sf->fd, (off_t)s << MV_PAGE_SHIFT, MV_PAGE_SIZE);
	if (!e) {
		sf->lone_pages++;
		return 0;
	}
	return mv_error_set(err, errno_code(e), sf->path, 0, "swap",
			    "cannot allocate disk for page %llu in slot %u: %s",
			    (unsigned long long)gppn, s, strerror(e));
}

/*
 * Write one page to slot s (its disk allocated first), completing short
 * writes and retrying EINTR. 0, or MV_EIO / MV_ENOSPC with err filled.
 */
static int write_slot(struct mv_swapfile *sf, uint32_t s, const uint8_t *src,
		      mv_gppn_t gppn, struct mv_error *err)
{
	int inj = injected(sf);
	if (inj)
		return mv_error_set(err, inj, sf->path, 0, "swap",
				    "cannot write page %llu to slot %u: %s "
				    "(injected)",
				    (unsigned long long)gppn, s,
				    strerror(inj == MV_ENOSPC ? ENOSPC : EIO));
	int rc = allocate_slot(sf, s, gppn, err);
	if (rc)
		return rc;
	off_t off = (off_t)s << MV_PAGE_SHIFT;
	size_t done = 0;
	while (done < MV_PAGE_SIZE) {
		ssize_t n = pwrite(sf->fd, src + done, MV_PAGE_SIZE - done,
				   off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			return mv_error_set(
				err, errno_code(e), sf->path, 0, "swap",
				"cannot write page %llu to slot %u: %s",
				(unsigned long long)gppn, s, strerror(e));
		}
		if (n == 0)
			return mv_error_set(
				err, MV_EIO, sf->path, 0, "swap",
				"cannot write page %llu to slot %u: "
				"short write (%zu of %u bytes)",
				(unsigned long long)gppn, s, done,
				MV_PAGE_SIZE);
		done += (size_t)n;
	}
	return 0;
}

/* Read one page from slot s (EINTR and short reads handled); 0 or MV_EIO. */
static int read_slot(const struct mv_swapfile *sf, uint32_t s, uint8_t *dst)
{
	off_t off = (off_t)s << MV_PAGE_SHIFT;
	size_t done = 0;
	while (done < MV_PAGE_SIZE) {
		ssize_t n = pread(sf->fd, dst + done, MV_PAGE_SIZE - done,
				  off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* error, or end of file inside the file: both I/O
			       errors */
			return MV_EIO;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Read slot s back into dst; for a descriptor page, check the bytes read
 * against G(desc) (a mismatch is an I/O error: the file does not hold
 * the page). 0 or MV_EIO.
 */
static int read_page(const struct mv_swapfile *sf, uint32_t s, uint8_t *dst)
{
	if (read_slot(sf, s, dst))
		return MV_EIO;
	if (sf->desc[s] == MV_DESC_BYTES)
		return 0;
	uint8_t want[MV_PAGE_SIZE];
	mv_content_fill(want, sf->desc[s]);
	return memcmp(want, dst, MV_PAGE_SIZE) ? MV_EIO : 0;
}

/* Backing store: fault on a swapped page. */
static int swap_page_in(void *ctx, struct mv_vm *vm, mv_gppn_t gppn,
			mv_mpn_t mpn, uint64_t *ns)
{
	struct mv_swapfile *sf = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (!slot_valid(sf, s)) {
		sf->st.read_errors++;
		return MV_EIO;
	}
	/* a descriptor page is read into a buffer and checked; its frame
	 * then takes the descriptor and stays unwritten */
	uint8_t buf[MV_PAGE_SIZE];
	mv_desc_t d = sf->desc[s];
	uint8_t *dst = d != MV_DESC_BYTES
			       ? buf
			       : mv_host_frame_overwrite(sf->host, mpn);
	/* a read cannot fail with "disk full": any injected code is EIO */
	if (injected(sf) || read_page(sf, s, dst)) {
		sf->st.read_errors++;
		return MV_EIO; /* the slot stays: the page is still swapped */
	}
	if (d != MV_DESC_BYTES)
		mv_host_frame_set_desc(sf->host, mpn, d);
	slot_free(sf, s);
	sf->st.reads++;
	*ns = sf->host->cfg.swap_device == MV_SWAP_HDD
		      ? sf->host->cfg.lat.swapin_hdd
		      : sf->host->cfg.lat.swapin_ssd;
	return 0;
}

static int swap_peek(void *ctx, const struct mv_vm *vm, mv_gppn_t gppn,
		     uint8_t *dst)
{
	const struct mv_swapfile *sf = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (!slot_valid(sf, s))
		return MV_EIO;
	return read_page(sf, s, dst);
}

static void swap_discard(void *ctx, struct mv_vm *vm, mv_gppn_t gppn)
{
	struct mv_swapfile *sf = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (slot_valid(sf, s))
		slot_free(sf, s);
}

/* sf is vm's: its pages in by vm's pmap, its latency vm's host's. */
static void bind(struct mv_swapfile *sf, struct mv_vm *vm)
{
	sf->vm = vm;
	sf->host = vm->host;
	vm->backing[MV_PS_SWAPPED] = (struct mv_backing_ops){
		.page_in = swap_page_in,
		.peek = swap_peek,
		.discard = swap_discard,
		.ctx = sf,
	};
}

/*
 * A file in dir that has no name: O_TMPFILE where the filesystem has it
 * (and unless try_tmpfile is 0), else mkstemp and unlink before anything
 * is written. The descriptor, or -1 with errno set.
 */
int mv_swapfile_open_unnamed(const char *dir, int try_tmpfile)
{
#ifdef O_TMPFILE
	if (try_tmpfile) {
		/* O_EXCL: it can never be given a name (linkat) either */
		int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd >= 0 ||
		    (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
			return fd;
	}
#else
	(void)try_tmpfile;
#endif
	char tmpl[4096];
	int len = snprintf(tmpl, sizeof tmpl, "%s/.memvisor-vswp-XXXXXX", dir);
	if (len < 0 || (size_t)len >= sizeof tmpl) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (unlink(tmpl) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The books of a file of `slots` slots (the free-slot stack, the
 * descriptors, the bitmaps, the extents' counts); 0 or -1 out of memory,
 * nothing left allocated. */
static int books_init(struct mv_swapfile *sf, uint64_t slots)
{
	uint64_t n = slots ? slots : 1;
	uint64_t chunks = (n + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
	/* sized for every slot, backed only up to their high-water marks */
	sf->stack = mv_sparse_alloc(n * sizeof *sf->stack);
	sf->desc = mv_sparse_alloc(n * sizeof *sf->desc);
	sf->ext_used = calloc(chunks, sizeof *sf->ext_used);
	if (sf->stack && sf->desc && sf->ext_used &&
	    !mv_bitmap_init(&sf->inuse, n) &&
	    !mv_bitmap_init(&sf->extent, chunks)) {
		sf->slots = slots;
		return 0;
	}
	mv_bitmap_free(&sf->inuse);
	mv_sparse_free(sf->stack, n * sizeof *sf->stack);
	mv_sparse_free(sf->desc, n * sizeof *sf->desc);
	free(sf->ext_used);
	return -1;
}

static void books_free(struct mv_swapfile *sf)
{
	uint64_t n = sf->slots ? sf->slots : 1;
	mv_bitmap_free(&sf->extent);
	mv_bitmap_free(&sf->inuse);
	mv_sparse_free(sf->stack, n * sizeof *sf->stack);
	mv_sparse_free(sf->desc, n * sizeof *sf->desc);
	free(sf->ext_used);
}

/* named: 0 no name, 1 DIR/NAME.vswp, 2 a name of its own in dir
 * (DIR/NAME-XXXXXX.vswp, mkostemps) */
static int create(struct mv_vm *vm, const char *dir, uint64_t slots, int named,
		  struct mv_swapfile **out, struct mv_error *err)
{
	*out = NULL;
	char path[256];
	int len = snprintf(path, sizeof path, "%s/%s%s.vswp%s", dir,
			   vm->cfg.name, named == 2 ? "-XXXXXX" : "",
			   named ? "" : " (deleted)");
	if (len < 0 || (size_t)len >= sizeof path)
		return mv_error_set(err, MV_EINVAL, dir, 0, "swap",
				    "swap file path too long");
	if (slots > MAX_SLOTS)
		return mv_error_set(err, MV_EINVAL, path, 0, "swap",
				    "%llu slots: at most %llu pages per swap "
				    "file",
				    (unsigned long long)slots,
				    (unsigned long long)MAX_SLOTS);

	struct mv_swapfile *sf = calloc(1, sizeof *sf);
	if (!sf)
		return mv_error_set(err, MV_ENOMEM, path, 0, "swap",
				    "out of memory");
	if (books_init(sf, slots)) {
		free(sf);
		return mv_error_set(err, MV_ENOMEM, path, 0, "swap",
				    "out of memory for %llu slots",
				    (unsigned long long)slots);
	}
	sf->st.slots = slots;
	sf->named = named != 0;
	memcpy(sf->path, path, sizeof path);

	sf->fd = named == 2 ? mkostemps(sf->path, 5, O_CLOEXEC)
		 : named ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				0600)
			 : mv_swapfile_open_unnamed(dir, 1);
	const char *what = "create";
	int ok = sf->fd >= 0;
	/* sparse: the logical size only; blocks come with the first writes */
	if (ok && ftruncate(sf->fd, (off_t)(slots << MV_PAGE_SHIFT)) != 0) {
		what = "size";
		ok = 0;
	}
	if (!ok) {
		int e = errno;
		if (sf->fd >= 0) {
			close(sf->fd);
			if (named)
				unlink(sf->path);
		}
		books_free(sf);
		free(sf);
		/* an existing file is a configuration error: a run into a
		 * directory that still holds a kept file */
		return mv_error_set(err,
				    e == EEXIST   ? MV_EINVAL
				    : e == ENOENT ? MV_ENOENT
				    : e == ENOSPC ? MV_ENOSPC
						  : MV_EIO,
				    path, 0, "swap", "cannot %s swap file: %s",
				    what, strerror(e));
	}
	if (named == 2)
		shared_list(sf->path);
	bind(sf, vm);
	*out = sf;
	return 0;
}

void mv_swapfile_attach(struct mv_swapfile *sf, struct mv_vm *vm)
{
	bind(sf, vm);
	sf->st.writes = sf->st.reads = 0;
	sf->st.write_errors = sf->st.read_errors = 0;
}

void mv_swapfile_lend(const struct mv_vm *owner, struct mv_vm *vm)
{
	vm->backing[MV_PS_SWAPPED] = owner->backing[MV_PS_SWAPPED];
}

int mv_swapfile_create(struct mv_vm *vm, const char *dir, uint64_t slots,
		       struct mv_swapfile **out, struct mv_error *err)
{
	return create(vm, dir, slots, 0, out, err);
}

int mv_swapfile_create_named(struct mv_vm *vm, const char *dir, uint64_t slots,
			     struct mv_swapfile **out, struct mv_error *err)
{
	return create(vm, dir, slots, 1, out, err);
}

/*
 * Close the file; a named one is removed unless keep. Touches neither the
 * VM nor its pmap, so it may run before or after mv_vm_destroy; the VM
 * must not fault on a swapped page afterwards.
 */
void mv_swapfile_destroy(struct mv_swapfile *sf, int keep)
{
	if (!sf)
		return;
	close(sf->fd);
	if (sf->named && !keep)
		unlink(sf->path);
	shared_unlist(sf->path);
	books_free(sf);
	free(sf);
}

int mv_swapfile_create_shared(struct mv_vm *vm, const char *dir,
			      uint64_t slots, struct mv_swapfile **out,
			      struct mv_error *err)
{
	return create(vm, dir, slots, 2, out, err);
}

/* The parts of the books a pack carries, in order, after the path and
 * the slot count. */
#define SWAP_PACK_SCALARS(X)                                                  \
	X(fresh) X(nstack) X(stack_hw) X(no_punch) X(punched) X(nextents)    \
	X(lone_pages) X(no_fallocate) X(st)

int mv_swapfile_pack(const struct mv_swapfile *sf, struct mv_pack *w)
{
	if (!sf->named)
		return MV_EINVAL; /* no other process can open it */
	uint64_t n = sf->slots ? sf->slots : 1;
	uint64_t chunks = (n + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
	mv_pack_put(w, sf->path, sizeof sf->path);
	mv_pack_put(w, &sf->slots, sizeof sf->slots);
#define PUT(f) mv_pack_put(w, &sf->f, sizeof sf->f);
	SWAP_PACK_SCALARS(PUT)
#undef PUT
	mv_pack_put(w, sf->stack, sf->nstack * sizeof *sf->stack);
	mv_pack_put(w, sf->desc, sf->fresh * sizeof *sf->desc);
	mv_pack_put(w, sf->inuse.words, (n + 63) / 64 * sizeof(uint64_t));
	mv_pack_put(w, sf->extent.words,
		    (chunks + 63) / 64 * sizeof(uint64_t));
	mv_pack_put(w, sf->ext_used, chunks * sizeof *sf->ext_used);
	return w->nomem ? MV_ENOMEM : 0;
}

int mv_swapfile_adopt(struct mv_vm *vm, struct mv_unpack *r,
		      struct mv_swapfile **out, struct mv_error *err)
{
	*out = NULL;
	char path[256];
	uint64_t slots = 0;
	mv_unpack_get(r, path, sizeof path, "swap file path");
	mv_unpack_get(r, &slots, sizeof slots, "swap file slots");
	path[sizeof path - 1] = '\0';
	if (r->bad || slots > MAX_SLOTS)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "swap",
				    "a swap file's books: %s is short or "
				    "wrong",
				    r->bad ? r->bad : "the slot count");
	struct mv_swapfile *sf = calloc(1, sizeof *sf);
	if (!sf || books_init(sf, slots)) {
		free(sf);
		return mv_error_set(err, MV_ENOMEM, path, 0, "swap",
				    "out of memory");
	}
	memcpy(sf->path, path, sizeof path);
	sf->named = 1;
	sf->fd = -1;
#define GET(f) mv_unpack_get(r, &sf->f, sizeof sf->f, "swap file " #f);
	SWAP_PACK_SCALARS(GET)
#undef GET
	uint64_t n = slots ? slots : 1;
	uint64_t chunks = (n + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
	if (!r->bad && (sf->fresh > n || sf->nstack > n))
		mv_unpack_fail(r, "swap file slot counts");
	if (!r->bad) {
		mv_unpack_get(r, sf->stack, sf->nstack * sizeof *sf->stack,
			      "swap file free slots");
		mv_unpack_get(r, sf->desc, sf->fresh * sizeof *sf->desc,
			      "swap file descriptors");
		mv_unpack_get(r, sf->inuse.words,
			      (n + 63) / 64 * sizeof(uint64_t),
			      "swap file slots in use");
		mv_unpack_get(r, sf->extent.words,
			      (chunks + 63) / 64 * sizeof(uint64_t),
			      "swap file extents");
		mv_unpack_get(r, sf->ext_used, chunks * sizeof *sf->ext_used,
			      "swap file extent counts");
	}
	int rc = 0;
	if (r->bad)
		rc = mv_error_set(err, MV_EINVAL, path, 0, "swap",
				  "a swap file's books: %s is short or wrong",
				  r->bad);
	else if ((sf->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		rc = mv_error_set(err, errno == ENOENT ? MV_ENOENT : MV_EIO,
				  path, 0, "swap",
				  "cannot open the swap file on shared "
				  "storage: %s",
				  strerror(errno));
	if (rc) {
		books_free(sf);
		free(sf);
		return rc;
	}
	shared_list(sf->path);
	bind(sf, vm);
	*out = sf;
	return 0;
}

/* Take a slot and write bytes (the page's, with its descriptor d) to it;
 * on failure the slot is free again. */
static int swap_write(struct mv_swapfile *sf, mv_gppn_t gppn,
		      const uint8_t *bytes, mv_desc_t d, uint32_t *slot,
		      struct mv_error *err)
{
	uint32_t s = slot_alloc(sf);
	if (s == UINT32_MAX)
		return mv_error_set(err, MV_ENOSPC, sf->path, 0, "swap",
				    "swap file full (%llu pages): cannot swap "
				    "out page %llu",
				    (unsigned long long)sf->slots,
				    (unsigned long long)gppn);
	int rc = write_slot(sf, s, bytes, gppn, err);
	if (rc) {
		slot_free(sf, s);
		sf->st.write_errors++;
		return rc;
	}
	sf->st.writes++;
	sf->desc[s] = d;
	*slot = s;
	return 0;
}

static int check_page(struct mv_swapfile *sf, mv_gppn_t gppn,
		      enum mv_page_state want, struct mv_error *err)
{
	if (gppn >= sf->vm->npages)
		return mv_error_set(err, MV_EINVAL, sf->path, 0, "swap",
				    "page %llu is outside the VM (%llu pages)",
				    (unsigned long long)gppn,
				    (unsigned long long)sf->vm->npages);
	const struct mv_pme *e = &sf->vm->pmap[gppn];
	if (e->state != want)
		return mv_error_set(
			err, MV_EINVAL, sf->path, 0, "swap",
			"page %llu is %s, not %s", (unsigned long long)gppn,
			mv_page_state_name(e->state), mv_page_state_name(want));
	if (e->flags & MV_PME_PINNED)
		return mv_error_set(err, MV_EINVAL, sf->path, 0, "swap",
				    "page %llu is pinned",
				    (unsigned long long)gppn);
	return 0;
}

int mv_swapfile_out(struct mv_swapfile *sf, mv_gppn_t gppn,
		    struct mv_error *err)
{
	int rc = check_page(sf, gppn, MV_PS_PRIVATE, err);
	if (rc)
		return rc;
	struct mv_vm *vm = sf->vm;
	mv_mpn_t mpn = vm->pmap[gppn].mpn;
	uint32_t s;
	uint8_t buf[MV_PAGE_SIZE];
	rc = swap_write(sf, gppn, mv_host_frame_read(sf->host, mpn, buf),
			mv_host_frame_desc(sf->host, mpn), &s, err);
	if (rc)
		return rc;
	mv_pmap_set(vm, gppn, MV_PS_SWAPPED, s);
	mv_host_frame_put(sf->host, mpn);
	return 0;
}

/*
 * The compression cache evicting: bytes is the decompressed page (G(d)
 * for a descriptor page), which is still in the cache. Only the pmap
 * changes here; the cache frees its own slot after this succeeds, so a
 * failed write loses nothing.
 */
int mv_swapfile_out_bytes(struct mv_swapfile *sf, mv_gppn_t gppn,
			  const uint8_t *bytes, mv_desc_t d,
			  struct mv_error *err)
{
	int rc = check_page(sf, gppn, MV_PS_COMPRESSED, err);
	if (rc)
		return rc;
	uint32_t s;
	rc = swap_write(sf, gppn, bytes, d, &s, err);
	if (rc)
		return rc;
	mv_pmap_set(sf->vm, gppn, MV_PS_SWAPPED, s);
	return 0;
}

void mv_swapfile_stats(const struct mv_swapfile *sf, struct mv_swap_stats *st)
{
	struct stat sb;
	*st = sf->st;
	/* what the filesystem says the file holds, its metadata included */
	st->fs_bytes = fstat(sf->fd, &sb) == 0 ? (uint64_t)sb.st_blocks * 512
					       : 0;
	/* what the pages take, as allocated: the same for the same run on
	 * any filesystem (the last extent may be short of 1 MiB) */
	uint64_t last = (sf->slots - 1) / CHUNK_SLOTS;
	uint64_t ext = sf->nextents * CHUNK_SLOTS;
	if (sf->slots && mv_bitmap_test(&sf->extent, last))
		ext -= (last + 1) * CHUNK_SLOTS - sf->slots;
	st->disk_bytes = sf->no_fallocate
				 ? st->fs_bytes
				 : (ext + sf->lone_pages) << MV_PAGE_SHIFT;
}

const char *mv_swapfile_path(const struct mv_swapfile *sf)
{
	return sf->path;
}

int mv_swapfile_fd(const struct mv_swapfile *sf)
{
	return sf->fd;
}

void mv_swapfile_inject_error(struct mv_swapfile *sf, uint64_t nth, int code)
{
	sf->inject_nth = nth;
	sf->inject_code = code == MV_ENOSPC ? MV_ENOSPC : MV_EIO;
}

int mv_swapfile_check(const struct mv_swapfile *sf, struct mv_error *err)
{
	const struct mv_vm *vm = sf->vm;
	struct mv_bitmap seen;
	if (mv_bitmap_init(&seen, sf->slots ? sf->slots : 1))
		return mv_error_set(err, MV_ENOMEM, sf->path, 0, "swap",
				    "out of memory");
	int rc = 0;
	uint64_t swapped = 0;
	for (mv_gppn_t g = 0; g < vm->npages && !rc; g++) {
		const struct mv_pme *e = &vm->pmap[g];
		if (e->state != MV_PS_SWAPPED)
			continue;
		swapped++;
		if (!slot_valid(sf, e->mpn) || mv_bitmap_test(&seen, e->mpn))
			rc = mv_error_set(err, MV_EINVAL, sf->path, 0, "swap",
					  "swapped page %llu names slot %u, "
					  "which is %s",
					  (unsigned long long)g, e->mpn,
					  e->mpn >= sf->slots
						  ? "outside the file"
					  : mv_bitmap_test(&seen, e->mpn)
						  ? "another page's"
						  : "free");
		else
			mv_bitmap_set(&seen, e->mpn);
	}
	if (!rc && (swapped != sf->st.used ||
		    mv_bitmap_count(&sf->inuse) != sf->st.used ||
		    sf->fresh - sf->nstack != sf->st.used))
		rc = mv_error_set(
			err, MV_EINVAL, sf->path, 0, "swap",
			"%llu pages swapped, %llu slots counted "
			"used, %llu marked, %llu handed out",
			(unsigned long long)swapped,
			(unsigned long long)sf->st.used,
			(unsigned long long)mv_bitmap_count(&sf->inuse),
			(unsigned long long)(sf->fresh - sf->nstack));
	mv_bitmap_free(&seen);
	return rc;
}

uint64_t mv_swapfile_overhead_bytes(const struct mv_swapfile *sf)
{
	uint64_t n = sf->slots ? sf->slots : 1;
	uint64_t chunks = (n + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
	return sizeof *sf + n * (sizeof *sf->stack + sizeof *sf->desc) +
	       (n + 63) / 64 * 8 + (chunks + 63) / 64 * 8 +
	       chunks * sizeof *sf->ext_used;
}

/* The free stack and the descriptors are sparse (core.h): counted to
 * their high-water marks, the deepest the stack was and the slots ever
 * handed out (slots are handed out in order, freed ones first). */
void mv_swapfile_books(const struct mv_swapfile *sf, struct mv_books *b)
{
	uint64_t n = sf->slots ? sf->slots : 1;
	mv_books_add(b, "hypervisor", "swap.free-stack", sizeof *sf->stack,
		     sf->stack_hw);
	mv_books_add(b, "hypervisor", "swap.desc", sizeof *sf->desc, sf->fresh);
	mv_books_add(b, "hypervisor", "swap.extent-used", sizeof *sf->ext_used,
		     (n + CHUNK_SLOTS - 1) / CHUNK_SLOTS);
	mv_books_add(b, "hypervisor", "swap.inuse-bitmap",
		     sizeof *sf->inuse.words, mv_bitmap_words(&sf->inuse));
	mv_books_add(b, "hypervisor", "swap.extent-bitmap",
		     sizeof *sf->extent.words, mv_bitmap_words(&sf->extent));
}

/*
 * image.h - real memory: memory images and live processes as sources of
 * 4 KiB pages, and what page sharing and compression would make of them.
 *
 * The image layer (DESIGN.md) sits beside the simulator: it reads real
 * bytes that memvisor did not generate and measures them.
 *
 *   - a source (struct mv_image) yields the pages of one QEMU/libvirt ELF
 *     memory dump (`virsh dump --memory-only --format=elf`: PT_LOAD
 *     segments of guest-physical memory), an ELF core of a process
 *     (`gcore`, a kernel core dump), a raw RAM file, or a live process
 *     (/proc/PID/maps + pagemap + mem: present pages only, as KSM sees
 *     them). Files are mmap'd extent by extent, never read whole.
 *   - an analysis (struct mv_analysis) takes every page of one or more
 *     sources, finds zero pages and identical pages (XXH3-128 to find
 *     candidates, then all 4096 bytes compared, as KSM and ESX do before
 *     they share), and applies KSM's and ESX's rules to count what they
 *     would save; it compresses a sample of the distinct pages with LZ4
 *     (and zstd for comparison).
 *   - a content profile (mv_profile_*) is one image's mix written as JSON,
 *     so that a scenario VM can reproduce it (<content profile="..."/>).
 */
#ifndef MEMVISOR_IMAGE_H
#define MEMVISOR_IMAGE_H

#include <stdint.h>
#include <stdio.h>

#include "memvisor/core.h"

/* ---- sources ---------------------------------------------------------- */

enum mv_image_kind {
	MV_IMAGE_GUEST_ELF, /* QEMU dump-guest-memory: guest-physical pages */
	MV_IMAGE_CORE_ELF,  /* a process core (gcore, kernel): virtual pages */
	MV_IMAGE_RAW,       /* raw RAM: page i at file offset i * 4096 */
	MV_IMAGE_PROCESS,   /* a live process through /proc/PID */
};

/* Flags of an extent. */
#define MV_IMAGE_MERGEABLE                                                     \
	0x1u               /* KSM may merge these pages: anonymous             \
			    * pages of a VM_MERGEABLE area (smaps "mg")        \
			    * of a live process; every page of a file */
#define MV_IMAGE_ANON 0x2u /* anonymous (pagemap bit 61 clear) */

/*
 * A run of pages of one source. bytes holds npages * MV_PAGE_SIZE bytes,
 * valid until the next mv_image_next or mv_image_close on the source.
 */
struct mv_image_extent {
	uint64_t addr; /* address of the first page: guest-physical
			  (guest ELF), virtual (core, process) or file
			  offset (raw) */
	uint64_t npages;
	const uint8_t *bytes;
	uint32_t flags; /* MV_IMAGE_* */
};

struct mv_image;

/* Open a file, recognising an ELF guest dump, an ELF core, or else raw
 * RAM (a size that is a multiple of 4 KiB). Bad input: MV_EINVAL with
 * the file and what is wrong (truncated, overlapping segments...). */
int mv_image_open(const char *path, struct mv_image **out,
		  struct mv_error *err);

/* Open a live process. Reading another process's pagemap and mem needs
 * ptrace access (root, or the same user with ptrace_scope 0): without it,
 * MV_EINVAL naming the PID and what to do. */
int mv_image_open_pid(int pid, struct mv_image **out, struct mv_error *err);

/* The next extent: 1 and *e filled, 0 at the end, or a negative MV_E*
 * (a process that exited mid-read: MV_ENOENT naming the PID). */
int mv_image_next(struct mv_image *img, struct mv_image_extent *e,
		  struct mv_error *err);

/* Read the page at addr (an address an extent gave) again into page:
 * the analysis compares all 4096 bytes of two pages whose hashes match.
 * 0, or MV_EIO/MV_ENOENT naming the file or PID. */
int mv_image_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		  struct mv_error *err);

const char *mv_image_name(const struct mv_image *img);
enum mv_image_kind mv_image_kind(const struct mv_image *img);
void mv_image_close(struct mv_image *img);

/* ---- analysis --------------------------------------------------------- */

/* ESX's page-sharing salting (Mem.ShareForceSalting). */
enum mv_salting {
	MV_SALT_NONE,   /* share across VMs: ESX before 2014, KSM */
	MV_SALT_PER_VM, /* share inside each VM only: ESXi 6.0+ default */
};

/* Defaults for the opts fields left 0 (KSM's own sysfs default; one
 * distinct content in 16 compressed keeps a multi-GiB image fast). */
#define MV_ANALYSIS_MAX_PAGE_SHARING 256
#define MV_ANALYSIS_COMPRESS_EVERY 16

struct mv_analysis_opts {
	unsigned max_page_sharing; /* KSM's (sysfs), default 256 */
	int use_zero_pages;        /* KSM's: zero pages map to the zero
				      page, not a KSM page (default 0) */
	unsigned compress_every;   /* LZ4/zstd one distinct page in this
				      many (1: every page) */
	int top;                   /* keep the N most shared contents */
};

/* Figures of one image, or of all of them (mv_analysis_total). */
struct mv_image_figures {
	uint64_t pages;     /* pages read */
	uint64_t mergeable; /* of which KSM may merge */
	uint64_t zero;      /* all-zero pages */
	uint64_t distinct;  /* distinct contents among the pages */
	uint64_t dup_intra; /* pages whose content occurs earlier in
			       the same image (what sharing inside
			       this image alone would free) */
	uint64_t dup_inter; /* pages whose content also occurs in
			       another image */
	/* KSM, on the mergeable pages with its rules (max_page_sharing,
	 * use_zero_pages): KSM pages and the mappings that share them */
	uint64_t ksm_pages_shared, ksm_pages_sharing, ksm_zero_pages;
	/* ESX TPS: pages backed by a shared frame, and frames saved */
	uint64_t esx_shared, esx_saved;               /* no salting */
	uint64_t esx_shared_salted, esx_saved_salted; /* per-VM salting */
	/* LZ4 as the stratified sample estimates it for the whole image
	 * (analysis.c): every zero page counts once, each sampled other
	 * content's pages compress_every times (exact with compress_every
	 * 1); by compressed size <= 1 KiB, <= 2 KiB (ESX's compression cache
	 * keeps a page that fits in 2 KiB), larger */
	uint64_t lz4_hist[3];
	uint64_t sampled;               /* pages actually compressed */
	uint64_t lz4_bytes, zstd_bytes; /* estimated compressed bytes */
};

struct mv_analysis;

int mv_analysis_create(const struct mv_analysis_opts *o,
		       struct mv_analysis **out);
/* Read every page of img. The analysis owns img from here, even on
 * failure (it re-reads earlier pages to compare bytes) and closes it in
 * mv_analysis_destroy. */
int mv_analysis_add(struct mv_analysis *a, struct mv_image *img,
		    struct mv_error *err);
/* After the last add: the cross-image figures. */
int mv_analysis_finish(struct mv_analysis *a, struct mv_error *err);
int mv_analysis_images(const struct mv_analysis *a);
const struct mv_image_figures *mv_analysis_figures(const struct mv_analysis *a,
						   int image);
const struct mv_image_figures *mv_analysis_total(const struct mv_analysis *a);
/* Image i as added (its name and kind), NULL out of range. */
const struct mv_image *mv_analysis_image(const struct mv_analysis *a,
					 int image);

/* One distinct content, as mv_analysis_contents hands it out (valid only
 * during the callback). */
struct mv_content_info {
	uint64_t hash;          /* XXH3-64 of the bytes (mv_hash_page) */
	int zero;               /* all zeros */
	int nimages;            /* images holding it (entries below) */
	const int *image;       /* which images... */
	const uint64_t *copies; /* ...and how many pages of each hold it */
	int lz4_size;           /* LZ4 size if sampled, else -1 */
	int zstd_size;          /* zstd size if sampled, else -1 */
	int first_image;        /* where it first occurs */
	uint64_t first_addr;
	uint64_t pages; /* all its pages, in every image */
	/* Where it occurs: entry i (image[i]) has naddrs[i] addresses, the
	 * first ones in reading order, at addrs[i * MV_CONTENT_ADDRS...] */
	const int *naddrs;
	const uint64_t *addrs;
	/* The analysis's key of the content (its XXH3-128's low half), fixed
	 * when its pages were read: unlike hash, which reads the first
	 * occurrence again, it stays the same while a live process's page
	 * changes after the analysis (what profiles of one analysis agree
	 * on, their set id, is built from it). */
	uint64_t key;
};

#define MV_CONTENT_ADDRS 3 /* addresses kept per content and image */

/* Call fn for every distinct content, in a deterministic order (the order
 * of first occurrence); a non-zero return from fn stops and is returned. */
int mv_analysis_contents(const struct mv_analysis *a,
			 int (*fn)(const struct mv_content_info *c, void *ctx),
			 void *ctx);

/* After mv_analysis_finish: fn for the opts.top most shared contents
 * (two or more pages), most pages first, ties in order of first
 * occurrence; as mv_analysis_contents otherwise. */
int mv_analysis_top(const struct mv_analysis *a,
		    int (*fn)(const struct mv_content_info *c, void *ctx),
		    void *ctx);

void mv_analysis_destroy(struct mv_analysis *a);

/* ---- content profiles ------------------------------------------------- */

/*
 * A content profile (docs/analyze.md, "Profiles"): one image's content
 * mix, as counts. Every distinct non-zero content of an analysis has a
 * signature (the images holding it and its copies in each); the contents
 * of one signature form a class. A VM built from the profile lays the
 * image's pages out as its zero pages then each class's contents, each
 * repeated `copies` times, and gives page vpn the position vpn mod pages
 * of a coprime scatter of that layout.
 */
#define MV_PROFILE_BUCKETS 16       /* LZ4 size histogram buckets... */
#define MV_PROFILE_BUCKET_BYTES 256 /* ...of this many bytes each */

/* LZ4 bucket of a compressed size: (256 b, 256 (b + 1)], the last one
 * open (incompressible pages come out a little over 4096 bytes). */
static inline int mv_profile_bucket(int lz4_size)
{
	int b = lz4_size <= 0 ? 0 : (lz4_size - 1) / MV_PROFILE_BUCKET_BYTES;
	return b < MV_PROFILE_BUCKETS ? b : MV_PROFILE_BUCKETS - 1;
}

struct mv_profile_class {
	uint64_t key;      /* of its signature: the same in every profile of
			      the analysis */
	uint64_t contents; /* distinct contents */
	uint64_t copies;   /* pages of this image holding each */
	uint64_t start;    /* its first position after the zero pages */
	uint64_t lz4[MV_PROFILE_BUCKETS]; /* sampled contents per bucket */
	uint64_t lz4_total;
	uint64_t stride; /* of the scatter of its contents over the
			    buckets: coprime with contents */
};

struct mv_profile {
	char path[512];    /* as loaded, for errors */
	uint64_t dev, ino; /* the file, to load each only once */
	uint64_t set;      /* id of the analysis */
	int images, index; /* images analysed together; this one's index */
	uint64_t pages, zero_pages;
	uint64_t lz4_pages[MV_PROFILE_BUCKETS]; /* this image's sampled pages */
	uint64_t set_lz4[MV_PROFILE_BUCKETS];   /* all sampled contents */
	uint64_t set_lz4_total;
	uint64_t stride; /* of the scatter: coprime with pages */
	int nclasses;
	struct mv_profile_class *cls;
};

/* What one page of a profiled VM holds. */
struct mv_profile_page {
	int zero;     /* all zeros; else: */
	uint64_t key; /* the bytes are a function of key (shared contents
			 have the same key in every VM)... */
	int bucket;   /* ...and compress with LZ4 into this bucket */
};

/* Write image `image` of a finished analysis as a profile (JSON) to f;
 * name (may be NULL) is recorded as the image's name. */
int mv_profile_write(const struct mv_analysis *a, int image, const char *name,
		     FILE *f, struct mv_error *err);

/* Load a profile; bad input: MV_EINVAL naming the file and field. */
int mv_profile_load(const char *path, struct mv_profile **out,
		    struct mv_error *err);
void mv_profile_free(struct mv_profile *p);

/* What page vpn of a VM built from p holds. */
void mv_profile_page(const struct mv_profile *p, uint64_t vpn,
		     struct mv_profile_page *out);

#endif

/*
 * source.h - what every page source of the image layer implements (layer
 * internal): struct mv_image is an ops table and a name; each reader
 * (elf.c, raw.c, process.c) fills one in and keeps its state in priv.
 */
#ifndef MV_IMAGE_SOURCE_H
#define MV_IMAGE_SOURCE_H

#include "memvisor/image.h"

struct mv_image_ops {
	/* as mv_image_next / mv_image_read */
	int (*next)(struct mv_image *img, struct mv_image_extent *e,
		    struct mv_error *err);
	int (*read)(struct mv_image *img, uint64_t addr, uint8_t *page,
		    struct mv_error *err);
	void (*close)(struct mv_image *img); /* frees priv, not img */
};

struct mv_image {
	const struct mv_image_ops *ops;
	enum mv_image_kind kind;
	char name[256]; /* the path, or "pid 1234 (comm)" */
	void *priv;
};

/* The readers behind mv_image_open: fd is open on path and positioned
 * nowhere in particular; on success the reader owns fd. */
int mv_image_open_elf(struct mv_image *img, int fd, const char *path,
		      struct mv_error *err);
int mv_image_open_raw(struct mv_image *img, int fd, const char *path,
		      struct mv_error *err);

#endif

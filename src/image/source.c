/*
 * source.c - opening a memory image and the calls every page source
 * answers (struct mv_image_ops in source.h).
 *
 * A file is an ELF dump or core when it starts with the ELF magic, and
 * raw RAM otherwise; the readers (elf.c, raw.c) say what is wrong with a
 * file they cannot read. Live processes are process.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/source.h"

int mv_image_open(const char *path, struct mv_image **out, struct mv_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mv_error_set(
			err, errno == ENOENT ? MV_ENOENT : MV_EINVAL, path, 0,
			"", "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mv_error_set(err, MV_EINVAL, path, 0, "",
				    "not a regular file: an image is an ELF "
				    "dump, an ELF core or a raw RAM file");
	}
	unsigned char magic[4] = {0};
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	struct mv_image *img = calloc(1, sizeof *img);
	if (!img) {
		close(fd);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	snprintf(img->name, sizeof img->name, "%s", path);
	int rc = n == 4 && memcmp(magic, "\177ELF", 4) == 0
			 ? mv_image_open_elf(img, fd, path, err)
			 : mv_image_open_raw(img, fd, path, err);
	if (rc) {
		close(fd);
		free(img);
		return rc;
	}
	*out = img;
	return 0;
}

int mv_image_next(struct mv_image *img, struct mv_image_extent *e,
		  struct mv_error *err)
{
	return img->ops->next(img, e, err);
}

int mv_image_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		  struct mv_error *err)
{
	return img->ops->read(img, addr, page, err);
}

const char *mv_image_name(const struct mv_image *img)
{
	return img->name;
}

enum mv_image_kind mv_image_kind(const struct mv_image *img)
{
	return img->kind;
}

void mv_image_close(struct mv_image *img)
{
	if (!img)
		return;
	img->ops->close(img);
	free(img);
}

/*
 * error.c - errors for users: one line naming file, line and field.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "memvisor/core.h"

int mv_error_vset(struct mv_error *err, int code, const char *file, int line,
		  const char *field, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->line = line;
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	snprintf(err->field, sizeof err->field, "%s", field ? field : "");
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	return code;
}

int mv_error_set(struct mv_error *err, int code, const char *file, int line,
		 const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mv_error_vset(err, code, file, line, field, fmt, ap);
	va_end(ap);
	return rc;
}

const char *mv_error_format(const struct mv_error *err, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	if (err->file[0]) {
		if (err->line > 0)
			used = (size_t)snprintf(buf, n, "%s:%d: ", err->file,
						err->line);
		else
			used = (size_t)snprintf(buf, n, "%s: ", err->file);
	}
	if (used < n && err->field[0])
		used += (size_t)snprintf(buf + used, n - used,
					 "%s: ", err->field);
	if (used < n)
		snprintf(buf + used, n - used, "%s", err->msg);
	return buf;
}

const char *mv_strerror(int code)
{
	switch (code) {
	case MV_OK:
		return "success";
	case MV_EINVAL:
		return "invalid input";
	case MV_ENOMEM:
		return "out of memory";
	case MV_EIO:
		return "I/O error";
	case MV_ENOSPC:
		return "no space left on device";
	case MV_ENOENT:
		return "no such file or object";
	case MV_EAGAIN:
		return "resource temporarily exhausted";
	case MV_ECANCELED:
		return "stopped";
	case MV_ERANGE:
		return "out of range";
	default:
		return "unknown error";
	}
}

const char *mv_file_kind(unsigned mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

/* The small file helpers of the Linux modules that drive the kernel
 * through its attribute files (rpmsg_char.c, remoteproc/rproc_sysfs.c):
 * path formatting, reading and writing a small sysfs file, numbered
 * directory entries. Internal to src/linux: not installed. Errors are
 * negative errno values here; the modules turn them into amplink codes
 * and sentences. */
#ifndef AMPLINK_SYSFS_UTIL_H
#define AMPLINK_SYSFS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/** snprintf into a path buffer: 0, or -ENAMETOOLONG if it did not fit
 *  (out then holds a truncated string). */
int al_sysfs_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Read a small file whole (at most cap - 1 bytes), NUL-terminated, with
 *  trailing newlines removed: its length, or -errno. cap must be >= 1. */
long al_sysfs_read(const char *path, char *buf, size_t cap);

/** Write a word to an attribute file (no newline: sysfs and debugfs both
 *  accept that): 0, or -errno (the kernel's refusal included). */
int al_sysfs_write(const char *path, const char *s);

/** "<prefix><digits>" (at most 6 digits) -> the number, else -1. */
int al_sysfs_numbered(const char *name, const char *prefix);

/** Is `path` a directory? */
bool al_sysfs_is_dir(const char *path);

#endif

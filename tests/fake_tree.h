/* Helpers for tests that play the kernel with a directory laid out like
 * /sys, /dev and debugfs (tests/linux, tests/integration/it_kernel_cli.c),
 * and a diagnostics hook that keeps the last sentence. Include after
 * <cmocka.h>. */
#ifndef AL_TEST_FAKE_TREE_H
#define AL_TEST_FAKE_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Write `text` to root/rel (NULL: make root/rel a directory), making the
 * directories on the way. */
static inline void ft_put(const char *root, const char *rel, const char *text)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	if (text) {
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	} else {
		mkdir(p, 0755);
	}
}

/* Read root/rel into buf (NUL-terminated, at most cap - 1 bytes). */
static inline void ft_get(const char *root, const char *rel, char *buf, size_t cap)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static inline int ft_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* Remove the tree at `path`, links not followed. */
static inline void ft_rm_tree(const char *path)
{
	nftw(path, ft_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The diagnostics hook (amplink/linux/diag.h) of a test: the last
 * sentence and its level, and how many came. */
static char ft_last[600];
static int ft_last_level, ft_ndiag;
static inline void ft_capture(int level, const char *msg, void *arg)
{
	(void)arg;
	snprintf(ft_last, sizeof(ft_last), "%s", msg);
	ft_last_level = level;
	ft_ndiag++;
}

#endif

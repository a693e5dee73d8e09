/* The kernel-remoteproc driver (src/linux/rproc_sysfs.c) against a temp
 * directory laid out like /sys/class/remoteproc and debugfs: the test
 * plays the kernel by preparing the attribute files and checking what was
 * written to them. This machine has no remoteproc device; the real-kernel
 * test runs elsewhere. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_tree.h"

#include "amplink/error.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/rproc_sysfs.h"

static char root[256];
static struct al_rproc_sysfs_cfg cfg;
static char sysfs[300], debugfs[300], fwdir[300];

static void put(const char *rel, const char *text)
{
	ft_put(root, rel, text);
}

static void get(const char *rel, char *buf, size_t cap)
{
	ft_get(root, rel, buf, cap);
}

#define RP0  "sys/class/remoteproc/remoteproc0/"
#define DBG0 "sys/kernel/debug/remoteproc/remoteproc0/"

/* Two processors, as on an i.MX8 with an M4 and a DSP. */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/al_rps.XXXXXX");
	assert_non_null(mkdtemp(root));
	chmod(root, 0755); /* the unprivileged cases must reach the files */
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(debugfs, sizeof(debugfs), "%s/sys/kernel/debug", root);
	snprintf(fwdir, sizeof(fwdir), "%s/fw", root);
	al_diag_set_handler(ft_capture, NULL);
	ft_last[0] = '\0';
	ft_ndiag = 0;
	cfg = (struct al_rproc_sysfs_cfg){
	    .sysfs_root = sysfs, .firmware_root = fwdir, .release = "6.1.0-test"};
	put(RP0 "name", "imx-rproc\n");
	put(RP0 "state", "offline\n");
	put(RP0 "firmware", "rproc-imx-rproc-fw\n");
	put(RP0 "recovery", "enabled\n");
	put(RP0 "coredump", "disabled\n");
	put("sys/class/remoteproc/remoteproc3/name", "dsp\n");
	put("sys/class/remoteproc/remoteproc3/state", "running\n");
	put("sys/class/remoteproc/remoteprocX/name", "not a processor\n");
	put(DBG0 "name", "imx-rproc\n");
	put("fw/rproc-imx-rproc-fw", "\x7f"
				     "ELF");
	put("fw/m4_echo.elf", "\x7f"
			      "ELF");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ft_rm_tree(root);
	return 0;
}

static void test_open_by_index_name_default(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, -1, NULL), 0);
	assert_int_equal(rp.index, 0); /* the lowest; remoteprocX is no processor */
	assert_string_equal(rp.name, "imx-rproc");
	assert_string_equal(rp.dev, "remoteproc0");
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 3, NULL), 0);
	assert_string_equal(rp.name, "dsp");
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, -1, "dsp"), 0);
	assert_int_equal(rp.index, 3);
	assert_non_null(strstr(rp.dbg, "kernel/debug/remoteproc/remoteproc3"));
	int n = al_rproc_sysfs_foreach(&cfg, NULL, NULL);
	assert_int_equal(n, 0); /* no callback: nothing visited */
}

static void count_cb(const struct al_rproc_sysfs *rp, void *arg)
{
	int *k = arg;
	assert_int_equal(rp->index, *k == 0 ? 0 : 3);
	(*k)++;
}

static void test_foreach(void **state)
{
	(void)state;
	int k = 0;
	assert_int_equal(al_rproc_sysfs_foreach(&cfg, count_cb, &k), 2);
	assert_int_equal(k, 2);
}

static void test_missing_class(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	char other[400];
	snprintf(other, sizeof(other), "%s/empty", root);
	mkdir(other, 0755);
	struct al_rproc_sysfs_cfg c = {.sysfs_root = other};
	assert_int_equal(al_rproc_sysfs_open(&rp, &c, -1, NULL), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "CONFIG_REMOTEPROC"));
	ft_last[0] = '\0';
	assert_int_equal(al_rproc_sysfs_foreach(&c, count_cb, NULL), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "no remoteproc class"));
	assert_int_equal(ft_last_level, AL_DIAG_ERR);
	/* the class without processors */
	put("empty/class/remoteproc", NULL);
	assert_int_equal(al_rproc_sysfs_open(&rp, &c, -1, NULL), AL_EADDR);
	assert_non_null(strstr(ft_last, "no driver registered"));
}

static void test_unknown_name_and_index(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, -1, "m7"), AL_EADDR);
	assert_non_null(strstr(ft_last, "no remoteproc named 'm7'"));
	assert_non_null(strstr(ft_last, "remoteproc0 'imx-rproc'"));
	assert_non_null(strstr(ft_last, "remoteproc3 'dsp'"));
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 1, NULL), AL_EADDR);
	assert_non_null(strstr(ft_last, "no remoteproc1"));
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, -1, ""), AL_EINVAL);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, -1, big), AL_EINVAL);
}

static void test_states(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		enum al_rproc_sysfs_state st;
	} tab[] = {{"offline\n", AL_RPS_OFFLINE},   {"suspended\n", AL_RPS_SUSPENDED},
		   {"running\n", AL_RPS_RUNNING},   {"crashed\n", AL_RPS_CRASHED},
		   {"deleted\n", AL_RPS_DELETED},   {"attached\n", AL_RPS_ATTACHED},
		   {"detached\n", AL_RPS_DETACHED}, {"invalid\n", AL_RPS_INVALID},
		   {"running", AL_RPS_RUNNING}};
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		put(RP0 "state", tab[i].text);
		enum al_rproc_sysfs_state st;
		char raw[32];
		assert_int_equal(al_rproc_sysfs_state(&rp, &st, raw, sizeof(raw)), 0);
		assert_int_equal(st, tab[i].st);
		assert_string_equal(raw, al_rproc_sysfs_state_name(st));
	}
	assert_string_equal(al_rproc_sysfs_state_name((enum al_rproc_sysfs_state)99), "unknown");
}

static void test_unknown_state(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	put(RP0 "state", "warming-up\n");
	enum al_rproc_sysfs_state st = AL_RPS_RUNNING;
	char raw[32];
	assert_int_equal(al_rproc_sysfs_state(&rp, &st, raw, sizeof(raw)), AL_EPROTO);
	assert_int_equal(st, AL_RPS_UNKNOWN);
	assert_string_equal(raw, "warming-up");
	assert_non_null(strstr(ft_last, "unknown state 'warming-up'"));
	/* status still works and shows the kernel's word, without a diagnostic */
	struct al_rproc_sysfs_status s;
	int nd = ft_ndiag;
	assert_int_equal(al_rproc_sysfs_get_status(&rp, &s), 0);
	assert_int_equal(ft_ndiag, nd);
	assert_string_equal(s.state_raw, "warming-up");
	/* and no transition is attempted from it */
	assert_int_equal(al_rproc_sysfs_start(&rp), AL_ESTATE);
	assert_non_null(strstr(ft_last, "does not know ('warming-up')"));
	char b[32];
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "warming-up\n");
}

static void test_unreadable_state(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	enum al_rproc_sysfs_state st;
	/* a directory where the file should be: read fails with EISDIR */
	char p[600];
	snprintf(p, sizeof(p), "%s/" RP0 "state", root);
	unlink(p);
	mkdir(p, 0755);
	assert_int_equal(al_rproc_sysfs_state(&rp, &st, NULL, 0), AL_EINIT);
	assert_non_null(strstr(ft_last, "reading"));
	rmdir(p);
	/* gone: the remoteproc was unregistered */
	assert_int_equal(al_rproc_sysfs_state(&rp, &st, NULL, 0), AL_EADDR);
	assert_non_null(strstr(ft_last, "went away"));
	/* permission denied: as an unprivileged user (root reads anything) */
	put(RP0 "state", "offline\n");
	chmod(p, 0600);
	if (geteuid() == 0) {
		assert_int_equal(seteuid(65534), 0);
		int rc = al_rproc_sysfs_state(&rp, &st, NULL, 0);
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(rc, AL_EPERM);
		assert_non_null(strstr(ft_last, "run as root"));
	}
}

static void test_firmware_names(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	static const char *const bad[] = {"",	  "../etc/passwd", "sub/fw.elf", "/lib/firmware/x",
					  "a..b", "fw\nstart",	   "fw\tx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ft_last[0] = '\0';
		assert_int_equal(al_rproc_sysfs_set_firmware(&rp, bad[i]), AL_EINVAL);
		assert_true(ft_last[0]);
	}
	assert_int_equal(al_rproc_sysfs_check_fw_name("a/b"), AL_EINVAL);
	assert_int_equal(al_rproc_sysfs_check_fw_name("m4.elf"), 0);
	assert_int_equal(al_rproc_sysfs_check_fw_name("sub/fw.elf"), AL_EINVAL);
	assert_non_null(strstr(ft_last, "contains '/'"));
	char big[300];
	memset(big, 'f', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(al_rproc_sysfs_set_firmware(&rp, big), AL_EINVAL);
	assert_non_null(strstr(ft_last, "too long"));
	char b[64];
	get(RP0 "firmware", b, sizeof(b));
	assert_string_equal(b, "rproc-imx-rproc-fw\n"); /* nothing written */
}

static void test_set_firmware(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	char b[64];
	/* missing in every directory of the search path */
	assert_int_equal(al_rproc_sysfs_set_firmware(&rp, "nope.elf"), AL_EADDR);
	assert_non_null(strstr(ft_last, "not found"));
	assert_non_null(strstr(ft_last, "updates/6.1.0-test"));
	get(RP0 "firmware", b, sizeof(b));
	assert_string_equal(b, "rproc-imx-rproc-fw\n");
	/* present: the kernel gets the bare name */
	assert_int_equal(al_rproc_sysfs_set_firmware(&rp, "m4_echo.elf"), 0);
	get(RP0 "firmware", b, sizeof(b));
	assert_string_equal(b, "m4_echo.elf");
	/* not while running: the kernel would say EBUSY */
	put(RP0 "state", "running\n");
	assert_int_equal(al_rproc_sysfs_set_firmware(&rp, "rproc-imx-rproc-fw"), AL_ESTATE);
	assert_non_null(strstr(ft_last, "only while offline"));
	get(RP0 "firmware", b, sizeof(b));
	assert_string_equal(b, "m4_echo.elf");
}

static void test_search_path(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	char path[600], want[600];
	put("fw/updates/6.1.0-test/new.elf", "x");
	put("fw/updates/new.elf", "x");
	assert_int_equal(al_rproc_sysfs_find_firmware(&rp, "new.elf", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/updates/6.1.0-test/new.elf", fwdir);
	assert_string_equal(path, want);
	put("fw/6.1.0-test/k.elf.xz", "x"); /* compressed: the kernel decompresses it */
	assert_int_equal(al_rproc_sysfs_find_firmware(&rp, "k.elf", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/6.1.0-test/k.elf.xz", fwdir);
	assert_string_equal(path, want);
	put("fw/dir.elf/x", "x"); /* a directory of that name is no firmware */
	assert_int_equal(al_rproc_sysfs_find_firmware(&rp, "dir.elf", NULL, 0), AL_EADDR);
	/* firmware_class.path comes first */
	char custom[400];
	snprintf(custom, sizeof(custom), "%s/custom\n", root);
	put("sys/module/firmware_class/parameters/path", custom);
	put("custom/new.elf", "x");
	assert_int_equal(al_rproc_sysfs_find_firmware(&rp, "new.elf", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/custom/new.elf", root);
	assert_string_equal(path, want);
}

static void test_start(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	char b[64];
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	assert_int_equal(al_rproc_sysfs_start(&rp), 0);
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "start");
	/* running: refused without writing (6.1 would take a second reference) */
	put(RP0 "state", "running\n");
	assert_int_equal(al_rproc_sysfs_start(&rp), AL_ESTATE);
	assert_non_null(strstr(ft_last, "already running"));
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "running\n");
	put(RP0 "state", "attached\n");
	assert_int_equal(al_rproc_sysfs_start(&rp), AL_ESTATE);
	put(RP0 "state", "crashed\n");
	assert_int_equal(al_rproc_sysfs_start(&rp), AL_ESTATE);
	assert_non_null(strstr(ft_last, "stop it"));
	/* detached: the kernel attaches to what the boot loader started */
	put(RP0 "state", "detached\n");
	assert_int_equal(al_rproc_sysfs_start(&rp), 0);
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "start");
	/* offline with a firmware file that is not there */
	put(RP0 "state", "offline\n");
	put(RP0 "firmware", "gone.elf\n");
	assert_int_equal(al_rproc_sysfs_start(&rp), AL_EADDR);
	assert_non_null(strstr(ft_last, "'gone.elf' not found"));
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "offline\n");
}

static void test_stop(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	char b[64];
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	assert_int_equal(al_rproc_sysfs_stop(&rp), AL_ESTATE); /* offline */
	assert_non_null(strstr(ft_last, "nothing to stop"));
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "offline\n");
	put(RP0 "state", "crashed\n");
	assert_int_equal(al_rproc_sysfs_stop(&rp), 0);
	get(RP0 "state", b, sizeof(b));
	assert_string_equal(b, "stop");
	/* a driver that made the attributes read-only: EACCES, named */
	put(RP0 "state", "running\n");
	char p[600];
	snprintf(p, sizeof(p), "%s/" RP0 "state", root);
	chmod(p, 0444);
	if (geteuid() == 0) {
		assert_int_equal(seteuid(65534), 0);
		int rc = al_rproc_sysfs_stop(&rp);
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(rc, AL_EPERM);
		assert_non_null(strstr(ft_last, "writing"));
		assert_non_null(strstr(ft_last, "run as root"));
	}
}

static void test_trace(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	char b[64];
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	assert_int_equal(al_rproc_sysfs_read_trace(&rp, 0, b, sizeof(b)), AL_EADDR);
	assert_non_null(strstr(ft_last, "not running"));
	put(DBG0 "trace0", "boot ok\nm4: echo up\n");
	assert_int_equal(al_rproc_sysfs_read_trace(&rp, 0, b, sizeof(b)), 20);
	assert_string_equal(b, "boot ok\nm4: echo up\n");
	assert_int_equal(al_rproc_sysfs_read_trace(&rp, 0, b, 5), 4); /* truncated to fit */
	assert_string_equal(b, "boot");
	/* debugfs not mounted: an empty directory */
	char dbg[400];
	snprintf(dbg, sizeof(dbg), "%s/nodebug", root);
	mkdir(dbg, 0755);
	struct al_rproc_sysfs_cfg c = cfg;
	c.debugfs_root = dbg;
	assert_int_equal(al_rproc_sysfs_open(&rp, &c, 0, NULL), 0);
	assert_int_equal(al_rproc_sysfs_read_trace(&rp, 0, b, sizeof(b)), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "mount -t debugfs none"));
	/* mounted, without remoteproc */
	put("nodebug/tracing/x", "");
	assert_int_equal(al_rproc_sysfs_read_trace(&rp, 0, b, sizeof(b)), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "no remoteproc directory"));
}

static void test_recovery_and_status(void **state)
{
	(void)state;
	struct al_rproc_sysfs rp;
	char b[64];
	bool en = false;
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 0, NULL), 0);
	assert_int_equal(al_rproc_sysfs_recovery(&rp, &en), 0);
	assert_true(en);
	assert_int_equal(al_rproc_sysfs_set_recovery(&rp, false), 0);
	get(RP0 "recovery", b, sizeof(b));
	assert_string_equal(b, "disabled");
	assert_int_equal(al_rproc_sysfs_recovery(&rp, &en), 0);
	assert_false(en);
	put(RP0 "recovery", "maybe\n");
	assert_int_equal(al_rproc_sysfs_recovery(&rp, &en), AL_EPROTO);
	/* older kernels: only in debugfs */
	char p[600];
	snprintf(p, sizeof(p), "%s/" RP0 "recovery", root);
	unlink(p);
	assert_int_equal(al_rproc_sysfs_recovery(&rp, &en), AL_EADDR);
	put(DBG0 "recovery", "disabled\n");
	assert_int_equal(al_rproc_sysfs_set_recovery(&rp, true), 0);
	get(DBG0 "recovery", b, sizeof(b));
	assert_string_equal(b, "enabled");
	put(DBG0 "trace0", "x");
	struct al_rproc_sysfs_status s;
	assert_int_equal(al_rproc_sysfs_get_status(&rp, &s), 0);
	assert_int_equal(s.state, AL_RPS_OFFLINE);
	assert_string_equal(s.firmware, "rproc-imx-rproc-fw");
	assert_int_equal(s.recovery, 1);
	assert_string_equal(s.coredump, "disabled");
	assert_true(s.trace);
	/* the DSP has none of the optional files: not an error, no sentence */
	assert_int_equal(al_rproc_sysfs_open(&rp, &cfg, 3, NULL), 0);
	int nd = ft_ndiag;
	assert_int_equal(al_rproc_sysfs_get_status(&rp, &s), 0);
	assert_int_equal(ft_ndiag, nd);
	assert_int_equal(s.state, AL_RPS_RUNNING);
	assert_int_equal(s.recovery, -1);
	assert_string_equal(s.firmware, "");
	assert_false(s.trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_by_index_name_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_class, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_name_and_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_firmware_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_firmware, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_and_status, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

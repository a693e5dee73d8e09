/* The `amplink` tool over the kernel's interfaces without a kernel:
 * `--link kernel` (echo, send, recv, ls, log, motor) and `rproc --sysfs`
 * against a temp directory laid out like /sys and /dev
 * (AMPLINK_KERNEL_ROOT for the link commands, --sysfs=ROOT for rproc).
 * Nodes are plain files here, so what this proves is the tool's side:
 * which channel it opens, what it writes, and the exit code and sentence
 * of every failure (kernel without rpmsg, service absent, permission
 * denied, bad name, refused transition). The kernel's own behaviour is
 * the real-kernel test's job. argv[1]: the amplink binary. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_tree.h"

static const char *amplink_bin;
static char root[256];
static char out_path[300], err_path[300];
static char out[8192], err[8192];

static void put(const char *rel, const char *text)
{
	ft_put(root, rel, text);
}

static void slurp(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run amplink with args (NULL-terminated, without argv[0]) as uid (0: as
 * we are); stdout and stderr into out[] and err[]. Returns the exit code. */
static int run_as(uid_t uid, const char *const *args)
{
	const char *argv[32] = {"amplink"};
	int n = 1;
	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		dup2(o, 1);
		dup2(e, 2);
		if (uid && (setgid(65534) != 0 || setuid(uid) != 0))
			_exit(126);
		execv(amplink_bin, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	slurp(out_path, out, sizeof(out));
	slurp(err_path, err, sizeof(err));
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "---- %s ... -> %d\n%s%s", args[0], WEXITSTATUS(st), out, err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN(...) run_as(0, (const char *const[]){__VA_ARGS__, NULL})

#define BUS "sys/bus/rpmsg/devices/"

static void chan(const char *dev, const char *name, const char *src, const char *dst)
{
	char p[400];
	snprintf(p, sizeof(p), BUS "%s/name", dev);
	put(p, name);
	snprintf(p, sizeof(p), BUS "%s/src", dev);
	put(p, src);
	snprintf(p, sizeof(p), BUS "%s/dst", dev);
	put(p, dst);
}

/* A board with a booted remote: the ctrl, an rpmsg-raw channel with its
 * node, the log service announced without one, a name with a terminal
 * escape; and a remoteproc. */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/al_kcli.XXXXXX");
	assert_non_null(mkdtemp(root));
	chmod(root, 0755); /* the unprivileged cases must reach the files */
	snprintf(out_path, sizeof(out_path), "%s/out", root);
	snprintf(err_path, sizeof(err_path), "%s/err", root);
	setenv("AMPLINK_KERNEL_ROOT", root, 1);
	chan("virtio0.rpmsg_ctrl.0.0", "rpmsg_ctrl\n", "0x0\n", "0x0\n");
	put(BUS "virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0", NULL);
	chan("virtio0.rpmsg-raw.-1.1024", "rpmsg-raw\n", "0x401\n", "0x400\n");
	put(BUS "virtio0.rpmsg-raw.-1.1024/rpmsg/rpmsg3", NULL);
	chan("virtio0.amplink-log.-1.1026", "amplink-log\n", "0xffffffff\n", "0x402\n");
	chan("virtio0.odd.-1.1027", "bad\x1b[2Jname\n", "0xffffffff\n", "0x403\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/dev", "241:0\n");
	put("dev/rpmsg_ctrl0", ""); /* a plain file: the kernel's ioctl fails ENOTTY */
	put("dev/rpmsg3", "hello");
	put("sys/class/remoteproc/remoteproc0/name", "m4\n");
	put("sys/class/remoteproc/remoteproc0/state", "running\n");
	put("sys/class/remoteproc/remoteproc0/firmware", "m4.elf\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ft_rm_tree(root);
	unsetenv("AMPLINK_KERNEL_ROOT");
	return 0;
}

static void ls_kernel(void **state)
{
	(void)state;
	assert_int_equal(RUN("ls", "--link", "kernel"), 0);
	assert_non_null(strstr(out, "rpmsg-raw"));
	assert_non_null(strstr(out, "0x401      0x400      /dev/rpmsg3"));
	assert_non_null(strstr(out, "/dev/rpmsg_ctrl0"));
	assert_non_null(strstr(out, "amplink-log"));
	assert_non_null(strstr(out, "4 channels"));
	assert_null(strchr(out, '\x1b')); /* the remote's bytes escaped */
	assert_int_equal(RUN("ls", "--link", "kernel", "--json"), 0);
	assert_non_null(strstr(out, "{\"name\":\"rpmsg-raw\",\"addr\":1024,\"src\":1025,"));
	assert_non_null(strstr(out, "\"node\":3"));
	/* kernel:CTRL lists the same bus */
	assert_int_equal(RUN("ls", "--link", "kernel:/dev/rpmsg_ctrl0"), 0);
	assert_non_null(strstr(out, "rpmsg-raw"));
}

static void send_recv_echo(void **state)
{
	(void)state;
	assert_int_equal(RUN("recv", "rpmsg-raw", "-n", "1", "--link", "kernel"), 0);
	assert_string_equal(out, "hello\n");
	assert_int_equal(RUN("send", "rpmsg-raw", "HEL", "--link", "kernel"), 0);
	char p[400], b[64];
	snprintf(p, sizeof(p), "%s/dev/rpmsg3", root);
	slurp(p, b, sizeof(b));
	assert_string_equal(b, "HELlo"); /* a plain file: written at offset 0 */
	/* echo reaches the node; a file does not echo, so the data differs */
	assert_int_equal(RUN("echo", "--link", "kernel", "--service", "rpmsg-raw", "-n", "1"), 4);
	/* more than virtio rpmsg carries */
	assert_int_equal(
	    RUN("echo", "--link", "kernel", "--service", "rpmsg-raw", "--size", "497", "-n", "1"),
	    2);
	assert_non_null(strstr(err, "payload limit 496"));
}

static void service_absent(void **state)
{
	(void)state;
	assert_int_equal(RUN("send", "nosuch", "x", "--link", "kernel", "--timeout", "50"), 3);
	assert_non_null(strstr(err, "service 'nosuch' is absent"));
	assert_non_null(strstr(err, "channels: "));
	assert_int_equal(RUN("recv", "nosuch", "--link", "kernel", "--timeout", "50"), 3);
	assert_int_equal(RUN("echo", "--link", "kernel", "--timeout", "50", "--json"), 3);
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_int_equal(RUN("log", "--link", "kernel", "--service", "nosuch", "--timeout", "50"),
			 3);
	assert_int_equal(RUN("motor", "--link", "kernel", "--timeout", "50", "--duration", "0"), 3);
	assert_non_null(strstr(err, "service 'motor-ctrl' on kernel"));
	/* a name rpmsg cannot carry: usage */
	assert_int_equal(RUN("send", "abcdefghijabcdefghijabcdefghij12", "x", "--link", "kernel"),
			 2);
}

static void kernel_without_rpmsg(void **state)
{
	(void)state;
	char bare[300];
	snprintf(bare, sizeof(bare), "%s/bare", root);
	mkdir(bare, 0755);
	setenv("AMPLINK_KERNEL_ROOT", bare, 1);
	assert_int_equal(RUN("ls", "--link", "kernel"), 5);
	assert_non_null(strstr(err, "no rpmsg bus"));
	assert_int_equal(RUN("send", "rpmsg-raw", "x", "--link", "kernel"), 5);
	assert_non_null(strstr(err, "CONFIG_RPMSG"));
	assert_int_equal(RUN("recv", "rpmsg-raw", "--link", "kernel"), 5);
	assert_int_equal(RUN("echo", "--link", "kernel"), 5);
	assert_int_equal(RUN("log", "--link", "kernel"), 5);
	assert_int_equal(RUN("motor", "--link", "kernel", "--duration", "0"), 5);
	setenv("AMPLINK_KERNEL_ROOT", root, 1);
	/* a service without a node of its own needs rpmsg_ctrl: the fake
	 * ctrl is no ctrl (ENOTTY) */
	assert_int_equal(RUN("log", "--link", "kernel"), 5);
	assert_non_null(strstr(err, "not an rpmsg_ctrl device"));
	/* sysfs has the node, /dev does not */
	char p[400];
	snprintf(p, sizeof(p), "%s/dev/rpmsg3", root);
	unlink(p);
	assert_int_equal(RUN("send", "rpmsg-raw", "x", "--link", "kernel"), 5);
	assert_non_null(strstr(err, "devtmpfs"));
}

static void permission_denied(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip(); /* needs to become another user */
		return;
	}
	char p[400];
	snprintf(p, sizeof(p), "%s/dev/rpmsg3", root);
	chmod(p, 0600);
	assert_int_equal(run_as(65534, (const char *const[]){"send", "rpmsg-raw", "x", "--link",
							     "kernel", NULL}),
			 6);
	assert_non_null(strstr(err, "run as root"));
	snprintf(p, sizeof(p), "%s/sys/bus/rpmsg/devices", root);
	chmod(p, 0700);
	assert_int_equal(run_as(65534, (const char *const[]){"ls", "--link", "kernel", NULL}), 6);
	chmod(p, 0755);
}

static void rproc_sysfs_codes(void **state)
{
	(void)state;
	char sys[300], opt[320];
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(opt, sizeof(opt), "--sysfs=%s", sys);
	assert_int_equal(RUN("rproc", "status", opt), 0);
	assert_non_null(strstr(out, "remoteproc0 (m4): running"));
	assert_non_null(strstr(out, "rpmsg-raw")); /* the kernel's channels */
	assert_int_equal(RUN("rproc", "--sysfs", "--help"), 0);
	assert_non_null(strstr(out, "2 usage"));
	/* usage: 2 */
	assert_int_equal(RUN("rproc", "status", opt, "--index", "x"), 2);
	assert_int_equal(RUN("rproc", "start", "sub/fw.elf", opt), 2);
	assert_non_null(strstr(err, "contains '/'"));
	/* not found or refused: 3 */
	assert_int_equal(RUN("rproc", "status", opt, "--index", "7"), 3);
	assert_non_null(strstr(err, "no remoteproc7"));
	assert_int_equal(RUN("rproc", "start", opt), 3);
	assert_non_null(strstr(err, "already running"));
	put("sys/kernel/debug/remoteproc/remoteproc0/name", "m4\n"); /* no trace0 */
	assert_int_equal(RUN("rproc", "trace", opt), 3);
	assert_non_null(strstr(err, "no trace0"));
	/* the kernel lacks the interface: 5 */
	char nodbg[320];
	snprintf(nodbg, sizeof(nodbg), "%s/nodebug", root);
	mkdir(nodbg, 0755);
	assert_int_equal(RUN("rproc", "trace", opt, "--debugfs", nodbg), 5);
	assert_non_null(strstr(err, "mount -t debugfs"));
	char bare[320];
	snprintf(bare, sizeof(bare), "--sysfs=%s/bare", root);
	assert_int_equal(RUN("rproc", "status", bare), 5);
	assert_non_null(strstr(err, "CONFIG_REMOTEPROC"));
	/* permission denied: 6 */
	if (geteuid() == 0) {
		char p[400];
		snprintf(p, sizeof(p), "%s/class/remoteproc/remoteproc0/state", sys);
		chmod(p, 0444);
		assert_int_equal(run_as(65534, (const char *const[]){"rproc", "stop", opt, NULL}),
				 6);
		assert_non_null(strstr(err, "permission denied"));
	}
	/* done: stop writes "stop" */
	assert_int_equal(RUN("rproc", "stop", opt), 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-amplink\n", argv[0]);
		return 2;
	}
	amplink_bin = argv[1];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(ls_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(send_recv_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(service_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(kernel_without_rpmsg, setup, teardown),
	    cmocka_unit_test_setup_teardown(permission_denied, setup, teardown),
	    cmocka_unit_test_setup_teardown(rproc_sysfs_codes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The rpmsg_char backend (src/linux/rpmsg_char.c), the parts that work
 * without a kernel: listing /sys/bus/rpmsg/devices from a temp directory
 * laid out like sysfs (odd names included), finding rpmsg_ctrl and the
 * endpoint devices, opening a channel's node (a plain file here) with
 * whole-message reads, the error sentences, the link-name parser and the
 * mapping to amplink codes. Creating endpoints needs the kernel's ioctl:
 * that is the real-kernel test's job. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_tree.h"

#include "amplink/error.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/rpmsg_char.h"

static char root[256];
static char sysfs[300], devdir[300];
static struct al_rpmsg_char_cfg cfg;

static void put(const char *rel, const char *text)
{
	ft_put(root, rel, text);
}

static void get(const char *rel, char *buf, size_t cap)
{
	ft_get(root, rel, buf, cap);
}

static void link_to(const char *rel, const char *target)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

#define BUS "sys/bus/rpmsg/devices/"

/* A channel directory with its attributes as the kernel prints them. */
static void chan(const char *dev, const char *name, const char *src, const char *dst,
		 const char *driver)
{
	char p[400];
	snprintf(p, sizeof(p), BUS "%s/name", dev);
	put(p, name);
	snprintf(p, sizeof(p), BUS "%s/src", dev);
	put(p, src);
	snprintf(p, sizeof(p), BUS "%s/dst", dev);
	put(p, dst);
	snprintf(p, sizeof(p), BUS "%s/announce", dev);
	put(p, "true\n");
	if (driver) {
		char t[200];
		snprintf(p, sizeof(p), BUS "%s/driver", dev);
		snprintf(t, sizeof(t), "../../../../bus/rpmsg/drivers/%s", driver);
		link_to(p, t);
	}
}

/* What a board with a booted M-core shows: the ctrl channel, an rpmsg-raw
 * channel with its node, a channel a kernel driver took, and oddities. */
static int setup(void **state)
{
	(void)state;
	al_diag_set_handler(ft_capture, NULL);
	ft_last[0] = '\0';
	ft_ndiag = 0;
	snprintf(root, sizeof(root), "/tmp/al_rpc.XXXXXX");
	assert_non_null(mkdtemp(root));
	chmod(root, 0755); /* the unprivileged case must reach the files */
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(devdir, sizeof(devdir), "%s/dev", root);
	cfg = (struct al_rpmsg_char_cfg){.sysfs_root = sysfs, .dev_root = devdir};
	chan("virtio0.rpmsg_ctrl.0.0", "rpmsg_ctrl\n", "0x0\n", "0x0\n", "rpmsg_ctrl");
	put(BUS "virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0", NULL);
	chan("virtio0.rpmsg-raw.-1.1024", "rpmsg-raw\n", "0xffffffff\n", "0x400\n", "rpmsg_chrdev");
	put(BUS "virtio0.rpmsg-raw.-1.1024/rpmsg/rpmsg3", NULL);
	chan("virtio0.rpmsg-client-sample.-1.1025", "rpmsg-client-sample\n", "0xffffffff\n",
	     "0x401\n", "rpmsg_client_sample");
	/* the name itself has dots and a space; no driver */
	chan("virtio0.my.dotted name.-1.53", "my.dotted name\n", "0xffffffff\n", "0x35\n", NULL);
	/* 40 bytes: no kernel makes that (31 at most), a fake tree can */
	chan("virtio0.long.-1.54", "abcdefghijabcdefghijabcdefghijabcdefghij\n", "0xffffffff\n",
	     "0x36\n", NULL);
	/* broken entries are skipped: no dst, a dst that is no number */
	put(BUS "virtio0.nodst.-1.55/name", "nodst\n");
	put(BUS "virtio0.nodst.-1.55/src", "0x1\n");
	chan("virtio0.baddst.-1.56", "baddst\n", "0x1\n", "banana\n", NULL);
	/* /sys/class/rpmsg: the ctrl and its endpoint children, the raw node */
	put("sys/class/rpmsg/rpmsg_ctrl0/dev", "241:0\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg10/name", "svc-b\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg10/src", "-1\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg10/dst", "1026\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg2/name", "svc-a\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg2/src", "2000\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsg2/dst", "-1\n");
	put("sys/class/rpmsg/rpmsg_ctrl0/rpmsgX/name", "not a node\n");
	put("dev/rpmsg_ctrl0", "");
	put("dev/rpmsg3", "hello");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ft_rm_tree(root);
	return 0;
}

static void test_list(void **state)
{
	(void)state;
	struct al_rpmsg_chan_info c[16];
	int n = al_rpmsg_char_list(&cfg, c, 16);
	assert_int_equal(n, 5); /* the two broken entries skipped */
	/* name order of the directories */
	assert_string_equal(c[0].dev, "virtio0.long.-1.54");
	assert_string_equal(c[1].dev, "virtio0.my.dotted name.-1.53");
	assert_string_equal(c[2].dev, "virtio0.rpmsg-client-sample.-1.1025");
	assert_string_equal(c[3].dev, "virtio0.rpmsg-raw.-1.1024");
	assert_string_equal(c[4].dev, "virtio0.rpmsg_ctrl.0.0");
	assert_true(c[0].name_truncated);
	assert_int_equal(strlen(c[0].name), 31);
	assert_string_equal(c[1].name, "my.dotted name");
	assert_false(c[1].name_truncated);
	assert_int_equal(c[1].dst, 53);
	assert_string_equal(c[1].driver, "");
	assert_int_equal(c[1].node, -1);
	assert_string_equal(c[2].driver, "rpmsg_client_sample");
	assert_string_equal(c[3].name, "rpmsg-raw");
	assert_int_equal(c[3].src, AL_RPMSG_CHAR_ADDR_ANY);
	assert_int_equal(c[3].dst, 0x400);
	assert_true(c[3].announce);
	assert_string_equal(c[3].driver, "rpmsg_chrdev");
	assert_int_equal(c[3].node, 3);
	assert_int_equal(c[3].ctrl, -1);
	assert_int_equal(c[4].ctrl, 0);
	assert_int_equal(c[4].node, -1);
	/* fewer slots than channels: the count says how many there are */
	assert_int_equal(al_rpmsg_char_list(&cfg, c, 2), 5);
	assert_int_equal(al_rpmsg_char_list(&cfg, NULL, 0), 5);
}

static void test_list_no_bus(void **state)
{
	(void)state;
	char other[400];
	snprintf(other, sizeof(other), "%s/bare", root);
	mkdir(other, 0755);
	struct al_rpmsg_char_cfg c = {.sysfs_root = other};
	assert_int_equal(al_rpmsg_char_list(&c, NULL, 0), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "no rpmsg bus"));
	assert_non_null(strstr(ft_last, "CONFIG_RPMSG"));
}

static void test_find_ctrl(void **state)
{
	(void)state;
	char path[400], want[400];
	snprintf(want, sizeof(want), "%s/rpmsg_ctrl0", devdir);
	static const char *const ok[] = {NULL, "", "rpmsg_ctrl0", "0", "/dev/rpmsg_ctrl0"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		path[0] = '\0';
		assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, ok[i], path, sizeof(path)), 0);
		assert_string_equal(path, want);
	}
	assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, "rpmsg_ctrl7", NULL, 0), AL_EADDR);
	assert_non_null(strstr(ft_last, "there is rpmsg_ctrl0"));
	assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, "bogus", NULL, 0), AL_EINVAL);
	assert_non_null(strstr(ft_last, "names no rpmsg_ctrl"));
	/* sysfs has it, /dev does not */
	char p[400];
	snprintf(p, sizeof(p), "%s/rpmsg_ctrl0", devdir);
	unlink(p);
	assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, NULL, NULL, 0), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "devtmpfs"));
	/* the bus without the ctrl driver */
	snprintf(p, sizeof(p), "%s/sys/class/rpmsg", root);
	ft_rm_tree(p);
	assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, NULL, NULL, 0), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "CONFIG_RPMSG_CTRL"));
	/* no bus at all */
	snprintf(p, sizeof(p), "%s/sys/bus", root);
	ft_rm_tree(p);
	assert_int_equal(al_rpmsg_char_find_ctrl(&cfg, NULL, NULL, 0), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "no rpmsg bus"));
}

static void test_list_epts(void **state)
{
	(void)state;
	struct al_rpmsg_ept_info e[8];
	assert_int_equal(al_rpmsg_char_list_epts(&cfg, 0, e, 8), 2);
	assert_int_equal(e[0].node, 2); /* numeric order, not 10 before 2 */
	assert_string_equal(e[0].name, "svc-a");
	assert_int_equal(e[0].src, 2000);
	assert_int_equal(e[0].dst, AL_RPMSG_CHAR_ADDR_ANY); /* printed "-1" */
	assert_int_equal(e[1].node, 10);
	assert_int_equal(e[1].src, AL_RPMSG_CHAR_ADDR_ANY);
	assert_int_equal(e[1].dst, 1026);
	assert_int_equal(al_rpmsg_char_list_epts(&cfg, 4, e, 8), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "rpmsg_ctrl4"));
}

static void test_create_errors(void **state)
{
	(void)state;
	struct al_rpmsg_char *k = (struct al_rpmsg_char *)&k;
	/* 32 bytes do not fit RPMSG_NAME_SIZE with its NUL */
	assert_int_equal(
	    al_rpmsg_char_create(&cfg, NULL, "abcdefghijabcdefghijabcdefghij12", 1, 2, &k),
	    AL_EINVAL);
	assert_null(k);
	assert_non_null(strstr(ft_last, "at most 31"));
	/* by address the name may be empty: it reaches the (fake) ioctl */
	assert_int_equal(al_rpmsg_char_create(&cfg, NULL, "", 1, 2, &k), AL_ENOLINK);
	assert_non_null(strstr(ft_last, "not an rpmsg_ctrl device"));
	/* the fake ctrl is a plain file: the ioctl is refused with ENOTTY */
	assert_int_equal(al_rpmsg_char_create(&cfg, "kernel-ignored/rpmsg_ctrl0", "svc", 1, 2, &k),
			 AL_ENOLINK);
	assert_non_null(strstr(ft_last, "not an rpmsg_ctrl device"));
	assert_non_null(strstr(ft_last, "'svc'"));
	assert_int_equal(al_rpmsg_char_create(&cfg, "rpmsg_ctrl5", "svc", 1, 2, &k), AL_EADDR);
	assert_non_null(strstr(ft_last, "no rpmsg_ctrl5"));
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void test_open_service_io(void **state)
{
	(void)state;
	struct al_rpmsg_char *k;
	char b[16];
	assert_int_equal(
	    al_rpmsg_char_open_service(&cfg, "rpmsg-raw", AL_RPMSG_CHAR_ADDR_ANY, 0, &k), 0);
	char want[400];
	snprintf(want, sizeof(want), "%s/rpmsg3", devdir);
	assert_string_equal(al_rpmsg_char_path(k), want);
	uint32_t src, dst;
	al_rpmsg_char_addrs(k, &src, &dst);
	assert_int_equal(dst, 0x400);
	assert_true(al_rpmsg_char_fd(k) >= 0);
	/* a buffer too small: an error, the message stays */
	assert_int_equal(al_rpmsg_char_read(k, b, 2, 0), AL_EMSGSIZE);
	assert_non_null(strstr(ft_last, "5 bytes"));
	assert_int_equal(ft_last_level, AL_DIAG_DEBUG); /* a normal outcome */
	assert_int_equal(al_rpmsg_char_next_len(k), 5);
	assert_int_equal(al_rpmsg_char_read(k, b, sizeof(b), 0), 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(al_rpmsg_char_write(k, "abc", 3, 100), 3);
	uint64_t rx, tx;
	al_rpmsg_char_counts(k, &rx, &tx);
	assert_int_equal(rx, 1);
	assert_int_equal(tx, 1);
	char big[8];
	assert_int_equal(al_rpmsg_char_write(k, big, AL_RPMSG_CHAR_MSG_MAX + 1u, 0), AL_EMSGSIZE);
	assert_non_null(strstr(ft_last, "at most 65536"));
	assert_int_equal(ft_last_level, AL_DIAG_ERR);
	al_rpmsg_char_close(k);
	get("dev/rpmsg3", b, sizeof(b));
	assert_string_equal(b, "helloabc");
	al_rpmsg_char_close(NULL);
	/* by destination address */
	assert_int_equal(al_rpmsg_char_open_service(&cfg, "rpmsg-raw", 0x400, 0, &k), 0);
	al_rpmsg_char_close(k);
	/* through the channel-level entry: a channel with a node is opened as is */
	assert_int_equal(al_rpmsg_char_open_channel(&cfg, NULL, "rpmsg-raw", AL_RPMSG_CHAR_ADDR_ANY,
						    AL_RPMSG_CHAR_ADDR_ANY, 0, &k),
			 0);
	al_rpmsg_char_close(k);
}

static void test_open_service_errors(void **state)
{
	(void)state;
	struct al_rpmsg_char *k;
	uint64_t t0 = now_ms();
	assert_int_equal(al_rpmsg_char_open_service(&cfg, "motor", AL_RPMSG_CHAR_ADDR_ANY, 60, &k),
			 AL_ETIMEDOUT);
	assert_true(now_ms() - t0 >= 60);
	assert_null(k);
	assert_non_null(strstr(ft_last, "service 'motor' is absent"));
	assert_non_null(strstr(ft_last, "rpmsg-raw")); /* the channels there are */
	/* there, but no node: not bound to rpmsg_chrdev */
	assert_int_equal(
	    al_rpmsg_char_open_service(&cfg, "my.dotted name", AL_RPMSG_CHAR_ADDR_ANY, 0, &k),
	    AL_ETIMEDOUT);
	assert_non_null(strstr(ft_last, "not bound to rpmsg_chrdev"));
	/* wrong address */
	assert_int_equal(al_rpmsg_char_open_service(&cfg, "rpmsg-raw", 0x999, 0, &k), AL_ETIMEDOUT);
	/* a truncated name never matches its 31-byte prefix */
	assert_int_equal(al_rpmsg_char_open_channel(&cfg, NULL, "abcdefghijabcdefghijabcdefghija",
						    AL_RPMSG_CHAR_ADDR_ANY, AL_RPMSG_CHAR_ADDR_ANY,
						    0, &k),
			 AL_ETIMEDOUT);
	/* sysfs knows the node, /dev does not */
	char p[400];
	snprintf(p, sizeof(p), "%s/rpmsg3", devdir);
	unlink(p);
	assert_int_equal(
	    al_rpmsg_char_open_service(&cfg, "rpmsg-raw", AL_RPMSG_CHAR_ADDR_ANY, 0, &k),
	    AL_ENOLINK);
	assert_non_null(strstr(ft_last, "rpmsg3"));
	/* permission denied, as an unprivileged user */
	put("dev/rpmsg3", "x");
	chmod(p, 0600);
	if (geteuid() == 0) {
		assert_int_equal(seteuid(65534), 0);
		int rc =
		    al_rpmsg_char_open_service(&cfg, "rpmsg-raw", AL_RPMSG_CHAR_ADDR_ANY, 0, &k);
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(rc, AL_EPERM);
		assert_non_null(strstr(ft_last, "run as root"));
	}
	/* the channel of another driver: with dst explicit an endpoint is
	 * created through the ctrl, which the fake cannot do */
	assert_int_equal(al_rpmsg_char_open_channel(&cfg, NULL, "rpmsg-client-sample",
						    AL_RPMSG_CHAR_ADDR_ANY, AL_RPMSG_CHAR_ADDR_ANY,
						    0, &k),
			 AL_ENOLINK);
	assert_non_null(strstr(ft_last, "dst 0x401"));
}

static void test_link_names_and_codes(void **state)
{
	(void)state;
	const char *ctrl = "x";
	assert_true(al_rpmsg_char_is_kernel_link("kernel", &ctrl));
	assert_null(ctrl);
	assert_true(al_rpmsg_char_is_kernel_link("kernel:/dev/rpmsg_ctrl1", &ctrl));
	assert_string_equal(ctrl, "/dev/rpmsg_ctrl1");
	assert_true(al_rpmsg_char_is_kernel_link("kernel:", &ctrl));
	assert_null(ctrl);
	assert_false(al_rpmsg_char_is_kernel_link("kernelx", &ctrl));
	assert_false(al_rpmsg_char_is_kernel_link("amplink", NULL));
	assert_false(al_rpmsg_char_is_kernel_link(NULL, NULL));
	/* the channel API: a non-kernel link name is not this entry's */
	struct al_channel *ch;
	assert_int_equal(al_channel_open_kernel("amplink", "x", AL_RPMSG_CHAR_ADDR_ANY,
						AL_RPMSG_CHAR_ADDR_ANY, 0, &ch),
			 AL_EINVAL);
	/* on a machine without rpmsg (this one): a sentence, not a hang */
	if (access("/sys/bus/rpmsg", F_OK) != 0) {
		ft_last[0] = '\0';
		assert_int_equal(al_channel_open_kernel("kernel", "rpmsg-raw",
							AL_RPMSG_CHAR_ADDR_ANY,
							AL_RPMSG_CHAR_ADDR_ANY, 0, &ch),
				 AL_ENOLINK);
		assert_non_null(strstr(ft_last, "no rpmsg bus"));
		assert_int_equal(ft_last_level, AL_DIAG_ERR);
	}
}

/* The channel API over the fake tree: the codes a program written against
 * channel.h sees, the same as on a POSIX link where the meaning is. */
static void test_channel_codes(void **state)
{
	(void)state;
	struct al_channel *ch;
	const uint32_t any = AL_RPMSG_CHAR_ADDR_ANY;
	assert_int_equal(al_channel_open_kernel_at(&cfg, "kernel", "rpmsg-raw", any, any, 0, &ch),
			 0);
	struct rpmsg_endpoint *ept = al_channel_ept(ch);
	assert_int_equal(ept->dest_addr, 0x400);
	assert_null(ept->rdev);
	char b[16];
	uint32_t src = 0;
	assert_int_equal(al_channel_next_len(ch), 5);
	assert_int_equal(al_channel_read(ch, b, 2, &src, 0), AL_EMSGSIZE);
	assert_int_equal(al_channel_read(ch, b, sizeof(b), &src, 0), 5);
	assert_int_equal(src, 0x400); /* rpmsg_char does not tell the sender */
	assert_int_equal(al_channel_write(ch, "abc", 3, 100), 3);
	struct al_channel_stats st;
	al_channel_get_stats(ch, &st);
	assert_int_equal(st.rx, 1);
	assert_int_equal(st.tx, 1);
	assert_true(al_channel_fd(ch) >= 0);
	al_channel_close(ch);
	/* kernel:CTRL with a ctrl that does not exist: the service has its own
	 * node, so the ctrl is not needed */
	assert_int_equal(
	    al_channel_open_kernel_at(&cfg, "kernel:rpmsg_ctrl9", "rpmsg-raw", any, any, 0, &ch),
	    0);
	al_channel_close(ch);
	/* absent: AL_ETIMEDOUT, as al_channel_open() */
	ft_last[0] = '\0';
	assert_int_equal(al_channel_open_kernel_at(&cfg, "kernel", "motor", any, any, 0, &ch),
			 AL_ETIMEDOUT);
	assert_null(ch);
	assert_non_null(strstr(ft_last, "service 'motor' is absent"));
	/* the name does not fit rpmsg's 32 bytes */
	assert_int_equal(al_channel_open_kernel_at(
			     &cfg, "kernel", "abcdefghijabcdefghijabcdefghij12", any, any, 0, &ch),
			 AL_EINVAL);
	/* a channel that needs an endpoint through a ctrl that is none */
	assert_int_equal(
	    al_channel_open_kernel_at(&cfg, "kernel", "rpmsg-client-sample", any, any, 0, &ch),
	    AL_ENOLINK);
	/* kernel without an rpmsg bus */
	char other[400];
	snprintf(other, sizeof(other), "%s/bare", root);
	mkdir(other, 0755);
	struct al_rpmsg_char_cfg bare = {.sysfs_root = other, .dev_root = other};
	assert_int_equal(al_channel_open_kernel_at(&bare, "kernel", "rpmsg-raw", any, any, 0, &ch),
			 AL_ENOLINK);
	assert_non_null(strstr(ft_last, "CONFIG_RPMSG"));
	/* permission denied, as an unprivileged user */
	if (geteuid() == 0) {
		char p[400];
		snprintf(p, sizeof(p), "%s/rpmsg3", devdir);
		chmod(p, 0600);
		assert_int_equal(seteuid(65534), 0);
		int rc = al_channel_open_kernel_at(&cfg, "kernel", "rpmsg-raw", any, any, 0, &ch);
		assert_int_equal(seteuid(0), 0);
		assert_int_equal(rc, AL_EPERM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_no_bus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_ctrl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_epts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_service_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_service_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_names_and_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_channel_codes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

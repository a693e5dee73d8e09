/* `amplink ls`: attach to the remote as host, list the services it
 * announced and the link's counters; with --link kernel, the channels of
 * the kernel's rpmsg bus (/sys/bus/rpmsg/devices). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/rpmsg_char.h"
#include "json_writer.h"
#include "term_safe.h"

static void ls_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink ls [--json] [link options]\n\n"
		"Attach to the remote as host, list the services it announced (name,\n"
		"remote address) and the link's counters.\n"
		"With --link kernel: the channels of the kernel's rpmsg bus\n"
		"(/sys/bus/rpmsg/devices): name, local address (src), remote address\n"
		"(dst) and the /dev node (its own /dev/rpmsgM, the /dev/rpmsg_ctrlN, or\n"
		"the kernel driver bound to it). Exit 5 without an rpmsg bus, 6 when\n"
		"sysfs refuses the listing.\n"
		"  --json   one JSON object on stdout: link, state, ring_entries,\n"
		"           payload_bytes, features, services [{name, addr}], counters;\n"
		"           with --link kernel: link, services [{name, addr (= dst), src,\n"
		"           dev, driver, node, ctrl}] (node, ctrl: -1 if none)\n\n%s",
		link_usage());
}

static void print_svc(const char *name, uint32_t addr, void *arg)
{
	(void)arg;
	char safe[256];
	printf("%-32s 0x%-10x\n", term_str(safe, sizeof(safe), name), (unsigned)addr);
}

static void json_svc(const char *name, uint32_t addr, void *arg)
{
	struct json_writer *j = arg;
	json_object_begin(j, NULL);
	json_string(j, "name", name);
	json_uint(j, "addr", addr);
	json_object_end(j);
}

#define MAX_KCHAN 256

/* --link kernel: the kernel's channels. */
static int ls_kernel(const struct link_opts *o, bool json)
{
	static struct al_rpmsg_chan_info c[MAX_KCHAN];
	int n = al_rpmsg_char_list(kernel_cfg(), c, MAX_KCHAN);
	if (n < 0) {
		fprintf(stderr, "amplink ls: cannot list the kernel's rpmsg channels: %s\n",
			n == AL_ENOLINK ? "no rpmsg bus (a kernel without CONFIG_RPMSG_VIRTIO, or "
					  "no remote running)"
					: al_strerror(n));
		return kernel_exit_code(n);
	}
	if (n > MAX_KCHAN)
		n = MAX_KCHAN;
	if (json) {
		struct json_writer j;
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "link", o->cfg.name);
		json_array_begin(&j, "services");
		for (int i = 0; i < n; i++) {
			json_object_begin(&j, NULL);
			json_string(&j, "name", c[i].name);
			json_uint(&j, "addr", c[i].dst);
			json_uint(&j, "src", c[i].src);
			json_string(&j, "dev", c[i].dev);
			json_string(&j, "driver", c[i].driver);
			json_int(&j, "node", c[i].node);
			json_int(&j, "ctrl", c[i].ctrl);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		return EXIT_OK;
	}
	printf("%-32s %-10s %-10s %s\n", "SERVICE", "SRC", "DST", "DEVICE");
	for (int i = 0; i < n; i++) {
		char safe[256], dev[96];
		if (c[i].node >= 0)
			snprintf(dev, sizeof(dev), "/dev/rpmsg%d", c[i].node);
		else if (c[i].ctrl >= 0)
			snprintf(dev, sizeof(dev), "/dev/rpmsg_ctrl%d", c[i].ctrl);
		else
			snprintf(dev, sizeof(dev), "(%s)",
				 c[i].driver[0] ? c[i].driver : "no driver");
		char src[16] = "any", dst[16] = "any";
		if (c[i].src != AL_RPMSG_CHAR_ADDR_ANY)
			snprintf(src, sizeof(src), "0x%x", (unsigned)c[i].src);
		if (c[i].dst != AL_RPMSG_CHAR_ADDR_ANY)
			snprintf(dst, sizeof(dst), "0x%x", (unsigned)c[i].dst);
		/* names come from the remote: escaped */
		printf("%-32s %-10s %-10s %s\n", term_str(safe, sizeof(safe), c[i].name), src, dst,
		       dev);
	}
	printf("\nlink '%s': the kernel's rpmsg bus, %d channel%s\n", o->cfg.name, n,
	       n == 1 ? "" : "s");
	return EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	bool json = false;
	static const struct option lo[] = {{"json", no_argument, 0, OPT_JSON},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			ls_usage(stdout);
			return EXIT_OK;
		}
		if (c == OPT_JSON)
			json = true;
		else if (!link_opt(&o, c, optarg, "ls"))
			return EXIT_USAGE;
	}
	if (link_is_kernel(&o))
		return ls_kernel(&o, json);
	struct al_posix_link *link;
	int rc = host_open(&o, &link);
	if (rc)
		return exit_code_for(rc);
	struct rpmsg_device *rdev = al_posix_rdev(link);
	/* the remote announces right after link-up: wait until it goes quiet */
	int seen = -1, n = 0;
	for (int i = 0; i < 100 && !g_stop; i++) {
		struct timespec d = {0, 20 * 1000000L};
		nanosleep(&d, NULL);
		struct rpmsg_stats st;
		al_get_stats(rdev, &st);
		n = (int)st.rx_msgs;
		if (n == seen && n > 0)
			break;
		seen = n;
	}
	struct rpmsg_stats st;
	al_get_stats(rdev, &st);
	struct rpmsg_virtio_device *rv = al_posix_rvdev(link);
	const char *state = al_virtio_link_state(rv) == AL_LINK_UP ? "up" : "down";
	int payload = rpmsg_get_tx_buffer_size(&rdev->ns_ept);
	if (json) {
		struct json_writer j;
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "link", o.cfg.name);
		json_string(&j, "state", state);
		json_uint(&j, "ring_entries", rv->svq.num);
		json_int(&j, "payload_bytes", payload);
		json_uint(&j, "features", rv->features);
		json_array_begin(&j, "services");
		al_services_foreach(rdev, json_svc, &j);
		json_array_end(&j);
		json_object_begin(&j, "counters");
		json_uint(&j, "tx", st.tx_msgs);
		json_uint(&j, "rx", st.rx_msgs);
		json_uint(&j, "rx_unknown_dst", st.rx_unknown_dst);
		json_uint(&j, "ns_malformed", st.ns_malformed);
		json_uint(&j, "kicks_tx", st.kicks_tx);
		json_uint(&j, "kicks_rx", st.kicks_rx);
		json_object_end(&j);
		json_object_end(&j);
	} else {
		printf("%-32s %s\n", "SERVICE", "REMOTE ADDR");
		al_services_foreach(rdev, print_svc, NULL);
		printf("\n%s: %s, %u-entry rings, %d-byte payloads, features 0x%x\n",
		       link_where(&o), state, rv->svq.num, payload, rv->features);
		printf("counters: tx %u, rx %u, rx unknown dst %u, ns malformed %u, kicks tx %u "
		       "rx %u\n",
		       st.tx_msgs, st.rx_msgs, st.rx_unknown_dst, st.ns_malformed, st.kicks_tx,
		       st.kicks_rx);
	}
	host_close(link);
	return EXIT_OK;
}

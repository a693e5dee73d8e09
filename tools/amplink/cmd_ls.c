/* `amplink ls`: attach to the remote as host, list the services it
 * announced and the link's counters. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "term_safe.h"

static void print_svc(const char *name, uint32_t addr, void *arg)
{
	(void)arg;
	char safe[256];
	printf("%-32s 0x%-10x\n", term_str(safe, sizeof(safe), name), (unsigned)addr);
}

int cmd_ls(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	static const struct option lo[] = {
	    {"help", no_argument, 0, 'h'}, LINK_LONGOPTS, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: amplink ls [link options]\n\nAttach to the remote as host, "
			       "list the services it announced (name,\nremote address) and the "
			       "link's counters.\n\n%s",
			       link_usage());
			return EXIT_OK;
		}
		if (!link_opt(&o, c, optarg, "ls"))
			return EXIT_USAGE;
	}
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
	printf("%-32s %s\n", "SERVICE", "REMOTE ADDR");
	al_services_foreach(rdev, print_svc, NULL);
	struct rpmsg_stats st;
	al_get_stats(rdev, &st);
	struct rpmsg_virtio_device *rv = al_posix_rvdev(link);
	printf("\nlink '%s': %s, %u-entry rings, %d-byte payloads, features 0x%x\n", o.cfg.name,
	       al_virtio_link_state(rv) == AL_LINK_UP ? "up" : "down", rv->svq.num,
	       rpmsg_get_tx_buffer_size(&rdev->ns_ept), rv->features);
	printf("counters: tx %u, rx %u, rx unknown dst %u, ns malformed %u, kicks tx %u rx %u\n",
	       st.tx_msgs, st.rx_msgs, st.rx_unknown_dst, st.ns_malformed, st.kicks_tx,
	       st.kicks_rx);
	host_close(link);
	return EXIT_OK;
}

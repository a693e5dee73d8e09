/* `amplink ls`: attach to the remote as host, list the services it
 * announced and the link's counters. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "json_writer.h"
#include "term_safe.h"

static void ls_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink ls [--json] [link options]\n\n"
		"Attach to the remote as host, list the services it announced (name,\n"
		"remote address) and the link's counters.\n"
		"  --json   one JSON object on stdout: link, state, ring_entries,\n"
		"           payload_bytes, features, services [{name, addr}], counters\n\n%s",
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
		printf("\nlink '%s': %s, %u-entry rings, %d-byte payloads, features 0x%x\n",
		       o.cfg.name, state, rv->svq.num, payload, rv->features);
		printf("counters: tx %u, rx %u, rx unknown dst %u, ns malformed %u, kicks tx %u "
		       "rx %u\n",
		       st.tx_msgs, st.rx_msgs, st.rx_unknown_dst, st.ns_malformed, st.kicks_tx,
		       st.kicks_rx);
	}
	host_close(link);
	return EXIT_OK;
}

/* The host-side subcommands of `amplink`: echo, ls, send, recv. Each opens
 * the link as its virtio driver, works through the channel API, and closes
 * the link cleanly. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "term_safe.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int open_host(struct link_opts *o, struct al_posix_link **link)
{
	o->cfg.ns_bind_cb = al_services_ns_bind;
	int rc = al_posix_open(&o->cfg, link);
	return rc;
}

static void close_host(struct al_posix_link *link)
{
	if (!link)
		return;
	struct rpmsg_device *rdev = al_posix_rdev(link);
	al_posix_close(link);
	al_services_clear(rdev);
}

/* ---- echo ------------------------------------------------------------------- */

static void echo_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink echo [-n COUNT] [--size N | --size MIN-MAX] [--service NAME]\n"
		"                    [--quiet] [link options]\n\n"
		"The host side of the echo demo (seed 001): open the service (default\n"
		"'" DEFAULT_SERVICE "'), send COUNT messages (default 10), wait for\n"
		"each echo and check it byte for byte. Without --size the messages are\n"
		"\"hello there N!\"; with --size they carry N bytes (or cycle through\n"
		"MIN..MAX) of a pattern that changes with every message. Prints one line\n"
		"per message and direction (unless --quiet or COUNT > 100) and a summary.\n\n%s",
		link_usage());
}

static int fill(uint8_t *buf, uint32_t i, uint32_t size)
{
	for (uint32_t j = 0; j < size; j++)
		buf[j] = (uint8_t)(i * 31u + j * 7u + (j >> 8));
	if (size >= 4)
		memcpy(buf, &i, 4); /* the sequence number, so reordering shows */
	return (int)size;
}

int cmd_echo(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t count = 10, smin = 0, smax = 0;
	const char *service = DEFAULT_SERVICE;
	bool quiet = false;
	static const struct option lo[] = {{"count", required_argument, 0, 'n'},
					   {"size", required_argument, 0, 'S'},
					   {"service", required_argument, 0, 's'},
					   {"quiet", no_argument, 0, 'q'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "n:s:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u32(optarg, &count)) {
				fprintf(stderr, "amplink echo: bad count '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'S': {
			char *dash = strchr(optarg, '-');
			if (dash)
				*dash = '\0';
			bool ok = parse_u32(optarg, &smin) && (!dash || parse_u32(dash + 1, &smax));
			if (!dash)
				smax = smin;
			if (!ok || smin == 0 || smax < smin) {
				fprintf(stderr, "amplink echo: bad size (N or MIN-MAX, N >= 1)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 's': service = optarg; break;
		case 'q': quiet = true; break;
		case 'h': echo_usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "echo")) {
				echo_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (count > 100)
		quiet = true;
	struct al_posix_link *link;
	int rc = open_host(&o, &link);
	if (rc)
		return exit_code_for(rc);
	struct al_channel *ch;
	rc = al_channel_open(al_posix_rdev(link), service, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000,
			     &ch);
	if (rc) {
		fprintf(stderr, "amplink echo: service '%s' not available: %s\n", service,
			al_strerror(rc));
		close_host(link);
		return exit_code_for(rc);
	}
	int maxp = rpmsg_get_tx_buffer_size(al_channel_ept(ch));
	if (smax > (uint32_t)maxp) {
		fprintf(stderr, "amplink echo: --size %u exceeds the link's payload limit %d\n",
			smax, maxp);
		al_channel_close(ch);
		close_host(link);
		return EXIT_USAGE;
	}
	uint8_t *out = malloc((size_t)maxp), *in = malloc((size_t)maxp);
	int code = EXIT_OK;
	uint64_t bytes = 0;
	double t0 = now_s();
	for (uint32_t i = 0; i < count && !g_stop; i++) {
		int len = smin ? fill(out, i, smin + i % (smax - smin + 1))
			       : snprintf((char *)out, (size_t)maxp, "hello there %u!", i);
		if (!quiet)
			printf("Sending message #%u: %s, len: %d\n", i,
			       smin ? "<pattern>" : (char *)out, len);
		long w = al_channel_write(ch, out, (size_t)len, 5000);
		if (w < 0) {
			fprintf(stderr, "amplink echo: send #%u failed: %s\n", i,
				al_strerror((int)w));
			code = exit_code_for((int)w);
			break;
		}
		long r = al_channel_read(ch, in, (size_t)maxp, NULL, 5000);
		if (r < 0) {
			fprintf(stderr, "amplink echo: no echo for #%u: %s\n", i,
				al_strerror((int)r));
			code = exit_code_for((int)r);
			break;
		}
		if (r != len || memcmp(in, out, (size_t)len) != 0) {
			fprintf(stderr, "amplink echo: echo #%u differs (sent %d bytes, got %ld)\n",
				i, len, r);
			code = EXIT_MISMATCH;
			break;
		}
		bytes += (uint64_t)len;
		if (!quiet) {
			in[r < maxp ? r : maxp - 1] = 0;
			printf("Receiving message #%u: %s, len: %ld\n", i,
			       smin ? "<pattern>" : (char *)in, r);
			fflush(stdout);
		}
	}
	double dt = now_s() - t0;
	struct al_channel_stats st;
	al_channel_get_stats(ch, &st);
	if (code == EXIT_OK)
		fprintf(stderr,
			"amplink echo: %llu messages echoed intact (%llu payload bytes) in %.3f s, "
			"%.0f round trips/s\n",
			(unsigned long long)st.rx, (unsigned long long)bytes, dt,
			dt > 0 ? (double)st.rx / dt : 0.0);
	free(out);
	free(in);
	al_channel_close(ch);
	close_host(link);
	return code;
}

/* ---- ls --------------------------------------------------------------------- */

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
	int rc = open_host(&o, &link);
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
	close_host(link);
	return EXIT_OK;
}

/* ---- send / recv --------------------------------------------------------------- */

static int open_channel(struct link_opts *o, const char *service, struct al_posix_link **link,
			struct al_channel **ch)
{
	int rc = open_host(o, link);
	if (rc)
		return rc;
	rc = al_channel_open(al_posix_rdev(*link), service, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000,
			     ch);
	if (rc) {
		fprintf(stderr, "amplink: service '%s' not available: %s\n", service,
			al_strerror(rc));
		close_host(*link);
	}
	return rc;
}

int cmd_send(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	bool reply = false;
	static const struct option lo[] = {{"reply", no_argument, 0, 'r'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "rh", lo, NULL)) != -1) {
		if (c == 'r') {
			reply = true;
		} else if (c == 'h') {
			printf("usage: amplink send SERVICE DATA [--reply] [link options]\n\n"
			       "Send DATA as one message to SERVICE; --reply waits for one answer\n"
			       "and prints it (control characters and bytes that are not UTF-8\n"
			       "escaped as \\xNN, a backslash as \\\\).\n\n%s",
			       link_usage());
			return EXIT_OK;
		} else if (!link_opt(&o, c, optarg, "send")) {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: amplink send SERVICE DATA [--reply] [link options]\n");
		return EXIT_USAGE;
	}
	struct al_posix_link *link;
	struct al_channel *ch;
	int rc = open_channel(&o, argv[optind], &link, &ch);
	if (rc)
		return exit_code_for(rc);
	long w = al_channel_write(ch, argv[optind + 1], strlen(argv[optind + 1]), 5000);
	if (w < 0)
		fprintf(stderr, "amplink send: %s\n", al_strerror((int)w));
	if (w >= 0 && reply) {
		uint8_t buf[65536];
		long r = al_channel_read(ch, buf, sizeof(buf), NULL, 5000);
		if (r < 0)
			fprintf(stderr, "amplink send: no reply: %s\n", al_strerror((int)r));
		else
			term_line(stdout, buf, (size_t)r);
		w = r;
	}
	al_channel_close(ch);
	close_host(link);
	return w < 0 ? exit_code_for((int)w) : EXIT_OK;
}

int cmd_recv(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t count = 0, wait_ms = 5000;
	static const struct option lo[] = {{"count", required_argument, 0, 'n'},
					   {"wait", required_argument, 0, 'w'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "n:w:h", lo, NULL)) != -1) {
		if (c == 'n' || c == 'w') {
			if (!parse_u32(optarg, c == 'n' ? &count : &wait_ms)) {
				fprintf(stderr, "amplink recv: '%s' is not a number\n", optarg);
				return EXIT_USAGE;
			}
		} else if (c == 'h') {
			printf(
			    "usage: amplink recv SERVICE [-n COUNT] [--wait MS] [link options]\n\n"
			    "Send SERVICE an empty message (services bind to their first sender),\n"
			    "then print its messages, one per line (control characters and bytes\n"
			    "that are not UTF-8 escaped as \\xNN, a backslash as \\\\), until\n"
			    "COUNT arrived (default: until interrupted) or none came for MS ms\n"
			    "(default 5000).\n\n%s",
			    link_usage());
			return EXIT_OK;
		} else if (!link_opt(&o, c, optarg, "recv")) {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr,
			"usage: amplink recv SERVICE [-n COUNT] [--wait MS] [link options]\n");
		return EXIT_USAGE;
	}
	struct al_posix_link *link;
	struct al_channel *ch;
	int rc = open_channel(&o, argv[optind], &link, &ch);
	if (rc)
		return exit_code_for(rc);
	/* A service that pushes data binds to its first sender (rpmsg's rule):
	 * say hello with an empty message so it knows where to send. */
	(void)al_channel_write(ch, "", 0, 1000);
	uint8_t buf[65536];
	uint32_t got = 0;
	long r = 0;
	while (!g_stop && (count == 0 || got < count)) {
		r = al_channel_read(ch, buf, sizeof(buf), NULL, wait_ms);
		if (r < 0)
			break;
		term_line(stdout, buf, (size_t)r);
		got++;
	}
	if (r < 0 && !(r == AL_ETIMEDOUT && count == 0))
		fprintf(stderr, "amplink recv: %s after %u messages\n", al_strerror((int)r), got);
	al_channel_close(ch);
	close_host(link);
	return count && got < count ? exit_code_for((int)r) : EXIT_OK;
}

/* `amplink echo`: the host side of the echo demo. Opens the echo service,
 * sends COUNT messages, waits for each echo and checks it byte for byte. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "json_writer.h"

static void echo_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink echo [-n COUNT] [--size N | --size MIN-MAX] [--service NAME]\n"
		"                    [--quiet] [--json] [link options]\n\n"
		"The host side of the echo demo, the same exchange as the OpenAMP and\n"
		"RT-Thread rpmsg echo samples: open the service (default\n"
		"'" DEFAULT_SERVICE "'), send COUNT messages (default 10), wait for\n"
		"each echo and check it byte for byte. Without --size the messages are\n"
		"\"hello there N!\"; with --size they carry N bytes (or cycle through\n"
		"MIN..MAX) of a pattern that changes with every message. Prints one line\n"
		"per message and direction (unless --quiet or COUNT > 100) and a summary\n"
		"on stderr.\n"
		"  --json   no per-message lines; the summary as one JSON object on stdout\n"
		"           (also when the echo fails): service, sent, echoed, bytes,\n"
		"           seconds, round_trips_per_s, ok, error\n\n%s",
		link_usage());
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fill(uint8_t *buf, uint32_t i, uint32_t size)
{
	for (uint32_t j = 0; j < size; j++)
		buf[j] = (uint8_t)(i * 31u + j * 7u + (j >> 8));
	if (size >= 4)
		memcpy(buf, &i, 4); /* the sequence number, so reordering shows */
	return (int)size;
}

static void summary_json(const char *service, uint32_t sent, uint64_t echoed, uint64_t bytes,
			 double dt, int code, const char *error)
{
	struct json_writer j;
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "service", service);
	json_uint(&j, "sent", sent);
	json_uint(&j, "echoed", echoed);
	json_uint(&j, "bytes", bytes);
	json_double(&j, "seconds", dt, 6);
	json_double(&j, "round_trips_per_s", dt > 0 ? (double)echoed / dt : 0.0, 0);
	json_bool(&j, "ok", code == EXIT_OK);
	json_string(&j, "error", code == EXIT_OK ? NULL : error);
	json_object_end(&j);
	fflush(stdout);
}

int cmd_echo(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t count = 10, smin = 0, smax = 0;
	const char *service = DEFAULT_SERVICE;
	bool quiet = false, json = false;
	static const struct option lo[] = {{"count", required_argument, 0, 'n'},
					   {"size", required_argument, 0, 'S'},
					   {"service", required_argument, 0, 's'},
					   {"quiet", no_argument, 0, 'q'},
					   {"json", no_argument, 0, OPT_JSON},
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
		case OPT_JSON: json = true; break;
		case 'h': echo_usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "echo")) {
				echo_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (count > 100 || json)
		quiet = true;
	/* what can be checked before connecting is: an OpenAMP remote serves
	 * one host per run, and a refused size must not use it up */
	uint32_t known = link_payload_max_known(&o);
	if (link_opts_check(&o))
		return EXIT_USAGE;
	if (known && smax > known) {
		fprintf(stderr, "amplink echo: --size %u exceeds the link's payload limit %u\n",
			smax, known);
		return EXIT_USAGE;
	}
	struct al_posix_link *link;
	struct al_channel *ch;
	int rc = host_open_channel(&o, service, "echo", &link, &ch);
	if (rc) {
		if (json)
			summary_json(service, 0, 0, 0, 0.0, open_exit_code(&o, rc),
				     al_strerror(rc));
		return open_exit_code(&o, rc);
	}
	int maxp = channel_payload_max(ch, false);
	if (smax > (uint32_t)maxp) {
		fprintf(stderr, "amplink echo: --size %u exceeds the link's payload limit %d\n",
			smax, maxp);
		al_channel_close(ch);
		host_close(link);
		return EXIT_USAGE;
	}
	uint8_t *out = malloc((size_t)maxp), *in = malloc((size_t)maxp);
	int code = EXIT_OK;
	const char *error = NULL;
	uint64_t bytes = 0;
	uint32_t sent = 0, intact = 0;
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
			error = al_strerror((int)w);
			break;
		}
		sent++;
		long r = al_channel_read(ch, in, (size_t)maxp, NULL, 5000);
		if (r < 0) {
			fprintf(stderr, "amplink echo: no echo for #%u: %s\n", i,
				al_strerror((int)r));
			code = exit_code_for((int)r);
			error = al_strerror((int)r);
			break;
		}
		if (r != len || memcmp(in, out, (size_t)len) != 0) {
			fprintf(stderr, "amplink echo: echo #%u differs (sent %d bytes, got %ld)\n",
				i, len, r);
			code = EXIT_MISMATCH;
			error = "an echo differs from the message sent";
			break;
		}
		bytes += (uint64_t)len;
		intact++;
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
	if (json)
		summary_json(service, sent, intact, bytes, dt, code, error);
	free(out);
	free(in);
	al_channel_close(ch);
	host_close(link);
	return code;
}

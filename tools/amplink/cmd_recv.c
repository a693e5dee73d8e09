/* `amplink recv`: print the messages a service sends, one per line or one
 * JSON object per line. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "json_writer.h"
#include "term_safe.h"

#define RECV_SYNOPSIS "usage: amplink recv SERVICE [-n COUNT] [--wait MS] [--json] [link options]\n"

static void recv_usage(FILE *f)
{
	fprintf(f,
		RECV_SYNOPSIS
		"\n"
		"Send SERVICE an empty message (services bind to their first sender),\n"
		"then print its messages, one per line (control characters and bytes\n"
		"that are not UTF-8 escaped as \\xNN, a backslash as \\\\), until\n"
		"COUNT arrived (default: until interrupted) or none came for MS ms\n"
		"(default 5000).\n"
		"  --json   one JSON object per message and line instead: seq (from 0),\n"
		"           len, data (the message as a JSON string; bytes that are not\n"
		"           UTF-8 as \\u00XX)\n\n%s",
		link_usage());
}

int cmd_recv(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t count = 0, wait_ms = 5000;
	bool json = false;
	static const struct option lo[] = {{"count", required_argument, 0, 'n'},
					   {"wait", required_argument, 0, 'w'},
					   {"json", no_argument, 0, OPT_JSON},
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
		} else if (c == OPT_JSON) {
			json = true;
		} else if (c == 'h') {
			recv_usage(stdout);
			return EXIT_OK;
		} else if (!link_opt(&o, c, optarg, "recv")) {
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, RECV_SYNOPSIS);
		return EXIT_USAGE;
	}
	struct al_posix_link *link;
	struct al_channel *ch;
	int rc = host_open_channel(&o, argv[optind], "recv", &link, &ch);
	if (rc)
		return open_exit_code(&o, rc);
	/* A service that pushes data binds to its first sender (rpmsg's rule):
	 * say hello with an empty message so it knows where to send. */
	(void)al_channel_write(ch, "", 0, 1000);
	uint8_t buf[65536];
	struct json_writer j;
	json_init(&j, stdout);
	uint32_t got = 0;
	long r = 0;
	while (!g_stop && (count == 0 || got < count)) {
		r = al_channel_read(ch, buf, sizeof(buf), NULL, wait_ms);
		if (r < 0)
			break;
		if (json) {
			json_object_begin(&j, NULL);
			json_uint(&j, "seq", got);
			json_uint(&j, "len", (uint64_t)r);
			json_string_n(&j, "data", buf, (size_t)r);
			json_object_end(&j);
			fflush(stdout);
		} else {
			term_line(stdout, buf, (size_t)r);
		}
		got++;
	}
	if (r < 0 && !(r == AL_ETIMEDOUT && count == 0))
		fprintf(stderr, "amplink recv: %s after %u messages\n", al_strerror((int)r), got);
	al_channel_close(ch);
	host_close(link);
	return count && got < count ? exit_code_for((int)r) : EXIT_OK;
}

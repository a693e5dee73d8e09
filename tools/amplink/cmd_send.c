/* `amplink send`: send one message to a service, optionally wait for one
 * answer and print it. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "term_safe.h"

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
	int rc = host_open_channel(&o, argv[optind], "send", &link, &ch);
	if (rc)
		return open_exit_code(&o, rc);
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
	host_close(link);
	return w < 0 ? exit_code_for((int)w) : EXIT_OK;
}

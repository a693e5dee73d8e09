/* Back-pressure through the rproc relay. A host on the relay's
 * POSIX link sends COUNT echo requests back to back while its reader
 * starts late, so the echoes pile up on the host side: the relay has to
 * queue and retry (amplink rproc status: "waited"), and every echo must
 * still arrive intact and in order. The writer paces itself a little: the
 * example firmware (examples/rproc_fw.c) drops an echo when its own link
 * has no free buffer, which is not what is tested here.
 * usage: it_relay_flood LINK COUNT   (run by it_relay.sh) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/posix.h"

#define SIZE 496u

static struct al_channel *ch;
static uint32_t count;

static void fill(uint8_t *b, uint32_t i)
{
	for (uint32_t j = 0; j < SIZE; j++)
		b[j] = (uint8_t)(i * 13u + j);
	memcpy(b, &i, 4);
}

static void *writer(void *arg)
{
	(void)arg;
	uint8_t b[SIZE];
	for (uint32_t i = 0; i < count; i++) {
		fill(b, i);
		long w = al_channel_write(ch, b, SIZE, 10000);
		if (w != SIZE) {
			fprintf(stderr, "FAIL: write #%u: %s\n", i, al_strerror((int)w));
			exit(1);
		}
		if (i % 16 == 15) { /* rproc_fw_demo drops an echo that finds no buffer */
			struct timespec d = {0, 2 * 1000000L};
			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: it_relay_flood LINK COUNT\n");
		return 2;
	}
	count = (uint32_t)strtoul(argv[2], NULL, 0);
	struct al_posix_cfg cfg = {.name = argv[1],
				   .role = VIRTIO_DEV_DRIVER,
				   .doorbell_any = true,
				   .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *link;
	int rc = al_posix_open(&cfg, &link);
	if (rc) {
		fprintf(stderr, "FAIL: no relay on link '%s': %s\n", argv[1], al_strerror(rc));
		return 1;
	}
	rc = al_channel_open(al_posix_rdev(link), "rpmsg-openamp-demo-channel", RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, 5000, &ch);
	if (rc) {
		fprintf(stderr, "FAIL: no echo service: %s\n", al_strerror(rc));
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	struct timespec d = {0, 300 * 1000000L}; /* the reader starts late */
	nanosleep(&d, NULL);
	uint8_t want[SIZE], got[SIZE];
	for (uint32_t i = 0; i < count; i++) {
		long n = al_channel_read(ch, got, sizeof(got), NULL, 10000);
		fill(want, i);
		if (n != SIZE || memcmp(got, want, SIZE) != 0) {
			uint32_t seq = 0;
			if (n >= 4)
				memcpy(&seq, got, 4);
			fprintf(stderr, "FAIL: echo #%u: %ld bytes, seq %u\n", i, n, seq);
			return 1;
		}
	}
	pthread_join(t, NULL);
	printf("flood: %u echoes of %u bytes intact and in order\n", count, SIZE);
	struct rpmsg_device *rdev = al_posix_rdev(link);
	al_channel_close(ch);
	al_posix_close(link);
	al_services_clear(rdev);
	return 0;
}

/* Seed a User-Mode Linux guest's random number generator, as a board's
 * boot does from a saved seed (systemd-random-seed): UML has no source of
 * entropy it trusts, so getrandom() (the dashboard's request token) would
 * block until the kernel's pool is initialised, which in the guest may be
 * never. Credits the 64 bytes of SEEDFILE (written from the host's
 * /dev/urandom before the boot) with RNDADDENTROPY. Runs inside the guest
 * as root.
 *   seed_rng SEEDFILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	enum { SEED_BYTES = 64 };
	struct rand_pool_info *seed = malloc(sizeof(*seed) + SEED_BYTES);
	if (!seed)
		return 1;
	if (argc != 2) {
		fprintf(stderr, "usage: seed_rng SEEDFILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, seed->buf, SEED_BYTES) : -1;
	if (fd >= 0)
		close(fd);
	if (n != SEED_BYTES) {
		fprintf(stderr, "seed_rng: %s: need %d bytes\n", argv[1], SEED_BYTES);
		return 1;
	}
	seed->entropy_count = 8 * SEED_BYTES;
	seed->buf_size = SEED_BYTES;
	int r = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (r < 0 || ioctl(r, RNDADDENTROPY, seed) != 0) {
		perror("seed_rng: RNDADDENTROPY");
		return 1;
	}
	close(r);
	free(seed);
	return 0;
}

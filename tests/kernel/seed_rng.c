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
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct {
		struct rand_pool_info info;
		unsigned char buf[64];
	} seed;
	if (argc != 2) {
		fprintf(stderr, "usage: seed_rng SEEDFILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, seed.buf, sizeof(seed.buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(seed.buf)) {
		fprintf(stderr, "seed_rng: %s: need %zu bytes\n", argv[1], sizeof(seed.buf));
		return 1;
	}
	seed.info.entropy_count = 8 * (int)sizeof(seed.buf);
	seed.info.buf_size = (int)sizeof(seed.buf);
	int r = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (r < 0 || ioctl(r, RNDADDENTROPY, &seed) != 0) {
		perror("seed_rng: RNDADDENTROPY");
		return 1;
	}
	close(r);
	return 0;
}

/* rpmsg_char_echo: talk to a remote core's echo service from Linux user
 * space, with nothing but the kernel's rpmsg_char interface.
 *
 * The remote announced a service (here "rpmsg_chrdev" at address 0x3000)
 * through the name service; the kernel created a channel for it, which
 * shows in /sys/bus/rpmsg/devices. This program:
 *   1. asks /dev/rpmsg_ctrl0 for an endpoint to the service's address
 *      (RPMSG_CREATE_EPT_IOCTL); the kernel creates /dev/rpmsgN for it;
 *   2. writes ten messages to /dev/rpmsgN and reads each echo back;
 *   3. destroys the endpoint (RPMSG_DESTROY_EPT_IOCTL), unless reading or
 *      writing failed (the remote may be gone): then it only closes it.
 *
 * Build: cc -o rpmsg_char_echo rpmsg_char_echo.c
 * Run:   rpmsg_char_echo [-a ADDR] [-c COUNT] [-d /dev/rpmsg_ctrlN]
 *        (ADDR: the service's address, default 0x3000)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define EPT_NAME "rpmsg-char-echo"

/* Find the /dev/rpmsgN the kernel made for our endpoint: the one whose
 * sysfs name and destination match (/sys/class/rpmsg/rpmsgN/). */
static int find_rpmsg_dev(unsigned int dst, char *path, size_t len)
{
	for (int tries = 0; tries < 100; tries++) { /* devtmpfs may lag a little */
		DIR *dir = opendir("/sys/class/rpmsg");
		struct dirent *e;
		while (dir && (e = readdir(dir)) != NULL) {
			char file[300], name[64] = "", dest[32] = "";
			FILE *f;
			if (strncmp(e->d_name, "rpmsg", 5) != 0 ||
			    strncmp(e->d_name, "rpmsg_ctrl", 10) == 0)
				continue;
			snprintf(file, sizeof(file), "/sys/class/rpmsg/%s/name", e->d_name);
			if ((f = fopen(file, "r")) != NULL) {
				if (!fgets(name, sizeof(name), f))
					name[0] = 0;
				fclose(f);
			}
			snprintf(file, sizeof(file), "/sys/class/rpmsg/%s/dst", e->d_name);
			if ((f = fopen(file, "r")) != NULL) {
				if (!fgets(dest, sizeof(dest), f))
					dest[0] = 0;
				fclose(f);
			}
			name[strcspn(name, "\n")] = 0;
			if (strcmp(name, EPT_NAME) == 0 && strtoul(dest, NULL, 0) == dst) {
				snprintf(path, len, "/dev/%s", e->d_name);
				closedir(dir);
				if (access(path, F_OK) == 0)
					return 0;
				dir = NULL;
				break;
			}
		}
		if (dir)
			closedir(dir);
		usleep(20000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned int addr = 0x3000;
	int count = 10, opt;
	const char *ctrl_path = "/dev/rpmsg_ctrl0";

	while ((opt = getopt(argc, argv, "a:c:d:")) != -1) {
		if (opt == 'a')
			addr = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'c')
			count = atoi(optarg);
		else if (opt == 'd')
			ctrl_path = optarg;
		else {
			fprintf(stderr, "usage: %s [-a ADDR] [-c COUNT] [-d /dev/rpmsg_ctrlN]\n",
				argv[0]);
			return 2;
		}
	}

	/* 1. an endpoint to the remote's address */
	int ctrl = open(ctrl_path, O_RDWR);
	if (ctrl < 0) {
		fprintf(stderr, "%s: %s\n", ctrl_path, strerror(errno));
		return 1;
	}
	struct rpmsg_endpoint_info info = {.src = 0xFFFFFFFF /* any */, .dst = addr};
	snprintf(info.name, sizeof(info.name), "%s", EPT_NAME);
	if (ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) < 0) {
		fprintf(stderr, "RPMSG_CREATE_EPT_IOCTL: %s\n", strerror(errno));
		close(ctrl);
		return 1;
	}
	close(ctrl);
	char dev[300];
	if (find_rpmsg_dev(addr, dev, sizeof(dev)) != 0) {
		fprintf(stderr, "no /dev/rpmsgN appeared for the endpoint\n");
		return 1;
	}
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", dev, strerror(errno));
		return 1;
	}
	printf("Opened %s: endpoint to 0x%x\n", dev, addr);

	/* 2. send, and read the echo */
	int rc = 0, gone = 0;
	for (int i = 0; i < count; i++) {
		char msg[64], reply[512];
		int len = snprintf(msg, sizeof(msg), "hello there %d!", i);
		printf("Sending message #%d: %s, len: %d\n", i, msg, len);
		if (write(fd, msg, (size_t)len) != len) {
			gone = 1;
			fprintf(stderr, "write: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1) {
			gone = 1;
			fprintf(stderr, "no reply within 5 s\n");
			rc = 1;
			break;
		}
		ssize_t n = read(fd, reply, sizeof(reply));
		if (n < 0) {
			gone = 1;
			fprintf(stderr, "read: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		printf("Receiving message #%d: %.*s, len: %zd\n", i, (int)n, reply, n);
		if (n != len || memcmp(reply, msg, (size_t)len) != 0) {
			fprintf(stderr, "the reply differs from the message\n");
			rc = 1;
		}
	}

	/* 3. remove the endpoint (its /dev/rpmsgN goes). After an I/O error
	 * only close it: the remote may be gone, and then the kernel removed
	 * the endpoint already (Linux 6.1 crashes on the destroy ioctl of an
	 * endpoint whose rpmsg device is gone). */
	if (!gone && ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
		fprintf(stderr, "RPMSG_DESTROY_EPT_IOCTL: %s\n", strerror(errno));
	close(fd);
	return rc;
}

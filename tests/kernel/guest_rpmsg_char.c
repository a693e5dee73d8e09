/* Runs inside the User-Mode Linux guest of run-remote.sh, against
 * `amplink remote --vhost-user`: the kernel's rpmsg stack (virtio_rpmsg_bus,
 * rpmsg_char, rpmsg_ctrl, rpmsg_tty) talking to amplink's device.
 *
 * Usage: guest_rpmsg_char STEP...  (each STEP is WORD=ARG,ARG...)
 *   ls=NAME,NAME...        every NAME is a channel in /sys/bus/rpmsg/devices
 *   echo=NAME,COUNT        an endpoint made through /dev/rpmsg_ctrl0 to the
 *                          address of channel NAME; COUNT echoes of 1..496
 *                          bytes, every byte checked
 *   raw=COUNT              the same through the /dev/rpmsgN the kernel made
 *                          for the "rpmsg-raw" channel
 *   tty=COUNT              the same through /dev/ttyRPMSG0 (raw mode)
 *   motor=SAMPLES          SET_DUTY 42 through motor-ctrl and its ACK, then
 *                          SAMPLES consecutive samples of sensor-temp
 *                          (amplink remote --demo motor)
 *   die=PROGRESS_FILE      echo until it fails (the test kills the remote
 *                          once PROGRESS_FILE says "running"); passes when
 *                          read or write fail or time out, no hang
 *   bench=NAME,SINK,REPEATS  round trips of 16 and 496 bytes to echo
 *                          channel NAME and one-way throughput to the sink
 *                          channel SINK (amplink remote --sink) through
 *                          /dev/rpmsgN, next to a round trip through a pipe
 *                          pair between two guest processes; prints
 *                          medians of REPEATS runs
 * Prints "guest: PASS STEP" or "guest: FAIL STEP: why" for each step and
 * exits 0 only when every step passed. Plain C: it runs where no
 * sanitizer runtime works.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAYLOAD 496 /* 512-byte kernel buffers minus the 16-byte header */
#define IO_TIMEOUT  3000

static char why[256];

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The remote address of channel `name`: /sys/bus/rpmsg/devices/<dev>/dst
 * of the device whose name attribute is `name`. -1 when none. */
static long channel_dst(const char *name)
{
	DIR *d = opendir("/sys/bus/rpmsg/devices");
	struct dirent *e;
	long dst = -1;
	char path[512], buf[64];
	if (!d)
		return -1;
	while (dst < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/rpmsg/devices/%s/name", e->d_name);
		if (read_file(path, buf, sizeof(buf)) || strcmp(buf, name) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/rpmsg/devices/%s/dst", e->d_name);
		if (read_file(path, buf, sizeof(buf)) == 0)
			dst = strtol(buf, NULL, 0);
	}
	closedir(d);
	return dst;
}

/* The /dev/rpmsgN whose endpoint has this name (and dst, unless -1):
 * /sys/class/rpmsg/rpmsgN/{name,dst}. Waits up to 3 s for udev-less
 * devtmpfs to show it. */
static int find_eptdev(const char *name, long dst, char *dev, size_t len)
{
	for (int tries = 0; tries < 300; tries++) {
		DIR *d = opendir("/sys/class/rpmsg");
		struct dirent *e;
		char path[512], buf[64];
		while (d && (e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "rpmsg", 5) || !strncmp(e->d_name, "rpmsg_ctrl", 10))
				continue;
			snprintf(path, sizeof(path), "/sys/class/rpmsg/%s/name", e->d_name);
			if (read_file(path, buf, sizeof(buf)) || strcmp(buf, name) != 0)
				continue;
			snprintf(path, sizeof(path), "/sys/class/rpmsg/%s/dst", e->d_name);
			if (dst >= 0 &&
			    (read_file(path, buf, sizeof(buf)) || strtol(buf, NULL, 0) != dst))
				continue;
			snprintf(dev, len, "/dev/%s", e->d_name);
			if (access(dev, F_OK) == 0) {
				closedir(d);
				return 0;
			}
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	return -1;
}

/* Write all of buf; read exactly len bytes back (a tty may split them). */
static int xfer(int fd, const uint8_t *out, uint8_t *in, size_t len, int stream)
{
	ssize_t n = write(fd, out, len);
	if (n != (ssize_t)len)
		return failf("write of %zu bytes: %s", len, n < 0 ? strerror(errno) : "short");
	size_t got = 0;
	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, IO_TIMEOUT);
		if (pr == 0)
			return failf("no reply within %d ms (%zu of %zu bytes)", IO_TIMEOUT, got,
				     len);
		if (pr < 0)
			return failf("poll: %s", strerror(errno));
		n = read(fd, in + got, stream ? len - got : MAX_PAYLOAD);
		if (n <= 0)
			return failf("read: %s", n < 0 ? strerror(errno) : "end of file");
		got += (size_t)n;
		if (!stream && got != len)
			return failf("sent %zu bytes, got %zu back", len, got);
	}
	return 0;
}

static int echo_loop(int fd, long count, int stream)
{
	uint8_t out[MAX_PAYLOAD], in[MAX_PAYLOAD];
	for (long i = 0; i < count; i++) {
		size_t len = 1 + (size_t)(i % MAX_PAYLOAD);
		for (size_t k = 0; k < len; k++)
			out[k] = (uint8_t)(i * 7 + k * 13 + (k >> 8));
		if (xfer(fd, out, in, len, stream)) {
			char cause[sizeof(why)];
			snprintf(cause, sizeof(cause), "%s", why);
			return failf("echo %ld: %s", i, cause);
		}
		for (size_t k = 0; k < len; k++)
			if (in[k] != out[k])
				return failf(
				    "echo %ld (%zu bytes): byte %zu is 0x%02x, sent 0x%02x", i, len,
				    k, in[k], out[k]);
	}
	return 0;
}

/* An endpoint through /dev/rpmsg_ctrl0 to the address of channel `name`;
 * opens its /dev/rpmsgN. Returns the fd or -1. */
static int ctrl_endpoint(const char *name, const char *ept_name, char *dev, size_t devlen)
{
	long dst = channel_dst(name);
	if (dst < 0)
		return failf("no channel '%s' in /sys/bus/rpmsg/devices", name);
	int ctrl = open("/dev/rpmsg_ctrl0", O_RDWR);
	if (ctrl < 0)
		return failf("/dev/rpmsg_ctrl0: %s", strerror(errno));
	struct rpmsg_endpoint_info info = {.src = 0xFFFFFFFF, .dst = (uint32_t)dst};
	snprintf(info.name, sizeof(info.name), "%s", ept_name);
	if (ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) < 0) {
		int e = errno;
		close(ctrl);
		return failf("RPMSG_CREATE_EPT_IOCTL to 0x%lx: %s", dst, strerror(e));
	}
	close(ctrl);
	if (find_eptdev(ept_name, dst, dev, devlen))
		return failf("no /dev/rpmsgN for endpoint '%s' to 0x%lx", ept_name, dst);
	int fd = open(dev, O_RDWR);
	if (fd < 0)
		return failf("%s: %s", dev, strerror(errno));
	return fd;
}

static int step_ls(char *arg)
{
	char missing[200] = "";
	/* the announcements may still be on their way when init starts */
	for (int i = 0; i < 300; i++) {
		char copy[256];
		snprintf(copy, sizeof(copy), "%s", arg);
		int all = 1;
		for (char *n = strtok(copy, ","); n && all; n = strtok(NULL, ","))
			all = channel_dst(n) >= 0;
		if (all)
			break;
		usleep(10000);
	}
	for (char *n = strtok(arg, ","); n; n = strtok(NULL, ","))
		if (channel_dst(n) < 0 && strlen(missing) + strlen(n) + 2 < sizeof(missing))
			strcat(strcat(missing, " "), n);
	if (missing[0])
		return failf("channels missing from /sys/bus/rpmsg/devices:%s", missing);
	return 0;
}

static int step_echo(char *arg)
{
	char *name = strtok(arg, ","), *c = strtok(NULL, ",");
	long count = c ? atol(c) : 10000;
	char dev[300];
	int fd = ctrl_endpoint(name ? name : "", "amplink-echo-test", dev, sizeof(dev));
	if (fd < 0)
		return -1;
	double t0 = now_us();
	int rc = echo_loop(fd, count, 0);
	if (rc == 0)
		printf("guest: %ld echoes of 1..%d bytes through %s in %.2f s\n", count,
		       MAX_PAYLOAD, dev, (now_us() - t0) / 1e6);
	/* remove the endpoint again, as a user would; not after a failure: the
	 * remote may be gone, the kernel then removed the endpoint already and
	 * Linux 6.1 crashes on a second destroy (examples/rpmsg_char_echo.c) */
	if (rc == 0 && ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
		rc = failf("RPMSG_DESTROY_EPT_IOCTL: %s", strerror(errno));
	close(fd);
	return rc;
}

static int step_raw(char *arg)
{
	long count = atol(arg);
	char dev[300];
	if (find_eptdev("rpmsg-raw", -1, dev, sizeof(dev)))
		return failf("no /dev/rpmsgN for the rpmsg-raw channel");
	int fd = open(dev, O_RDWR);
	if (fd < 0)
		return failf("%s: %s", dev, strerror(errno));
	int rc = echo_loop(fd, count, 0);
	if (rc == 0)
		printf("guest: %ld echoes through %s (rpmsg-raw)\n", count, dev);
	close(fd);
	return rc;
}

static int step_tty(char *arg)
{
	long count = atol(arg);
	const char *dev = "/dev/ttyRPMSG0";
	for (int i = 0; i < 300 && access(dev, F_OK); i++)
		usleep(10000);
	int fd = open(dev, O_RDWR | O_NOCTTY);
	if (fd < 0)
		return failf("%s: %s", dev, strerror(errno));
	struct termios t;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	int rc = echo_loop(fd, count, 1);
	if (rc == 0)
		printf("guest: %ld echoes through %s (rpmsg-tty)\n", count, dev);
	close(fd);
	return rc;
}

/* The motor demo of `amplink remote --demo motor`: SET_DUTY through
 * motor-ctrl and its ACK (sent from the receive path), then samples of
 * sensor-temp (sent from the remote's sensor thread, which signals the
 * driver from outside the serving thread). */
static int step_motor(char *arg)
{
	long samples = atol(arg);
	char dev[300], tdev[300];
	int fd = ctrl_endpoint("motor-ctrl", "amplink-motor-test", dev, sizeof(dev));
	if (fd < 0)
		return -1;
	uint8_t cmd[8] = {1, 0, 0, 0, 42, 0, 0, 0}, ack[MAX_PAYLOAD];
	int rc = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (write(fd, cmd, sizeof(cmd)) != (ssize_t)sizeof(cmd))
		rc = failf("motor-ctrl write: %s", strerror(errno));
	else if (poll(&p, 1, IO_TIMEOUT) != 1 || read(fd, ack, sizeof(ack)) != 16)
		rc = failf("motor-ctrl: no 16-byte ACK");
	else if (ack[0] != 1 || ack[4] != 0 || ack[8] != 42)
		rc = failf("motor-ctrl ACK: type %u status %u duty %u", ack[0], ack[4], ack[8]);
	close(fd);
	if (rc)
		return rc;
	int tfd = ctrl_endpoint("sensor-temp", "amplink-temp-test", tdev, sizeof(tdev));
	if (tfd < 0)
		return -1;
	if (write(tfd, "", 1) != 1) { /* binds the remote's endpoint to us */
		close(tfd);
		return failf("sensor-temp write: %s", strerror(errno));
	}
	long n = 0;
	uint32_t last_seq = 0;
	while (n < samples) {
		uint8_t s[MAX_PAYLOAD];
		struct pollfd q = {.fd = tfd, .events = POLLIN};
		if (poll(&q, 1, IO_TIMEOUT) != 1) {
			rc = failf("sensor-temp: %ld of %ld samples, then none within %d ms", n,
				   samples, IO_TIMEOUT);
			break;
		}
		if (read(tfd, s, sizeof(s)) != 12) {
			rc = failf("sensor-temp: a sample is not 12 bytes");
			break;
		}
		uint32_t seq, milli;
		memcpy(&seq, s, 4);
		memcpy(&milli, s + 8, 4);
		if (n > 0 && seq != last_seq + 1) {
			rc = failf("sensor-temp: sample %u after %u", seq, last_seq);
			break;
		}
		last_seq = seq;
		n++;
		if (n == samples)
			printf(
			    "guest: motor duty 42 acknowledged; %ld temperature samples, the last "
			    "#%u: %.3f C\n",
			    n, seq, (double)(int32_t)milli / 1000.0);
	}
	close(tfd);
	return rc;
}

static int step_die(char *arg)
{
	char dev[300];
	int fd = ctrl_endpoint("rpmsg-openamp-demo-channel", "amplink-die-test", dev, sizeof(dev));
	if (fd < 0)
		return -1;
	FILE *f = fopen(arg, "w");
	long i = 0;
	double t_fail = 0;
	uint8_t out[64] = {1}, in[MAX_PAYLOAD];
	for (;; i++) {
		if (i == 200 && f) {
			fputs("running\n", f);
			fclose(f);
			f = NULL;
		}
		double t = now_us();
		if (xfer(fd, out, in, sizeof(out), 0)) {
			t_fail = now_us() - t;
			break;
		}
		if (i > 2000000)
			return failf("still echoing after %ld messages: was the remote killed?", i);
	}
	printf("guest: after %ld echoes: %s (after %.0f ms)\n", i, why, t_fail / 1e3);
	/* Further writes: they queue in the kernel's 256 transmit buffers
	 * until those run out, then block (the kernel waits up to 15 s for a
	 * buffer); with O_NONBLOCK they fail at once. */
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	long w = 0;
	ssize_t n = 0;
	while (w < 1000 && (n = write(fd, out, sizeof(out))) == (ssize_t)sizeof(out))
		w++;
	printf("guest: then %ld non-blocking writes succeeded, the next: %s\n", w,
	       n < 0 ? strerror(errno) : "succeeded too");
	close(fd);
	if (w >= 1000)
		return failf("writes never failed after the remote died");
	return 0;
}

/* ---- bench ---------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median round trip (µs) of `iters` write+read of `len` bytes. */
static double rtt_us(int wfd, int rfd, size_t len, int iters)
{
	uint8_t b[MAX_PAYLOAD] = {0};
	double *v = malloc(sizeof(double) * (size_t)iters);
	for (int i = 0; i < iters; i++) {
		double t = now_us();
		if (write(wfd, b, len) != (ssize_t)len)
			break;
		size_t got = 0;
		while (got < len) {
			ssize_t n = read(rfd, b, sizeof(b));
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		v[i] = now_us() - t;
	}
	double m = median(v, iters);
	free(v);
	return m;
}

/* One-way throughput (MB/s) to the remote's sink service: `count` writes
 * of 496 bytes, then an empty message that asks for the count; timed until
 * the count (8 bytes) is back and matches. -1 on failure. */
static double oneway_mbs(int fd, int count)
{
	uint8_t b[MAX_PAYLOAD] = {0};
	double t = now_us();
	for (int i = 0; i < count; i++)
		if (write(fd, b, MAX_PAYLOAD) != MAX_PAYLOAD)
			return -1;
	if (write(fd, b, 0) != 0)
		return -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t n = 0;
	if (poll(&p, 1, 10000) != 1 || read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return -1;
	double s = (now_us() - t) / 1e6;
	if (n != (uint64_t)count) {
		printf("guest: bench: the sink counted %llu of %d messages\n",
		       (unsigned long long)n, count);
		return -1;
	}
	return (double)count * MAX_PAYLOAD / s / 1e6;
}

/* Baseline: a round trip through two pipes to a second guest process that
 * echoes. */
static void pipe_rtt(size_t len, int iters, double *out)
{
	int a[2], b[2];
	if (pipe(a) || pipe(b)) {
		*out = -1;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		uint8_t buf[MAX_PAYLOAD];
		ssize_t n;
		close(a[1]);
		close(b[0]);
		while ((n = read(a[0], buf, sizeof(buf))) > 0)
			if (write(b[1], buf, (size_t)n) != n)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	*out = rtt_us(a[1], b[0], len, iters);
	close(a[1]);
	close(b[0]);
	waitpid(pid, NULL, 0);
}

static int step_bench(char *arg)
{
	char *name = strtok(arg, ","), *sink = strtok(NULL, ","), *r = strtok(NULL, ",");
	int reps = r ? atoi(r) : 5;
	if (reps < 1 || reps > 101)
		reps = 5;
	char dev[300], sdev[300];
	int fd = ctrl_endpoint(name ? name : "", "amplink-bench", dev, sizeof(dev));
	if (fd < 0)
		return -1;
	int sfd = ctrl_endpoint(sink ? sink : "", "amplink-bench-sink", sdev, sizeof(sdev));
	if (sfd < 0) {
		close(fd);
		return -1;
	}
	double r16[101], r496[101], tp[101], p16[101], p496[101];
	for (int i = 0; i < reps; i++) {
		r16[i] = rtt_us(fd, fd, 16, 2000);
		r496[i] = rtt_us(fd, fd, 496, 2000);
		tp[i] = oneway_mbs(sfd, 20000);
		if (tp[i] < 0) {
			close(fd);
			close(sfd);
			return failf("one-way run %d to the sink failed", i);
		}
		pipe_rtt(16, 2000, &p16[i]);
		pipe_rtt(496, 2000, &p496[i]);
	}
	printf("guest: bench: %d runs; each figure is the median over the runs of "
	       "(round trips: the median of 2000; one-way: 20000 messages)\n",
	       reps);
	printf("guest: bench: rpmsg %s round trip 16 B: %.1f us\n", dev, median(r16, reps));
	printf("guest: bench: rpmsg %s round trip 496 B: %.1f us\n", dev, median(r496, reps));
	double m = median(tp, reps);
	printf("guest: bench: rpmsg %s one-way 496 B to the sink: %.2f MB/s (%.0f msg/s)\n", sdev,
	       m, m * 1e6 / MAX_PAYLOAD);
	printf("guest: bench: pipe pair round trip 16 B: %.1f us\n", median(p16, reps));
	printf("guest: bench: pipe pair round trip 496 B: %.1f us\n", median(p496, reps));
	close(fd);
	close(sfd);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		char step[256];
		snprintf(step, sizeof(step), "%s", argv[i]);
		char *arg = strchr(step, '=');
		if (arg)
			*arg++ = 0;
		else
			arg = step + strlen(step);
		why[0] = 0;
		int rc;
		if (!strcmp(step, "ls"))
			rc = step_ls(arg);
		else if (!strcmp(step, "echo"))
			rc = step_echo(arg);
		else if (!strcmp(step, "raw"))
			rc = step_raw(arg);
		else if (!strcmp(step, "tty"))
			rc = step_tty(arg);
		else if (!strcmp(step, "motor"))
			rc = step_motor(arg);
		else if (!strcmp(step, "die"))
			rc = step_die(arg);
		else if (!strcmp(step, "bench"))
			rc = step_bench(arg);
		else
			rc = failf("unknown step");
		if (rc)
			printf("guest: FAIL %s: %s\n", argv[i], why);
		else
			printf("guest: PASS %s\n", argv[i]);
		failed |= rc != 0;
	}
	return failed;
}

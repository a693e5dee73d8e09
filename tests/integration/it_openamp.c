/* The OpenAMP transport profile between amplink processes, checked for
 * what OpenAMP's own Linux apps rely on (docs/openamp-profile.md): the
 * remote makes its files once and keeps them while it waits (an OpenAMP
 * host maps the file before it connects), announces no log service unless
 * asked, the host sends NS DESTROY for its endpoints when it closes (the
 * echo app waits for it to exit), waits for a remote as long as OpenAMP's
 * host, and the options the layout fixes are refused before connecting.
 * argv[1] is the amplink tool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_common.h"
#include "it_spawn.h"

#include "amplink/linux/channel.h"
#include "amplink/linux/posix.h"
#include "amplink/rsc_table.h"

#define ECHO_SVC "rpmsg-openamp-demo-channel"
#define SHM_SIZE 0x80000

static char dir[64], shm[96], ev[96], errf[96];

/* Fresh paths for each test, in a directory of its own. */
static int setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof(dir), "/tmp/it-oa-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(shm, sizeof(shm), "%s/openamp.shm", dir);
	snprintf(ev, sizeof(ev), "%s/openamp.event", dir);
	snprintf(errf, sizeof(errf), "%s/stderr", dir);
	return 0;
}

static int teardown(void **s)
{
	it_teardown(s);
	unlink(shm);
	unlink(ev);
	unlink(errf);
	rmdir(dir);
	return 0;
}

/* Run `amplink CMD --profile openamp --shm .. --event .. extra...` with
 * stderr into errf (appended) and stdout to /dev/null. */
static pid_t spawn_oa(const char *cmd, const char *const *extra)
{
	const char *argv[32] = {amplink_bin, cmd, "--profile", "openamp",
				"--shm",     shm, "--event",   ev};
	int n = 8;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int e = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_WRONLY);
		dup2(e, 2);
		dup2(nul, 1);
		execv(amplink_bin, (char *const *)argv);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "--- %s ---\n%s---\n", path, buf);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Exit code of a child, or -1 if it did not exit within ms. */
static int wait_exit_ms(pid_t pid, unsigned ms)
{
	uint64_t t0 = it_now_ms();
	int st;
	while (it_now_ms() - t0 < ms) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (pid == cur_remote)
				cur_remote = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		it_sleep_ms(10);
	}
	return -1;
}

static bool wait_file(const char *path, unsigned ms)
{
	uint64_t t0 = it_now_ms();
	while (access(path, F_OK) != 0) {
		if (it_now_ms() - t0 > ms)
			return false;
		it_sleep_ms(10);
	}
	return true;
}

/* The names the remote announced, as the host saw them. */
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static char names[8][32];
static int nnames;

static void record_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	pthread_mutex_lock(&names_mu);
	if (nnames < 8)
		snprintf(names[nnames++], sizeof(names[0]), "%s", name);
	pthread_mutex_unlock(&names_mu);
	al_services_ns_bind(rdev, name, dest);
}

static bool announced(const char *name)
{
	bool yes = false;
	pthread_mutex_lock(&names_mu);
	for (int i = 0; i < nnames; i++)
		yes |= strcmp(names[i], name) == 0;
	pthread_mutex_unlock(&names_mu);
	return yes;
}

static char gone[32]; /* the last name the remote withdrew */
static void record_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev, (void)dest;
	pthread_mutex_lock(&names_mu);
	snprintf(gone, sizeof(gone), "%s", name);
	pthread_mutex_unlock(&names_mu);
}

static bool withdrawn(const char *name)
{
	pthread_mutex_lock(&names_mu);
	bool yes = strcmp(gone, name) == 0;
	pthread_mutex_unlock(&names_mu);
	return yes;
}

static struct al_posix_link *open_host(uint32_t timeout_ms)
{
	nnames = 0;
	gone[0] = '\0';
	struct al_posix_cfg c = {.role = VIRTIO_DEV_DRIVER,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = shm,
				 .event_path = ev,
				 .connect_timeout_ms = timeout_ms,
				 .ns_bind_cb = record_bind,
				 .ns_unbind_cb = record_unbind};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), 0);
	return l;
}

static void close_host(struct al_posix_link *l)
{
	struct rpmsg_device *rdev = al_posix_rdev(l);
	al_posix_close(l);
	al_services_clear(rdev);
}

static struct al_channel *open_echo(struct al_posix_link *l)
{
	struct al_channel *ch = NULL;
	assert_int_equal(
	    al_channel_open(al_posix_rdev(l), ECHO_SVC, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000, &ch),
	    0);
	return ch;
}

/* Send msg and check that it comes back as it went. */
static void echo_check(struct al_channel *ch, const void *msg, size_t len)
{
	uint8_t in[512];
	assert_int_equal(al_channel_write(ch, msg, len, 5000), (long)len);
	assert_int_equal(al_channel_read(ch, in, sizeof(in), NULL, 5000), (long)len);
	assert_memory_equal(in, msg, len);
}

static void echo_once(struct al_posix_link *l)
{
	struct al_channel *ch = open_echo(l);
	echo_check(ch, "ping", 4);
	al_channel_close(ch);
}

/* An OpenAMP host starts first: it creates and maps the shared file, then
 * retries connecting. The remote must write its table into that very file,
 * keep it and its socket while it waits (no re-creation, one line said),
 * and the host's early mapping must see the live link. */
static void remote_keeps_files_while_waiting(void **s)
{
	(void)s;
	int fd = open(shm, O_RDWR | O_CREAT, 0600); /* as libmetal's shm_open */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SHM_SIZE), 0);
	uint8_t *early = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(early != MAP_FAILED);
	struct stat st0, st;
	assert_int_equal(fstat(fd, &st0), 0);

	pid_t r = spawn_oa("remote", (const char *const[]){"--once", NULL});
	cur_remote = r;
	assert_true(wait_file(ev, 5000));
	struct stat sock0;
	assert_int_equal(lstat(ev, &sock0), 0);
	it_sleep_ms(1600); /* the old remote re-made both every 500 ms */
	assert_int_equal(lstat(shm, &st), 0);
	assert_int_equal(st.st_ino, st0.st_ino);
	assert_int_equal(lstat(ev, &st), 0);
	assert_int_equal(st.st_ino, sock0.st_ino);
	const struct al_rsc_table_rpmsg *t = (const void *)early;
	assert_int_equal(t->ver, 1);
	assert_int_equal(t->vdev.id, 7);
	assert_int_equal(t->vring[0].da, 0x4000);

	struct al_posix_link *l = open_host(0);
	assert_true(t->vdev.status & VIRTIO_CONFIG_STATUS_DRIVER_OK); /* seen in our early map */
	echo_once(l);
	/* the log service is not announced in this profile by default */
	it_sleep_ms(100);
	assert_true(announced(ECHO_SVC));
	assert_false(announced("amplink-log"));
	close_host(l);
	assert_int_equal(wait_exit_ms(r, 5000), 0);
	const char *err = slurp(errf);
	assert_int_equal(count(err, "waiting for a host"), 1);
	assert_non_null(strstr(err, "waiting for a host on OpenAMP event socket"));
	assert_null(strstr(err, "no host connected"));
	assert_null(strstr(err, "link 'amplink'"));
	/* as OpenAMP: the file stays (both sides open it with O_CREAT), the
	 * socket of the remote that has gone does not */
	assert_int_equal(access(shm, F_OK), 0);
	assert_int_equal(access(ev, F_OK), -1);
	munmap(early, SHM_SIZE);
	close(fd);
}

/* A remote waiting forever still stops on SIGTERM at once, removing its
 * socket. */
static void remote_stops_while_waiting(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", NULL);
	cur_remote = r;
	assert_true(wait_file(ev, 5000));
	it_sleep_ms(200);
	kill(r, SIGTERM);
	assert_int_equal(wait_exit_ms(r, 2000), 0);
	assert_int_equal(access(ev, F_OK), -1);
}

/* --log-service announces the remote's log in this profile too. */
static void log_service_on_request(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", (const char *const[]){"--once", "--log-service", NULL});
	cur_remote = r;
	struct al_posix_link *l = open_host(0);
	echo_once(l);
	for (int i = 0; i < 100 && !announced("amplink-log"); i++)
		it_sleep_ms(10);
	assert_true(announced("amplink-log"));
	close_host(l);
	assert_int_equal(wait_exit_ms(r, 5000), 0);
}

/* As OpenAMP's ping: payloads {u64 num, u64 size, size bytes of 0xA5}
 * echoed, then the 4-byte shutdown word, after which the ping waits for
 * the remote's NS DESTROY of the echo service before it exits. */
static void ping_shutdown_word(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", (const char *const[]){"--once", NULL});
	cur_remote = r;
	struct al_posix_link *l = open_host(0);
	struct al_channel *ch = open_echo(l);
	uint8_t out[496], in[512];
	for (uint64_t size = 1; size <= 480; size += 53) {
		uint64_t num = size / 53;
		memcpy(out, &num, 8);
		memcpy(out + 8, &size, 8);
		memset(out + 16, 0xA5, size);
		echo_check(ch, out, 16 + size);
	}
	const uint8_t word[4] = {0x5A, 0xA5, 0x56, 0xEF}; /* 0xEF56A55A, little-endian */
	assert_int_equal(al_channel_write(ch, word, 4, 5000), 4);
	for (int i = 0; i < 300 && !withdrawn(ECHO_SVC); i++)
		it_sleep_ms(10);
	assert_true(withdrawn(ECHO_SVC));
	assert_true(al_channel_read(ch, in, sizeof(in), NULL, 200) < 0); /* not echoed */
	al_channel_close(ch);
	close_host(l);
	assert_int_equal(wait_exit_ms(r, 5000), 0);
	assert_non_null(strstr(slurp(errf), "shutdown message on '" ECHO_SVC "'"));
}

/* A remote that stops while a host is attached withdraws its services
 * (NS DESTROY, kicked before its socket closes): an OpenAMP ping waiting
 * for that ends instead of hanging. */
static void remote_stop_withdraws_services(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", NULL);
	cur_remote = r;
	struct al_posix_link *l = open_host(0);
	echo_once(l);
	kill(r, SIGTERM);
	for (int i = 0; i < 300 && !withdrawn(ECHO_SVC); i++)
		it_sleep_ms(10);
	assert_true(withdrawn(ECHO_SVC));
	assert_int_equal(wait_exit_ms(r, 3000), 0);
	close_host(l);
}

/* This process is the remote, as OpenAMP's echo app: the host (`amplink
 * echo`) must send NS DESTROY for its endpoint when it closes, which is
 * what makes OpenAMP's echo app exit. */
static volatile int unbound;
static int rx_echo(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	(void)rpmsg_trysendto(ept, data, (int)len, src);
	return 0;
}

static void on_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	unbound++;
}

static void host_sends_ns_destroy(void **s)
{
	(void)s;
	unbound = 0;
	/* the host first: it waits for the remote (as OpenAMP's, ~50 s) */
	pid_t h = spawn_oa("echo", (const char *const[]){"-n", "3", NULL});
	it_sleep_ms(300);
	struct al_posix_cfg c = {.role = VIRTIO_DEV_DEVICE,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = shm,
				 .event_path = ev,
				 .connect_timeout_ms = 10000};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), 0);
	struct rpmsg_endpoint ept;
	assert_int_equal(rpmsg_create_ept(&ept, al_posix_rdev(l), ECHO_SVC, RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_echo, on_unbind),
			 0);
	assert_int_equal(wait_exit_ms(h, 10000), 0);
	for (int i = 0; i < 200 && !unbound; i++)
		it_sleep_ms(10);
	assert_int_equal(unbound, 1);
	assert_int_equal(ept.dest_addr, RPMSG_ADDR_ANY); /* free for the next host */
	rpmsg_destroy_ept(&ept);
	al_posix_close(l);
}

/* The same when the host closes the link with its channel still open:
 * closing the link destroys the endpoint, and the NS DESTROY must reach
 * the remote before the doorbell socket goes. Both sides in this process. */
struct remote_side {
	struct al_posix_link *l;
	struct rpmsg_endpoint ept;
	int rc;
};

static void *remote_thread(void *arg)
{
	struct remote_side *r = arg;
	struct al_posix_cfg c = {.role = VIRTIO_DEV_DEVICE,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = shm,
				 .event_path = ev,
				 .connect_timeout_ms = 10000};
	r->rc = al_posix_open(&c, &r->l);
	if (r->rc == 0)
		r->rc = rpmsg_create_ept(&r->ept, al_posix_rdev(r->l), ECHO_SVC, RPMSG_ADDR_ANY,
					 RPMSG_ADDR_ANY, rx_echo, on_unbind);
	return NULL;
}

static void host_close_destroys_open_endpoints(void **s)
{
	(void)s;
	unbound = 0;
	static struct remote_side r;
	memset(&r, 0, sizeof(r));
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, remote_thread, &r), 0);
	struct al_posix_link *l = open_host(0);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	struct al_channel *ch = open_echo(l);
	echo_check(ch, "x", 1);
	close_host(l); /* the channel is still open */
	for (int i = 0; i < 200 && !unbound; i++)
		it_sleep_ms(10);
	assert_int_equal(unbound, 1);
	al_channel_close(ch);
	rpmsg_destroy_ept(&r.ept);
	al_posix_close(r.l);
}

/* The host waits for a remote as long as OpenAMP's (about 50 s): one
 * started 1.5 s later is still found; --timeout shortens the wait. */
static void host_waits_like_openamp(void **s)
{
	(void)s;
	pid_t h = spawn_oa("echo", (const char *const[]){"-n", "2", NULL});
	it_sleep_ms(1500);
	assert_int_equal(wait_exit_ms(h, 1), -1); /* still waiting */
	pid_t r = spawn_oa("remote", (const char *const[]){"--once", NULL});
	cur_remote = r;
	assert_int_equal(wait_exit_ms(h, 10000), 0);
	assert_int_equal(wait_exit_ms(r, 5000), 0);

	uint64_t t0 = it_now_ms();
	h = spawn_oa("echo", (const char *const[]){"--timeout", "300", NULL});
	assert_int_equal(wait_exit_ms(h, 5000), 3); /* EXIT_LINK */
	assert_true(it_now_ms() - t0 < 3000);
	assert_non_null(strstr(slurp(errf), "no remote listens on"));
}

/* Options the OpenAMP layout fixes, or that name what this profile does
 * not have, are refused at once, naming the option, before any connect
 * (no remote runs here: a connect would wait 49.5 s). */
static void fixed_options_refused(void **s)
{
	(void)s;
	static const struct {
		const char *cmd;
		const char *args[4];
		const char *says;
	} cases[] = {
	    {"echo", {"--num", "128"}, "--num: the OpenAMP profile's layout fixes 256"},
	    {"echo", {"--buf-size", "1024"}, "--buf-size: the OpenAMP profile's layout fixes 512"},
	    {"echo", {"--doorbell", "futex"}, "--doorbell does not apply in the OpenAMP profile"},
	    {"ls", {"--link", "m4"}, "--link does not apply in the OpenAMP profile"},
	    {"remote", {"--num", "64"}, "--num: the OpenAMP profile's layout fixes 256"},
	    {"remote", {"--link", "m4"}, "--link does not apply in the OpenAMP profile"},
	    {"echo", {"--size", "497"}, "--size 497 exceeds the link's payload limit 496"},
	    {"remote", {"--log-flood", "5"}, "--log-flood needs the log service"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(errf);
		uint64_t t0 = it_now_ms();
		pid_t p = spawn_oa(cases[i].cmd, cases[i].args);
		assert_int_equal(wait_exit_ms(p, 3000), 2); /* EXIT_USAGE */
		assert_true(it_now_ms() - t0 < 3000);
		const char *err = slurp(errf);
		if (!strstr(err, cases[i].says))
			fail_msg("%s %s %s: wanted \"%s\", got \"%s\"", cases[i].cmd,
				 cases[i].args[0], cases[i].args[1], cases[i].says, err);
		assert_null(strstr(err, "link 'amplink'"));
		assert_int_equal(access(ev, F_OK), -1); /* nothing was set up */
	}
	/* the values the layout has are accepted */
	pid_t r = spawn_oa(
	    "remote", (const char *const[]){"--once", "--num", "256", "--buf-size", "512", NULL});
	cur_remote = r;
	pid_t h = spawn_oa("echo",
			   (const char *const[]){"-n", "1", "--size", "496", "--num", "256", NULL});
	assert_int_equal(wait_exit_ms(h, 10000), 0);
	assert_int_equal(wait_exit_ms(r, 5000), 0);
}

/* A refused echo size does not use up an OpenAMP remote's one host: the
 * same remote still serves the next echo. */
static void refused_size_keeps_remote(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", (const char *const[]){"--once", NULL});
	cur_remote = r;
	assert_true(wait_file(ev, 5000));
	pid_t h = spawn_oa("echo", (const char *const[]){"--size", "600", NULL});
	assert_int_equal(wait_exit_ms(h, 3000), 2);
	assert_int_equal(wait_exit_ms(r, 300), -1); /* still waiting for its host */
	h = spawn_oa("echo", (const char *const[]){"-n", "3", "--size", "1-496", NULL});
	assert_int_equal(wait_exit_ms(h, 10000), 0);
	assert_int_equal(wait_exit_ms(r, 5000), 0);
}

/* A second host while one is served is refused at connect() (the remote
 * stops listening, as OpenAMP's does) and keeps retrying; it gets in once
 * the first has gone. */
static void second_host_waits_its_turn(void **s)
{
	(void)s;
	pid_t r = spawn_oa("remote", NULL);
	cur_remote = r;
	struct al_posix_link *l = open_host(0);
	echo_once(l);
	pid_t h = spawn_oa("echo", (const char *const[]){"-n", "2", NULL});
	it_sleep_ms(700);
	assert_int_equal(wait_exit_ms(h, 1), -1); /* waiting, not served, not failed */
	echo_once(l);				  /* the first host's link is intact */
	close_host(l);
	assert_int_equal(wait_exit_ms(h, 10000), 0);
	kill(r, SIGTERM);
	assert_int_equal(wait_exit_ms(r, 3000), 0);
}

int main(int argc, char **argv)
{
	if (!it_take_amplink(argc, argv))
		return 2;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(remote_keeps_files_while_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(remote_stops_while_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(log_service_on_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(ping_shutdown_word, setup, teardown),
	    cmocka_unit_test_setup_teardown(remote_stop_withdraws_services, setup, teardown),
	    cmocka_unit_test_setup_teardown(host_sends_ns_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(host_close_destroys_open_endpoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(host_waits_like_openamp, setup, teardown),
	    cmocka_unit_test_setup_teardown(fixed_options_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(refused_size_keeps_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(second_host_waits_its_turn, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

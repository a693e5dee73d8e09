/* Conformance of the RT-Thread rpmsg device (amplink/rt_rpmsg.h) with
 * RT-Thread's device API, and RT-Thread's AMP echo example run unchanged on
 * the remote side: its configuration line and its "message:... len:..."
 * lines as under RT-Thread. The remote's thread is a real thread; a
 * doorbell thread plays both cores' interrupts over a loopback link. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <rtdevice.h>
#include <rtthread.h>

#include "amplink/port_loopback.h"
#include "amplink/rt_rpmsg.h"

/* ---- a threaded loopback: per-side locks, a doorbell thread --------------- */

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];
static pthread_mutex_t side_lock[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pending[2];
static unsigned wakes[2];

static int side_of(void *ctx)
{
	return ctx == &lb.drv ? 0 : 1;
}

static void t_notify(void *ctx, uint32_t id)
{
	(void)id;
	pthread_mutex_lock(&mu);
	pending[1 - side_of(ctx)]++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void t_lock(void *ctx)
{
	pthread_mutex_lock(&side_lock[side_of(ctx)]);
}

static void t_unlock(void *ctx)
{
	pthread_mutex_unlock(&side_lock[side_of(ctx)]);
}

static uint64_t t_time(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void deadline(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	ts->tv_sec += ms / 1000u + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* Sleep until woken or `ms` (at most 20: a wake between the caller's
 * check and this wait costs one short sleep, nothing more). */
static void t_wait(void *ctx, uint32_t ms)
{
	int s = side_of(ctx);
	struct timespec ts;
	deadline(&ts, ms > 20 ? 20 : ms);
	pthread_mutex_lock(&mu);
	unsigned w = wakes[s];
	while (w == wakes[s])
		if (pthread_cond_timedwait(&cv, &mu, &ts))
			break;
	pthread_mutex_unlock(&mu);
}

static void t_wake(void *ctx)
{
	pthread_mutex_lock(&mu);
	wakes[side_of(ctx)]++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static const struct al_port_ops t_ops = {
    .notify = t_notify,
    .lock = t_lock,
    .unlock = t_unlock,
    .time_ms = t_time,
    .wait = t_wait,
    .wake = t_wake,
};

static void *doorbells(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (!pending[0] && !pending[1])
			pthread_cond_wait(&cv, &mu);
		int p[2] = {pending[0], pending[1]};
		pending[0] = pending[1] = 0;
		pthread_mutex_unlock(&mu);
		if (p[1])
			(void)al_virtio_notified(&lb.dev.rvdev);
		if (p[0])
			(void)al_virtio_notified(&lb.drv.rvdev);
	}
	return NULL;
}

/* ---- what RT-Thread's platform provides: console and threads --------------- */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static char out[16384];
static size_t out_len;

int rt_kprintf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_mu);
	size_t k = strlen(line);
	if (out_len + k < sizeof(out)) {
		memcpy(out + out_len, line, k + 1);
		out_len += k;
	}
	pthread_mutex_unlock(&out_mu);
	fputs(line, stdout);
	return n;
}

struct rt_thread {
	void (*entry)(void *);
	void *parameter;
};

rt_thread_t rt_thread_create(const char *name, void (*entry)(void *parameter), void *parameter,
			     rt_uint32_t stack_size, rt_uint8_t priority, rt_uint32_t tick)
{
	(void)name, (void)stack_size, (void)priority, (void)tick;
	rt_thread_t t = malloc(sizeof(*t));
	if (t)
		*t = (struct rt_thread){entry, parameter};
	return t;
}

static void *thread_main(void *arg)
{
	rt_thread_t t = arg;
	t->entry(t->parameter);
	return NULL;
}

rt_err_t rt_thread_startup(rt_thread_t thread)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, thread))
		return -RT_ERROR;
	pthread_detach(th);
	return RT_EOK;
}

/* The board: the rpmsg device on the remote side of the link; RT-Thread's
 * driver prints its configuration line with rt_kprintf. */
static struct al_rt_rpmsg rtdev;
static void board_log(void *ctx, const char *line)
{
	(void)ctx;
	rt_kprintf("%s\r\n", line);
}

/* ---- RT-Thread's AMP echo example, as its users write it ------------------ */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits" /* its `len >= 0` on an unsigned */

struct rt_rpmsg_ep_addr {
	const char *name;
	rt_uint32_t src;
	rt_uint32_t dst;
};

#define THREAD_PRIORITY	  18
#define THREAD_STACK_SIZE 5120
#define THREAD_TIMESLICE  5
#define BUFF_SIZE	  256

static struct rt_device *rpmsg = RT_NULL;

struct rt_rpmsg_ep_addr rpmsg_remote_echo = {"rpmsg_chrdev", 0x3000U, 0x1000};

static void rpmsg_echo_thread(void *parameter)
{
	(void)parameter;
	rt_uint32_t len = 0;
	rt_uint8_t buff[BUFF_SIZE];
	while ((len = rt_device_read(rpmsg, rpmsg_remote_echo.src, buff, BUFF_SIZE - 1)) >= 0) {
		buff[len] = 0;
		rt_kprintf("message:%s len:%d\r\n", buff, len);
		rt_device_write(rpmsg, rpmsg_remote_echo.dst, buff, len);
	}
}

static int rpmsg_echo(void)
{
	uint32_t ret = RT_EOK;
	rpmsg = rt_device_find("rpmsg");
	if (rpmsg == RT_NULL) {
		rt_kprintf("Unable to find rpmsg device.\r\n");
		return RT_ERROR;
	}
	rt_device_open(rpmsg, RT_DEVICE_OFLAG_OPEN);
	rt_device_control(rpmsg, RT_DEVICE_CTRL_CONFIG, &rpmsg_remote_echo);
	static rt_thread_t thread = RT_NULL;
	thread = rt_thread_create("rpmsg_echo", rpmsg_echo_thread, RT_NULL, THREAD_STACK_SIZE,
				  THREAD_PRIORITY, THREAD_TIMESLICE);
	if (thread != RT_NULL)
		rt_thread_startup(thread);
	if (ret != RT_EOK)
		return RT_ERROR;
	rt_kprintf("rpmsg echo init end.\r\n");
	return RT_EOK;
}

#pragma GCC diagnostic pop

/* ---- the host side: OpenAMP-style endpoint on the driver ------------------- */

static pthread_mutex_t host_mu = PTHREAD_MUTEX_INITIALIZER;
static int echoes;
static char last[64];

static int host_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	pthread_mutex_lock(&host_mu);
	if (len < sizeof(last)) {
		memcpy(last, data, len);
		last[len] = '\0';
	}
	echoes++;
	pthread_mutex_unlock(&host_mu);
	return RPMSG_SUCCESS;
}

static int echoes_now(void)
{
	pthread_mutex_lock(&host_mu);
	int n = echoes;
	pthread_mutex_unlock(&host_mu);
	return n;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	lb.drv.vdev.ops = &t_ops;
	lb.dev.vdev.ops = &t_ops;
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, doorbells, NULL), 0);
	pthread_detach(th);
	assert_int_equal(al_virtio_wait_link_up(&lb.dev.rvdev, 5000), 0);
	assert_int_equal(al_rt_rpmsg_register(&rtdev, "rpmsg", &lb.dev.rvdev.rdev), 0);
	rtdev.log = board_log;
	return 0;
}

/* ---- RT-Thread's device API, call by call ---------------------------------- */

static void device_api(void **state)
{
	(void)state;
	struct rt_rpmsg_ep_addr a = {"conf", 0x2000, 0x400}, b = a;
	char buf[8];
	assert_null(rt_device_find("nothing"));
	assert_null(rt_device_find(NULL));
	rt_device_t dev = rt_device_find("rpmsg");
	assert_ptr_equal(dev, &rtdev.parent);
	assert_int_equal(al_rt_rpmsg_register(&rtdev, "rpmsg", &lb.dev.rvdev.rdev), AL_EADDR);
	/* not open: reads and writes move nothing, close is refused */
	assert_int_equal(rt_device_read(dev, 0x2000, buf, sizeof(buf)), 0);
	assert_int_equal(rt_device_write(dev, 0x400, "x", 1), 0);
	assert_int_equal(rt_device_close(dev), -RT_ERROR);
	assert_int_equal(rt_device_open(NULL, RT_DEVICE_OFLAG_RDWR), -RT_EINVAL);
	assert_int_equal(rt_device_open(dev, RT_DEVICE_OFLAG_RDWR), RT_EOK);
	/* configuration */
	assert_int_equal(rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, NULL), -RT_EINVAL);
	assert_int_equal(rt_device_control(dev, RT_DEVICE_CTRL_SUSPEND, &a), -RT_ENOSYS);
	assert_int_equal(rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, &a), RT_EOK);
	assert_int_equal(rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, &b), -RT_EBUSY);
	static const char *names[] = {"c1", "c2", "c3", "c4"};
	int i = 0;
	rt_err_t rc;
	do {
		struct rt_rpmsg_ep_addr c = {names[i], 0x2001u + (rt_uint32_t)i, 0x400};
		rc = rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, &c);
	} while (rc == RT_EOK && ++i < 4);
	assert_int_equal(rc, -RT_EFULL);
	assert_int_equal(i, AL_RT_MAX_EPTS - 1);
	/* a read of an address no endpoint has returns 0 at once */
	assert_int_equal(rt_device_read(dev, 0x2FFF, buf, sizeof(buf)), 0);
	/* the last close destroys them all */
	assert_int_equal(rt_device_open(dev, RT_DEVICE_OFLAG_RDWR), RT_EOK);
	assert_int_equal(rt_device_close(dev), RT_EOK);
	assert_true(rtdev.epts[0].used);
	assert_int_equal(rt_device_close(dev), RT_EOK);
	for (int k = 0; k < AL_RT_MAX_EPTS; k++)
		assert_false(rtdev.epts[k].used);
	assert_int_equal(rt_device_close(dev), -RT_ERROR);
}

/* Messages wait for the reader; beyond AL_RT_QUEUE they are dropped (and
 * their buffers go back at once); a read cuts a message to its buffer. */
static void queue_full_and_short_read(void **state)
{
	(void)state;
	rt_device_t dev = rt_device_find("rpmsg");
	assert_int_equal(rt_device_open(dev, RT_DEVICE_OFLAG_RDWR), RT_EOK);
	struct rt_rpmsg_ep_addr a = {"queue", 0x2100, 0x2200};
	assert_int_equal(rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, &a), RT_EOK);
	static struct rpmsg_endpoint tx;
	assert_int_equal(
	    rpmsg_create_ept(&tx, &lb.drv.rvdev.rdev, NULL, 0x2200, 0x2100, host_cb, NULL), 0);
	struct al_rt_ept *e = &rtdev.epts[0];
	for (int i = 0; i <= AL_RT_QUEUE; i++) {
		char m[16];
		int n = snprintf(m, sizeof(m), "msg %d", i);
		assert_int_equal(rpmsg_send(&tx, m, n), n);
		uint64_t t0 = t_time(NULL);
		while (__atomic_load_n(&e->tail, __ATOMIC_ACQUIRE) + e->dropped <
			   (uint32_t)i + 1u &&
		       t_time(NULL) - t0 < 5000)
			t_wait(&lb.dev, 5);
	}
	assert_int_equal(e->tail - e->head, AL_RT_QUEUE);
	assert_int_equal(e->dropped, 1);
	char buf[4];
	assert_int_equal(rt_device_read(dev, 0x2100, buf, 3), 3); /* "msg 0" cut to 3 */
	assert_memory_equal(buf, "msg", 3);
	char full[16] = {0};
	for (int i = 1; i < AL_RT_QUEUE; i++)
		assert_int_equal(rt_device_read(dev, 0x2100, full, sizeof(full)), 5);
	assert_string_equal(full, "msg 7");
	int before = echoes_now();
	assert_int_equal(rt_device_write(dev, 0x2200, "back", 4), 4);
	uint64_t t0 = t_time(NULL);
	while (echoes_now() == before && t_time(NULL) - t0 < 5000)
		t_wait(&lb.drv, 5);
	assert_int_equal(echoes_now(), before + 1);
	pthread_mutex_lock(&host_mu);
	assert_string_equal(last, "back");
	echoes = 0;
	pthread_mutex_unlock(&host_mu);
	rpmsg_destroy_ept(&tx);
	assert_int_equal(rt_device_close(dev), RT_EOK);
}

/* ---- the example, unchanged ------------------------------------------------- */

static void echo_example_runs_unchanged(void **state)
{
	(void)state;
	out_len = 0;
	out[0] = '\0';
	static struct rpmsg_endpoint host;
	assert_int_equal(
	    rpmsg_create_ept(&host, &lb.drv.rvdev.rdev, NULL, 0x1000, 0x3000, host_cb, NULL), 0);
	assert_int_equal(rpmsg_echo(), RT_EOK);
	for (int i = 0; i < 10; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "hello there %d!", i);
		assert_int_equal(rpmsg_send(&host, msg, n), n);
		uint64_t t0 = t_time(NULL);
		while (echoes_now() < i + 1 && t_time(NULL) - t0 < 10000)
			t_wait(&lb.drv, 10);
		assert_int_equal(echoes_now(), i + 1);
		pthread_mutex_lock(&host_mu);
		assert_string_equal(last, msg);
		pthread_mutex_unlock(&host_mu);
	}
	pthread_mutex_lock(&out_mu);
	assert_non_null(strstr(out, "rpmsg_chrdev is OK! src is 0x3000 dst is 0x1000\r\n"));
	assert_non_null(strstr(out, "message:hello there 0! len:14\r\n"));
	assert_non_null(strstr(out, "message:hello there 9! len:14\r\n"));
	pthread_mutex_unlock(&out_mu);
	/* the remote's endpoint was announced to the host */
	struct rpmsg_stats st;
	al_get_stats(&lb.dev.rvdev.rdev, &st);
	assert_true(st.ns_announced >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(device_api),
	    cmocka_unit_test(queue_full_and_short_read),
	    cmocka_unit_test(echo_example_runs_unchanged),
	};
	/* the example's thread reads for ever: the process ends with it blocked */
	return cmocka_run_group_tests(tests, setup, NULL);
}

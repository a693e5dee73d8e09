/* The RPMsg-Lite-style API under real concurrency: each side's doorbell
 * handler runs in its own thread (as on Linux or an RTOS rx task), a master
 * thread sends with RL_BLOCK, a remote thread takes messages from a queue
 * (copying and zero-copy, RL_BLOCK and finite timeouts) and echoes them.
 * Checks order, content, and that no buffer is lost on the way (a receive
 * buffer released by the reader while the doorbell thread is still
 * finishing the callback that queued it). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "amplink/rpmsg_lite.h"
#include "amplink/rpmsg_ns.h"
#include "amplink/rpmsg_queue.h"

#define MESSAGES 3000
#define DA	 0x40000000u

_Static_assert(RL_PLATFORM_HIGHEST_LINK_ID >= 1, "the test uses links 0 and 1");

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE];

struct side {
	struct rpmsg_lite_instance ctx, *rl;
	pthread_mutex_t dev_lock; /* the port lock hook */
	pthread_mutex_t m;	  /* doorbell and wait state */
	pthread_cond_t bell, wakeup;
	int pending;
	unsigned wake_gen;
	bool stop;
	pthread_t isr;
	struct side *peer;
};
static struct side S[2]; /* 0 master, 1 remote */

static void t_notify(void *ctx, uint32_t id)
{
	(void)id;
	struct side *p = ((struct side *)ctx)->peer;
	pthread_mutex_lock(&p->m);
	p->pending = 1;
	pthread_cond_signal(&p->bell);
	pthread_mutex_unlock(&p->m);
}
static void t_lock(void *ctx)
{
	pthread_mutex_lock(&((struct side *)ctx)->dev_lock);
}
static void t_unlock(void *ctx)
{
	pthread_mutex_unlock(&((struct side *)ctx)->dev_lock);
}
static uint64_t t_time(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
/* Sleep until a wake or the timeout, at most 2 ms (spurious returns are
 * allowed by the port contract and make a missed wake-up cheap). */
static void t_wait(void *ctx, uint32_t ms)
{
	struct side *s = ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long ns = (long)(ms < 2 ? ms : 2) * 1000000L;
	ts.tv_nsec += ns;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->m);
	unsigned gen = s->wake_gen;
	while (gen == s->wake_gen && pthread_cond_timedwait(&s->wakeup, &s->m, &ts) == 0)
		;
	pthread_mutex_unlock(&s->m);
}
static void t_wake(void *ctx)
{
	struct side *s = ctx;
	pthread_mutex_lock(&s->m);
	s->wake_gen++;
	pthread_cond_broadcast(&s->wakeup);
	pthread_mutex_unlock(&s->m);
}
static const struct al_port_ops t_ops = {
    .notify = t_notify,
    .lock = t_lock,
    .unlock = t_unlock,
    .time_ms = t_time,
    .wait = t_wait,
    .wake = t_wake,
};

/* The doorbell thread of one side: its receive context. */
static void *isr_thread(void *arg)
{
	struct side *s = arg;
	pthread_mutex_lock(&s->m);
	for (;;) {
		while (!s->pending && !s->stop)
			pthread_cond_wait(&s->bell, &s->m);
		if (s->stop)
			break;
		s->pending = 0;
		pthread_mutex_unlock(&s->m);
		if (s->rl)
			(void)rpmsg_lite_isr(s->rl);
		pthread_mutex_lock(&s->m);
	}
	pthread_mutex_unlock(&s->m);
	return NULL;
}

/* ---- the two applications ------------------------------------------------------ */

static struct rpmsg_lite_endpoint *master_ept, *remote_ept;
static rpmsg_queue_handle remote_q;
static volatile uint32_t service_addr = RL_ADDR_ANY;
static int echoes, echo_errors;

static int32_t master_rx(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)priv;
	uint32_t seq;
	memcpy(&seq, payload, sizeof(seq));
	if (src != remote_ept->addr || seq != (uint32_t)echoes || len != 4u + seq % 200u)
		echo_errors++;
	for (uint32_t i = 4; i < len; i++)
		if (((unsigned char *)payload)[i] != (unsigned char)(seq + i))
			echo_errors++;
	__atomic_add_fetch(&echoes, 1, __ATOMIC_SEQ_CST);
	return RL_RELEASE;
}

static void ns_cb(uint32_t new_ept, const char *name, uint32_t flags, void *user_data)
{
	(void)user_data;
	if (flags == RL_NS_CREATE && strcmp(name, "threads") == 0)
		service_addr = new_ept;
}

static void *master_sender(void *arg)
{
	(void)arg;
	unsigned char msg[4 + 200];
	for (uint32_t seq = 0; seq < MESSAGES; seq++) {
		uint32_t len = 4u + seq % 200u;
		memcpy(msg, &seq, 4);
		for (uint32_t i = 4; i < len; i++)
			msg[i] = (unsigned char)(seq + i);
		if (rpmsg_lite_send(S[0].rl, master_ept, service_addr, (char *)msg, len,
				    RL_BLOCK) != RL_SUCCESS)
			return (void *)1;
	}
	return NULL;
}

static void concurrent_queue_echo(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context mctx, rctx;
	static rpmsg_ns_static_context nsc;
	static rpmsg_static_queue_ctxt qctx;
	static uint8_t qstorage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
	for (int i = 0; i < 2; i++) {
		S[i].peer = &S[1 - i];
		pthread_mutex_init(&S[i].dev_lock, NULL);
		pthread_mutex_init(&S[i].m, NULL);
		pthread_cond_init(&S[i].bell, NULL);
		pthread_cond_init(&S[i].wakeup, NULL);
		assert_int_equal(rpmsg_lite_set_platform((uint32_t)i, &t_ops, &S[i], DA),
				 RL_SUCCESS);
	}
	S[1].rl = rpmsg_lite_remote_init_static(shm, 1, RL_NO_FLAGS, &S[1].ctx);
	assert_non_null(S[1].rl);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&S[i].isr, NULL, isr_thread, &S[i]), 0);
	S[0].rl = rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &S[0].ctx);
	assert_non_null(S[0].rl);
	assert_non_null(rpmsg_ns_bind_static(S[0].rl, ns_cb, NULL, &nsc));
	assert_int_equal(rpmsg_lite_wait_for_link_up(S[1].rl, 5000), RL_TRUE);

	remote_q = rpmsg_queue_create_static(S[1].rl, qstorage, &qctx);
	remote_ept =
	    rpmsg_lite_create_ept_static(S[1].rl, RL_ADDR_ANY, rpmsg_queue_rx_cb, remote_q, &rctx);
	master_ept = rpmsg_lite_create_ept_static(S[0].rl, RL_ADDR_ANY, master_rx, NULL, &mctx);
	assert_non_null(remote_ept);
	assert_non_null(master_ept);
	assert_int_equal(rpmsg_ns_announce(S[1].rl, remote_ept, "threads", RL_NS_CREATE),
			 RL_SUCCESS);
	for (int i = 0; i < 5000 && service_addr == RL_ADDR_ANY; i++)
		t_wait(&S[0], 1);
	assert_int_equal(service_addr, remote_ept->addr);

	pthread_t sender;
	assert_int_equal(pthread_create(&sender, NULL, master_sender, NULL), 0);
	/* remote application thread: take, check, echo */
	for (uint32_t seq = 0; seq < MESSAGES; seq++) {
		unsigned char buf[RL_BUFFER_PAYLOAD_SIZE];
		char *data = (char *)buf;
		uint32_t src = 0, len = 0;
		int32_t rc;
		if (seq % 3 == 0) { /* zero copy */
			rc =
			    rpmsg_queue_recv_nocopy(S[1].rl, remote_q, &src, &data, &len, RL_BLOCK);
		} else if (seq % 3 == 1) {
			rc = rpmsg_queue_recv(S[1].rl, remote_q, &src, (char *)buf, sizeof(buf),
					      &len, RL_BLOCK);
		} else { /* finite timeouts, retried */
			while ((rc = rpmsg_queue_recv(S[1].rl, remote_q, &src, (char *)buf,
						      sizeof(buf), &len, 1)) == RL_ERR_NO_BUFF)
				;
		}
		assert_int_equal(rc, RL_SUCCESS);
		uint32_t got;
		memcpy(&got, data, 4);
		assert_int_equal(got, seq);
		assert_int_equal(src, master_ept->addr);
		assert_int_equal(rpmsg_lite_send(S[1].rl, remote_ept, src, data, len, RL_BLOCK),
				 RL_SUCCESS);
		if (data != (char *)buf)
			assert_int_equal(rpmsg_queue_nocopy_free(S[1].rl, data), RL_SUCCESS);
	}
	void *sender_rc;
	pthread_join(sender, &sender_rc);
	assert_null(sender_rc);
	for (int i = 0; i < 5000 && __atomic_load_n(&echoes, __ATOMIC_SEQ_CST) < MESSAGES; i++)
		t_wait(&S[0], 1);
	assert_int_equal(echoes, MESSAGES);
	assert_int_equal(echo_errors, 0);
	assert_int_equal(al_rpmsg_queue_dropped(remote_q), 0);
	/* every buffer came home: none was lost between the threads */
	for (int i = 0;
	     i < 5000 &&
	     (rpmsg_lite_get_number_of_free_buffers(S[0].rl) != (int32_t)RL_BUFFER_COUNT ||
	      rpmsg_lite_get_number_of_free_buffers(S[1].rl) != (int32_t)RL_BUFFER_COUNT);
	     i++)
		t_wait(&S[0], 1);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(S[0].rl), RL_BUFFER_COUNT);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(S[1].rl), RL_BUFFER_COUNT);

	for (int i = 0; i < 2; i++) {
		pthread_mutex_lock(&S[i].m);
		S[i].stop = true;
		pthread_cond_signal(&S[i].bell);
		pthread_mutex_unlock(&S[i].m);
		pthread_join(S[i].isr, NULL);
	}
	rpmsg_lite_destroy_ept(S[1].rl, remote_ept);
	rpmsg_queue_destroy(S[1].rl, remote_q);
	rpmsg_lite_destroy_ept(S[0].rl, master_ept);
	rpmsg_ns_unbind(S[0].rl, &nsc);
	rpmsg_lite_deinit(S[0].rl);
	rpmsg_lite_deinit(S[1].rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(concurrent_queue_echo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

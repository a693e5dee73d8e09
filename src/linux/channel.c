/* Channels: blocking read/write over one endpoint with a pollable
 * descriptor (see include/amplink/linux/channel.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/posix_port.h"
#include "amplink/linux/rpmsg_char.h"
#include "amplink/rpmsg_virtio.h"

/* A queued message: a copy, or (once AL_CHANNEL_QUEUE_LEN copies wait) the
 * received buffer itself, held. Holding pushes back on the sender: the
 * remote runs out of buffers instead of messages being lost. */
struct msg {
	struct msg *next;
	uint32_t src;
	uint32_t len;
	void *held; /* the rx buffer, or NULL for a copy in data[] */
	uint8_t data[];
};

struct al_channel {
	struct rpmsg_endpoint ept;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *head, **tail;
	unsigned count, copies;
	int efd;
	struct al_channel_stats st;
	struct al_rpmsg_char *k; /* the kernel's rpmsg_char instead of ept, or NULL */
};

static void efd_set(struct al_channel *ch, int on)
{
	uint64_t v = 1;
	ssize_t n = on ? write(ch->efd, &v, sizeof(v)) : read(ch->efd, &v, sizeof(v));
	(void)n;
}

/* Receive context: queue the message (never blocks). */
static int channel_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct al_channel *ch = priv;
	bool hold = ch->copies >= AL_CHANNEL_QUEUE_LEN; /* only this thread adds copies */
	struct msg *m = malloc(sizeof(*m) + (hold ? 0 : len));
	if (m && hold && al_rpmsg_hold_rx_buffer(ept, data) != 0) {
		free(m);
		m = NULL;
	}
	pthread_mutex_lock(&ch->mu);
	if (!m) {
		ch->st.dropped++;
	} else {
		*m = (struct msg){NULL, src, (uint32_t)len, hold ? data : NULL};
		if (!hold) {
			memcpy(m->data, data, len);
			ch->copies++;
		}
		*ch->tail = m;
		ch->tail = &m->next;
		if (ch->count++ == 0)
			efd_set(ch, 1);
		ch->st.rx++;
		pthread_cond_broadcast(&ch->cv);
	}
	pthread_mutex_unlock(&ch->mu);
	return RPMSG_SUCCESS;
}

/* Unlink the head message (lock held) and give back what it holds. */
static void pop(struct al_channel *ch)
{
	struct msg *m = ch->head;
	ch->head = m->next;
	if (!ch->head)
		ch->tail = &ch->head;
	if (m->held)
		al_rpmsg_release_rx_buffer(&ch->ept, m->held);
	else
		ch->copies--;
	if (--ch->count == 0)
		efd_set(ch, 0);
	free(m);
}

static void channel_unbind(struct rpmsg_endpoint *ept)
{
	struct al_channel *ch = ept->priv;
	pthread_mutex_lock(&ch->mu);
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
}

int al_channel_open(struct rpmsg_device *rdev, const char *name, uint32_t src, uint32_t dst,
		    uint32_t timeout_ms, struct al_channel **out)
{
	if (!rdev || !out || (dst == RPMSG_ADDR_ANY && (!name || !name[0])))
		return AL_EINVAL;
	*out = NULL;
	uint64_t t0 = al_posix_now_ms();
	while (dst == RPMSG_ADDR_ANY && al_services_lookup(rdev, name, &dst) != 0) {
		if (!al_posix_left_ms(t0, timeout_ms))
			return AL_ETIMEDOUT;
		int st = al_virtio_link_state(al_virtio_from_rdev(rdev));
		if (st == AL_LINK_LOST || st == AL_LINK_BROKEN)
			return st == AL_LINK_LOST ? AL_ENOLINK : AL_EBROKEN;
		struct timespec d = {0, 1000000L};
		nanosleep(&d, NULL);
	}
	struct al_channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return AL_ENOMEM;
	ch->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->efd < 0) {
		free(ch);
		return AL_ENOMEM;
	}
	pthread_mutex_init(&ch->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ch->cv, &ca);
	pthread_condattr_destroy(&ca);
	ch->tail = &ch->head;
	int rc = rpmsg_create_ept(&ch->ept, rdev, name, src, dst, channel_rx, channel_unbind);
	if (rc) {
		close(ch->efd);
		free(ch);
		return rc;
	}
	ch->ept.priv = ch;
	*out = ch;
	return 0;
}

int al_channel_open_kernel_at(const struct al_rpmsg_char_cfg *cfg, const char *link,
			      const char *name, uint32_t src, uint32_t dst, uint32_t timeout_ms,
			      struct al_channel **out)
{
	const char *ctrl;
	if (!out || !al_rpmsg_char_is_kernel_link(link, &ctrl))
		return AL_EINVAL;
	*out = NULL;
	struct al_channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return AL_ENOMEM;
	int rc = al_rpmsg_char_open_channel(cfg, ctrl, name, src, dst, timeout_ms, &ch->k);
	if (rc) {
		free(ch);
		return rc;
	}
	al_rpmsg_char_addrs(ch->k, &ch->ept.addr, &ch->ept.dest_addr);
	*out = ch;
	return 0;
}

int al_channel_open_kernel(const char *link, const char *name, uint32_t src, uint32_t dst,
			   uint32_t timeout_ms, struct al_channel **out)
{
	return al_channel_open_kernel_at(NULL, link, name, src, dst, timeout_ms, out);
}

static int link_gone(struct al_channel *ch)
{
	if (!ch->ept.rdev)
		return AL_ENOLINK;
	int st = al_virtio_link_state(al_virtio_from_rdev(ch->ept.rdev));
	return st == AL_LINK_LOST ? AL_ENOLINK : st == AL_LINK_BROKEN ? AL_EBROKEN : 0;
}

long al_channel_read(struct al_channel *ch, void *buf, size_t cap, uint32_t *src,
		     uint32_t timeout_ms)
{
	if (!ch || (!buf && cap))
		return AL_EINVAL;
	if (ch->k) {
		long n = al_rpmsg_char_read(ch->k, buf, cap, timeout_ms);
		if (n >= 0 && src)
			*src = ch->ept.dest_addr;
		return n;
	}
	uint64_t deadline = al_posix_now_ms() + timeout_ms;
	long rc;
	pthread_mutex_lock(&ch->mu);
	while (ch->count == 0) {
		rc = link_gone(ch);
		if (!rc && timeout_ms == 0)
			rc = AL_EAGAIN;
		uint64_t now = al_posix_now_ms();
		if (!rc && timeout_ms != AL_WAIT_FOREVER && now >= deadline)
			rc = AL_ETIMEDOUT;
		if (rc) {
			pthread_mutex_unlock(&ch->mu);
			return rc;
		}
		/* wake at least every 50 ms to notice a link that went away */
		uint64_t slice =
		    timeout_ms == AL_WAIT_FOREVER || deadline - now > 50 ? 50 : deadline - now;
		struct timespec ts = al_posix_deadline((uint32_t)slice);
		pthread_cond_timedwait(&ch->cv, &ch->mu, &ts);
	}
	struct msg *m = ch->head;
	if (m->len > cap) {
		rc = AL_EMSGSIZE; /* leave it queued */
	} else {
		memcpy(buf, m->held ? m->held : m->data, m->len);
		if (src)
			*src = m->src;
		rc = (long)m->len;
		pop(ch);
	}
	pthread_mutex_unlock(&ch->mu);
	return rc;
}

long al_channel_next_len(struct al_channel *ch)
{
	if (!ch)
		return AL_EINVAL;
	if (ch->k) {
		return al_rpmsg_char_next_len(ch->k);
	}
	pthread_mutex_lock(&ch->mu);
	long rc = ch->head ? (long)ch->head->len : AL_EAGAIN;
	pthread_mutex_unlock(&ch->mu);
	return rc;
}

long al_channel_write(struct al_channel *ch, const void *buf, size_t len, uint32_t timeout_ms)
{
	if (!ch || len > INT32_MAX)
		return AL_EINVAL;
	if (ch->k) {
		return al_rpmsg_char_write(ch->k, buf, len, timeout_ms);
	}
	if (!ch->ept.rdev)
		return AL_ENOLINK;
	int rc =
	    al_send_timeout(&ch->ept, ch->ept.addr, ch->ept.dest_addr, buf, (int)len, timeout_ms);
	if (rc >= 0) {
		pthread_mutex_lock(&ch->mu);
		ch->st.tx++;
		pthread_mutex_unlock(&ch->mu);
	}
	return rc;
}

int al_channel_fd(const struct al_channel *ch)
{
	return ch ? (ch->k ? al_rpmsg_char_fd(ch->k) : ch->efd) : -1;
}

struct rpmsg_endpoint *al_channel_ept(struct al_channel *ch)
{
	return ch ? &ch->ept : NULL;
}

void al_channel_get_stats(struct al_channel *ch, struct al_channel_stats *out)
{
	if (!ch || !out)
		return;
	if (ch->k) {
		*out = (struct al_channel_stats){0};
		al_rpmsg_char_counts(ch->k, &out->rx, &out->tx);
		return;
	}
	pthread_mutex_lock(&ch->mu);
	*out = ch->st;
	pthread_mutex_unlock(&ch->mu);
}

void al_channel_close(struct al_channel *ch)
{
	if (!ch)
		return;
	if (ch->k) {
		al_rpmsg_char_close(ch->k);
		free(ch);
		return;
	}
	while (ch->head)
		pop(ch);
	rpmsg_destroy_ept(&ch->ept);
	close(ch->efd);
	pthread_mutex_destroy(&ch->mu);
	pthread_cond_destroy(&ch->cv);
	free(ch);
}

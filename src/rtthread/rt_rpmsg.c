/* RT-Thread's rpmsg device (amplink/rt_rpmsg.h) over the core: a registry
 * of devices for rt_device_find(), one core endpoint per configured
 * address, and a small ring of held receive buffers per endpoint for the
 * blocking read. */
#include "amplink/rt_rpmsg.h"

#include <string.h>

#include "amplink/rpmsg_virtio.h"

/* The layout of RT-Thread's struct rt_rpmsg_ep_addr (programs define it). */
struct ep_addr {
	const char *name;
	rt_uint32_t src;
	rt_uint32_t dst;
};

static struct rt_device *devices; /* registered at board init, before threads */

static struct al_rt_rpmsg *rt_of(rt_device_t dev)
{
	return al_container_of(dev, struct al_rt_rpmsg, parent);
}

int al_rt_rpmsg_register(struct al_rt_rpmsg *dev, const char *name, struct rpmsg_device *rdev)
{
	if (!dev || !name || !rdev)
		return AL_EINVAL;
	if (rt_device_find(name))
		return AL_EADDR;
	memset(dev, 0, sizeof(*dev));
	dev->parent.name = name;
	dev->parent.flag = RT_DEVICE_FLAG_RDWR;
	dev->rdev = rdev;
	dev->parent.next = devices;
	devices = &dev->parent;
	return 0;
}

static void close_all(struct al_rt_rpmsg *d)
{
	for (unsigned i = 0; i < AL_RT_MAX_EPTS; i++) {
		struct al_rt_ept *e = &d->epts[i];
		if (!e->used)
			continue;
		rpmsg_destroy_ept(&e->ept);
		/* what waited unread goes back to the peer */
		while (e->head != e->tail)
			(void)al_dev_release_rx_buffer(d->rdev, e->q[e->head++ % AL_RT_QUEUE].data);
		e->used = 0;
	}
}

void al_rt_rpmsg_unregister(struct al_rt_rpmsg *dev)
{
	if (!dev)
		return;
	close_all(dev);
	dev->parent.open_flag = RT_DEVICE_OFLAG_CLOSE;
	dev->parent.ref_count = 0;
	for (struct rt_device **p = &devices; *p; p = &(*p)->next)
		if (*p == &dev->parent) {
			*p = dev->parent.next;
			break;
		}
}

rt_device_t rt_device_find(const char *name)
{
	if (!name)
		return RT_NULL;
	for (struct rt_device *d = devices; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return RT_NULL;
}

rt_err_t rt_device_open(rt_device_t dev, rt_uint16_t oflag)
{
	if (!dev)
		return -RT_EINVAL;
	dev->open_flag = (rt_uint16_t)(oflag | RT_DEVICE_OFLAG_OPEN);
	dev->ref_count++;
	return RT_EOK;
}

rt_err_t rt_device_close(rt_device_t dev)
{
	if (!dev)
		return -RT_EINVAL;
	if (dev->ref_count == 0)
		return -RT_ERROR;
	if (--dev->ref_count == 0) {
		close_all(rt_of(dev));
		dev->open_flag = RT_DEVICE_OFLAG_CLOSE;
	}
	return RT_EOK;
}

/* Receive context: keep the buffer and queue it for the reader. */
static int rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	struct al_rt_ept *e = al_container_of(ept, struct al_rt_ept, ept);
	uint32_t t = e->tail;
	if (t - __atomic_load_n(&e->head, __ATOMIC_ACQUIRE) >= AL_RT_QUEUE ||
	    al_rpmsg_hold_rx_buffer(ept, data) != 0) {
		e->dropped++;
		return RPMSG_SUCCESS;
	}
	e->q[t % AL_RT_QUEUE].data = data;
	e->q[t % AL_RT_QUEUE].len = (uint32_t)len;
	__atomic_store_n(&e->tail, t + 1u, __ATOMIC_RELEASE);
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(e->dev->rdev);
	if (rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	return RPMSG_SUCCESS;
}

static char *put_hex(char *p, uint32_t v)
{
	*p++ = '0';
	*p++ = 'x';
	int shift = 28;
	while (shift > 0 && !(v >> shift & 0xFu))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[v >> shift & 0xFu];
	return p;
}

/* "<name> is OK! src is 0x3000 dst is 0x1000", as RT-Thread's driver says. */
static void log_config(struct al_rt_rpmsg *d, const struct al_rt_ept *e)
{
	if (!d->log)
		return;
	char line[RPMSG_NAME_SIZE + 48], *p = line;
	size_t n = 0;
	while (n < RPMSG_NAME_SIZE && e->ept.name[n])
		n++;
	memcpy(p, e->ept.name, n);
	p += n;
	memcpy(p, " is OK! src is ", 15);
	p = put_hex(p + 15, e->ept.addr);
	memcpy(p, " dst is ", 8);
	p = put_hex(p + 8, e->dst);
	*p = '\0';
	d->log(d->log_ctx, line);
}

static rt_err_t configure(struct al_rt_rpmsg *d, const struct ep_addr *a)
{
	if (!a || !a->name)
		return -RT_EINVAL;
	struct al_rt_ept *e = NULL;
	for (unsigned i = 0; i < AL_RT_MAX_EPTS && !e; i++)
		if (!d->epts[i].used)
			e = &d->epts[i];
	if (!e)
		return -RT_EFULL;
	e->dev = d;
	e->head = e->tail = e->dropped = 0;
	e->dst = a->dst;
	/* created unbound so that it is announced; writes name their dst */
	int rc = rpmsg_create_ept(&e->ept, d->rdev, a->name, a->src, RPMSG_ADDR_ANY, rx_cb, NULL);
	if (rc)
		return rc == AL_EADDR ? -RT_EBUSY : rc == AL_EINVAL ? -RT_EINVAL : -RT_ERROR;
	e->used = 1;
	log_config(d, e);
	return RT_EOK;
}

rt_err_t rt_device_control(rt_device_t dev, int cmd, void *arg)
{
	if (!dev)
		return -RT_EINVAL;
	if (cmd != RT_DEVICE_CTRL_CONFIG)
		return -RT_ENOSYS;
	return configure(rt_of(dev), arg);
}

static struct al_rt_ept *by_src(struct al_rt_rpmsg *d, uint32_t src)
{
	for (unsigned i = 0; i < AL_RT_MAX_EPTS; i++)
		if (d->epts[i].used && d->epts[i].ept.addr == src)
			return &d->epts[i];
	return NULL;
}

rt_ssize_t rt_device_read(rt_device_t dev, rt_off_t pos, void *buffer, rt_size_t size)
{
	if (!dev || !buffer || !dev->ref_count)
		return 0;
	struct al_rt_rpmsg *d = rt_of(dev);
	struct al_rt_ept *e = by_src(d, (uint32_t)pos);
	if (!e)
		return 0;
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(d->rdev);
	for (;;) {
		uint32_t h = e->head;
		if (h != __atomic_load_n(&e->tail, __ATOMIC_ACQUIRE)) {
			void *data = e->q[h % AL_RT_QUEUE].data;
			size_t n = e->q[h % AL_RT_QUEUE].len;
			if (n > size)
				n = size;
			memcpy(buffer, data, n);
			__atomic_store_n(&e->head, h + 1u, __ATOMIC_RELEASE);
			(void)al_dev_release_rx_buffer(d->rdev, data);
			return (rt_ssize_t)n;
		}
		int st = al_virtio_link_state(rv);
		if (st == AL_LINK_BROKEN || st == AL_LINK_LOST || !rv->ops->wait)
			return 0;
		rv->ops->wait(rv->port_ctx, AL_WAIT_FOREVER);
	}
}

rt_ssize_t rt_device_write(rt_device_t dev, rt_off_t pos, const void *buffer, rt_size_t size)
{
	if (!dev || !buffer || !dev->ref_count || size > INT32_MAX)
		return 0;
	struct al_rt_rpmsg *d = rt_of(dev);
	struct al_rt_ept *e = NULL;
	for (unsigned i = 0; i < AL_RT_MAX_EPTS && !e; i++)
		if (d->epts[i].used && d->epts[i].dst == (uint32_t)pos)
			e = &d->epts[i];
	for (unsigned i = 0; i < AL_RT_MAX_EPTS && !e; i++)
		if (d->epts[i].used)
			e = &d->epts[i];
	if (!e)
		return 0;
	int rc = rpmsg_sendto(&e->ept, buffer, (int)size, (uint32_t)pos);
	return rc < 0 ? 0 : (rt_ssize_t)rc;
}

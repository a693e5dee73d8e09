/* Loopback port: both sides of a link in one process (see port_loopback.h). */
#include "amplink/port_loopback.h"

#include <string.h>

#include "amplink/error.h"
#include "amplink/virtio.h"

static struct al_loopback_side *peer_of(struct al_loopback_side *s)
{
	return s == &s->lb->drv ? &s->lb->dev : &s->lb->drv;
}

static void lb_notify(void *ctx, uint32_t notifyid)
{
	(void)notifyid;
	struct al_loopback_side *peer = peer_of(ctx);
	peer->pending++;
	peer->rung++;
}

static uint64_t lb_time(void *ctx)
{
	return ((struct al_loopback_side *)ctx)->lb->now_ms;
}

/* A blocked sender: let the peer run (it may return buffers), then let
 * simulated time pass. */
static void lb_wait(void *ctx, uint32_t timeout_ms)
{
	struct al_loopback_side *s = ctx;
	struct al_loopback_side *peer = peer_of(s);
	if (s->lb->pump_in_wait && peer->pending) {
		peer->pending = 0;
		peer->last_rc = al_virtio_notified(&peer->rvdev);
		return;
	}
	s->lb->now_ms += timeout_ms == AL_WAIT_FOREVER || timeout_ms > 10 ? 10 : timeout_ms;
}

const struct al_port_ops al_loopback_ops = {
    .notify = lb_notify,
    .time_ms = lb_time,
    .wait = lb_wait,
};

int al_loopback_init(struct al_loopback *lb, void *mem, size_t size,
		     const struct al_layout_cfg *cfg)
{
	static const struct al_layout_cfg def = {
	    16, 16, 512, (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX)};
	if (!lb || !mem)
		return AL_EINVAL;
	memset(lb, 0, sizeof(*lb));
	lb->cfg = cfg ? *cfg : def;
	if (lb->cfg.num > AL_LOOPBACK_MAX_NUM)
		return AL_EINVAL;
	lb->shm = (struct al_shm){mem, AL_LOOPBACK_DA, size};
	int rc = al_layout_plan(&lb->cfg, AL_LOOPBACK_DA, size, &lb->layout);
	if (rc)
		return rc;
	memset(mem, 0, lb->layout.total);
	rc = al_layout_write_rsc(&lb->shm, &lb->layout, &lb->cfg);
	if (rc)
		return rc;
	rpmsg_virtio_init_shm_pool(
	    &lb->pool, al_shm_da_to_va(&lb->shm, lb->layout.pool_da, lb->layout.pool_size),
	    lb->layout.pool_size);
	struct al_loopback_side *sides[2] = {&lb->drv, &lb->dev};
	for (unsigned i = 0; i < 2; i++) {
		struct al_loopback_side *s = sides[i];
		s->lb = lb;
		s->vdev.role = i == 0 ? VIRTIO_DEV_DRIVER : VIRTIO_DEV_DEVICE;
		s->vdev.vdev_da = lb->layout.vdev_da;
		s->vdev.features = lb->cfg.features;
		s->vdev.shadows = s->shadows;
		s->vdev.num_shadows = 2 * AL_LOOPBACK_MAX_NUM;
		s->vdev.ops = &al_loopback_ops;
		s->vdev.port_ctx = s;
	}
	return 0;
}

int al_loopback_start(struct al_loopback *lb, rpmsg_ns_bind_cb drv_bind, rpmsg_ns_bind_cb dev_bind)
{
	int rc = rpmsg_init_vdev(&lb->dev.rvdev, &lb->dev.vdev, dev_bind, &lb->shm, NULL);
	if (rc == 0)
		rc = rpmsg_init_vdev(&lb->drv.rvdev, &lb->drv.vdev, drv_bind, &lb->shm, &lb->pool);
	return rc;
}

int al_loopback_pump(struct al_loopback *lb, int max_rounds)
{
	int total = 0;
	if (max_rounds <= 0)
		max_rounds = 1000;
	for (int round = 0; round < max_rounds && (lb->drv.pending || lb->dev.pending); round++) {
		struct al_loopback_side *sides[2] = {&lb->dev, &lb->drv};
		for (int i = 0; i < 2; i++) {
			struct al_loopback_side *s = sides[i];
			if (!s->pending)
				continue;
			s->pending = 0;
			s->last_rc = al_virtio_notified(&s->rvdev);
			if (s->last_rc < 0 && s->last_rc != AL_ESTATE)
				return s->last_rc;
			if (s->last_rc > 0)
				total += s->last_rc;
		}
	}
	return total;
}

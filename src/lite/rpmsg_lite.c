/* The RPMsg-Lite-style API over the amplink core: platform registry, init,
 * link state, endpoints, copying and zero-copy send (rpmsg_lite.h). */
#define AMPLINK_LITE_BUILD
#include "amplink/rpmsg_lite.h"

#include <stdbool.h>
#include <string.h>
#if !AMPLINK_NO_MALLOC
#include "amplink/rpmsg_env.h"
#endif

#include "amplink/layout.h"
#include "lite_internal.h"
#include "rpmsg_internal.h"
#include "shm_access.h"

#if RL_PLATFORM_STATIC
#define PLATFORM(id) (&rl_platform[id])
#else
static struct {
	const struct al_port_ops *ops;
	void *ctx;
	uint64_t shm_da;
} platform[RL_PLATFORM_HIGHEST_LINK_ID + 1U];
#define PLATFORM(id) (&platform[id])
#endif

/* Initialised and not deinitialised: the core link has its port. */
static bool live(const struct rpmsg_lite_instance *rl)
{
	return rl && rl->rvdev.ops;
}

int32_t al_lite_err(int rc)
{
	switch (rc) {
	case AL_EMSGSIZE: return RL_ERR_BUFF_SIZE;
	case AL_ENOBUFS:
	case AL_ENOMEM: return RL_ERR_NO_MEM;
	case AL_ESTATE:
	case AL_EBROKEN:
	case AL_ENOLINK: return RL_NOT_READY;
	default: return rc >= 0 ? RL_SUCCESS : RL_ERR_PARAM;
	}
}

#if !RL_PLATFORM_STATIC
int32_t rpmsg_lite_set_platform(uint32_t link_id, const struct al_port_ops *ops, void *ctx,
				uint64_t shm_da)
{
	if (link_id > RL_PLATFORM_HIGHEST_LINK_ID || (ops && !ops->notify))
		return RL_ERR_PARAM;
	platform[link_id].ops = ops;
	platform[link_id].ctx = ctx;
	platform[link_id].shm_da = shm_da;
	return RL_SUCCESS;
}
#endif

/* Plan the layout.h layout at the platform's device address; the remote
 * writes the resource table, the master gets the buffer pool. `len` is
 * SIZE_MAX for the remote (it uses exactly what the plan needs). Returns
 * false if the layout does not fit. */
static bool lite_layout(struct rpmsg_lite_instance *rl, struct al_shm *shm,
			struct virtio_device *vdev, struct rpmsg_virtio_shm_pool **pool)
{
	static const struct al_layout_cfg cfg = {.num = RL_BUFFER_COUNT,
						 .align = RL_VRING_ALIGN,
						 .buf_size = AL_LITE_BUF_SIZE,
						 .features = RL_VDEV_FEATURES};
	struct al_layout lay;
	if (al_layout_plan(&cfg, shm->da, shm->size, &lay))
		return false;
	vdev->vdev_da = lay.vdev_da;
	if (vdev->role == VIRTIO_DEV_DEVICE) {
		shm->size = lay.total;
		if (al_layout_write_rsc(shm, &lay, &cfg))
			return false;
		if (vdev->ops->cache_flush)
			vdev->ops->cache_flush(vdev->port_ctx, shm->va,
					       sizeof(struct al_rsc_table_rpmsg));
	}
#if !AL_CFG_DEVICE_ONLY
	else {
		*pool = &rl->pool;
		rpmsg_virtio_init_shm_pool(*pool, al_shm_da_to_va(shm, lay.pool_da, lay.pool_size),
					   lay.pool_size);
	}
#else
	(void)rl, (void)pool;
#endif
	return true;
}

/* Both roles: find (or lay out) the link in the region, then the core does
 * the rest. */
static struct rpmsg_lite_instance *lite_init(struct rpmsg_lite_instance *rl, void *shmem_addr,
					     size_t len, uint32_t link_id, unsigned int role)
{
	static const struct rpmsg_virtio_config vcfg = {.h2r_buf_size = AL_LITE_BUF_SIZE,
							.r2h_buf_size = AL_LITE_BUF_SIZE};
#if AL_CFG_DEVICE_ONLY
	if (role != VIRTIO_DEV_DEVICE)
		return NULL; /* a remote-only build: the master's path is not there */
#endif
	if (!rl || !shmem_addr || link_id > RL_PLATFORM_HIGHEST_LINK_ID)
		return NULL;
#if RL_PLATFORM_LAYER
	if (!PLATFORM(link_id)->ops || PLATFORM(link_id)->ops == &al_lite_pl_ops)
		al_lite_pl_attach(link_id, shmem_addr); /* the board's RPMsg-Lite port */
#endif
	if (!PLATFORM(link_id)->ops)
		return NULL;
	/* A base that is not aligned is rounded up, as RPMsg-Lite does, before
	 * anything is written there: to the vring alignment, which the
	 * layout's resource table and vrings need (RPMsg-Lite: a word). */
	uint64_t da = PLATFORM(link_id)->shm_da;
	size_t skew = (size_t)((RL_VRING_ALIGN - da % RL_VRING_ALIGN) % RL_VRING_ALIGN);
	if (len < skew || (((uintptr_t)shmem_addr + skew) & (RL_WORD_SIZE - 1U)))
		return NULL; /* too small, or address and device address disagree */
	struct al_shm shm = {(uint8_t *)shmem_addr + skew, PLATFORM(link_id)->shm_da + skew,
			     len == SIZE_MAX ? len : len - skew};
	struct virtio_device vdev = {.role = role,
				     .features = RL_VDEV_FEATURES,
				     .shadows = rl->shadows,
				     .num_shadows = 2U * RL_BUFFER_COUNT,
				     .ops = PLATFORM(link_id)->ops,
				     .port_ctx = PLATFORM(link_id)->ctx};
	struct rpmsg_virtio_shm_pool *pool = NULL;
#if RL_PLATFORM_STATIC
	if (role == VIRTIO_DEV_DEVICE) {
		/* The firmware's table: its VDEV entry's address as the master
		 * sees it. A table outside the region gives an address the core
		 * refuses (unsigned arithmetic, no pointer compare across objects). */
		const struct rl_platform_link *p = PLATFORM(link_id);
		if (!p->vdev || p->shm_size < skew)
			return NULL;
		shm.size = p->shm_size - skew;
		vdev.vdev_da = shm.da + ((uintptr_t)p->vdev - (uintptr_t)shm.va);
#if AL_CFG_MAX_REGIONS > 1
		vdev.regions = p->regions;
		vdev.num_regions = p->num_regions;
#endif
	} else
#endif
	    if (!lite_layout(rl, &shm, &vdev, &pool))
		return NULL;
	rl->ns = NULL;
	AL_LITE_MARK(rl, 0);
	if (rpmsg_init_vdev_with_config(&rl->rvdev, &vdev, NULL, &shm, pool, &vcfg))
		return NULL;
#if RL_PLATFORM_LAYER
	if (PLATFORM(link_id)->ops == &al_lite_pl_ops)
		al_lite_pl_started(rl, link_id);
#endif
	return rl;
}

struct rpmsg_lite_instance *
rpmsg_lite_master_init_static(void *shmem_addr, size_t shmem_length, uint32_t link_id,
			      uint32_t init_flags, struct rpmsg_lite_instance *static_context)
{
	(void)init_flags;
	return lite_init(static_context, shmem_addr, shmem_length, link_id, VIRTIO_DEV_DRIVER);
}

struct rpmsg_lite_instance *
rpmsg_lite_remote_init_static(void *shmem_addr, uint32_t link_id, uint32_t init_flags,
			      struct rpmsg_lite_instance *static_context)
{
	(void)init_flags;
	return lite_init(static_context, shmem_addr, SIZE_MAX, link_id, VIRTIO_DEV_DEVICE);
}

#if !AMPLINK_NO_MALLOC
static struct rpmsg_lite_instance *alloc_init(void *shmem_addr, size_t len, uint32_t link_id,
					      unsigned int role)
{
	struct rpmsg_lite_instance *rl = env_allocate_memory(sizeof(*rl));
	if (rl && lite_init(rl, shmem_addr, len, link_id, role)) {
		rl->allocated = 1;
		return rl;
	}
	env_free_memory(rl);
	return NULL;
}

struct rpmsg_lite_instance *rpmsg_lite_master_init(void *shmem_addr, size_t shmem_length,
						   uint32_t link_id, uint32_t init_flags)
{
	(void)init_flags;
	return alloc_init(shmem_addr, shmem_length, link_id, VIRTIO_DEV_DRIVER);
}

struct rpmsg_lite_instance *rpmsg_lite_remote_init(void *shmem_addr, uint32_t link_id,
						   uint32_t init_flags)
{
	(void)init_flags;
	return alloc_init(shmem_addr, SIZE_MAX, link_id, VIRTIO_DEV_DEVICE);
}
#endif

int32_t rpmsg_lite_deinit(struct rpmsg_lite_instance *rpmsg_lite_dev)
{
	if (!live(rpmsg_lite_dev))
		return RL_ERR_PARAM; /* never initialised, or deinitialised already */
	struct rpmsg_virtio_device *rv = &rpmsg_lite_dev->rvdev;
#if RL_PLATFORM_LAYER
	al_lite_pl_stopped(rpmsg_lite_dev); /* its doorbells off first */
#endif
	/* RPMsg-Lite's master tells the remote nothing when it stops: a
	 * remote that has not yet looked still finds DRIVER_OK and comes up
	 * (the core's driver clears it; put it back as it was). */
	uint8_t *status = rv->vdev_rsc ? rv->vdev_rsc + AL_RSC_VDEV_STATUS : NULL;
	uint8_t was = status ? al_rd8(status) : 0;
	rpmsg_deinit_vdev(rv);
	if (status && rpmsg_virtio_get_role(rv) == RPMSG_HOST) {
		al_wr8(status, was);
		if (rv->ops->cache_flush)
			rv->ops->cache_flush(rv->port_ctx, status, 1);
	}
	rv->ops = NULL; /* a second deinit, and every call but init, is refused */
#if !AMPLINK_NO_MALLOC
	if (rpmsg_lite_dev->allocated)
		env_free_memory(rpmsg_lite_dev);
#endif
	return RL_SUCCESS;
}

int32_t rpmsg_lite_isr(struct rpmsg_lite_instance *rpmsg_lite_dev)
{
	if (!live(rpmsg_lite_dev))
		return RL_ERR_PARAM;
	int rc = al_virtio_notified(&rpmsg_lite_dev->rvdev);
	return rc >= 0 ? rc : al_lite_err(rc);
}

uint32_t rpmsg_lite_is_link_up(struct rpmsg_lite_instance *rpmsg_lite_dev)
{
	return live(rpmsg_lite_dev) && al_virtio_link_state(&rpmsg_lite_dev->rvdev) == AL_LINK_UP
		   ? RL_TRUE
		   : RL_FALSE;
}

uint32_t rpmsg_lite_wait_for_link_up(struct rpmsg_lite_instance *rpmsg_lite_dev, uintptr_t timeout)
{
	return live(rpmsg_lite_dev) &&
		       al_virtio_wait_link_up(&rpmsg_lite_dev->rvdev, al_lite_tmo(timeout)) == AL_OK
		   ? RL_TRUE
		   : RL_FALSE;
}

/* ---- endpoints ------------------------------------------------------------ */

/* Core callback -> RPMsg-Lite callback; RL_HOLD keeps the buffer. */
static int lite_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	struct rpmsg_lite_endpoint *e = al_container_of(ept, struct rpmsg_lite_endpoint, ept);
	if (e->rx_cb(data, (uint32_t)len, src, e->rx_cb_data) == RL_HOLD)
		(void)al_rpmsg_hold_rx_buffer(ept, data);
	return RPMSG_SUCCESS;
}

struct rpmsg_lite_endpoint *
rpmsg_lite_create_ept_static(struct rpmsg_lite_instance *rpmsg_lite_dev, uint32_t addr,
			     rl_ept_rx_cb_t rx_cb, void *rx_cb_data,
			     struct rpmsg_lite_ept_static_context *ept_context)
{
	if (!live(rpmsg_lite_dev) || !rx_cb || !ept_context)
		return NULL;
	struct rpmsg_device *rdev = &rpmsg_lite_dev->rvdev.rdev;
	struct rpmsg_lite_endpoint *e = &ept_context->ept;
	for (;;) {
		/* RPMsg-Lite's allocation: the lowest free address from 1 (the
		 * core's own ANY allocator rotates from 1024), never the name
		 * service's 53. A taken address is refused before the caller's
		 * storage is touched. */
		uint32_t a = addr;
		al_lock(&rpmsg_lite_dev->rvdev);
		if (a == RL_ADDR_ANY)
			for (a = 1; a == RPMSG_NS_EPT_ADDR || al_ept_by_addr(rdev, a); a++)
				;
		bool taken = al_ept_by_addr(rdev, a) != NULL;
		al_unlock(&rpmsg_lite_dev->rvdev);
		if (taken || a == RL_ADDR_ANY)
			return NULL;
		e->rx_cb = rx_cb;
		e->rx_cb_data = rx_cb_data;
		AL_LITE_MARK(e, 0);
		int rc = rpmsg_create_ept(&e->ept, rdev, NULL, a, RPMSG_ADDR_ANY, lite_rx, NULL);
		if (rc == 0) {
			e->addr = e->ept.addr;
			return e;
		}
		if (rc != AL_EADDR || addr != RL_ADDR_ANY)
			return NULL; /* an explicit address taken meanwhile */
	}
}

#if !AMPLINK_NO_MALLOC
struct rpmsg_lite_endpoint *rpmsg_lite_create_ept(struct rpmsg_lite_instance *rpmsg_lite_dev,
						  uint32_t addr, rl_ept_rx_cb_t rx_cb,
						  void *rx_cb_data)
{
	struct rpmsg_lite_ept_static_context *c = env_allocate_memory(sizeof(*c));
	struct rpmsg_lite_endpoint *e =
	    c ? rpmsg_lite_create_ept_static(rpmsg_lite_dev, addr, rx_cb, rx_cb_data, c) : NULL;
	if (e)
		e->allocated = 1;
	else
		env_free_memory(c);
	return e;
}
#endif

int32_t rpmsg_lite_destroy_ept(struct rpmsg_lite_instance *rpmsg_lite_dev,
			       struct rpmsg_lite_endpoint *rl_ept)
{
	if (!rpmsg_lite_dev || !rl_ept || rl_ept->ept.rdev != &rpmsg_lite_dev->rvdev.rdev)
		return RL_ERR_PARAM;
	rpmsg_destroy_ept(&rl_ept->ept);
#if !AMPLINK_NO_MALLOC
	if (rl_ept->allocated)
		env_free_memory(rl_ept);
#endif
	return RL_SUCCESS;
}

/* ---- sending ----------------------------------------------------------------- */

int32_t rpmsg_lite_send(struct rpmsg_lite_instance *rpmsg_lite_dev, struct rpmsg_lite_endpoint *ept,
			uint32_t dst, char *data, uint32_t size, uintptr_t timeout)
{
	if (!ept)
		return RL_ERR_PARAM;
	if (size > RL_BUFFER_PAYLOAD_SIZE)
		return RL_ERR_BUFF_SIZE;
	if (!rpmsg_lite_dev || !data)
		return RL_ERR_PARAM;
	if (!rpmsg_lite_is_link_up(rpmsg_lite_dev))
		return RL_NOT_READY; /* RPMsg-Lite's order: the link before the rest */
	if (ept->ept.rdev != &rpmsg_lite_dev->rvdev.rdev)
		return RL_ERR_PARAM;
	return al_lite_err(
	    al_send_timeout(&ept->ept, ept->ept.addr, dst, data, (int)size, al_lite_tmo(timeout)));
}

void *rpmsg_lite_alloc_tx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, uint32_t *size,
				 uintptr_t timeout)
{
	if (!size)
		return NULL;
	void *p = rpmsg_lite_is_link_up(rpmsg_lite_dev)
		      ? al_dev_get_tx_buffer(&rpmsg_lite_dev->rvdev.rdev, size,
					     al_lite_tmo(timeout), NULL)
		      : NULL;
	if (!p)
		*size = 0;
	else if (*size > RL_BUFFER_PAYLOAD_SIZE)
		*size = RL_BUFFER_PAYLOAD_SIZE; /* the buffer may be rounded up */
	return p;
}

int32_t rpmsg_lite_send_nocopy(struct rpmsg_lite_instance *rpmsg_lite_dev,
			       struct rpmsg_lite_endpoint *ept, uint32_t dst, void *data,
			       uint32_t size)
{
	if (!ept || !data)
		return RL_ERR_PARAM;
	if (size > RL_BUFFER_PAYLOAD_SIZE)
		return RL_ERR_BUFF_SIZE;
	if (!rpmsg_lite_dev)
		return RL_ERR_PARAM;
	if (!rpmsg_lite_is_link_up(rpmsg_lite_dev))
		return RL_NOT_READY;
	if (ept->ept.rdev != &rpmsg_lite_dev->rvdev.rdev)
		return RL_ERR_PARAM;
	int rc = rpmsg_send_offchannel_nocopy(&ept->ept, ept->ept.addr, dst, data, (int)size);
	return rc >= 0 ? RL_SUCCESS : al_lite_err(rc);
}

int32_t rpmsg_lite_release_tx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, void *txbuf)
{
	if (!live(rpmsg_lite_dev))
		return RL_ERR_PARAM;
	return al_lite_err(al_dev_release_tx_buffer(&rpmsg_lite_dev->rvdev.rdev, txbuf));
}

int32_t rpmsg_lite_release_rx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, void *rxbuf)
{
	if (!live(rpmsg_lite_dev))
		return RL_ERR_PARAM;
	return al_lite_err(al_dev_release_rx_buffer(&rpmsg_lite_dev->rvdev.rdev, rxbuf));
}

int32_t rpmsg_lite_get_number_of_free_buffers(struct rpmsg_lite_instance *rpmsg_lite_dev)
{
	if (!rpmsg_lite_dev)
		return RL_ERR_PARAM;
	if (!live(rpmsg_lite_dev))
		return RL_NOT_READY;
	int n = al_virtio_free_tx_buffers(&rpmsg_lite_dev->rvdev);
	return n >= 0 ? n : al_lite_err(n);
}

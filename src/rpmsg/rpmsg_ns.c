/* The name service at address 53: announcing local endpoints and binding
 * to the peer's announcements. Messages are {char name[32]; le32 addr;
 * le32 flags} (40 B); anything else is dropped and counted. */
#include <string.h>

#include "rpmsg_internal.h"
#include "shm_access.h"

int al_ns_announce(struct rpmsg_endpoint *ept, uint32_t flags, bool wait)
{
	uint8_t msg[RPMSG_NS_MSG_SIZE] = {0};
	memcpy(msg, ept->name, RPMSG_NAME_SIZE - 1); /* name[31] stays NUL */
	al_wr32(msg + 32, ept->addr);
	al_wr32(msg + 36, flags);
	int rc =
	    rpmsg_send_offchannel_raw(ept, ept->addr, RPMSG_NS_EPT_ADDR, msg, sizeof(msg), wait);
	if (rc >= 0)
		AL_COUNT(ept->rdev->stats.ns_announced);
	return rc < 0 ? rc : 0;
}

int al_ns_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	(void)priv;
	struct rpmsg_device *rdev = ept->rdev;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	uint8_t msg[RPMSG_NS_MSG_SIZE];
	if (len != sizeof(msg)) {
		AL_COUNT(rdev->stats.ns_malformed);
		return AL_EINVAL;
	}
	memcpy(msg, data, sizeof(msg)); /* one copy; the peer may keep writing */
	const char *name = (const char *)msg;
	uint32_t addr = al_rd32(msg + 32), flags = al_rd32(msg + 36);
	if (!memchr(name, '\0', RPMSG_NAME_SIZE) || flags > RPMSG_NS_DESTROY || name[0] == '\0' ||
	    addr == RPMSG_ADDR_ANY) {
		AL_COUNT(rdev->stats.ns_malformed);
		return AL_EINVAL;
	}
	bool destroy = flags == RPMSG_NS_DESTROY;
	al_lock(rv);
	/* CREATE binds the first endpoint of that name still unbound, unless
	 * one is bound to that address already (a repeated CREATE: nothing to
	 * do, as OpenAMP); DESTROY unbinds the one bound to it. */
	struct rpmsg_endpoint *e = al_ept_by_name(rdev, name, addr, !destroy);
	if (e)
		e->dest_addr = destroy ? RPMSG_ADDR_ANY : addr;
#if AL_CFG_NS_DIR
	if (destroy)
		(void)al_ns_dir_take(rdev, name, addr);
	else if (!e)
		al_ns_dir_add(rdev, name, addr);
#endif
	al_unlock(rv);
	if (destroy) {
		if (e && e->ns_unbind_cb)
			e->ns_unbind_cb(e);
#if !AL_CFG_NO_BUS_EXTRAS
		if (rdev->ns_unbind_cb)
			rdev->ns_unbind_cb(rdev, name, addr);
#endif
	} else if (!e && rdev->ns_bind_cb) {
		rdev->ns_bind_cb(rdev, name, addr);
	}
	return RPMSG_SUCCESS;
}

/* The rpmsg bus: endpoint bookkeeping (addresses, names, the list), the
 * RPMSG_ADDR_ANY allocator, and the endpoint half of the public API. */
#include <string.h>

#include "rpmsg_internal.h"

int al_set_ns_unbind_cb(struct rpmsg_device *rdev, rpmsg_ns_bind_cb cb)
{
#if AL_CFG_NO_BUS_EXTRAS
	(void)rdev, (void)cb;
	return AL_EINVAL; /* built without the device's unbind callback */
#else
	if (!rdev)
		return AL_EINVAL;
	rdev->ns_unbind_cb = cb;
	return 0;
#endif
}

#if AL_CFG_NO_ADDR_HASH
struct rpmsg_endpoint *al_ept_by_addr(struct rpmsg_device *rdev, uint32_t addr)
{
	struct rpmsg_endpoint *e = rdev->endpoints;
	while (e && e->addr != addr)
		e = e->next;
	return e;
}
#define hash_add(rdev, ept) ((void)0)
#define hash_del(rdev, ept) ((void)0)

int al_set_addr_hash(struct rpmsg_device *rdev, struct rpmsg_endpoint **buckets, uint32_t n)
{
	(void)rdev, (void)buckets, (void)n;
	return AL_EINVAL; /* built without the hash (AL_CFG_NO_ADDR_HASH) */
}
#else
static inline struct rpmsg_endpoint **bucket(struct rpmsg_device *rdev, uint32_t addr)
{
	/* Fibonacci hashing: consecutive addresses (the ANY allocator's) spread */
	return &rdev->buckets[(addr * 2654435769u) >> 16 & (rdev->nbuckets - 1u)];
}

struct rpmsg_endpoint *al_ept_by_addr(struct rpmsg_device *rdev, uint32_t addr)
{
	struct rpmsg_endpoint *e = rdev->buckets ? *bucket(rdev, addr) : rdev->endpoints;
	for (; e; e = rdev->buckets ? e->hnext : e->next)
		if (e->addr == addr)
			return e;
	return NULL;
}

static void hash_add(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept)
{
	if (rdev->buckets) {
		struct rpmsg_endpoint **b = bucket(rdev, ept->addr);
		ept->hnext = *b;
		*b = ept;
	}
}

static void hash_del(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept)
{
	if (!rdev->buckets)
		return;
	for (struct rpmsg_endpoint **p = bucket(rdev, ept->addr); *p; p = &(*p)->hnext)
		if (*p == ept) {
			*p = ept->hnext;
			return;
		}
}

int al_set_addr_hash(struct rpmsg_device *rdev, struct rpmsg_endpoint **buckets, uint32_t n)
{
	if (!rdev || !buckets || n == 0 || (n & (n - 1)) || n > 65536)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	al_lock(rv);
	for (uint32_t i = 0; i < n; i++)
		buckets[i] = NULL;
	rdev->buckets = buckets;
	rdev->nbuckets = n;
	for (struct rpmsg_endpoint *e = rdev->endpoints; e; e = e->next)
		hash_add(rdev, e);
	al_unlock(rv);
	return 0;
}
#endif

struct rpmsg_endpoint *al_ept_by_name(struct rpmsg_device *rdev, const char *name, uint32_t dest,
				      bool unbound)
{
	/* `name` is never empty (the name service drops such messages), so the
	 * unnamed endpoints, the name service's own among them, never match */
	for (struct rpmsg_endpoint *e = rdev->endpoints; e; e = e->next)
		if ((e->dest_addr == dest || (unbound && e->dest_addr == RPMSG_ADDR_ANY)) &&
		    strncmp(e->name, name, RPMSG_NAME_SIZE) == 0)
			return e;
	return NULL;
}

void al_ept_link(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept, const char *name,
		 uint32_t src, uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb unbind)
{
	/* Every field but priv, which keeps the caller's (as OpenAMP's does).
	 * strncpy pads the name with NULs; the last byte is the terminator. */
	strncpy(ept->name, name ? name : "", RPMSG_NAME_SIZE);
	ept->name[RPMSG_NAME_SIZE - 1] = '\0';
	ept->announce = false;
#if !AL_CFG_NO_BUS_EXTRAS
	ept->refcnt = 1;
	ept->release_cb = NULL;
#endif
#if !AL_CFG_NO_STATS
	ept->rx_msgs = ept->tx_msgs = 0;
	ept->rx_bytes = ept->tx_bytes = 0;
#endif
#if !AL_CFG_NO_ADDR_HASH
	ept->hnext = NULL;
#endif
	ept->rdev = rdev;
	ept->addr = src;
	ept->dest_addr = dest;
	ept->cb = cb;
	ept->ns_unbind_cb = unbind;
	ept->next = rdev->endpoints;
	rdev->endpoints = ept;
	hash_add(rdev, ept);
}

static void unlink_ept(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept)
{
	hash_del(rdev, ept);
	for (struct rpmsg_endpoint **p = &rdev->endpoints; *p; p = &(*p)->next)
		if (*p == ept) {
			*p = ept->next;
			return;
		}
}

#if !AL_CFG_NO_BUS_EXTRAS
bool al_ept_put(struct rpmsg_endpoint *ept)
{
	return ept->refcnt && --ept->refcnt == 0 && ept->release_cb;
}
#endif

#if AL_CFG_NS_DIR
/* The directory of services the peer announced while no local endpoint
 * waited for them (lock held). */
void al_ns_dir_add(struct rpmsg_device *rdev, const char *name, uint32_t addr)
{
	struct al_ns_entry *free_slot = NULL;
	for (struct al_ns_entry *d = rdev->ns_dir; d < rdev->ns_dir + AL_CFG_NS_DIR; d++) {
		if (d->name[0] && strncmp(d->name, name, RPMSG_NAME_SIZE) == 0) {
			d->addr = addr; /* repeated, or the service moved */
			return;
		}
		if (!d->name[0] && !free_slot)
			free_slot = d;
	}
	if (free_slot) { /* full: the service is not remembered (ns_bind_cb saw it) */
		memcpy(free_slot->name, name, RPMSG_NAME_SIZE);
		free_slot->addr = addr;
	}
}

/* Forget `name` at `addr` (RPMSG_ADDR_ANY: at any address); returns the
 * address it had, or RPMSG_ADDR_ANY if it was not there (lock held). */
uint32_t al_ns_dir_take(struct rpmsg_device *rdev, const char *name, uint32_t addr)
{
	for (struct al_ns_entry *d = rdev->ns_dir; d < rdev->ns_dir + AL_CFG_NS_DIR; d++)
		if (d->name[0] && (addr == RPMSG_ADDR_ANY || d->addr == addr) &&
		    strncmp(d->name, name, RPMSG_NAME_SIZE) == 0) {
			d->name[0] = '\0';
			return d->addr;
		}
	return RPMSG_ADDR_ANY;
}
#endif

/* Next free address from 1024 up, wrapping before RPMSG_ADDR_ANY. */
static uint32_t alloc_addr(struct rpmsg_device *rdev)
{
	uint32_t a = rdev->next_any_addr;
	while (al_ept_by_addr(rdev, a))
		a = a + 1u >= RPMSG_ADDR_ANY ? RPMSG_RESERVED_ADDRESSES : a + 1u;
	rdev->next_any_addr = a + 1u >= RPMSG_ADDR_ANY ? RPMSG_RESERVED_ADDRESSES : a + 1u;
	return a;
}

int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name,
		     uint32_t src, uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb)
{
	if (!ept || !rdev || !cb)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	al_lock(rv);
	if (src == RPMSG_ADDR_ANY) {
		src = alloc_addr(rdev);
	} else if (al_ept_by_addr(rdev, src)) {
		al_unlock(rv);
		return AL_EADDR;
	}
	al_ept_link(rdev, ept, name, src, dest, cb, ns_unbind_cb);
	bool now = false;
	if (ept->name[0]) {
#if AL_CFG_NS_DIR
		/* the peer announced it already: bind to that */
		uint32_t known = al_ns_dir_take(rdev, ept->name, dest);
		if (dest == RPMSG_ADDR_ANY)
			ept->dest_addr = known;
#endif
		/* Announced exactly once: now, by us, if the link is up (decided
		 * under the lock that link-up sets the state under), else by
		 * the link-up, which announces only those still marked. */
		if (dest == RPMSG_ADDR_ANY) {
			now = rdev->support_ns && rv->state == AL_LINK_UP;
			ept->announce = !now;
		}
	}
	al_unlock(rv);
	if (now) {
		int rc = al_ns_announce(ept, RPMSG_NS_CREATE, true);
		if (rc) {
			al_lock(rv);
			unlink_ept(rdev, ept);
			al_unlock(rv);
			ept->rdev = NULL;
			return rc;
		}
	}
	return RPMSG_SUCCESS;
}

void rpmsg_destroy_ept(struct rpmsg_endpoint *ept)
{
	if (!ept || !ept->rdev)
		return;
	struct rpmsg_device *rdev = ept->rdev;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	if (ept->name[0] && ept->addr >= RPMSG_RESERVED_ADDRESSES && rdev->support_ns &&
	    rv->state == AL_LINK_UP)
		(void)al_ns_announce(ept, RPMSG_NS_DESTROY, true);
	al_lock(rv);
	unlink_ept(rdev, ept);
#if !AL_CFG_NO_BUS_EXTRAS
	bool release = al_ept_put(ept);
	/* its callback runs in the receive path: without a release_cb the
	 * endpoint is the application's again when this returns, so the
	 * receive path must not touch it after the callback */
#if AL_RX_BATCH > 1
	al_rx_batch_forget(rv, ept);
#else
	if (rv->rx_cur_ept == ept && !ept->release_cb)
		rv->rx_cur_ept = NULL;
#endif
#endif
	al_unlock(rv);
	ept->rdev = NULL;
#if !AL_CFG_NO_BUS_EXTRAS
	if (release)
		ept->release_cb(ept);
#endif
}

void al_bus_link_up(struct rpmsg_device *rdev)
{
	if (!rdev->support_ns)
		return;
	/* Called in receive context: never wait for a buffer (there are plenty
	 * right after link-up; a failure is counted by tx_no_buf). */
	for (struct rpmsg_endpoint *e = rdev->endpoints; e; e = e->next)
		if (e->announce)
			(void)al_ns_announce(e, RPMSG_NS_CREATE, false);
}

struct rpmsg_endpoint *al_find_ept_by_name(struct rpmsg_device *rdev, const char *name)
{
	if (!rdev || !name)
		return NULL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	al_lock(rv);
	struct rpmsg_endpoint *e;
	for (e = rdev->endpoints; e; e = e->next)
		if (strncmp(e->name, name, RPMSG_NAME_SIZE) == 0)
			break;
	al_unlock(rv);
	return e;
}

void al_set_send_timeout(struct rpmsg_device *rdev, uint32_t timeout_ms)
{
	if (rdev)
		rdev->send_timeout_ms = timeout_ms;
}

void al_get_stats(struct rpmsg_device *rdev, struct rpmsg_stats *out)
{
#if AL_CFG_NO_STATS
	(void)rdev;
	if (out)
		memset(out, 0, sizeof(*out)); /* built without counters */
#else
	if (rdev && out)
		*out = rdev->stats;
#endif
}

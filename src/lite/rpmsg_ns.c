/* RPMsg-Lite's name-service API (rpmsg_ns.h) on the core's name service:
 * the core formats, validates and binds; this file routes announcements to
 * the application's callback. */
#define AMPLINK_LITE_BUILD
#include "amplink/rpmsg_ns.h"

#include <string.h>
#if !AMPLINK_NO_MALLOC
#include "amplink/rpmsg_env.h"
#endif

#include "lite_internal.h"
#include "rpmsg_internal.h"
#include "shm_access.h"

/* Receive side of address 53: the core's handler on a stable local copy,
 * then, if the core found the message well formed, the application's
 * callback. Receive context. */
static int lite_ns_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct rpmsg_device *rdev = ept->rdev;
	uint8_t msg[RPMSG_NS_MSG_SIZE] = {0};
	if (len == sizeof(msg)) {
		memcpy(msg, data, sizeof(msg));
		data = msg;
	}
	int rc = al_ns_rx(ept, data, len, src, priv);
	struct rpmsg_ns_context *ns = al_lite_of(rdev)->ns;
	if (ns && rc == RPMSG_SUCCESS)
		ns->cb(al_rd32(msg + RPMSG_NAME_SIZE), (const char *)msg,
		       al_rd32(msg + RPMSG_NAME_SIZE + 4u), ns->user_data);
	return RPMSG_SUCCESS;
}

rpmsg_ns_handle rpmsg_ns_bind_static(struct rpmsg_lite_instance *rpmsg_lite_dev,
				     rpmsg_ns_new_ept_cb app_cb, void *user_data,
				     rpmsg_ns_static_context *ns_ept_ctxt)
{
	if (!rpmsg_lite_dev || !rpmsg_lite_dev->rvdev.ops || !app_cb || !ns_ept_ctxt ||
	    rpmsg_lite_dev->ns)
		return NULL; /* not initialised, or deinitialised */
	struct rpmsg_device *rdev = &rpmsg_lite_dev->rvdev.rdev;
	ns_ept_ctxt->cb = app_cb;
	ns_ept_ctxt->user_data = user_data;
	AL_LITE_MARK(ns_ept_ctxt, 0);
	rpmsg_lite_dev->ns = ns_ept_ctxt;
	/* Before link-up (or without the name-service feature) address 53 is
	 * free: take it, and the core will not add its own. Once the core has
	 * its endpoint there, route that endpoint through us instead. */
	ns_ept_ctxt->own_ept =
	    rpmsg_create_ept(&ns_ept_ctxt->ept, rdev, NULL, RPMSG_NS_EPT_ADDR, RPMSG_NS_EPT_ADDR,
			     lite_ns_rx, NULL) == RPMSG_SUCCESS;
	if (!ns_ept_ctxt->own_ept) {
		if (rdev->ns_ept.rdev != rdev) { /* 53 taken by an application endpoint */
			rpmsg_lite_dev->ns = NULL;
			return NULL;
		}
		__atomic_store_n(&rdev->ns_ept.cb, lite_ns_rx, __ATOMIC_RELEASE);
	}
	return ns_ept_ctxt;
}

#if !AMPLINK_NO_MALLOC
rpmsg_ns_handle rpmsg_ns_bind(struct rpmsg_lite_instance *rpmsg_lite_dev,
			      rpmsg_ns_new_ept_cb app_cb, void *user_data)
{
	rpmsg_ns_static_context *c = env_allocate_memory(sizeof(*c));
	rpmsg_ns_handle h = c ? rpmsg_ns_bind_static(rpmsg_lite_dev, app_cb, user_data, c) : NULL;
	if (h)
		h->allocated = 1;
	else
		env_free_memory(c);
	return h;
}
#endif

int32_t rpmsg_ns_unbind(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_ns_handle handle)
{
	if (!rpmsg_lite_dev || !rpmsg_lite_dev->rvdev.ops || !handle ||
	    rpmsg_lite_dev->ns != handle)
		return RL_ERR_PARAM;
	if (handle->own_ept)
		rpmsg_destroy_ept(&handle->ept);
	else
		__atomic_store_n(&rpmsg_lite_dev->rvdev.rdev.ns_ept.cb, al_ns_rx, __ATOMIC_RELEASE);
	rpmsg_lite_dev->ns = NULL;
#if !AMPLINK_NO_MALLOC
	if (handle->allocated)
		env_free_memory(handle);
#endif
	return RL_SUCCESS;
}

int32_t rpmsg_ns_announce(struct rpmsg_lite_instance *rpmsg_lite_dev,
			  struct rpmsg_lite_endpoint *new_ept, const char *ept_name, uint32_t flags)
{
	if (!rpmsg_lite_dev || !new_ept || !ept_name)
		return RL_ERR_PARAM;
	/* The core announces an endpoint's own name and address; a stand-in
	 * carries both, so the real endpoint keeps no name the core would
	 * match the peer's announcements against. */
	struct rpmsg_endpoint *e = AL_LITE_DEV_EPT(rpmsg_lite_dev);
	e->addr = new_ept->addr;
	strncpy(e->name, ept_name, RPMSG_NAME_SIZE - 1u);
	return al_lite_err(al_ns_announce(e, flags, true));
}

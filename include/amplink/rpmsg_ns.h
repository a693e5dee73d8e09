/* RPMsg-Lite's name-service API (announce local endpoints, listen to the
 * peer's announcements) over the amplink core's name service at address 53.
 * Messages are {char name[32]; le32 addr; le32 flags}; the core validates
 * and formats them.
 */
#ifndef AMPLINK_RPMSG_NS_H
#define AMPLINK_RPMSG_NS_H

#include "amplink/rpmsg_lite.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_NS_EPT_ADDR	0x35U
#define RL_NS_NAME_SIZE 32U

enum rpmsg_ns_flags {
	RL_NS_CREATE = 0,
	RL_NS_DESTROY = 1,
};

/** Name-service callback: the peer announced (flags RL_NS_CREATE) or
 *  withdrew (RL_NS_DESTROY) the service `new_ept_name` at its address
 *  `new_ept`. Runs in receive context; `new_ept_name` (NUL-terminated) is
 *  valid during the call only. */
typedef void (*rpmsg_ns_new_ept_cb)(uint32_t new_ept, const char *new_ept_name, uint32_t flags,
				    void *user_data);

/** A bound name-service listener. Caller storage for rpmsg_ns_bind_static();
 *  all fields private. */
struct rpmsg_ns_context {
	struct rpmsg_endpoint ept; /* address 53, when the core has none there */
	rpmsg_ns_new_ept_cb cb;
	void *user_data;
	uint8_t own_ept;
#if !AMPLINK_NO_MALLOC
	uint8_t allocated; /* made by a dynamic variant: free it */
#endif
};
typedef struct rpmsg_ns_context *rpmsg_ns_handle;
typedef struct rpmsg_ns_context rpmsg_ns_static_context;

/** Listen to the peer's announcements: `app_cb` gets every well-formed
 *  name-service message (malformed ones are dropped and counted by the
 *  core). One listener per instance. Thread context; may be called before
 *  the link is up. Returns the handle, or RL_NULL (NULL instance, callback
 *  or storage, a listener already bound). */
rpmsg_ns_handle rpmsg_ns_bind_static(struct rpmsg_lite_instance *rpmsg_lite_dev,
				     rpmsg_ns_new_ept_cb app_cb, void *user_data,
				     rpmsg_ns_static_context *ns_ept_ctxt);
#if !AMPLINK_NO_MALLOC
/** As rpmsg_ns_bind_static(), with the listener allocated. */
rpmsg_ns_handle rpmsg_ns_bind(struct rpmsg_lite_instance *rpmsg_lite_dev,
			      rpmsg_ns_new_ept_cb app_cb, void *user_data);
#endif

/** Stop listening (and free the listener if allocated). Thread context.
 *  Returns RL_SUCCESS or RL_ERR_PARAM (NULL, not this instance's listener). */
int32_t rpmsg_ns_unbind(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_ns_handle handle);

/** Announce to the peer that `new_ept` offers the service `ept_name` (flags
 *  RL_NS_CREATE) or no longer does (RL_NS_DESTROY): one 40-byte message to
 *  address 53, names cut at 31 characters. Blocking: waits for a free
 *  buffer up to the core's send timeout (15 s by default). Returns
 *  RL_SUCCESS, RL_ERR_PARAM (NULL argument), RL_NOT_READY (link not up) or
 *  RL_ERR_NO_MEM (no buffer in time). */
int32_t rpmsg_ns_announce(struct rpmsg_lite_instance *rpmsg_lite_dev,
			  struct rpmsg_lite_endpoint *new_ept, const char *ept_name,
			  uint32_t flags);

#if RL_USE_STATIC_API && !defined(AMPLINK_LITE_BUILD)
#define rpmsg_ns_bind rpmsg_ns_bind_static
#endif

#ifdef __cplusplus
}
#endif
#endif

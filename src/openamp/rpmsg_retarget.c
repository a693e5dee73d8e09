/* OpenAMP's proxy client (amplink/rpmsg_retarget.h): the endpoint, the
 * request/answer exchange, the default proxy. */
#include "amplink/rpmsg_retarget.h"

#include <string.h>

#include "amplink/rpmsg_virtio.h"

struct rpmsg_rpc_data *al_rpmsg_default_rpc;

static void pause_once(struct rpmsg_rpc_data *rpc, struct rpmsg_device *rdev)
{
	if (rpc->poll) {
		(void)rpc->poll(rpc->poll_arg);
		return;
	}
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(rdev);
	if (rv->ops && rv->ops->wait)
		rv->ops->wait(rv->port_ctx, 1);
}

static void answered(struct rpmsg_rpc_data *rpc)
{
	__atomic_store_n(&rpc->nacked, 0, __ATOMIC_RELEASE);
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(rpc->ept.rdev);
	if (rv && rv->ops && rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
}

static void service_unbind(struct rpmsg_endpoint *ept)
{
	struct rpmsg_rpc_data *rpc = al_container_of(ept, struct rpmsg_rpc_data, ept);
	answered(rpc); /* nobody will answer now */
	rpc->ept_destroyed = 1;
	rpmsg_destroy_ept(ept);
	if (rpc->shutdown_cb)
		rpc->shutdown_cb(rpc);
}

static int ept_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	struct rpmsg_rpc_data *rpc = al_container_of(ept, struct rpmsg_rpc_data, ept);
	uint32_t id;
	if (!data || len < sizeof(id))
		return RPMSG_SUCCESS;
	memcpy(&id, data, sizeof(id));
	if (id == TERM_SYSCALL_ID) {
		service_unbind(ept);
		return RPMSG_SUCCESS;
	}
	if (rpc->respbuf && rpc->respbuf_len)
		memcpy(rpc->respbuf, data, len < rpc->respbuf_len ? len : rpc->respbuf_len);
	answered(rpc);
	return RPMSG_SUCCESS;
}

int rpmsg_rpc_init(struct rpmsg_rpc_data *rpc, struct rpmsg_device *rdev, const char *ept_name,
		   uint32_t ept_addr, uint32_t ept_raddr, void *poll_arg, rpmsg_rpc_poll poll,
		   rpmsg_rpc_shutdown_cb shutdown_cb)
{
	if (!rpc || !rdev)
		return RPMSG_ERR_PARAM;
	rpc->shutdown_cb = shutdown_cb;
	rpc->poll_arg = poll_arg;
	rpc->poll = poll;
	rpc->ept_destroyed = 0;
	rpc->respbuf = NULL;
	rpc->respbuf_len = 0;
	rpc->nacked = 1;
	if (rpmsg_create_ept(&rpc->ept, rdev, ept_name, ept_addr, ept_raddr, ept_cb,
			     service_unbind) != 0)
		return RPMSG_ERR_PARAM;
	while (!is_rpmsg_ept_ready(&rpc->ept) && !rpc->ept_destroyed)
		pause_once(rpc, rdev);
	return 0;
}

void rpmsg_rpc_release(struct rpmsg_rpc_data *rpc)
{
	if (!rpc)
		return;
	if (!rpc->ept_destroyed)
		rpmsg_destroy_ept(&rpc->ept);
	rpc->ept_destroyed = 1;
	rpc->respbuf = NULL;
	rpc->respbuf_len = 0;
}

int rpmsg_rpc_send(struct rpmsg_rpc_data *rpc, void *req, size_t len, void *resp, size_t resp_len)
{
	if (!rpc || rpc->ept_destroyed || len > INT32_MAX)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = rpc->ept.rdev;
	rpc->respbuf = resp;
	rpc->respbuf_len = resp_len;
	__atomic_store_n(&rpc->nacked, 1, __ATOMIC_RELEASE);
	int ret = rpmsg_send(&rpc->ept, req, (int)len);
	if (ret < 0 || !resp)
		return ret < 0 ? RPMSG_ERR_PARAM : ret;
	while (__atomic_load_n(&rpc->nacked, __ATOMIC_ACQUIRE))
		pause_once(rpc, rdev);
	return rpc->ept_destroyed ? RPMSG_ERR_DEV_STATE : ret;
}

void rpmsg_set_default_rpc(struct rpmsg_rpc_data *rpc)
{
	if (rpc)
		al_rpmsg_default_rpc = rpc;
}

/* OpenAMP's remote procedure call helpers on the core
 * (amplink/rpmsg_rpc_client_server.h). */
#include "amplink/rpmsg_rpc_client_server.h"

#include <string.h>

static const struct rpmsg_rpc_client_services *clt_service(struct rpmsg_rpc_clt *rpc, uint32_t id)
{
	for (unsigned int i = 0; i < rpc->n_services; i++)
		if (rpc->services[i].id == id)
			return &rpc->services[i];
	return NULL;
}

static const struct rpmsg_rpc_services *svr_service(struct rpmsg_rpc_svr *rpcs, unsigned long id)
{
	for (unsigned int i = 0; i < rpcs->n_services; i++)
		if (rpcs->services[i].id == id)
			return &rpcs->services[i];
	return NULL;
}

/* ---- client ---------------------------------------------------------------- */

static void client_unbind(struct rpmsg_endpoint *ept)
{
	struct rpmsg_rpc_clt *rpc = al_container_of(ept, struct rpmsg_rpc_clt, ept);
	rpmsg_destroy_ept(&rpc->ept);
	if (rpc->shutdown_cb)
		rpc->shutdown_cb(rpc);
}

static int client_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	struct rpmsg_rpc_answer msg;
	if (!data || len < offsetof(struct rpmsg_rpc_answer, params) || len > sizeof(msg))
		return RPMSG_ERR_PARAM;
	memcpy(&msg, data, len); /* one copy: the peer may keep writing */
	struct rpmsg_rpc_clt *rpc = al_container_of(ept, struct rpmsg_rpc_clt, ept);
	const struct rpmsg_rpc_client_services *s = clt_service(rpc, msg.id);
	if (!s)
		return RPMSG_ERR_PARAM;
	s->cb(rpc, msg.status, msg.params, len);
	return RPMSG_SUCCESS;
}

int rpmsg_rpc_client_init(struct rpmsg_rpc_clt *rpc, struct rpmsg_device *rdev,
			  rpmsg_rpc_shutdown_cb shutdown_cb,
			  const struct rpmsg_rpc_client_services *services, int len)
{
	if (!rpc || !rdev || len < 0)
		return RPMSG_ERR_PARAM;
	rpc->services = services;
	rpc->n_services = (unsigned int)len;
	rpc->shutdown_cb = shutdown_cb;
	return rpmsg_create_ept(&rpc->ept, rdev, RPMSG_RPC_SERVICE_NAME, RPMSG_ADDR_ANY,
				RPMSG_ADDR_ANY, client_cb, client_unbind);
}

void rpmsg_rpc_client_release(struct rpmsg_rpc_clt *rpc)
{
	if (rpc)
		rpmsg_destroy_ept(&rpc->ept);
}

int rpmsg_rpc_client_send(struct rpmsg_rpc_clt *rpc, unsigned int rpc_id, void *request_param,
			  size_t req_param_size)
{
	unsigned char buf[MAX_BUF_LEN];
	unsigned long id = rpc_id;
	if (!rpc || req_param_size > MAX_BUF_LEN - MAX_FUNC_ID_LEN ||
	    (req_param_size && !request_param))
		return RPMSG_ERR_PARAM;
	memcpy(buf, &id, MAX_FUNC_ID_LEN);
	if (req_param_size)
		memcpy(buf + MAX_FUNC_ID_LEN, request_param, req_param_size);
	return rpmsg_send(&rpc->ept, buf, (int)(MAX_FUNC_ID_LEN + req_param_size));
}

/* ---- server -------------------------------------------------------------------- */

static int server_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	unsigned char buf[MAX_BUF_LEN] = {0};
	unsigned long id;
	if (len < MAX_FUNC_ID_LEN || len > MAX_BUF_LEN)
		return RPMSG_ERR_PARAM;
	memcpy(buf, data, len);
	memcpy(&id, buf, MAX_FUNC_ID_LEN);
	struct rpmsg_rpc_svr *rpcs = al_container_of(ept, struct rpmsg_rpc_svr, ept);
	const struct rpmsg_rpc_services *s = svr_service(rpcs, id);
	if (s)
		(void)s->cb_function(buf, rpcs);
	else
		(void)rpmsg_rpc_server_send(rpcs, (uint32_t)id, (int)RPMSG_RPC_INVALID_ID, NULL, 0);
	return RPMSG_SUCCESS;
}

int rpmsg_rpc_server_init(struct rpmsg_rpc_svr *rpcs, struct rpmsg_device *rdev,
			  const struct rpmsg_rpc_services *services, int len,
			  rpmsg_ns_unbind_cb rpmsg_service_server_unbind)
{
	if (!rpcs || !rdev || len < 0)
		return RPMSG_ERR_PARAM;
	rpcs->services = services;
	rpcs->n_services = (unsigned int)len;
	return rpmsg_create_ept(&rpcs->ept, rdev, RPMSG_RPC_SERVICE_NAME, RPMSG_ADDR_ANY,
				RPMSG_ADDR_ANY, server_cb, rpmsg_service_server_unbind);
}

int rpmsg_rpc_server_send(struct rpmsg_rpc_svr *rpcs, uint32_t rpc_id, int status,
			  void *request_param, size_t param_size)
{
	struct rpmsg_rpc_answer msg;
	if (!rpcs || param_size > MAX_BUF_LEN - sizeof(msg.status) ||
	    (param_size && !request_param))
		return RPMSG_ERR_PARAM;
	msg.id = rpc_id;
	msg.status = status;
	if (param_size)
		memcpy(msg.params, request_param, param_size);
	return rpmsg_send(&rpcs->ept, &msg,
			  (int)(offsetof(struct rpmsg_rpc_answer, params) + param_size));
}

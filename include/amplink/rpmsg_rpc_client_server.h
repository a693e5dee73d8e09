/* OpenAMP's remote procedure call helpers (<openamp/rpmsg_rpc_client_server.h>)
 * on amplink's core: the same names, structures, wire format and
 * semantics. A server endpoint and a client endpoint, both named
 * "rpmsg-rpc" and bound through the name service; a request is the
 * function id in the first MAX_FUNC_ID_LEN bytes followed by its
 * parameters, an answer a struct rpmsg_rpc_answer {id, status, params}.
 *
 * Differences, each where OpenAMP's code misbehaves:
 * - the server reads the whole function id (OpenAMP reads its first byte
 *   only: ids above 255 reach the wrong service there);
 * - an answer carries id, status and all its parameters (OpenAMP sends
 *   MAX_FUNC_ID_LEN + param_size bytes, which cuts the last 4 bytes of
 *   parameters where unsigned long is 4 bytes wide);
 * - oversized requests and answers return RPMSG_ERR_PARAM instead of
 *   overflowing a stack buffer, and a request shorter than a function id is
 *   dropped.
 */
#ifndef AMPLINK_RPMSG_RPC_CLIENT_SERVER_H
#define AMPLINK_RPMSG_RPC_CLIENT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPMSG_RPC_OK	       0
#define RPMSG_RPC_INVALID_ID   (-1L)
#define RPMSG_RPC_SERVICE_NAME "rpmsg-rpc"

/* 512-byte buffers: 496 bytes of payload, less one, aligned down to 8 */
#define MAX_BUF_LEN	488UL
#define MAX_FUNC_ID_LEN sizeof(unsigned long int)

struct rpmsg_rpc_clt;
struct rpmsg_rpc_svr;

typedef void (*rpmsg_rpc_shutdown_cb)(struct rpmsg_rpc_clt *rpc);
typedef void (*app_cb)(struct rpmsg_rpc_clt *rpc, int statust, void *data, size_t len);
typedef int (*rpmsg_rpc_syscall_cb)(void *data, struct rpmsg_rpc_svr *rpcs);

/** A request as the wire carries it (the id occupies MAX_FUNC_ID_LEN bytes). */
struct rpmsg_rpc_request {
	uint32_t id;
	unsigned char params[MAX_BUF_LEN];
};

/** An answer. */
struct __attribute__((packed)) rpmsg_rpc_answer {
	uint32_t id;
	int32_t status;
	unsigned char params[MAX_BUF_LEN];
};

struct rpmsg_rpc_services {
	uint32_t id;
	rpmsg_rpc_syscall_cb cb_function;
};

struct rpmsg_rpc_client_services {
	uint32_t id;
	app_cb cb;
};

/** Server: its endpoint and its table of services. */
struct rpmsg_rpc_svr {
	struct rpmsg_endpoint ept;
	const struct rpmsg_rpc_services *services;
	unsigned int n_services;
};

/** Client: its endpoint, shutdown callback and table of answer handlers. */
struct rpmsg_rpc_clt {
	struct rpmsg_endpoint ept;
	rpmsg_rpc_shutdown_cb shutdown_cb;
	const struct rpmsg_rpc_client_services *services;
	unsigned int n_services;
};

/** Destroy the client's endpoint. */
void rpmsg_rpc_client_release(struct rpmsg_rpc_clt *rpc);

/** Create the client endpoint "rpmsg-rpc" (announced, bound by the
 *  server's announcement). When the server goes (NS DESTROY) the endpoint
 *  is destroyed and `shutdown_cb` called. Returns 0 or rpmsg_create_ept's
 *  error; RPMSG_ERR_PARAM for NULL. */
int rpmsg_rpc_client_init(struct rpmsg_rpc_clt *rpc, struct rpmsg_device *rdev,
			  rpmsg_rpc_shutdown_cb shutdown_cb,
			  const struct rpmsg_rpc_client_services *services, int len);

/** Create the server endpoint "rpmsg-rpc"; each request runs the service
 *  of its id with the whole request (id included); an unknown id is
 *  answered with status RPMSG_RPC_INVALID_ID. Returns 0 or an error. */
int rpmsg_rpc_server_init(struct rpmsg_rpc_svr *rpcs, struct rpmsg_device *rdev,
			  const struct rpmsg_rpc_services *services, int len,
			  rpmsg_ns_unbind_cb rpmsg_service_server_unbind);

/** Send request `rpc_id` with `req_param_size` bytes of parameters: the
 *  bytes sent, or a negative error (RPMSG_ERR_PARAM: too long, NULL). The
 *  answer comes to the client service of that id. */
int rpmsg_rpc_client_send(struct rpmsg_rpc_clt *rpc, unsigned int rpc_id, void *request_param,
			  size_t req_param_size);

/** Answer request `rpc_id` with `status` and `param_size` bytes: the bytes
 *  sent or a negative error. */
int rpmsg_rpc_server_send(struct rpmsg_rpc_svr *rpcs, uint32_t rpc_id, int status,
			  void *request_param, size_t param_size);

#ifdef __cplusplus
}
#endif
#endif

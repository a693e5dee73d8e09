/* OpenAMP's remote procedure call helpers, as OpenAMP's programs use them:
 * a server on the remote, a client on the host, bound through the name
 * service; a call, an unknown id, parameter limits, the server going. */
#include <openamp/open_amp.h>
#include <openamp/rpmsg_rpc_client_server.h>

#include "test_util.h"

static struct tu_link L;
static struct rpmsg_rpc_svr svr;
static struct rpmsg_rpc_clt clt;

#define ADD_ID 1u

static int add_service(void *data, struct rpmsg_rpc_svr *rpcs)
{
	/* the request as OpenAMP hands it over: id, then parameters */
	int32_t a, b;
	memcpy(&a, (unsigned char *)data + MAX_FUNC_ID_LEN, 4);
	memcpy(&b, (unsigned char *)data + MAX_FUNC_ID_LEN + 4, 4);
	int32_t sum = a + b;
	return rpmsg_rpc_server_send(rpcs, ADD_ID, RPMSG_RPC_OK, &sum, sizeof(sum)) < 0;
}

static const struct rpmsg_rpc_services services[] = {{ADD_ID, add_service}};

static int answers, last_status, shutdowns;
static int32_t last_sum;

static void add_answer(struct rpmsg_rpc_clt *rpc, int status, void *data, size_t len)
{
	assert_ptr_equal(rpc, &clt);
	assert_true(len >= 8 + sizeof(int32_t));
	answers++;
	last_status = status;
	memcpy(&last_sum, data, sizeof(last_sum));
}

static void other_answer(struct rpmsg_rpc_clt *rpc, int status, void *data, size_t len)
{
	(void)rpc, (void)data, (void)len;
	answers++;
	last_status = status;
}

static const struct rpmsg_rpc_client_services client_services[] = {{ADD_ID, add_answer},
								   {7u, other_answer}};

static void shutdown_cb(struct rpmsg_rpc_clt *rpc)
{
	assert_ptr_equal(rpc, &clt);
	shutdowns++;
}

static void call_and_answer(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	assert_int_equal(rpmsg_rpc_server_init(&svr, tu_rdev(&L, TU_DEV), services, 1, NULL), 0);
	assert_int_equal(
	    rpmsg_rpc_client_init(&clt, tu_rdev(&L, TU_DRV), shutdown_cb, client_services, 2), 0);
	assert_true(tu_pump(&L) >= 2); /* both announced, both bound */
	assert_true(is_rpmsg_ept_ready(&clt.ept));
	assert_true(is_rpmsg_ept_ready(&svr.ept));
	int32_t args[2] = {40, 2};
	assert_int_equal(rpmsg_rpc_client_send(&clt, ADD_ID, args, sizeof(args)),
			 (int)(MAX_FUNC_ID_LEN + sizeof(args)));
	assert_int_equal(tu_pump(&L), 2);
	assert_int_equal(answers, 1);
	assert_int_equal(last_status, RPMSG_RPC_OK);
	assert_int_equal(last_sum, 42);
	/* an id the server does not know: answered with RPMSG_RPC_INVALID_ID */
	assert_true(rpmsg_rpc_client_send(&clt, 7u, NULL, 0) > 0);
	assert_int_equal(tu_pump(&L), 2);
	assert_int_equal(answers, 2);
	assert_int_equal(last_status, (int)RPMSG_RPC_INVALID_ID);
	/* limits */
	static unsigned char big[MAX_BUF_LEN];
	assert_int_equal(rpmsg_rpc_client_send(&clt, ADD_ID, big, MAX_BUF_LEN), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_rpc_client_send(NULL, ADD_ID, big, 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_rpc_server_send(&svr, ADD_ID, 0, big, MAX_BUF_LEN), RPMSG_ERR_PARAM);
	/* the server goes: the client's endpoint goes and shutdown_cb runs */
	rpmsg_destroy_ept(&svr.ept);
	assert_int_equal(tu_pump(&L), 2); /* its DESTROY, and the client's in turn */
	assert_int_equal(shutdowns, 1);
	assert_null(clt.ept.rdev);
	rpmsg_rpc_client_release(&clt); /* again: ignored */
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(call_and_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* OpenAMP's stdio and file proxy, as its rpc demo uses it: the remote's
 * _open, _write, _read and _close served by a host endpoint that speaks
 * OpenAMP's proxy protocol; a long write, a stdout write with its NUL, the
 * host terminating the proxy. */
#include <openamp/open_amp.h>
#include <openamp/rpmsg_retarget.h>

#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint host;
static char written[4096];
static size_t nwritten;
static int writes, stdout_nul_ok = 1;
static int shutdowns;

/* The host's proxy: one answer per request, the same id, the result in
 * int_field1. */
static int host_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	struct rpmsg_rpc_syscall sc, ans;
	unsigned char out[496];
	uint32_t extra = 0;
	assert_true(len >= sizeof(sc));
	memcpy(&sc, data, sizeof(sc));
	const unsigned char *payload = (const unsigned char *)data + sizeof(sc);
	assert_int_equal(len, sizeof(sc) + sc.args.data_len);
	ans = sc;
	switch (sc.id) {
	case OPEN_SYSCALL_ID:
		assert_string_equal((const char *)payload, "/tmp/remote.txt");
		ans.args.int_field1 = 3;
		break;
	case WRITE_SYSCALL_ID:
		writes++;
		if (sc.args.int_field1 == 1 &&
		    (sc.args.data_len != (uint32_t)sc.args.int_field2 + 1u ||
		     payload[sc.args.int_field2] != '\0'))
			stdout_nul_ok = 0;
		memcpy(written + nwritten, payload, (size_t)sc.args.int_field2);
		nwritten += (size_t)sc.args.int_field2;
		ans.args.int_field1 = sc.args.int_field2;
		break;
	case READ_SYSCALL_ID:
		memcpy(out + sizeof(ans), "abc", 3);
		ans.args.int_field1 = 3;
		ans.args.data_len = 3;
		extra = 3;
		break;
	case CLOSE_SYSCALL_ID: ans.args.int_field1 = 0; break;
	default: fail();
	}
	memcpy(out, &ans, sizeof(ans));
	assert_true(rpmsg_sendto(ept, out, (int)(sizeof(ans) + extra), src) > 0);
	return RPMSG_SUCCESS;
}

static int poll_link(void *arg)
{
	(void)arg;
	return tu_pump(&L);
}

static void shutdown_cb(struct rpmsg_rpc_data *rpc)
{
	(void)rpc;
	shutdowns++;
}

static void remote_stdio_and_files(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	assert_int_equal(rpmsg_create_ept(&host, tu_rdev(&L, TU_DRV), "rpmsg-openamp-demo-channel",
					  RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, host_cb, NULL),
			 0);
	static struct rpmsg_rpc_data rpc;
	/* no default proxy yet */
	assert_true(_close(3) < 0);
	assert_int_equal(rpmsg_rpc_init(&rpc, tu_rdev(&L, TU_DEV), "rpmsg-openamp-demo-channel",
					RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL, poll_link,
					shutdown_cb),
			 0);
	assert_true(is_rpmsg_ept_ready(&rpc.ept));
	rpmsg_set_default_rpc(&rpc);
	assert_int_equal(_open("/tmp/remote.txt", 0101, 0644), 3);
	assert_int_equal(_write(3, "hello", 5), 5);
	/* longer than a buffer: several requests, all of it arrives */
	static char big[1200];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	int w0 = writes;
	assert_int_equal(_write(3, big, (int)sizeof(big)), (int)sizeof(big));
	assert_true(writes - w0 >= 3);
	assert_int_equal(nwritten, 5 + sizeof(big));
	assert_memory_equal(written + 5, big, sizeof(big));
	/* stdout: the NUL right after the data */
	assert_int_equal(_write(1, "line\n", 5), 5);
	assert_true(stdout_nul_ok);
	char buf[8] = {0};
	assert_int_equal(_read(3, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(_close(3), 0);
	/* the host ends the proxy */
	struct rpmsg_rpc_syscall term = {TERM_SYSCALL_ID, {0, 0, 0}};
	assert_true(rpmsg_sendto(&host, &term, sizeof(term), rpc.ept.addr) > 0);
	tu_pump(&L);
	assert_int_equal(shutdowns, 1);
	assert_true(rpc.ept_destroyed);
	assert_true(_write(1, "x", 1) < 0);
	rpmsg_rpc_release(&rpc);
	rpmsg_destroy_ept(&host);
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(remote_stdio_and_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

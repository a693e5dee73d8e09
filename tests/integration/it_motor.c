/* Integration tests of the motor + sensor demo (tools/motor_demo.h): the
 * remote is `amplink remote --demo motor` (path in argv[1]). Checks that
 * SET_DUTY commands are applied and ACKed (bad ones refused, malformed ones
 * answered, never trusted), that temperature arrives every 100 ms and the
 * ADC every second (+-50%), and that `amplink motor` prints and stores
 * them in SQLite. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_spawn.h"

#include "amplink/linux/channel.h"
#include "amplink/linux/posix.h"
#include "motor_demo.h"
#ifdef AMPLINK_HAVE_SQLITE
#include "telemetry.h"
#endif

static char link_name[64];

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void spawn_remote(void)
{
	static int seq;
	snprintf(link_name, sizeof(link_name), "itmotor-%d-%d", (int)getpid(), ++seq);
	cur_remote = it_spawn((const char *const[]){amplink_bin, "remote", "--link", link_name,
						    "--once", "--demo", "motor", NULL},
			      NULL);
}

static struct al_channel *chan(struct al_posix_link *l, const char *name)
{
	struct al_channel *ch = NULL;
	assert_int_equal(
	    al_channel_open(al_posix_rdev(l), name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000, &ch), 0);
	return ch;
}

static void command(struct al_channel *ctrl, const void *cmd, size_t len, struct motor_ack *a)
{
	uint8_t buf[64];
	assert_int_equal(al_channel_write(ctrl, cmd, len, 2000), (long)len);
	long n = al_channel_read(ctrl, buf, sizeof(buf), NULL, 2000);
	assert_true(motor_ack_decode(buf, n, a));
}

/* Raw protocol, this process as host: ACKs and telemetry rates. */
static void acks_and_rates(void **s)
{
	(void)s;
	spawn_remote();
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), 0);
	struct al_channel *ctrl = chan(l, MOTOR_SVC_CTRL), *temp = chan(l, MOTOR_SVC_TEMP),
			  *adc = chan(l, MOTOR_SVC_ADC);
	struct motor_ack a;
	uint8_t cmd[MOTOR_CMD_SIZE];
	motor_cmd_encode(cmd, MOTOR_SET_DUTY, 75);
	command(ctrl, cmd, sizeof(cmd), &a);
	assert_int_equal(a.status, MOTOR_OK);
	assert_int_equal(a.duty, 75);
	assert_int_equal(a.seq, 1);
	motor_cmd_encode(cmd, MOTOR_SET_DUTY, 101);
	command(ctrl, cmd, sizeof(cmd), &a);
	assert_int_equal(a.status, MOTOR_ERANGE);
	assert_int_equal(a.duty, 75); /* unchanged */
	motor_cmd_encode(cmd, 99, 0);
	command(ctrl, cmd, sizeof(cmd), &a);
	assert_int_equal(a.status, MOTOR_EUNKNOWN);
	command(ctrl, cmd, 3, &a); /* malformed: answered, not applied */
	assert_int_equal(a.status, MOTOR_EMSG);
	motor_cmd_encode(cmd, MOTOR_GET_DUTY, 0);
	command(ctrl, cmd, sizeof(cmd), &a);
	assert_int_equal(a.status, MOTOR_OK);
	assert_int_equal(a.duty, 75);
	assert_int_equal(a.seq, 5);

	/* telemetry starts when the host binds each sensor service */
	uint8_t one = 1, buf[64];
	assert_int_equal(al_channel_write(temp, &one, 1, 1000), 1);
	assert_int_equal(al_channel_write(adc, &one, 1, 1000), 1);
	uint64_t t0 = now_ms(), tend = t0 + 3000;
	int nt = 0, na = 0;
	uint32_t last_tseq = 0;
	while (now_ms() < tend) {
		long n = al_channel_read(temp, buf, sizeof(buf), NULL, 20);
		struct sensor_sample smp = {0};
		if (n > 0) {
			assert_true(sensor_sample_decode(buf, n, &smp));
			assert_true(nt == 0 || smp.seq == last_tseq + 1);
			last_tseq = smp.seq;
			assert_in_range(smp.value, 20000, 70000); /* milli-degrees */
			nt++;
		}
		n = al_channel_read(adc, buf, sizeof(buf), NULL, 0);
		if (n > 0) {
			assert_true(sensor_sample_decode(buf, n, &smp));
			assert_in_range(smp.value, 0, 4095);
			na++;
		}
	}
	print_message("3 s: %d temperature samples (expect 30), %d ADC samples (expect 3)\n", nt,
		      na);
	assert_in_range(nt, 15, 45);
	assert_in_range(na, 2, 4);
	al_channel_close(ctrl);
	al_channel_close(temp);
	al_channel_close(adc);
	struct rpmsg_device *rdev = al_posix_rdev(l);
	al_posix_close(l);
	al_services_clear(rdev);
	it_wait_exit(cur_remote);
}

/* `amplink motor` against the remote: prints ACKs and samples, stores
 * them, exits 4 because one command was refused. */
static void motor_tool(void **s)
{
	(void)s;
	spawn_remote();
	char out[] = "/tmp/it_motor_out.XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	char db[64];
	snprintf(db, sizeof(db), "%s.db", out);
	pid_t h =
	    it_spawn((const char *const[]){amplink_bin, "motor", "--link", link_name, "--duty",
					   "40", "--duty", "250", "--duration", "2000",
#ifdef AMPLINK_HAVE_SQLITE
					   "--db", db,
#endif
					   NULL},
		     out);
	assert_int_equal(it_wait_exit(h), 4);
	FILE *f = fopen(out, "r");
	static char txt[1 << 16];
	size_t n = fread(txt, 1, sizeof(txt) - 1, f);
	txt[n] = 0;
	fclose(f);
	if (getenv("IT_VERBOSE"))
		fputs(txt, stderr);
	assert_non_null(strstr(txt, "ack: SET_DUTY 40 -> ok, duty now 40% (command #1)"));
	assert_non_null(
	    strstr(txt, "ack: SET_DUTY 250 -> duty out of range (0..100), duty now 40%"));
	assert_non_null(strstr(txt, "temp #0 remote "));
	unsigned long nt, na;
	char *sum = strstr(txt, "summary: temp ");
	assert_non_null(sum);
	assert_int_equal(sscanf(sum, "summary: temp %lu samples (%*f/s), adc %lu", &nt, &na), 2);
	assert_in_range(nt, 10, 30);
	assert_in_range(na, 1, 3);
#ifdef AMPLINK_HAVE_SQLITE
	struct al_tstore *ts;
	assert_int_equal(al_tstore_open(db, &ts), 0);
	assert_int_equal(al_tstore_count(ts, "temp"), (long)nt);
	assert_int_equal(al_tstore_count(ts, "adc"), (long)na);
	al_tstore_close(ts);
	unlink(db);
	char side[80];
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
#endif
	unlink(out);
	it_wait_exit(cur_remote);
}

int main(int argc, char **argv)
{
	if (!it_take_amplink(argc, argv))
		return 2;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(acks_and_rates, it_teardown),
	    cmocka_unit_test_teardown(motor_tool, it_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

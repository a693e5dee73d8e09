/* Unit tests of the telemetry store (apps/telemetry/telemetry_store.c):
 * what it refuses, range folding, and that a query in progress never
 * holds up the thread adding samples (the dashboard's 24 h history must
 * not stall the reader of the remote's sensors). */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "amplink/error.h"
#include "telemetry.h"

static char dir[64], path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tstore.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[128];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static void count_bucket(const struct al_tbucket *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
}

static void refuses_bad_input(void **state)
{
	(void)state;
	struct al_tstore *ts;
	assert_int_equal(al_tstore_open(path, &ts), 0);
	struct al_tsample s = {"temp", 1000, 1, 1, 1.0};
	assert_int_equal(al_tstore_add(ts, &s), 0);
	s.value = 0.0 / 0.0;
	assert_int_equal(al_tstore_add(ts, &s), AL_EINVAL); /* NaN */
	s.value = 1.0;
	s.series = "a b";
	assert_int_equal(al_tstore_add(ts, &s), AL_EINVAL); /* not a series name */
	s.series = "0123456789012345678901234567890123";
	assert_int_equal(al_tstore_add(ts, &s), AL_EINVAL); /* too long */
	int n = 0;
	assert_int_equal(al_tstore_range(ts, "temp", 10, 5, 10, count_bucket, &n), AL_EINVAL);
	assert_int_equal(al_tstore_range(ts, "temp", 0, 5, 0, count_bucket, &n), AL_EINVAL);
	assert_int_equal(al_tstore_range(ts, "<b>", 0, 5, 10, count_bucket, &n), AL_EINVAL);
	assert_int_equal(al_tstore_count(ts, NULL), 1);
	al_tstore_close(ts);
	assert_int_equal(al_tstore_open("/nonexistent/dir/t.db", &ts), AL_EINIT);
}

static void range_folds_into_buckets(void **state)
{
	(void)state;
	struct al_tstore *ts;
	assert_int_equal(al_tstore_open(path, &ts), 0);
	for (int i = 0; i < 1000; i++) {
		struct al_tsample s = {"adc", 10000 + i, (uint32_t)i, (uint32_t)i, (double)i};
		assert_int_equal(al_tstore_add(ts, &s), 0);
	}
	int n = 0;
	assert_int_equal(al_tstore_range(ts, "adc", 10000, 10999, 10, count_bucket, &n), 10);
	assert_int_equal(n, 10);
	n = 0; /* fewer samples than buckets: one per sample */
	assert_int_equal(al_tstore_range(ts, "adc", 10000, 10004, 100, count_bucket, &n), 5);
	al_tstore_close(ts);
}

/* A reader that stops inside its callback until the writer has added a
 * sample: with one lock for both, the add would wait for the reader, and
 * the reader would give up after 10 s without having seen it (the test
 * then fails on `released_by_add`). */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int in_callback, added, released_by_add;
} sync_ = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void slow_bucket(const struct al_tbucket *b, void *arg)
{
	(void)b;
	(void)arg;
	pthread_mutex_lock(&sync_.mu);
	if (!sync_.in_callback) {
		sync_.in_callback = 1;
		pthread_cond_broadcast(&sync_.cv);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 10;
		while (!sync_.added && pthread_cond_timedwait(&sync_.cv, &sync_.mu, &until) == 0)
			;
		sync_.released_by_add = sync_.added;
	}
	pthread_mutex_unlock(&sync_.mu);
}

static void *reader(void *arg)
{
	int n = 0;
	(void)al_tstore_range(arg, "temp", 0, INT64_MAX / 4, 100, slow_bucket, &n);
	return NULL;
}

static void query_does_not_hold_up_adding(void **state)
{
	(void)state;
	struct al_tstore *ts;
	assert_int_equal(al_tstore_open(path, &ts), 0);
	for (int i = 0; i < 100; i++) {
		struct al_tsample s = {"temp", 1000 + i, 0, (uint32_t)i, 20.0};
		assert_int_equal(al_tstore_add(ts, &s), 0);
	}
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader, ts), 0);
	pthread_mutex_lock(&sync_.mu);
	while (!sync_.in_callback)
		pthread_cond_wait(&sync_.cv, &sync_.mu);
	pthread_mutex_unlock(&sync_.mu);
	/* the reader is inside its query now */
	struct al_tsample s = {"temp", 5000, 0, 100, 21.0};
	assert_int_equal(al_tstore_add(ts, &s), 0);
	pthread_mutex_lock(&sync_.mu);
	sync_.added = 1;
	pthread_cond_broadcast(&sync_.cv);
	pthread_mutex_unlock(&sync_.mu);
	pthread_join(t, NULL);
	assert_true(sync_.released_by_add);
	assert_int_equal(al_tstore_count(ts, "temp"), 101); /* and it is there */
	al_tstore_close(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(refuses_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(range_folds_into_buckets, setup, teardown),
	    cmocka_unit_test_setup_teardown(query_does_not_hold_up_adding, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The diagnostics hook of the Linux-side libraries (amplink/linux/diag.h). */
#include "amplink/linux/diag.h"

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static al_diag_fn g_fn;
static void *g_arg;

void al_diag_set_handler(al_diag_fn fn, void *arg)
{
	pthread_mutex_lock(&g_mu);
	g_fn = fn;
	g_arg = arg;
	pthread_mutex_unlock(&g_mu);
}

void al_vdiagf(int level, const char *fmt, va_list ap)
{
	/* the pair is read together (a rare path: a mutex is simplest), the
	 * hook called without it */
	pthread_mutex_lock(&g_mu);
	al_diag_fn fn = g_fn;
	void *arg = g_arg;
	pthread_mutex_unlock(&g_mu);
	if (!fn)
		return;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fn(level, msg, arg);
}

int al_diag_fail(int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	al_vdiagf(AL_DIAG_ERR, fmt, ap);
	va_end(ap);
	return rc;
}

void al_diagf(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	al_vdiagf(level, fmt, ap);
	va_end(ap);
}

/* The commands' side of systemd's notify protocol (svc_notify.h): READY,
 * STATUS, WATCHDOG and STOPPING through libsystemd's sd_notify(), with the
 * de-duplication and pacing the commands' loops need. Built without
 * libsystemd (no AMPLINK_HAVE_SYSTEMD) every call is a no-op. */
#define _GNU_SOURCE
#include "svc_notify.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef AMPLINK_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static struct {
	pthread_mutex_t mu;
	bool init;			/* the environment was read */
	bool on;			/* NOTIFY_SOCKET was set */
	uint64_t wd_half_us;		/* half of WATCHDOG_USEC; 0: no watchdog */
	uint64_t last_ping_us;		/* when WATCHDOG=1 went last; 0: never */
	char status[AL_SVC_STATUS_MAX]; /* the last STATUS= sent */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

bool al_svc_supported(void)
{
#ifdef AMPLINK_HAVE_SYSTEMD
	return true;
#else
	return false;
#endif
}

/* Read the environment into S. Called with S.mu held. */
static void init_locked(void)
{
	S.init = true;
	const char *ns = getenv("NOTIFY_SOCKET");
	S.on = al_svc_supported() && ns && *ns;
	S.wd_half_us = 0;
	S.last_ping_us = 0;
	S.status[0] = 0;
#ifdef AMPLINK_HAVE_SYSTEMD
	uint64_t usec = 0;
	/* with WATCHDOG_PID set (systemd sets it), > 0 only when it names
	 * this process: a child that inherited the variables does not ping
	 * for its parent */
	if (S.on && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		S.wd_half_us = usec / 2;
#endif
}

bool al_svc_init(void)
{
	pthread_mutex_lock(&S.mu);
	init_locked();
	bool on = S.on;
	pthread_mutex_unlock(&S.mu);
	return on;
}

/* Take the lock, reading the environment on first use: the commands need
 * not call al_svc_init() themselves. */
static void lock(void)
{
	pthread_mutex_lock(&S.mu);
	if (!S.init)
		init_locked();
}

/* Send one message; a manager that is not there is not our problem (the
 * service runs on, unsupervised). Called with S.mu held. */
static void send_locked(const char *msg)
{
#ifdef AMPLINK_HAVE_SYSTEMD
	if (S.on)
		(void)sd_notify(0, msg);
#else
	(void)msg;
#endif
}

/* "PREFIX" + "STATUS=<text>" when the text changed (or `force`). */
static void status_locked(const char *prefix, bool force, const char *fmt, va_list ap)
{
	char text[AL_SVC_STATUS_MAX];
	vsnprintf(text, sizeof(text), fmt, ap);
	/* one line of plain text: a newline would end STATUS= and start
	 * another field, and a crash reason may quote the firmware */
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (!force && strcmp(text, S.status) == 0)
		return;
	memcpy(S.status, text, sizeof(text));
	char msg[AL_SVC_STATUS_MAX + 32];
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", prefix, text);
	send_locked(msg);
}

/* The three STATUS= senders: lock, send, unlock. */
static void status_va(const char *prefix, bool force, const char *fmt, va_list ap)
{
	lock();
	status_locked(prefix, force, fmt, ap);
	pthread_mutex_unlock(&S.mu);
}

void al_svc_ready(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_va("READY=1\n", true, fmt, ap);
	va_end(ap);
}

void al_svc_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_va("", false, fmt, ap);
	va_end(ap);
}

void al_svc_stopping(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_va("STOPPING=1\n", true, fmt, ap);
	va_end(ap);
}

bool al_svc_alive(void)
{
	bool sent = false;
	lock();
	if (S.on && S.wd_half_us) {
		uint64_t now = mono_us();
		if (!S.last_ping_us || now - S.last_ping_us >= S.wd_half_us) {
			send_locked("WATCHDOG=1");
			S.last_ping_us = now;
			sent = true;
		}
	}
	pthread_mutex_unlock(&S.mu);
	return sent;
}

uint32_t al_svc_watchdog_ms(void)
{
	lock();
	uint64_t ms = S.wd_half_us / 1000u;
	pthread_mutex_unlock(&S.mu);
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

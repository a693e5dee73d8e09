/* The commands' side of systemd's notify protocol (svc_notify.h): READY,
 * STATUS, WATCHDOG and STOPPING, with the de-duplication and pacing the
 * commands' loops need.
 *
 * The protocol is sd_notify(3)'s, which systemd documents as a stable
 * interface for services that do not link libsystemd: one datagram of
 * "KEY=VALUE" lines to the AF_UNIX socket named in NOTIFY_SOCKET (a path,
 * or "@name" for an abstract socket); the watchdog interval in
 * WATCHDOG_USEC, for the process in WATCHDOG_PID when that is set. These
 * few lines instead of libsystemd let the amplink command link statically
 * (Debian ships libsystemd as a shared library only; a static command
 * starts a remote about 0.5 ms sooner, docs/performance.md). */
#define _GNU_SOURCE
#include "svc_notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
	pthread_mutex_t mu;
	bool init;	       /* the environment was read */
	bool on;	       /* NOTIFY_SOCKET names a socket */
	int fd;		       /* our datagram socket, -1 until the first send */
	struct sockaddr_un to; /* NOTIFY_SOCKET */
	socklen_t to_len;
	uint64_t wd_half_us;		/* half of WATCHDOG_USEC; 0: no watchdog */
	uint64_t last_ping_us;		/* when WATCHDOG=1 went last; 0: never */
	char status[AL_SVC_STATUS_MAX]; /* the last STATUS= sent */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static uint64_t mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

bool al_svc_supported(void)
{
	return true;
}

/* NOTIFY_SOCKET into S.to: "/path" or "@abstract"; false for anything
 * else (sd_notify ignores other forms too) or a name too long. */
static bool parse_socket(const char *ns)
{
	size_t n = ns ? strlen(ns) : 0;
	if (n < 2 || (ns[0] != '/' && ns[0] != '@') || n >= sizeof(S.to.sun_path))
		return false;
	memset(&S.to, 0, sizeof(S.to));
	S.to.sun_family = AF_UNIX;
	memcpy(S.to.sun_path, ns, n);
	if (ns[0] == '@')
		S.to.sun_path[0] = '\0'; /* abstract: the length says where it ends */
	S.to_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (ns[0] == '/'));
	return true;
}

/* WATCHDOG_USEC, when WATCHDOG_PID is unset or names this process (a
 * child that inherited the variables must not ping for its parent); 0 if
 * not asked or malformed. */
static uint64_t watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID"), *usec = getenv("WATCHDOG_USEC");
	char *end;
	if (pid && *pid) {
		errno = 0;
		unsigned long long p = strtoull(pid, &end, 10);
		if (errno || *end || p != (unsigned long long)getpid())
			return 0;
	}
	if (!usec || !*usec)
		return 0;
	errno = 0;
	unsigned long long u = strtoull(usec, &end, 10);
	return errno || *end ? 0 : (uint64_t)u;
}

/* Read the environment into S. Called with S.mu held. */
static void init_locked(void)
{
	S.init = true;
	S.on = parse_socket(getenv("NOTIFY_SOCKET"));
	S.wd_half_us = S.on ? watchdog_usec() / 2 : 0;
	S.last_ping_us = 0;
	S.status[0] = 0;
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
	if (!S.on)
		return;
	if (S.fd < 0)
		S.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (S.fd >= 0)
		(void)sendto(S.fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&S.to,
			     S.to_len);
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

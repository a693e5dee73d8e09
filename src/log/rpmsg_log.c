/* Remote logging (include/amplink/log.h): rpmsg_printf() and friends for
 * the remote core, and the decoder of the log wire format. Portable: no
 * malloc, no OS, only vsnprintf() from the C library. */
#include "amplink/log.h"

#include <stdio.h>
#include <string.h>

/* Counters are bumped from any context (threads, ISRs): use the compiler's
 * atomics where there are some (gcc, clang, arm-none-eabi-gcc). */
#if defined(__GNUC__)
#define ATOMIC_INC(p)	       ((void)__atomic_fetch_add((p), 1u, __ATOMIC_RELAXED))
#define ATOMIC_NEXT(p)	       __atomic_fetch_add((p), 1u, __ATOMIC_RELAXED)
#define ATOMIC_LOAD(p)	       __atomic_load_n((p), __ATOMIC_RELAXED)
#define ATOMIC_STORE(p, v)     __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ATOMIC_STORE_PTR(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ATOMIC_LOAD_PTR(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#define ATOMIC_INC(p)	       ((void)(*(p))++)
#define ATOMIC_NEXT(p)	       ((*(p))++)
#define ATOMIC_LOAD(p)	       (*(p))
#define ATOMIC_STORE(p, v)     (*(p) = (v))
#define ATOMIC_STORE_PTR(p, v) (*(p) = (v))
#define ATOMIC_LOAD_PTR(p)     (*(p))
#endif

static struct al_log *default_log;

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Receive context: the host subscribes (and thereby binds the endpoint). */
static int log_ctrl_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	struct al_log *lg = ept->priv;
	const uint8_t *b = data;
	if (len == 2 && b[0] == AL_LOG_OP_SUBSCRIBE && b[1] <= AL_LOG_DEBUG)
		ATOMIC_STORE(&lg->max_level, (uint32_t)b[1]);
	else
		ATOMIC_INC(&lg->bad_ctrl);
	return RPMSG_SUCCESS;
}

int al_log_init(struct al_log *lg, struct rpmsg_device *rdev, const char *name,
		al_log_clock_fn clock, void *clock_arg)
{
	if (!lg || !rdev)
		return AL_EINVAL;
	memset(lg, 0, sizeof(*lg));
	lg->clock = clock;
	lg->clock_arg = clock_arg;
	lg->max_level = AL_LOG_DEBUG;
	int rc = rpmsg_create_ept(&lg->ept, rdev, name ? name : AL_LOG_SERVICE, RPMSG_ADDR_ANY,
				  RPMSG_ADDR_ANY, log_ctrl_cb, NULL);
	if (rc)
		return rc;
	lg->ept.priv = lg;
	return 0;
}

void al_log_deinit(struct al_log *lg)
{
	if (!lg)
		return;
	if (ATOMIC_LOAD_PTR(&default_log) == lg)
		ATOMIC_STORE_PTR(&default_log, (struct al_log *)NULL);
	rpmsg_destroy_ept(&lg->ept);
}

static int drop(struct al_log *lg, int err)
{
	ATOMIC_INC(&lg->dropped);
	return err;
}

int al_log_vprintf(struct al_log *lg, int level, const char *fmt, va_list ap)
{
	if (!lg || !fmt || level < 0 || level > AL_LOG_DEBUG)
		return AL_EINVAL;
	if ((uint32_t)level > ATOMIC_LOAD(&lg->max_level)) {
		ATOMIC_INC(&lg->filtered);
		return 0;
	}
	uint32_t seq = ATOMIC_NEXT(&lg->seq);
	if (!is_rpmsg_ept_ready(&lg->ept))
		return drop(lg, AL_ESTATE); /* no host has subscribed yet */
	uint32_t cap = 0;
	int err = 0;
	uint8_t *buf = al_get_tx_buffer_timeout(&lg->ept, &cap, 0, &err);
	if (!buf)
		return drop(lg, err ? err : AL_ENOBUFS);
	if (cap <= AL_LOG_HDR_SIZE) {
		rpmsg_release_tx_buffer(&lg->ept, buf);
		return drop(lg, AL_EMSGSIZE);
	}
	size_t room = cap - AL_LOG_HDR_SIZE; /* text bytes + NUL from vsnprintf */
	char *text = (char *)buf + AL_LOG_HDR_SIZE;
	int n = vsnprintf(text, room, fmt, ap);
	if (n < 0) {
		rpmsg_release_tx_buffer(&lg->ept, buf);
		return drop(lg, AL_EINVAL);
	}
	uint8_t flags = 0;
	size_t len = (size_t)n;
	if (len >= room) {
		len = room - 1;
		flags |= AL_LOG_F_TRUNCATED;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	buf[0] = AL_LOG_WIRE_VERSION;
	buf[1] = (uint8_t)level;
	buf[2] = flags;
	buf[3] = 0;
	put_le32(buf + 4, seq);
	put_le32(buf + 8, lg->clock ? lg->clock(lg->clock_arg) : 0u);
	put_le32(buf + 12, ATOMIC_LOAD(&lg->dropped));
	int rc = rpmsg_send_nocopy(&lg->ept, buf, (int)(AL_LOG_HDR_SIZE + len));
	if (rc < 0) {
		rpmsg_release_tx_buffer(&lg->ept, buf);
		return drop(lg, rc);
	}
	ATOMIC_INC(&lg->sent);
	return (int)len;
}

int al_log_printf(struct al_log *lg, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = al_log_vprintf(lg, level, fmt, ap);
	va_end(ap);
	return rc;
}

void al_log_get_stats(const struct al_log *lg, struct al_log_stats *out)
{
	if (!lg || !out)
		return;
	out->sent = ATOMIC_LOAD(&lg->sent);
	out->dropped = ATOMIC_LOAD(&lg->dropped);
	out->filtered = ATOMIC_LOAD(&lg->filtered);
	out->bad_ctrl = ATOMIC_LOAD(&lg->bad_ctrl);
}

void al_log_set_default(struct al_log *lg)
{
	ATOMIC_STORE_PTR(&default_log, lg);
}

int rpmsg_printf(const char *fmt, ...)
{
	struct al_log *lg = ATOMIC_LOAD_PTR(&default_log);
	if (!lg)
		return AL_ESTATE;
	va_list ap;
	va_start(ap, fmt);
	int rc = al_log_vprintf(lg, AL_LOG_INFO, fmt, ap);
	va_end(ap);
	return rc;
}

int rpmsg_log(int level, const char *fmt, ...)
{
	struct al_log *lg = ATOMIC_LOAD_PTR(&default_log);
	if (!lg)
		return AL_ESTATE;
	va_list ap;
	va_start(ap, fmt);
	int rc = al_log_vprintf(lg, level, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- decoding -------------------------------------------------------------- */

int al_log_decode(const void *msg, size_t len, struct al_log_line *out, char *text, size_t cap)
{
	const uint8_t *b = msg;
	if (!msg || !out || !text || cap == 0)
		return AL_EINVAL;
	if (len < AL_LOG_HDR_SIZE || b[0] != AL_LOG_WIRE_VERSION || b[1] > AL_LOG_DEBUG ||
	    b[3] != 0)
		return AL_EINVAL;
	out->level = b[1];
	out->flags = b[2] & AL_LOG_F_TRUNCATED;
	out->seq = get_le32(b + 4);
	out->ts_ms = get_le32(b + 8);
	out->dropped = get_le32(b + 12);
	size_t n = len - AL_LOG_HDR_SIZE;
	if (n > cap - 1) {
		n = cap - 1;
		out->flags |= AL_LOG_F_TRUNCATED;
	}
	const uint8_t *t = b + AL_LOG_HDR_SIZE;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = t[i];
		text[i] = (char)((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c);
	}
	text[n] = '\0';
	out->len = n;
	out->text = text;
	return 0;
}

static const char *const level_names[] = {"emerg",   "alert",  "crit", "err",
					  "warning", "notice", "info", "debug"};

const char *al_log_level_name(int level)
{
	return level >= 0 && level <= AL_LOG_DEBUG ? level_names[level] : "?";
}

int al_log_level_parse(const char *name)
{
	if (!name || !*name)
		return -1;
	if (name[0] >= '0' && name[0] <= '7' && name[1] == '\0')
		return name[0] - '0';
	for (int i = 0; i <= AL_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "error") == 0)
		return AL_LOG_ERR;
	if (strcmp(name, "warn") == 0)
		return AL_LOG_WARNING;
	return -1;
}

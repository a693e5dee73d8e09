/* A vhost-user back-end that only watches: it listens on a socket for the
 * virtio_uml driver of a User-Mode Linux kernel (run-guest.sh), logs every
 * request and event with the time since start, reports the first kick of
 * vring 0 (the driver has posted its receive buffers: the moment an rpmsg
 * device would announce its services) with what the rings hold, and exits
 * when the front-end is gone or the time is up.
 *
 * Usage: vhu_probe SOCKET [TIMEOUT_S [NAME,NAME...]]
 * With names, it also announces each as an rpmsg service on the first kick
 * of vring 0 (a name-service message written by hand into the driver's
 * receive buffers: a test of the kernel's side, not an rpmsg device).
 * Prints "vhu_probe: listening" once the socket is in place. Exit status 0
 * when the conversation completed (memory table, both vrings ready, a kick
 * on vring 0, every announcement delivered, no request refused), 1
 * otherwise, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink/linux/vhost_user.h"

struct probe {
	struct timespec t0;
	int mem_tables;
	int ready[AL_VHU_MAX_VRINGS]; /* became ready at least once */
	int kicks[AL_VHU_MAX_VRINGS];
	int errors;
	int gone;
	double first_kick_ms;
	const char *announce; /* comma-separated service names, or NULL */
	int announced;
	int announce_failed;
};

static double ms_since(const struct probe *p)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - p->t0.tv_nsec) / 1e6;
}

static void on_diag(void *arg, enum al_vhu_level lvl, const char *msg)
{
	static const char *const lv[] = {"error", "warning", "info", "req"};
	struct probe *p = arg;
	if (lvl == AL_VHU_ERROR)
		p->errors++;
	printf("%9.3f ms %-7s %s\n", ms_since(p), lv[lvl], msg);
}

/* What the driver put in the rings, read-only (u16/u32/u64 little-endian
 * on this host). */
static void show_rings(struct probe *p, struct al_vhu *vhu, unsigned int i)
{
	const struct al_vhu_vring *v = al_vhu_vring(vhu, i);
	const uint16_t *avail = al_vhu_gpa_to_va(vhu, v->avail_gpa, 6 + 2 * v->num);
	const uint8_t *desc = al_vhu_gpa_to_va(vhu, v->desc_gpa, 16 * v->num);

	if (!avail || !desc) {
		printf("%9.3f ms probe   vring %u: rings not translatable\n", ms_since(p), i);
		return;
	}
	uint16_t head = avail[2];
	if (head >= v->num)
		head = 0;
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	memcpy(&addr, desc + 16 * head, 8);
	memcpy(&len, desc + 16 * head + 8, 4);
	memcpy(&flags, desc + 16 * head + 12, 2);
	printf("%9.3f ms probe   vring %u: avail flags 0x%x idx %u; first descriptor %u: "
	       "addr 0x%" PRIx64 " len %u flags 0x%x (buffer %s)\n",
	       ms_since(p), i, avail[0], avail[1], head, addr, len, flags,
	       al_vhu_gpa_to_va(vhu, addr, len) ? "translatable" : "NOT translatable");
}

/* Put one name-service announcement (create) for name at address addr into
 * the next receive buffer the driver posted on vring 0 (split ring,
 * little-endian host): rpmsg header {src, dst 53, reserved, len 40, flags}
 * then {char name[32]; u32 addr; u32 flags 0}. Returns 0 or -1. */
static int announce_one(struct probe *p, struct al_vhu *vhu, const char *name, size_t nlen,
			uint32_t addr)
{
	const struct al_vhu_vring *v = al_vhu_vring(vhu, 0);
	uint16_t *avail = al_vhu_gpa_to_va(vhu, v->avail_gpa, 6 + 2 * v->num);
	uint8_t *desc = al_vhu_gpa_to_va(vhu, v->desc_gpa, 16 * v->num);
	uint16_t *used = al_vhu_gpa_to_va(vhu, v->used_gpa, 6 + 8 * v->num);
	static uint16_t last_avail;

	if (!avail || !desc || !used)
		return -1;
	uint16_t aidx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	if (aidx == last_avail) {
		printf("%9.3f ms probe   no receive buffer left on vring 0\n", ms_since(p));
		return -1;
	}
	uint16_t head = avail[2 + last_avail % v->num];
	if (head >= v->num)
		return -1;
	uint64_t baddr;
	uint32_t blen;
	uint16_t bflags;
	memcpy(&baddr, desc + 16 * head, 8);
	memcpy(&blen, desc + 16 * head + 8, 4);
	memcpy(&bflags, desc + 16 * head + 12, 2);
	uint8_t *buf = al_vhu_gpa_to_va(vhu, baddr, 56);
	if (!buf || blen < 56 || !(bflags & 2) || nlen >= 32) {
		printf("%9.3f ms probe   descriptor %u unusable (addr 0x%" PRIx64 " len %u flags "
		       "0x%x)\n",
		       ms_since(p), head, baddr, blen, bflags);
		return -1;
	}
	uint32_t hdr[3] = {addr, 53, 0};
	uint16_t len_flags[2] = {40, 0};
	uint32_t ns_tail[2] = {addr, 0};
	memset(buf, 0, 56);
	memcpy(buf, hdr, 12);
	memcpy(buf + 12, len_flags, 4);
	memcpy(buf + 16, name, nlen);
	memcpy(buf + 48, ns_tail, 8);
	last_avail++;
	uint16_t uidx = used[1];
	uint32_t elem[2] = {head, 56};
	memcpy((uint8_t *)used + 4 + 8 * (uidx % v->num), elem, 8);
	__atomic_store_n(&used[1], (uint16_t)(uidx + 1), __ATOMIC_RELEASE);
	int rc = al_vhu_call(vhu, 0);
	printf("%9.3f ms probe   announced '%.*s' at 0x%x in descriptor %u, call: %d\n",
	       ms_since(p), (int)nlen, name, addr, head, rc);
	return rc ? -1 : 0;
}

static void announce_all(struct probe *p, struct al_vhu *vhu)
{
	const char *s = p->announce;
	uint32_t addr = 0x400;

	while (s && *s) {
		size_t n = strcspn(s, ",");
		if (n && announce_one(p, vhu, s, n, addr++) == 0)
			p->announced++;
		else if (n)
			p->announce_failed++;
		s += n + (s[n] == ',');
	}
}

static void on_event(void *arg, struct al_vhu *vhu, enum al_vhu_event ev, int vring)
{
	struct probe *p = arg;

	printf("%9.3f ms event   %s", ms_since(p), al_vhu_event_name(ev));
	if (vring >= 0)
		printf(" vring %d", vring);
	switch (ev) {
	case AL_VHU_EV_MEM_TABLE: {
		unsigned int n;
		const struct al_vhu_region *r = al_vhu_regions(vhu, &n);
		p->mem_tables++;
		for (unsigned int i = 0; i < n; i++)
			printf("; region %u guest 0x%" PRIx64 " size 0x%" PRIx64 " user 0x%" PRIx64
			       " offset 0x%" PRIx64,
			       i, r[i].gpa, r[i].size, r[i].user_addr, r[i].mmap_offset);
		break;
	}
	case AL_VHU_EV_FEATURES:
		printf(" 0x%" PRIx64 " (protocol 0x%" PRIx64 ")", al_vhu_features(vhu),
		       al_vhu_protocol_features(vhu));
		break;
	case AL_VHU_EV_VRING_READY: {
		const struct al_vhu_vring *v = al_vhu_vring(vhu, (unsigned int)vring);
		static const char *const kind[] = {"none", "eventfd", "pipe", "socket"};
		p->ready[vring] = 1;
		printf(": num %u base %u desc 0x%" PRIx64 " avail 0x%" PRIx64 " used 0x%" PRIx64
		       " kick fd %d call %s",
		       v->num, v->base, v->desc_gpa, v->avail_gpa, v->used_gpa, v->kick_fd,
		       kind[v->call_kind]);
		break;
	}
	case AL_VHU_EV_KICK:
		if (p->kicks[vring]++ == 0) {
			printf(" (first)\n");
			if (vring == 0) {
				p->first_kick_ms = ms_since(p);
				printf(
				    "%9.3f ms probe   first kick on vring 0: the driver is ready\n",
				    p->first_kick_ms);
			}
			show_rings(p, vhu, (unsigned int)vring);
			if (vring == 0 && p->announce)
				announce_all(p, vhu);
			fflush(stdout);
			return;
		}
		break;
	case AL_VHU_EV_GONE: p->gone = 1; break;
	default: break;
	}
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct probe p = {0};
	const char *err = NULL;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: vhu_probe SOCKET [TIMEOUT_S [NAME,NAME...]]\n");
		return 2;
	}
	double timeout_ms = (argc >= 3 ? atof(argv[2]) : 60) * 1e3;
	p.announce = argc == 4 && argv[3][0] ? argv[3] : NULL;
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct al_vhu_config cfg = {.event = on_event, .diag = on_diag, .arg = &p};
	struct al_vhu *vhu = al_vhu_create(&cfg, &err);
	if (!vhu) {
		fprintf(stderr, "vhu_probe: %s\n", err);
		return 2;
	}
	if (al_vhu_listen(vhu, argv[1])) {
		fprintf(stderr, "vhu_probe: %s\n", al_vhu_last_error(vhu));
		al_vhu_destroy(vhu);
		return 2;
	}
	printf("vhu_probe: listening\n");
	int rejected = 0;
	while (!p.gone && ms_since(&p) < timeout_ms) {
		int rc = al_vhu_run(vhu, 100);
		if (rc == AL_EPERM)
			rejected++;
	}
	int ok = p.mem_tables >= 1 && p.kicks[0] > 0 && p.errors == 0 && rejected == 0 &&
		 p.announce_failed == 0;
	for (int i = 0; i < AL_VHU_MAX_VRINGS; i++)
		ok = ok && p.ready[i];
	printf("vhu_probe: %s: memory tables %d, kicks vring0 %d vring1 %d, errors %d, refused %d, "
	       "first kick on vring 0 at %.1f ms, announced %d (failed %d), front-end %s\n",
	       ok ? "PASS" : "FAIL", p.mem_tables, p.kicks[0], p.kicks[1], p.errors, rejected,
	       p.first_kick_ms, p.announced, p.announce_failed,
	       p.gone ? "gone" : "still connected (timeout)");
	al_vhu_destroy(vhu);
	return ok ? 0 : 1;
}

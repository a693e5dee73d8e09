/* The service directory: names the peer announced through the name
 * service, per rpmsg device, so channels can be opened by name.
 *
 * The peer chooses what is announced, so the directory is built to stand
 * a flood: a hash on (device, name) makes every lookup, announcement and
 * withdrawal O(1); NS destroy removes the entry; and each device holds at
 * most AL_SERVICES_MAX names: further announcements are dropped and
 * counted, and said once per device through the diagnostics hook. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/diag.h"

#define NBUCKETS 4096u /* a power of two */
#define MAX_DEVS 64u

struct svc {
	struct svc *hnext;	 /* bucket chain */
	struct svc *prev, *next; /* every entry, newest first (foreach order) */
	struct rpmsg_device *rdev;
	uint32_t addr;
	char name[RPMSG_NAME_SIZE];
};

struct dev_count { /* per device: entries, drops, whether we said so */
	struct rpmsg_device *rdev;
	uint32_t n;
	uint64_t dropped;
	bool said;
};

static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svc *buckets[NBUCKETS];
static struct svc *all;
static struct dev_count devs[MAX_DEVS];

static uint32_t hash(const struct rpmsg_device *rdev, const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a over the name, then the device */
	for (size_t i = 0; i < RPMSG_NAME_SIZE && name[i]; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	uintptr_t p = (uintptr_t)rdev;
	h ^= (uint32_t)(p >> 4) ^ (uint32_t)((uint64_t)p >> 32);
	h *= 16777619u;
	return h & (NBUCKETS - 1u);
}

static struct svc **find(struct rpmsg_device *rdev, const char *name)
{
	struct svc **p = &buckets[hash(rdev, name)];
	for (; *p; p = &(*p)->hnext)
		if ((*p)->rdev == rdev && strncmp((*p)->name, name, RPMSG_NAME_SIZE) == 0)
			break;
	return p;
}

static struct dev_count *dev_of(struct rpmsg_device *rdev, bool make)
{
	struct dev_count *free_slot = NULL;
	for (unsigned i = 0; i < MAX_DEVS; i++) {
		if (devs[i].rdev == rdev)
			return &devs[i];
		if (!devs[i].rdev && !free_slot)
			free_slot = &devs[i];
	}
	if (!make || !free_slot)
		return NULL;
	*free_slot = (struct dev_count){.rdev = rdev};
	return free_slot;
}

static void unlink_svc(struct svc **p)
{
	struct svc *s = *p;
	*p = s->hnext;
	if (s->prev)
		s->prev->next = s->next;
	else
		all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	struct dev_count *d = dev_of(s->rdev, false);
	if (d && d->n)
		d->n--;
	free(s);
}

void al_services_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	pthread_mutex_lock(&dir_lock);
	struct svc **p = find(rdev, name);
	if (*p) {
		(*p)->addr = dest; /* a re-announcement moves the service */
		pthread_mutex_unlock(&dir_lock);
		return;
	}
	struct dev_count *d = dev_of(rdev, true);
	struct svc *s = d && d->n < AL_SERVICES_MAX ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		bool say = false;
		if (d) {
			d->dropped++;
			say = !d->said;
			d->said = true;
		}
		pthread_mutex_unlock(&dir_lock);
		if (say || !d)
			al_diagf(AL_DIAG_WARNING,
				 "the peer announced more than %u services; further "
				 "announcements are dropped and counted (the first was '%.31s')",
				 AL_SERVICES_MAX, name);
		return;
	}
	s->rdev = rdev;
	strncpy(s->name, name, RPMSG_NAME_SIZE - 1);
	s->addr = dest;
	s->hnext = *p;
	*p = s;
	s->next = all;
	if (all)
		all->prev = s;
	all = s;
	d->n++;
	pthread_mutex_unlock(&dir_lock);
}

void al_services_ns_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	pthread_mutex_lock(&dir_lock);
	struct svc **p = find(rdev, name);
	if (*p && (*p)->addr == dest) /* only the announcement it withdraws */
		unlink_svc(p);
	pthread_mutex_unlock(&dir_lock);
}

int al_services_lookup(struct rpmsg_device *rdev, const char *name, uint32_t *addr)
{
	int rc = AL_EADDR;
	pthread_mutex_lock(&dir_lock);
	struct svc **p = find(rdev, name);
	if (*p) {
		*addr = (*p)->addr;
		rc = 0;
	}
	pthread_mutex_unlock(&dir_lock);
	return rc;
}

int al_services_foreach(struct rpmsg_device *rdev,
			void (*fn)(const char *name, uint32_t addr, void *arg), void *arg)
{
	int n = 0;
	pthread_mutex_lock(&dir_lock);
	for (struct svc *s = all; s; s = s->next)
		if (s->rdev == rdev) {
			fn(s->name, s->addr, arg);
			n++;
		}
	pthread_mutex_unlock(&dir_lock);
	return n;
}

uint64_t al_services_dropped(struct rpmsg_device *rdev)
{
	pthread_mutex_lock(&dir_lock);
	struct dev_count *d = dev_of(rdev, false);
	uint64_t n = d ? d->dropped : 0;
	pthread_mutex_unlock(&dir_lock);
	return n;
}

void al_services_clear(struct rpmsg_device *rdev)
{
	pthread_mutex_lock(&dir_lock);
	for (struct svc *s = all, *nx; s; s = nx) {
		nx = s->next;
		if (s->rdev == rdev)
			unlink_svc(find(rdev, s->name));
	}
	struct dev_count *d = dev_of(rdev, false);
	if (d)
		*d = (struct dev_count){0};
	pthread_mutex_unlock(&dir_lock);
}

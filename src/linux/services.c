/* The service directory: names the peer announced through the name
 * service, per rpmsg device, so channels can be opened by name. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/linux/channel.h"

struct svc {
	struct svc *next;
	struct rpmsg_device *rdev;
	uint32_t addr;
	char name[RPMSG_NAME_SIZE];
};

static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svc *dir;

void al_services_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	pthread_mutex_lock(&dir_lock);
	struct svc *s;
	for (s = dir; s; s = s->next)
		if (s->rdev == rdev && strncmp(s->name, name, RPMSG_NAME_SIZE) == 0)
			break;
	if (!s && (s = calloc(1, sizeof(*s))) != NULL) {
		s->rdev = rdev;
		strncpy(s->name, name, RPMSG_NAME_SIZE - 1);
		s->next = dir;
		dir = s;
	}
	if (s)
		s->addr = dest; /* a re-announcement moves the service */
	pthread_mutex_unlock(&dir_lock);
}

int al_services_lookup(struct rpmsg_device *rdev, const char *name, uint32_t *addr)
{
	int rc = AL_EADDR;
	pthread_mutex_lock(&dir_lock);
	for (struct svc *s = dir; s; s = s->next)
		if (s->rdev == rdev && strncmp(s->name, name, RPMSG_NAME_SIZE) == 0) {
			*addr = s->addr;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&dir_lock);
	return rc;
}

int al_services_foreach(struct rpmsg_device *rdev,
			void (*fn)(const char *name, uint32_t addr, void *arg), void *arg)
{
	int n = 0;
	pthread_mutex_lock(&dir_lock);
	for (struct svc *s = dir; s; s = s->next)
		if (s->rdev == rdev) {
			fn(s->name, s->addr, arg);
			n++;
		}
	pthread_mutex_unlock(&dir_lock);
	return n;
}

void al_services_clear(struct rpmsg_device *rdev)
{
	pthread_mutex_lock(&dir_lock);
	for (struct svc **p = &dir; *p;) {
		struct svc *s = *p;
		if (s->rdev == rdev) {
			*p = s->next;
			free(s);
		} else {
			p = &s->next;
		}
	}
	pthread_mutex_unlock(&dir_lock);
}

/* Shared regions a peer cannot take away: sealed memfds, and a guard for
 * mapped files that cannot be sealed (see posix_port.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "amplink/linux/posix_port.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int al_posix_sealed_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

bool al_posix_region_sealed(int fd)
{
	int s = fcntl(fd, F_GET_SEALS);
	return s >= 0 && (s & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW);
}

/* ---- the guard ------------------------------------------------------------
 * SIGBUS is synchronous: it goes to the thread that touched a page past
 * the end of the file, whichever thread that is. The handler puts private
 * zero pages over the whole guarded mapping (mmap MAP_FIXED is a plain
 * system call, safe in a handler) and returns: the access is retried and
 * lands in local memory, the process goes on, and the owner finds the hit
 * flag set and calls the link lost. A fault outside every guarded range
 * goes back to the handler that was there before. No sigsetjmp, so no
 * lock or core state is left half-way. */
#define MAX_GUARDS 16

struct guard {
	uintptr_t base; /* 0: free slot */
	size_t len;
	volatile sig_atomic_t hit;
};

static struct guard guards[MAX_GUARDS];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction prev_bus;
static bool installed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	for (int i = 0; i < MAX_GUARDS; i++) {
		uintptr_t b = __atomic_load_n(&guards[i].base, __ATOMIC_ACQUIRE);
		if (b && a >= b && a - b < guards[i].len) {
			int e = errno;
			void *p = mmap((void *)b, guards[i].len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			errno = e;
			if (p != MAP_FAILED) {
				guards[i].hit = 1;
				return;
			}
		}
	}
	/* not ours: the previous disposition takes the retried fault */
	if (prev_bus.sa_flags & SA_SIGINFO && prev_bus.sa_sigaction) {
		prev_bus.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev_bus.sa_handler != SIG_DFL && prev_bus.sa_handler != SIG_IGN) {
		prev_bus.sa_handler(sig);
		return;
	}
	signal(SIGBUS, SIG_DFL);
}

int al_posix_guard_add(void *base, size_t len)
{
	pthread_mutex_lock(&guard_mu);
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &prev_bus) < 0) {
			pthread_mutex_unlock(&guard_mu);
			return -errno;
		}
		installed = true;
	}
	int slot = -ENOSPC;
	for (int i = 0; i < MAX_GUARDS && slot < 0; i++)
		if (!guards[i].base) {
			guards[i].len = len;
			guards[i].hit = 0;
			__atomic_store_n(&guards[i].base, (uintptr_t)base, __ATOMIC_RELEASE);
			slot = i;
		}
	pthread_mutex_unlock(&guard_mu);
	return slot;
}

bool al_posix_guard_hit(int slot)
{
	return slot >= 0 && slot < MAX_GUARDS && guards[slot].hit;
}

void al_posix_guard_remove(int slot)
{
	if (slot < 0 || slot >= MAX_GUARDS)
		return;
	pthread_mutex_lock(&guard_mu);
	__atomic_store_n(&guards[slot].base, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&guard_mu);
}

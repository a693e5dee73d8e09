/* Device-address <-> local-address translation for the shared region, with
 * overflow-safe bounds checks on both ends. */
#include <stdint.h>

#include "amplink/config.h"
#include "amplink/error.h"
#include "amplink/port.h"
#include "shm_access.h"

void *al_shm_da_to_va(const struct al_shm *shm, uint64_t da, size_t len)
{
	if (!shm || da < shm->da)
		return NULL;
	uint64_t off = da - shm->da;
	/* off + len <= size, written so that nothing can wrap */
	if (off > shm->size || len > shm->size - off)
		return NULL;
	return (uint8_t *)shm->va + off;
}

int al_shm_va_to_da(const struct al_shm *shm, const void *va, size_t len, uint64_t *da)
{
	if (!shm || !va)
		return AL_EADDR;
	uintptr_t p = (uintptr_t)va, base = (uintptr_t)shm->va;
	if (p < base || p - base > shm->size || len > shm->size - (p - base))
		return AL_EADDR;
	if (da)
		*da = shm->da + (p - base);
	return AL_OK;
}

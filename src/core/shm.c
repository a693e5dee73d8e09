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

#ifdef AL_CFG_DA32
/* The region ends below 4 GiB (checked by rpmsg_init_vdev): 32-bit
 * arithmetic is exact here, and cheap on a 32-bit core. */
void *al_shm_ptr(const struct al_shm *shm, al_da_t da, uint32_t len)
{
	uint32_t base = (uint32_t)shm->da, size = (uint32_t)shm->size;
	uint32_t off = da - base;
	if (da < base || off > size || len > size - off)
		return NULL;
	return (uint8_t *)shm->va + off;
}
#else
void *al_shm_ptr(const struct al_shm *shm, al_da_t da, uint32_t len)
{
	return al_shm_da_to_va(shm, da, len);
}
#endif

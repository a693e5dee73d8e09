/* The default allocator hooks of the dynamic variants (amplink/rpmsg_env.h):
 * malloc and free. In a file of their own so that a port defining both
 * links its own instead (a static archive's member is pulled in only for
 * a symbol still undefined). Empty in an AMPLINK_NO_MALLOC build. */
#include "amplink/rpmsg_lite_config.h"

#if !AMPLINK_NO_MALLOC
#include <stdlib.h>

#include "amplink/rpmsg_env.h"

void *env_allocate_memory(uint32_t size)
{
	return malloc(size);
}

void env_free_memory(void *ptr)
{
	free(ptr);
}
#else
typedef int al_lite_env_alloc_unused; /* ISO C: no empty translation unit */
#endif

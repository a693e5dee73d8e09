/* Plan and write the standard single-link layout (layout.h). */
#include "amplink/layout.h"

#include <string.h>

#include "amplink/error.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1u) & ~(a - 1u);
}

int al_layout_plan(const struct al_layout_cfg *c, uint64_t base_da, size_t size,
		   struct al_layout *out)
{
	if (!c || !out || c->num == 0 || c->num > AL_VRING_MAX_NUM || (c->num & (c->num - 1)) ||
	    c->align < 16 || (c->align & (c->align - 1)) || c->buf_size < 64 ||
	    c->buf_size > 65536 || (base_da & (c->align - 1)))
		return AL_EINVAL;
	uint64_t a = base_da;
	out->rsc_da = a;
	out->vdev_da = a + offsetof(struct al_rsc_table_rpmsg, vdev);
	a = align_up(a + sizeof(struct al_rsc_table_rpmsg), c->align);
	for (int i = 0; i < 2; i++) {
		out->vring_da[i] = a;
		a = align_up(a + vring_size(c->num, c->align), c->align);
	}
	out->pool_da = a;
	out->pool_size = 2u * (size_t)c->num * c->buf_size;
	out->total = (size_t)(a - base_da) + out->pool_size;
	return out->total <= size ? 0 : AL_ENOMEM;
}

int al_layout_write_rsc(const struct al_shm *shm, const struct al_layout *l,
			const struct al_layout_cfg *c)
{
	struct al_rsc_table_rpmsg *t = al_shm_da_to_va(shm, l->rsc_da, sizeof(*t));
	if (!t || !c || l->vring_da[0] > 0xFFFFFFFFu || l->vring_da[1] > 0xFFFFFFFFu)
		return AL_EINVAL;
	const struct al_rsc_table_rpmsg init = AL_RSC_TABLE_RPMSG_INIT(
	    (uint32_t)l->vring_da[0], (uint32_t)l->vring_da[1], c->num, c->align, c->features);
	memcpy(t, &init, sizeof(init));
	return 0;
}

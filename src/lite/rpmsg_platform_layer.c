/* RPMsg-Lite's platform layer as an amplink port (RL_PLATFORM_LAYER=1): a
 * board port written for RPMsg-Lite (platform_notify, platform_init_interrupt,
 * platform_interrupt_enable/disable, platform_time_delay, platform_vatopa,
 * platform_init/deinit) links against the façade unchanged, and its
 * doorbell interrupt calls env_isr(vector) as with RPMsg-Lite. Used for
 * every link no rpmsg_lite_set_platform() registered. */
#include "lite_internal.h"

#if RL_PLATFORM_LAYER
#include "amplink/rpmsg_env.h"

/* The board's functions (its rpmsg_platform.h, which amplink does not ship:
 * it is the board's). */
int32_t platform_init(void);
int32_t platform_deinit(void);
int32_t platform_init_interrupt(uint32_t vector_id, void *isr_data);
int32_t platform_deinit_interrupt(uint32_t vector_id);
int32_t platform_interrupt_enable(uint32_t vector_id);
int32_t platform_interrupt_disable(uint32_t vector_id);
void platform_notify(uint32_t vector_id);
void platform_time_delay(uint32_t num_msec);
uintptr_t platform_vatopa(void *addr);

/* RPMsg-Lite's vector ids: link id and queue id in one word. */
#define VQ_ID(link, q) (((q)&0x1U) | (((link) << 1U) & 0xFFFFFFFEU))
#define LINK_OF(v)     (((v)&0xFFFFFFFEU) >> 1U)

static struct pl_link {
	uint32_t link_id;
	struct rpmsg_lite_instance *volatile rl; /* set while running */
	uint64_t now;				 /* ms slept through the board */
} links[RL_PLATFORM_HIGHEST_LINK_ID + 1U];
static uint32_t running; /* links started: platform_init on the first */

static void pl_notify(void *ctx, uint32_t notifyid)
{
	platform_notify(VQ_ID(((struct pl_link *)ctx)->link_id, notifyid));
}

/* Receive callbacks run in env_isr: the lock masks the link's doorbells,
 * as RPMsg-Lite's bare-metal environment does around its critical parts. */
static void pl_lock(void *ctx)
{
	uint32_t l = ((struct pl_link *)ctx)->link_id;
	(void)platform_interrupt_disable(VQ_ID(l, 0U));
	(void)platform_interrupt_disable(VQ_ID(l, 1U));
}

static void pl_unlock(void *ctx)
{
	uint32_t l = ((struct pl_link *)ctx)->link_id;
	(void)platform_interrupt_enable(VQ_ID(l, 1U));
	(void)platform_interrupt_enable(VQ_ID(l, 0U));
}

static uint64_t pl_time(void *ctx)
{
	return ((struct pl_link *)ctx)->now;
}

/* RPMsg-Lite's waits sleep in steps through the board's delay; so do we. */
static void pl_wait(void *ctx, uint32_t timeout_ms)
{
	(void)timeout_ms;
	platform_time_delay(1U);
	((struct pl_link *)ctx)->now++;
}

const struct al_port_ops al_lite_pl_ops = {
    .notify = pl_notify,
    .lock = pl_lock,
    .unlock = pl_unlock,
    .time_ms = pl_time,
    .wait = pl_wait,
};

void al_lite_pl_attach(uint32_t link_id, void *shmem_addr)
{
	links[link_id].link_id = link_id;
	(void)rpmsg_lite_set_platform(link_id, &al_lite_pl_ops, &links[link_id],
				      (uint64_t)platform_vatopa(shmem_addr));
}

void al_lite_pl_started(struct rpmsg_lite_instance *rl, uint32_t link_id)
{
	if (running++ == 0U)
		(void)platform_init();
	links[link_id].rl = rl;
	for (uint32_t q = 0; q < 2U; q++) {
		(void)platform_init_interrupt(VQ_ID(link_id, q), rl);
		(void)platform_interrupt_enable(VQ_ID(link_id, q));
	}
}

void al_lite_pl_stopped(struct rpmsg_lite_instance *rl)
{
	for (uint32_t l = 0; l <= RL_PLATFORM_HIGHEST_LINK_ID; l++) {
		if (links[l].rl != rl)
			continue;
		for (uint32_t q = 0; q < 2U; q++) {
			(void)platform_interrupt_disable(VQ_ID(l, q));
			(void)platform_deinit_interrupt(VQ_ID(l, q));
		}
		links[l].rl = NULL;
		if (--running == 0U)
			(void)platform_deinit();
	}
}

void env_isr(uint32_t vector)
{
	uint32_t l = LINK_OF(vector);
	struct rpmsg_lite_instance *rl = l <= RL_PLATFORM_HIGHEST_LINK_ID ? links[l].rl : NULL;
	if (rl)
		(void)rpmsg_lite_isr(rl);
}
#else
typedef int al_lite_platform_layer_unused; /* ISO C: no empty translation unit */
#endif

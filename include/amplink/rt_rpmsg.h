/* RT-Thread's rpmsg device over the amplink core: the API an RT-Thread
 * remote is written against, with RT-Thread's names and return
 * conventions, as a thin layer (every message, buffer and announcement is
 * the core's).
 *
 *   rt_device_t dev = rt_device_find("rpmsg");
 *   rt_device_open(dev, RT_DEVICE_OFLAG_OPEN);
 *   struct rt_rpmsg_ep_addr a = {"rpmsg_chrdev", 0x3000, 0x1000};
 *   rt_device_control(dev, RT_DEVICE_CTRL_CONFIG, &a); create + announce
 *   n = rt_device_read(dev, 0x3000, buf, size);  next message to 0x3000
 *   rt_device_write(dev, 0x1000, buf, n);         send from 0x3000 to 0x1000
 *
 * The board (not the application) registers the device on a link with
 * al_rt_rpmsg_register(), as an RT-Thread BSP registers its driver. The
 * device's calls are rt_device_* of <rtthread.h> (src/rtthread/compat
 * where RT-Thread itself is not there).
 *
 * Semantics:
 * - RT_DEVICE_CTRL_CONFIG with a struct rt_rpmsg_ep_addr {name, src,
 *   dst}: creates an endpoint at `src` (RPMSG_ADDR_ANY: allocated) named
 *   `name`, announced to the peer (NS CREATE, at once or at link-up), whose
 *   writes go to `dst`. RT_EOK, -RT_EINVAL (NULL), -RT_EFULL (all
 *   AL_RT_MAX_EPTS in use), -RT_EBUSY (address taken), -RT_ERROR.
 *   Programs define struct rt_rpmsg_ep_addr themselves, as RT-Thread's
 *   example does; its layout is {const char *name; rt_uint32_t src;
 *   rt_uint32_t dst;}.
 * - rt_device_read(dev, src, buf, size): blocks (through the port's wait)
 *   for the next message to the endpoint at `src`, copies up to `size`
 *   bytes (the rest is cut off) and returns the count; 0 on error (not
 *   open, no endpoint at `src`, NULL, the link broken or the peer gone).
 *   Up to AL_RT_QUEUE messages wait per endpoint (held in their shared
 *   buffers); more are dropped and counted.
 * - rt_device_write(dev, dst, buf, len): sends from the endpoint configured
 *   with that `dst` (else the first one), waiting for a buffer up to the
 *   link's send timeout; returns `len`, or 0 on error.
 * - rt_device_close(): the last close destroys the endpoints (NS DESTROY).
 * Thread context for everything (read and write block).
 */
#ifndef AMPLINK_RT_RPMSG_H
#define AMPLINK_RT_RPMSG_H

#include <rtthread.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AL_RT_MAX_EPTS
#define AL_RT_MAX_EPTS 4 /* endpoints per device */
#endif
#ifndef AL_RT_QUEUE
#define AL_RT_QUEUE 8 /* messages waiting per endpoint */
#endif

/** One configured endpoint (private). */
struct al_rt_ept {
	struct rpmsg_endpoint ept;
	struct al_rt_rpmsg *dev;
	uint32_t dst; /* rt_device_write's default */
	struct {
		void *data;
		uint32_t len;
	} q[AL_RT_QUEUE];
	uint32_t head, tail; /* consumer, receive context */
	uint32_t dropped;
	uint8_t used;
};

/** The rpmsg device. Caller storage (static is fine); fields private. */
struct al_rt_rpmsg {
	struct rt_device parent;
	struct rpmsg_device *rdev;
	/* told "<name> is OK! src is 0x.. dst is 0x.." when an endpoint is
	 * configured (RT-Thread's driver prints it with rt_kprintf); optional */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	struct al_rt_ept epts[AL_RT_MAX_EPTS];
};

/** Register `dev` as device `name` (RT-Thread's programs look for
 *  "rpmsg") on the link of `rdev`. Thread context, before the programs
 *  run. Returns 0, AL_EINVAL (NULL), AL_EADDR (a device of that name). */
int al_rt_rpmsg_register(struct al_rt_rpmsg *dev, const char *name, struct rpmsg_device *rdev);

/** Remove it again (closes every endpoint). */
void al_rt_rpmsg_unregister(struct al_rt_rpmsg *dev);

#ifdef __cplusplus
}
#endif
#endif

/* RT-Thread's <rtdevice.h>: the device API is in rtthread.h here; the
 * rpmsg device's registration is amplink/rt_rpmsg.h. */
#include "rtthread.h"

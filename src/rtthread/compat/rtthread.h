/* The part of RT-Thread's <rtthread.h> that its rpmsg device API and the
 * programs written against it use, for building those programs on
 * amplink without RT-Thread (a host, another RTOS, bare metal): RT-Thread's
 * names, types, values and return conventions. The device calls are
 * amplink's (src/rtthread/rt_rpmsg.c); rt_kprintf and the thread calls
 * are the platform's (the port, or a test, provides them). On RT-Thread
 * itself use the kernel's header instead of this folder.
 */
#ifndef AMPLINK_COMPAT_RTTHREAD_H
#define AMPLINK_COMPAT_RTTHREAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int8_t rt_int8_t;
typedef int16_t rt_int16_t;
typedef int32_t rt_int32_t;
typedef uint8_t rt_uint8_t;
typedef uint16_t rt_uint16_t;
typedef uint32_t rt_uint32_t;
typedef int rt_bool_t;
typedef long rt_base_t;
typedef unsigned long rt_ubase_t;
typedef rt_base_t rt_err_t;
typedef rt_ubase_t rt_size_t;
typedef rt_base_t rt_ssize_t;
typedef rt_base_t rt_off_t;

#define RT_NULL	 ((void *)0)
#define RT_TRUE	 1
#define RT_FALSE 0

/* Error codes: functions return RT_EOK or the negated code. */
#define RT_EOK	    0
#define RT_ERROR    1
#define RT_ETIMEOUT 2
#define RT_EFULL    3
#define RT_EEMPTY   4
#define RT_ENOMEM   5
#define RT_ENOSYS   6
#define RT_EBUSY    7
#define RT_EIO	    8
#define RT_EINTR    9
#define RT_EINVAL   10

#define RT_WAITING_FOREVER -1
#define RT_WAITING_NO	   0

/* Device open flags and the generic control commands. */
#define RT_DEVICE_OFLAG_CLOSE  0x000
#define RT_DEVICE_OFLAG_RDONLY 0x001
#define RT_DEVICE_OFLAG_WRONLY 0x002
#define RT_DEVICE_OFLAG_RDWR   0x003
#define RT_DEVICE_OFLAG_OPEN   0x008
#define RT_DEVICE_FLAG_RDWR    0x003

#define RT_DEVICE_CTRL_RESUME  0x01
#define RT_DEVICE_CTRL_SUSPEND 0x02
#define RT_DEVICE_CTRL_CONFIG  0x03
#define RT_DEVICE_CTRL_CLOSE   0x04

/** A device (the fields RT-Thread programs read; the rest is the
 *  driver's). */
struct rt_device {
	const char *name;
	rt_uint16_t flag;
	rt_uint16_t open_flag;
	rt_uint8_t ref_count;
	void *user_data;
	struct rt_device *next; /* registry (private) */
};
typedef struct rt_device *rt_device_t;

/** Find a registered device by name: the device, or RT_NULL. */
rt_device_t rt_device_find(const char *name);
/** Open (RT_EOK, -RT_EINVAL for NULL); opening again counts a reference. */
rt_err_t rt_device_open(rt_device_t dev, rt_uint16_t oflag);
/** Close one reference; the last one releases what the device holds.
 *  RT_EOK, -RT_ERROR if not open, -RT_EINVAL for NULL. */
rt_err_t rt_device_close(rt_device_t dev);
/** Device-specific command; RT_EOK or a negated code. */
rt_err_t rt_device_control(rt_device_t dev, int cmd, void *arg);
/** Read up to `size` bytes at `pos`: the count read, or 0 on error. */
rt_ssize_t rt_device_read(rt_device_t dev, rt_off_t pos, void *buffer, rt_size_t size);
/** Write `size` bytes at `pos`: the count written, or 0 on error. */
rt_ssize_t rt_device_write(rt_device_t dev, rt_off_t pos, const void *buffer, rt_size_t size);

/* The platform's (not amplink's): console output and threads. */
int rt_kprintf(const char *fmt, ...);
typedef struct rt_thread *rt_thread_t;
rt_thread_t rt_thread_create(const char *name, void (*entry)(void *parameter), void *parameter,
			     rt_uint32_t stack_size, rt_uint8_t priority, rt_uint32_t tick);
rt_err_t rt_thread_startup(rt_thread_t thread);

#ifdef __cplusplus
}
#endif
#endif

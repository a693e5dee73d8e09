#!/bin/sh
# init of the User-Mode Linux guest of run-remote.sh (the root is the
# host's file system through hostfs): run one test program with its
# arguments, keep its output and the kernel log, power off. From the
# kernel command line: amplink_out (a host directory for results),
# amplink_test (the program), amplink_args (its arguments joined with '+'),
# amplink_poweroff (tests/kernel/poweroff.c).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
out=${amplink_out:?amplink_out= missing from the kernel command line}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
{
	echo "guest: kernel $(uname -r) up $(cut -d' ' -f1 /proc/uptime) s"
	# shellcheck disable=SC2046
	"${amplink_test:?}" $(echo "${amplink_args:-}" | tr '+' ' ')
	echo "guest: exit $?"
	echo "guest: /sys/bus/rpmsg/devices: $(ls /sys/bus/rpmsg/devices | tr '\n' ' ')"
	echo "guest: done at $(cut -d' ' -f1 /proc/uptime) s, powering off"
} >"$out/guest.txt" 2>&1
dmesg >"$out/dmesg.txt" 2>&1
sync
exec "${amplink_poweroff:?amplink_poweroff= missing from the kernel command line}"

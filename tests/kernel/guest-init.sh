#!/bin/sh
# init of the User-Mode Linux guest of run-guest.sh: the root is the host's
# file system (hostfs), so host programs run here as they are. The kernel
# passes amplink_out (a host directory for results) and amplink_poweroff
# (tests/kernel/poweroff.c) from its command line as environment variables.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
out=${amplink_out:?amplink_out= missing from the kernel command line}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
{
	echo "guest: kernel $(uname -r) up $(cut -d' ' -f1 /proc/uptime) s"
	if [ -d /sys/bus/virtio/devices ]; then
		echo "guest: /sys/bus/virtio/devices: $(ls /sys/bus/virtio/devices | tr '\n' ' ')"
		for d in /sys/bus/virtio/devices/*; do
			[ -e "$d" ] || continue
			echo "guest: $(basename "$d") device $(cat "$d/device") features $(cat "$d/features") status $(cat "$d/status") driver $(basename "$(readlink "$d/driver")")"
		done
		echo "guest: VIRTIO_DEVICES_OK"
	else
		echo "guest: /sys/bus/virtio/devices missing"
	fi
	[ -d /sys/bus/rpmsg/devices ] &&
		echo "guest: /sys/bus/rpmsg/devices: $(ls /sys/bus/rpmsg/devices | tr '\n' ' ')"
	# amplink_expect: comma-separated /dev nodes the device's announcements
	# should create (rpmsg-raw -> rpmsgN, rpmsg-tty -> ttyRPMSGN).
	if [ -n "${amplink_expect:-}" ]; then
		missing=
		for n in $(echo "$amplink_expect" | tr ',' ' '); do
			i=0
			while [ ! -e "/dev/$n" ] && [ $i -lt 30 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			[ -e "/dev/$n" ] || missing="$missing $n"
		done
		if [ -z "$missing" ]; then
			echo "guest: EXPECT_OK $amplink_expect"
		else
			echo "guest: missing /dev nodes:$missing"
		fi
	fi
	echo "guest: /dev/rpmsg*: $(ls /dev | grep -i rpmsg | tr '\n' ' ')"
	echo "guest: virtio_uml.vring_irq_thread=$(cat /sys/module/virtio_uml/parameters/vring_irq_thread 2>&1)"
	echo "guest: checks done at $(cut -d' ' -f1 /proc/uptime) s, powering off"
} >"$out/guest.txt" 2>&1
dmesg >"$out/dmesg.txt" 2>&1
sync
exec "${amplink_poweroff:?amplink_poweroff= missing from the kernel command line}"

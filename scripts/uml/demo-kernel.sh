#!/bin/bash
# `make demo-kernel`: RT-Thread's rpmsg_echo scenario with the real Linux
# kernel as the host. A User-Mode Linux 6.1 guest (virtio_rpmsg_bus,
# rpmsg_char, rpmsg_ctrl) drives amplink's rpmsg device, served by
# `amplink remote --vhost-user`, which announces "rpmsg_chrdev" at 0x3000
# and prints each message it echoes; inside the guest,
# examples/rpmsg_char_echo.c sends ten messages through /dev/rpmsg_ctrl0
# and /dev/rpmsgN and prints them as they come back.
#
# Usage: scripts/uml/demo-kernel.sh BUILD_DIR
# Builds the kernel first when it is not cached (about 5 min on 2 cores).
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if ! kernel=$("$here/build-kernel.sh" --cached-only 2>/dev/null | tail -1); then
	echo "demo-kernel: building the User-Mode Linux kernel (once, about 5 min)"
	kernel=$("$here/build-kernel.sh" | tail -1)
fi
# configure again: the kernel tests and guest programs appear once it is cached
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target amplink uml_poweroff rpmsg_char_echo >/dev/null
work=$build/demo-kernel
set +e
REMOTE_ARGS="--service rpmsg_chrdev --announce-from 0x3000 --print" \
	"$top/tests/kernel/run-remote.sh" demo-kernel "$kernel" "$build/amplink" \
	"$build/tests/kernel/uml_poweroff" "$work" "$build/tests/kernel/rpmsg_char_echo" >"$work.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
	cat "$work.log"
	exit $rc
fi
echo "==== the remote core: amplink remote --vhost-user SOCKET --service rpmsg_chrdev --announce-from 0x3000 --print"
cat "$work/remote.out"
echo "==== the Linux kernel (User-Mode Linux $(grep -o 'kernel [0-9.]*' "$work/guest.txt" | head -1 | cut -d' ' -f2)), dmesg"
grep "virtio_rpmsg_bus" "$work/dmesg.txt"
echo "==== Linux user space: examples/rpmsg_char_echo.c"
grep -vE "^guest: " "$work/guest.txt"
echo "(logs: $work)"

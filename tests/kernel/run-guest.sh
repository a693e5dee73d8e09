#!/bin/bash
# Boot the cached User-Mode Linux kernel (scripts/uml/build-kernel.sh) with
# a VirtIO rpmsg device served by vhu_probe over vhost-user, the host's
# files as root (hostfs) and guest-init.sh as init, and check that the
# vhost-user conversation completed (memory table, both vrings ready, a kick
# on vring 0) and that the kernel logged no BUG, WARNING, Oops or panic.
#
# Usage: run-guest.sh KERNEL VHU_PROBE POWEROFF WORKDIR [TIMEOUT_S]
#   ANNOUNCE=rpmsg-raw,rpmsg-tty  services vhu_probe announces on the first
#                                 kick of vring 0
#   EXPECT_DEV=rpmsg0,ttyRPMSG0   /dev nodes the guest must then see
#   KERNEL_ARGS="..."             more kernel parameters
#                                 (virtio_uml.vring_irq_thread=0)
# Prints "PASS kernel_boot" on success; exit 77 when KERNEL is missing.
set -u
[ $# -ge 4 ] || { echo "usage: $0 KERNEL VHU_PROBE POWEROFF WORKDIR [TIMEOUT_S]" >&2; exit 2; }
# The guest sees the host's files from /: every path it uses is absolute.
kernel=$(realpath -m "$1") probe=$(realpath -m "$2") poweroff=$(realpath -m "$3")
work=$(realpath -m "$4") timeout=${5:-60}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$kernel" ]; then
	echo "SKIP: no kernel at $kernel (build it with scripts/uml/build-kernel.sh)"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work/uml"
sock=$work/vhu.sock
fail() {
	echo "FAIL kernel_boot: $*"
	for f in probe.log console.log guest.txt; do
		[ -f "$work/$f" ] && { echo "---- $f (last 40 lines)"; tail -40 "$work/$f"; }
	done
	[ -n "${probe_pid:-}" ] && kill "$probe_pid" 2>/dev/null
	exit 1
}

"$probe" "$sock" "$timeout" "${ANNOUNCE:-}" >"$work/probe.log" 2>&1 &
probe_pid=$!
for _ in $(seq 100); do
	grep -q "vhu_probe: listening" "$work/probe.log" 2>/dev/null && break
	sleep 0.05
done
[ -S "$sock" ] || fail "vhu_probe did not listen on $sock"

start=$(date +%s.%N)
# UML keeps its memory file under TMPDIR and its pid file under uml_dir.
TMPDIR=${TMPDIR:-/dev/shm} timeout -k 5 "$timeout" "$kernel" mem=128M \
	rootfstype=hostfs rootflags=/ rw init="$here/guest-init.sh" \
	con0=fd:0,fd:1 con=null uml_dir="$work/uml" umid=amplink-$$ \
	virtio_uml.device="$sock:7" amplink_out="$work" amplink_poweroff="$poweroff" \
	${EXPECT_DEV:+amplink_expect=$EXPECT_DEV} ${KERNEL_ARGS:-} \
	</dev/null >"$work/console.log" 2>&1
krc=$?
end=$(date +%s.%N)
boot_s=$(printf "%.2f" "$(echo "$end - $start" | bc)")

# The probe exits once the kernel's connection is gone.
for _ in $(seq 100); do
	kill -0 "$probe_pid" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$probe_pid" 2>/dev/null; then
	kill "$probe_pid"
	fail "vhu_probe still running 5 s after the kernel stopped (exit $krc)"
fi
wait "$probe_pid"
prc=$?
probe_pid=

[ $krc -eq 124 ] && fail "the kernel did not power off within $timeout s"
[ $krc -eq 0 ] || fail "the kernel exited with status $krc"
grep -q "guest: VIRTIO_DEVICES_OK" "$work/guest.txt" 2>/dev/null ||
	fail "the guest did not find /sys/bus/virtio/devices"
if [ -n "${EXPECT_DEV:-}" ]; then
	grep -q "guest: EXPECT_OK" "$work/guest.txt" || fail "the guest lacks /dev nodes of $EXPECT_DEV"
fi
if grep -nE "BUG|WARNING|Oops|Kernel panic|scheduling while atomic|Call Trace" \
	"$work/console.log" "$work/dmesg.txt"; then
	fail "the kernel logged the lines above"
fi
[ $prc -eq 0 ] || fail "vhu_probe: $(grep 'vhu_probe: ' "$work/probe.log" | tail -1)"
for want in "SET_MEM_TABLE" "VRING_READY vring 0" "VRING_READY vring 1" \
	"first kick on vring 0"; do
	grep -q "$want" "$work/probe.log" || fail "no '$want' in the probe log"
done

echo "requests: $(sed -n 's/^ *[0-9.]* ms req *\([A-Z_][A-Z_]*\).*/\1/p' "$work/probe.log" | tr '\n' ' ')"
cat "$work/guest.txt"
grep "vhu_probe: PASS" "$work/probe.log"
echo "kernel: boot to power-off ${boot_s} s"
echo "PASS kernel_boot"

#!/bin/bash
# Boot the cached User-Mode Linux kernel (scripts/uml/build-kernel.sh)
# against `amplink remote --vhost-user`, once or several times with the
# same remote process, and run a test program inside the guest
# (guest-remote-init.sh as init, the host's files as root).
#
# Usage: run-remote.sh NAME KERNEL AMPLINK POWEROFF WORKDIR GUEST [ARG...]
#   NAME          the test's name, for the PASS/FAIL line
#   GUEST ARG...  the program the guest runs, with its arguments
# Environment:
#   REMOTE_ARGS   more arguments for amplink remote (default: none)
#   BOOTS         boots against the same remote process (default 1)
#   KILL_REMOTE   1: kill -9 the remote once WORKDIR/progress says "running"
#                 (the guest's die step writes it), then expect the guest
#                 to see its reads or writes fail without a kernel BUG;
#                 TERM: the same with SIGTERM, and the remote must end its
#                 session and exit 0
#   REMOTE_EXPECT a file of fixed lines the remote's stdout must hold
#   GUEST_EXPECT  a file of fixed lines the guest's output must hold
#   DMESG_EXPECT  a file of fixed lines the kernel log must hold
#   TIMEOUT_S     per boot (default 60)
# Each boot passes when the kernel powered off, the program exited 0
# ("guest: exit 0") and the kernel logged no BUG, WARNING, Oops, panic,
# call trace or rpmsg error. The remote must still run after the last
# boot (it serves one front-end after another), then stops on SIGTERM.
# Exit 77 when the kernel is missing.
set -u
[ $# -ge 6 ] || {
	echo "usage: $0 NAME KERNEL AMPLINK POWEROFF WORKDIR GUEST [ARG...]" >&2
	exit 2
}
name=$1
kernel=$(realpath -m "$2") amplink=$(realpath -m "$3") poweroff=$(realpath -m "$4")
work=$(realpath -m "$5") guest=$(realpath -m "$6")
shift 6
gargs=$(
	IFS=+
	echo "$*"
)
boots=${BOOTS:-1} timeout=${TIMEOUT_S:-60}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$kernel" ]; then
	echo "SKIP: no kernel at $kernel (build it with scripts/uml/build-kernel.sh)"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work"
sock=$work/vhu.sock
remote_pid=
fail() {
	echo "FAIL $name: $*"
	for f in remote.err remote.out console.log guest.txt; do
		[ -f "$work/$f" ] && { echo "---- $f (last 30 lines)"; tail -30 "$work/$f"; }
	done
	[ -n "$remote_pid" ] && kill -9 "$remote_pid" 2>/dev/null
	exit 1
}
expect_lines() { # FILE-OF-LINES FILE WHAT
	[ -n "$1" ] || return 0
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -qF -- "$line" "$2" || fail "$3 lacks the line '$line'"
	done <"$1"
}

# shellcheck disable=SC2086
"$amplink" remote --vhost-user "$sock" ${REMOTE_ARGS:-} >"$work/remote.out" 2>"$work/remote.err" &
remote_pid=$!
for _ in $(seq 100); do
	grep -q "listening for a vhost-user front-end" "$work/remote.err" 2>/dev/null && break
	sleep 0.05
done
[ -S "$sock" ] || fail "amplink remote did not listen on $sock"

total_s=0
for boot in $(seq "$boots"); do
	# a seed for the guest's random number generator (tests/kernel/seed_rng.c)
	head -c 64 /dev/urandom >"$work/rng.seed"
	rm -f "$work/guest.txt" "$work/dmesg.txt" "$work/progress"
	mkdir -p "$work/uml"
	if [ "${KILL_REMOTE:-0}" != 0 ]; then
		sig=KILL
		[ "$KILL_REMOTE" = TERM ] && sig=TERM
		(
			for _ in $(seq 600); do
				grep -q running "$work/progress" 2>/dev/null && break
				sleep 0.05
			done
			sleep 0.2
			kill -"$sig" "$remote_pid" 2>/dev/null &&
				echo "sent SIG$sig to the remote (pid $remote_pid) under traffic" >"$work/killed"
		) &
		killer=$!
	fi
	start=$(date +%s.%N)
	TMPDIR=${TMPDIR:-/dev/shm} timeout -k 5 "$timeout" "$kernel" mem=128M \
		rootfstype=hostfs rootflags=/ rw init="$here/guest-remote-init.sh" \
		con0=fd:0,fd:1 con=null uml_dir="$work/uml" umid="amplink-$$-$boot" \
		virtio_uml.device="$sock:7" amplink_out="$work" amplink_poweroff="$poweroff" \
		amplink_test="$guest" amplink_args="$gargs" \
		</dev/null >"$work/console.log" 2>&1
	krc=$?
	end=$(date +%s.%N)
	boot_s=$(echo "$end - $start" | bc)
	total_s=$(echo "$total_s + $boot_s" | bc)
	[ -n "${killer:-}" ] && wait "$killer"
	[ $krc -eq 124 ] && fail "boot $boot: the kernel did not power off within $timeout s"
	[ $krc -eq 0 ] || fail "boot $boot: the kernel exited with status $krc"
	[ -f "$work/guest.txt" ] || fail "boot $boot: the guest wrote no results"
	grep -q "guest: exit 0" "$work/guest.txt" || fail "boot $boot: the guest program failed"
	if [ "${KILL_REMOTE:-0}" != 0 ]; then
		# virtio_uml itself WARNs when its back-end vanishes (EOF on the
		# call socket, then failed requests while it removes the device):
		# tolerated from that file only.
		if grep -nE "BUG|Oops|Kernel panic|scheduling while atomic" "$work/dmesg.txt" ||
			grep -n "WARNING:" "$work/dmesg.txt" | grep -v "arch/um/drivers/virtio_uml.c"; then
			fail "boot $boot: the kernel logged the lines above"
		fi
		echo "kernel: virtio_uml warnings after the back-end died: $(grep "WARNING:" "$work/dmesg.txt" |
			sed 's/.* at \([^ ]*\) \([a-z_]*\).*/\1 \2/' | sort | uniq -c | tr -s ' \n' ' ')"
	elif grep -nE "BUG|WARNING|Oops|Kernel panic|scheduling while atomic|Call Trace" \
		"$work/console.log" "$work/dmesg.txt"; then
		fail "boot $boot: the kernel logged the lines above"
	fi
	if grep -niE "rpmsg.*(error|fail|invalid|bad|timed? ?out)|virtio.*(error|fail)" "$work/dmesg.txt"; then
		fail "boot $boot: the kernel logged the rpmsg errors above"
	fi
	expect_lines "${GUEST_EXPECT:-}" "$work/guest.txt" "the guest's output"
	expect_lines "${DMESG_EXPECT:-}" "$work/dmesg.txt" "the kernel log"
	if [ "$boots" -gt 1 ]; then
		cp "$work/dmesg.txt" "$work/dmesg-$boot.txt"
	fi
done
if [ "${KILL_REMOTE:-0}" != 0 ]; then
	[ -f "$work/killed" ] || fail "the remote was never killed"
	wait "$remote_pid" 2>/dev/null
	rrc=$?
	remote_pid=
	if [ "$KILL_REMOTE" = TERM ]; then
		[ $rrc -eq 0 ] || fail "amplink remote exited with status $rrc after SIGTERM"
		grep -q "session ended (shutdown)" "$work/remote.err" ||
			fail "amplink remote did not end its session on SIGTERM"
		grep -E "front-ends|echoed" "$work/remote.err"
	fi
	cat "$work/guest.txt"
	cat "$work/killed"
	echo "kernel: boot to power-off $(printf %.2f "$total_s") s"
	echo "PASS $name"
	exit 0
fi

# The same remote served every boot and still runs.
kill -0 "$remote_pid" 2>/dev/null || fail "amplink remote died"
for _ in $(seq 40); do
	[ "$(grep -c "session ended" "$work/remote.err")" -ge "$boots" ] && break
	sleep 0.05
done
kill -TERM "$remote_pid"
for _ in $(seq 100); do
	kill -0 "$remote_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$remote_pid" 2>/dev/null && fail "amplink remote did not stop on SIGTERM"
wait "$remote_pid"
rrc=$?
remote_pid=
[ $rrc -eq 0 ] || fail "amplink remote exited with status $rrc"
sessions=$(sed -n 's/.*sessions \([0-9]*\) (refused \([0-9]*\), broken \([0-9]*\)).*/\1 \2 \3/p' "$work/remote.err")
[ "$sessions" = "$boots 0 0" ] || fail "the remote served '$sessions' (sessions refused broken), expected '$boots 0 0'"
if grep -E "vhost-user remote: [a-z-]+: " "$work/remote.err"; then
	fail "the remote reported the faults above"
fi
expect_lines "${REMOTE_EXPECT:-}" "$work/remote.out" "the remote's output"
grep -v "^guest: exit" "$work/guest.txt"
sed "s/^/remote: /" "$work/remote.out"
grep -E "front-ends|echoed" "$work/remote.err"
echo "kernel: $boots boot(s), boot to power-off $(printf %.2f "$total_s") s in all"
echo "PASS $name"

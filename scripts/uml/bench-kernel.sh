#!/bin/bash
# The UML bench (docs/linux-kernel.md): the kernel's rpmsg_char in a
# User-Mode Linux guest against `amplink remote --vhost-user`. Inside the
# guest, tests/kernel/guest_rpmsg_char.c measures write+read round trips of
# 16 and 496 bytes through /dev/rpmsgN to the remote's echo service and
# one-way throughput to its sink service, next to a round trip through a
# pipe pair between two guest processes (the same guest, the same run),
# and, for contrast, amplink's own POSIX link between two host processes.
# Not a timed test: the figures depend on the machine's load.
#
# Usage: scripts/uml/bench-kernel.sh [BUILD_DIR [REPEATS]]   (default build, 7)
set -eu
build=${1:-build} reps=${2:-7}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kernel=$("$here/build-kernel.sh" --cached-only 2>/dev/null | tail -1) || {
	echo "bench-kernel: no cached kernel: run scripts/uml/build-kernel.sh first" >&2
	exit 2
}
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target amplink uml_poweroff guest_rpmsg_char >/dev/null
work=$build/bench-kernel
TIMEOUT_S=600 REMOTE_ARGS="--sink amplink-sink" \
	"$top/tests/kernel/run-remote.sh" bench-kernel "$kernel" "$build/amplink" \
	"$build/tests/kernel/uml_poweroff" "$work" "$build/tests/kernel/guest_rpmsg_char" \
	"bench=rpmsg-openamp-demo-channel,amplink-sink,$reps" >"$work.log" 2>&1 || {
	cat "$work.log"
	exit 1
}
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
grep "guest: bench:" "$work.log"
# For contrast, amplink's own POSIX link between two host processes, now.
echo "host: amplink's own POSIX link, for contrast (amplink bench --quick):"
"$build/amplink" bench --quick 2>&1 >/dev/null | grep -E "amplink RTT|one way 496 B" | sed 's/^ */host:   /'

#!/bin/sh
# Interoperation of amplink's OpenAMP profile with OpenAMP's own Linux
# reference apps (docs/openamp-profile.md), both ways:
#   amplink host (amplink echo)    <-> OpenAMP echo remote (rpmsg-echo)
#   OpenAMP ping host (rpmsg-ping) <-> amplink remote
#   OpenAMP ping host              <-> OpenAMP echo remote (the baseline)
# and the OpenAMP host started before the amplink remote (it maps the shared
# file first and retries connecting for about 50 s).
#
# OpenAMP is not packaged in Debian: build open-amp and libmetal for the
# Linux machine (see the message printed when the apps are not found) and
# point OPENAMP_APPS at the folder holding the executables. Without them
# this script says so and exits 0. Not part of `make test`.
#
# Variables:
#   OPENAMP_APPS   folder of OpenAMP's built apps (bin/ of its install)
#   OPENAMP_LIBS   folder(s) for LD_LIBRARY_PATH (the -shared builds)
#   OPENAMP_ECHO   the echo remote (default: the first of rpmsg-echo-static,
#                  rpmsg-echo-shared, rpmsg-echo found in OPENAMP_APPS)
#   OPENAMP_PING   the ping host (default: msg-test-rpmsg-ping-static,
#                  rpmsg-echo-ping-static, rpmsg-ping-static, ... -shared)
#   OPENAMP_PING_ARGS  what selects the host role of OpenAMP's Linux machine
#                  (default "1": its second processor entry, the socket
#                  client; a getopt-based ping takes "-p 1")
#   AMPLINK        the amplink tool (default: build/amplink)
#   WAIT_S         how long one run may take (default 90)
# Exit: 0 all checks passed (or OpenAMP's apps absent), 1 a check failed,
# 2 cannot run (another OpenAMP-profile pair is running here).
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
AMPLINK=${AMPLINK:-$here/build/amplink}
WAIT_S=${WAIT_S:-90}
PING_ARGS=${OPENAMP_PING_ARGS:-1}
SHM=/dev/shm/openamp.shm # fixed in OpenAMP's Linux machine (platform_info.c)
EVENT=/tmp/openamp.event.0

say() { printf 'openamp-interop: %s\n' "$*"; }

how_to_build() {
	cat <<'EOF'
OpenAMP is not packaged in Debian. To build its Linux apps (a network
connection is needed to fetch the sources):
  apt-get install cmake gcc git libsysfs-dev libhugetlbfs-dev
  git clone https://github.com/OpenAMP/libmetal
  git clone https://github.com/OpenAMP/open-amp
  cmake -S libmetal -B build-libmetal && cmake --build build-libmetal
  cmake --install build-libmetal --prefix "$PWD/oa"
  cmake -S open-amp -B build-open-amp -DWITH_APPS=ON -DWITH_PROXY=ON \
        -DCMAKE_INCLUDE_PATH="$PWD/oa/include" -DCMAKE_LIBRARY_PATH="$PWD/oa/lib"
  cmake --build build-open-amp && cmake --install build-open-amp --prefix "$PWD/oa"
  OPENAMP_APPS=$PWD/oa/bin OPENAMP_LIBS=$PWD/oa/lib scripts/openamp-interop.sh
(Newer OpenAMP releases keep the apps in openamp-system-reference,
examples/legacy_apps; build that the same way against the installed
libraries.)
EOF
}

first_of() { # DIR NAME... : the first executable DIR/NAME
	d=$1
	shift
	for n in "$@"; do
		if [ -x "$d/$n" ]; then
			printf '%s\n' "$d/$n"
			return 0
		fi
	done
	return 1
}

if [ -z "${OPENAMP_APPS:-}" ] || [ ! -d "$OPENAMP_APPS" ]; then
	say "skipped: OpenAMP's apps not found (OPENAMP_APPS=${OPENAMP_APPS:-unset})"
	how_to_build
	exit 0
fi
ECHO=${OPENAMP_ECHO:-$(first_of "$OPENAMP_APPS" rpmsg-echo-static rpmsg-echo-shared rpmsg-echo)}
PING=${OPENAMP_PING:-$(first_of "$OPENAMP_APPS" msg-test-rpmsg-ping-static \
	rpmsg-echo-ping-static rpmsg-ping-static msg-test-rpmsg-ping-shared \
	rpmsg-echo-ping-shared rpmsg-ping-shared rpmsg-ping)}
if [ -z "$ECHO" ] || [ -z "$PING" ]; then
	say "skipped: OpenAMP's apps not found in $OPENAMP_APPS" \
		"(echo remote: ${ECHO:-none}, ping host: ${PING:-none})"
	how_to_build
	exit 0
fi
if [ ! -x "$AMPLINK" ]; then
	say "cannot run: no amplink tool at $AMPLINK (build it, or set AMPLINK)"
	exit 2
fi
if [ -e "$EVENT" ]; then
	say "cannot run: $EVENT exists: another OpenAMP-profile remote may be running"
	say "(OpenAMP's paths are fixed; stop it, or remove a stale socket)"
	exit 2
fi
export LD_LIBRARY_PATH="${OPENAMP_LIBS:+$OPENAMP_LIBS:}${LD_LIBRARY_PATH:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/openamp-interop.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -f "$EVENT" "$SHM"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
rm -f "$SHM"
passed=0
failed=0
check() { # WHAT STATUS
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		say "ok:   $1"
	else
		failed=$((failed + 1))
		say "FAIL: $1"
	fi
}

# Wait up to $2 s for pid $1; its exit code, or 124 if it did not exit.
wait_for() {
	n=0
	while kill -0 "$1" 2>/dev/null; do
		n=$((n + 1))
		if [ "$n" -gt $(($2 * 10)) ]; then
			kill "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$1"
}

start() { # NAME CMD... : in the background, output in $work/NAME
	name=$1
	shift
	"$@" >"$work/$name" 2>&1 &
	last=$!
	pids="$pids $last"
}

show() { sed 's/^/    | /' "$work/$1" | tail -n 15; }

# 1. amplink host <-> OpenAMP echo remote. The remote exits on the NS
#    DESTROY of the host's endpoint, which the host sends as it closes.
start oa-echo "$ECHO"
echo_pid=$last
timeout "$WAIT_S" "$AMPLINK" echo --profile openamp -n 200 --size 1-496 --quiet \
	>"$work/al-echo" 2>&1
check "amplink echo -> $(basename "$ECHO"): 200 echoes of 1..496 bytes intact" $?
wait_for "$echo_pid" 10
check "$(basename "$ECHO") exits after amplink's host closed (NS DESTROY)" $?
grep -q "intact" "$work/al-echo" || show al-echo

# 2. OpenAMP ping host <-> amplink remote, the host started first: it maps
#    the file and retries connecting while the remote starts.
# shellcheck disable=SC2086 # words on purpose: "-p 1"
start oa-ping "$PING" $PING_ARGS
ping_pid=$last
sleep 1
start al-remote "$AMPLINK" remote --profile openamp --once
remote_pid=$last
wait_for "$ping_pid" "$WAIT_S"
rc=$?
grep -q "Error count = 0" "$work/oa-ping" && [ "$rc" -eq 0 ]
check "$(basename "$PING") -> amplink remote: error count 0, ping exited" $?
! grep -q "Unexpected name service" "$work/oa-ping"
check "$(basename "$PING") saw no unexpected service (no amplink-log)" $?
wait_for "$remote_pid" 10
check "amplink remote --once exits after the ping host left" $?
grep -q "Error count = 0" "$work/oa-ping" || show oa-ping
show al-remote

# 3. The baseline: OpenAMP with itself, checked the same way.
rm -f "$SHM"
start oa-echo2 "$ECHO"
echo_pid=$last
sleep 1
# shellcheck disable=SC2086 # words on purpose: "-p 1"
start oa-ping2 "$PING" $PING_ARGS
ping_pid=$last
wait_for "$ping_pid" "$WAIT_S"
rc=$?
grep -q "Error count = 0" "$work/oa-ping2" && [ "$rc" -eq 0 ]
check "baseline $(basename "$PING") -> $(basename "$ECHO"): error count 0" $?
wait_for "$echo_pid" 10
check "baseline: $(basename "$ECHO") exits after its ping" $?

# 4. linux_rpc_demo / linux_rpc_demod (remote procedure calls for file
#    and stdio operations, interactive): amplink has the rpc API
#    (src/openamp) but no
#    counterpart of either demo app over the POSIX link to put against them.
say "not run: linux_rpc_demo (amplink has no rpc demo app of its own)"

say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

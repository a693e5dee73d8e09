#!/usr/bin/env bash
# the ordinary host tools against a remote booted by
# `amplink rproc start --serve LINK` (the rproc relay, src/linux/remoteproc/rproc_relay.c).
#
#   it_relay.sh process AMPLINK RPROC_FW_DEMO WORK_DIR FLOOD
#       QEMU-free: the `process` backend and build/rproc_fw_demo (echo +
#       `sensor`): ls, echo 1000 x 1..496 B, hosts coming and going,
#       back-pressure (FLOOD = it_relay_flood: 1,200 echoes pipelined to a
#       late reader, queued by the relay, none lost), the firmware
#       SIGKILLed -> restarted -> the tools work again.
#   it_relay.sh echo AMPLINK SOURCE_DIR WORK_DIR
#       mcu/fw_echo.c on the emulated Cortex-M4 (QEMU mps2-an386): ls,
#       `amplink echo -n 1000 --size 1-496`, `amplink log` (the firmware's
#       idle status line), QEMU SIGKILLed -> restart -> echo and log again.
#   it_relay.sh motor AMPLINK SOURCE_DIR WORK_DIR
#       mcu/fw_motor.c under QEMU: ls (4 services), `amplink motor` (ACK +
#       telemetry), `amplink log` (firmware log lines), QEMU SIGKILLed ->
#       restart -> motor and log again.
# Exit 77 (skipped) when qemu-system-arm or arm-none-eabi-gcc is missing.
set -uo pipefail
MODE=$1
AMPLINK=$2
ARG=$3
WORK=$4
FLOOD=${5:-}
T0=$(date +%s.%N)
NAME=itr$$
LINK=itrl$$

elapsed() { awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN { printf "%.1f", a - b }'; }
MGR=
fail() {
	echo "FAIL ($MODE): $*"
	[ -f "$WORK/mgr.out" ] && { echo "--- manager:"; tail -n 20 "$WORK/mgr.out"; }
	[ -f "$WORK/out" ] && { echo "--- last tool:"; tail -n 20 "$WORK/out"; }
	[ -f "$WORK/console.log" ] && { echo "--- firmware console:"; tail -n 10 "$WORK/console.log"; }
	[ -n "$MGR" ] && kill "$MGR" 2>/dev/null
	exit 1
}
# run a tool with a time limit, output in $WORK/out
tool() {
	timeout 25 "$AMPLINK" "$@" >"$WORK/out" 2>&1
}
wait_mgr() { # pattern, seconds
	for _ in $(seq 1 $(($2 * 20))); do
		grep -q "$1" "$WORK/mgr.out" && return 0
		kill -0 "$MGR" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
remote_pid() { "$AMPLINK" rproc status --name "$NAME" 2>/dev/null | sed -n 's/.*(pid \([0-9]*\), backend.*/\1/p'; }

mkdir -p "$WORK"
rm -f "$WORK/console.log"
case $MODE in
process)
	FW=$ARG
	START=("$FW")
	;;
echo | motor)
	for t in qemu-system-arm arm-none-eabi-gcc; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: $t not installed (apt-get install qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)"
			exit 77
		fi
	done
	if ! { cmake -S "$ARG/mcu" -B "$WORK/mcu" >"$WORK/build.log" 2>&1 &&
		cmake --build "$WORK/mcu" --target "fw_$MODE" >>"$WORK/build.log" 2>&1; }; then
		tail -n 20 "$WORK/build.log"
		fail "cannot cross-build fw_$MODE"
	fi
	FW=$WORK/mcu/fw_$MODE.elf
	START=(--machine mps2-an386 "$FW" --fw-log "$WORK/console.log")
	echo "firmware built ($(elapsed) s)"
	;;
*)
	echo "usage: it_relay.sh process|echo|motor AMPLINK FW|SOURCE_DIR WORK_DIR"
	exit 2
	;;
esac

"$AMPLINK" rproc start "${START[@]}" --name "$NAME" --restart --serve "$LINK" >"$WORK/mgr.out" 2>&1 &
MGR=$!
wait_mgr "serving its services on link '$LINK'" 10 || fail "the relay did not start"

# 1. the announced services, at the firmware's addresses
case $MODE in
process) SVCS=("rpmsg-openamp-demo-channel +0x400") ;;
echo) SVCS=("rpmsg-openamp-demo-channel +0x400" "amplink-bench +0x401" "amplink-log +0x402") ;;
motor) SVCS=("motor-ctrl +0x400" "sensor-temp +0x401" "sensor-adc +0x402" "amplink-log +0x403") ;;
esac
for _ in $(seq 1 50); do # the firmware announces right after boot
	tool ls --link "$LINK"
	ok=1
	for s in "${SVCS[@]}"; do grep -Eq "^$s" "$WORK/out" || ok=0; done
	[ $ok = 1 ] && break
	sleep 0.1
done
[ $ok = 1 ] || fail "amplink ls does not show ${SVCS[*]}"
echo "ok 1 amplink ls: $(grep -Ec '^[a-z-]+ +0x' "$WORK/out") services ($(elapsed) s)"

check_tools() { # round
	case $MODE in
	process | echo)
		tool echo --link "$LINK" -n 1000 --size 1-496 || fail "echo 1000 exited with $?"
		grep -q "1000 messages echoed intact" "$WORK/out" || fail "not 1000 echoes"
		echo "ok $1 $(grep -o '1000 messages.*' "$WORK/out") ($(elapsed) s)"
		tool echo --link "$LINK" -n 3 || fail "seed echo exited with $?"
		grep -q "^Receiving message #2: hello there 2!, len: 14$" "$WORK/out" || fail "no rpmsg_echo lines"
		[ "$MODE" = echo ] || return 0
		# fw_echo logs a status line per second once idle: 1003 echoes since boot
		tool log --link "$LINK" -n 2 --duration 5000 || fail "amplink log exited with $?"
		grep -q "info: fw_echo: echoed 1003, heartbeats [0-9]* ([0-9]* skipped), log dropped" \
			"$WORK/out" || fail "no firmware log line"
		echo "ok $1 amplink log: $(grep -c 'fw_echo:' "$WORK/out") firmware lines ($(elapsed) s)"
		;;
	motor)
		tool motor --link "$LINK" --duty 75 --duration 1500 || fail "amplink motor exited with $?"
		grep -q "^ack: SET_DUTY 75 -> ok, duty now 75%" "$WORK/out" || fail "no ACK"
		n=$(grep -c "^temp #" "$WORK/out")
		[ "$n" -ge 8 ] || fail "only $n temperature samples in 1.5 s"
		grep -q "^adc " "$WORK/out" || fail "no ADC sample"
		echo "ok $1 amplink motor: ACK, $n temp samples ($(elapsed) s)"
		tool log --link "$LINK" -n 2 --duration 5000 || fail "amplink log exited with $?"
		grep -q "info: fw_motor: temp .* duty 75%" "$WORK/out" || fail "no firmware log line"
		echo "ok $1 amplink log: $(grep -c 'fw_motor:' "$WORK/out") firmware lines ($(elapsed) s)"
		;;
	esac
}
check_tools 2
if [ -n "$FLOOD" ]; then
	timeout 30 "$FLOOD" "$LINK" 1200 >"$WORK/out" 2>&1 || fail "flood exited with $?"
	"$AMPLINK" rproc status --name "$NAME" >"$WORK/out" 2>&1
	waited=$(sed -n 's/.*(\([0-9]*\) waited.*/\1/p' "$WORK/out")
	[ "${waited:-0}" -gt 0 ] || fail "the flood never made the relay queue"
	grep -q "dropped:    no host 0, no buffer 0, side down 0, too big 0" "$WORK/out" ||
		fail "the relay dropped messages: $(grep dropped: "$WORK/out")"
	echo "ok 2 flood: 1200 pipelined echoes intact, $waited waited in the relay's queue, none dropped ($(elapsed) s)"
fi

# 3. the firmware crashes (SIGKILL of the process or of QEMU): restarted,
# re-announced, the tools work again
P1=$(remote_pid)
[ -n "$P1" ] || fail "no remote pid in rproc status"
kill -KILL "$P1"
wait_mgr "running (boot 2, restart 1" 10 || fail "no restart after SIGKILL"
grep -q "crashed: .*killed by signal 9" "$WORK/mgr.out" || fail "crash not reported"
echo "ok 3 remote killed and restarted ($(elapsed) s)"
for _ in $(seq 1 50); do
	tool ls --link "$LINK"
	grep -Eq "^${SVCS[0]}" "$WORK/out" && break
	sleep 0.1
done
check_tools 4

"$AMPLINK" rproc status --name "$NAME" >"$WORK/out" 2>&1 || fail "rproc status failed"
grep -q "relay:      link '$LINK'" "$WORK/out" || fail "status has no relay line"
grep -q "dropped:    no host" "$WORK/out" || fail "status has no drop counts"
echo "ok 5 $(grep -o 'forwarded:.*' "$WORK/out")"
"$AMPLINK" rproc stop --name "$NAME" >/dev/null || fail "rproc stop failed"
wait "$MGR"
MGR=
grep -q "relay: .* hosts, forwarded" "$WORK/mgr.out" || fail "no relay summary at exit"
echo "PASS it_relay $MODE ($(elapsed) s)"

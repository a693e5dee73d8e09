#!/usr/bin/env bash
# Integration test of `amplink bridge mqtt` (docs/bridge.md) against a real
# mosquitto broker on 127.0.0.1 (a free port, no persistence): `amplink
# remote` with a ticker and the echo service, the bridge between them, and
# mosquitto_sub / mosquitto_pub as the MQTT side. Checks both directions
# (ticks on the tick topic; a message on the echo channel's cmd topic comes
# back on the echo topic), then restarts the broker in the middle and checks
# that traffic resumes, that drops were counted and the buffer stayed
# bounded. Then a remote with hostile service names: 'a' and 'a/cmd' (which
# must not reach a's command topic) and a ticker whose name is not UTF-8
# (its topic is escaped, and it holds up nobody). Exit 77 (skip) when
# mosquitto or its clients are missing.
#   usage: it_bridge.sh AMPLINK_BIN [WORKDIR]
set -u
AMPLINK=${1:?usage: it_bridge.sh AMPLINK_BIN [WORKDIR]}
WORK=${2:-}
BUFFER=20

MOSQ=$(command -v mosquitto || true)
[ -z "$MOSQ" ] && [ -x /usr/sbin/mosquitto ] && MOSQ=/usr/sbin/mosquitto
if [ -z "$MOSQ" ] || ! command -v mosquitto_sub >/dev/null || ! command -v mosquitto_pub >/dev/null; then
	echo "SKIP it_bridge: needs mosquitto and mosquitto-clients (apt-get install mosquitto mosquitto-clients)"
	exit 77
fi

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/it_bridge.XXXXXX)
else
	rm -rf "$WORK" && mkdir -p "$WORK"
fi
LINK="itbridge-$$"
PREFIX="amplink/$LINK"
ECHO_SVC=rpmsg-openamp-demo-channel
BROKER_PID="" REMOTE_PID="" BRIDGE_PID="" SUB_PID=""

cleanup() {
	for p in $SUB_PID $BRIDGE_PID $REMOTE_PID $BROKER_PID; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $SUB_PID $BRIDGE_PID $REMOTE_PID $BROKER_PID; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL it_bridge: $*"
	for f in "$WORK"/bridge.log "$WORK"/remote.log "$WORK"/broker*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
	exit 1
}

# Start mosquitto on $PORT (127.0.0.1 only); 0 once it listens.
start_broker() { # LOGFILE
	printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$WORK/mosquitto.conf"
	"$MOSQ" -c "$WORK/mosquitto.conf" >"$1" 2>&1 &
	BROKER_PID=$!
	for _ in $(seq 50); do
		grep -q "mosquitto version .* running" "$1" 2>/dev/null && return 0
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=""
	return 1
}

stop_broker() {
	kill "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=""
}

sub() { # TOPIC COUNT SECONDS -> messages on stdout, one per line
	timeout "$(($3 + 1))" mosquitto_sub -h 127.0.0.1 -p "$PORT" -t "$1" -C "$2" -W "$3"
}

# Publish on the echo cmd topic until the echo arrives on the echo topic.
check_echo() { # TEXT
	rm -f "$WORK/echo.out"
	timeout 6 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t "$PREFIX/$ECHO_SVC" -C 1 -W 5 >"$WORK/echo.out" &
	SUB_PID=$!
	for _ in $(seq 25); do
		mosquitto_pub -h 127.0.0.1 -p "$PORT" -t "$PREFIX/$ECHO_SVC/cmd" -m "$1" || true
		sleep 0.2
		[ -s "$WORK/echo.out" ] && break
	done
	wait "$SUB_PID" 2>/dev/null
	SUB_PID=""
	[ "$(head -n 1 "$WORK/echo.out")" = "$1" ] || fail "no echo of '$1' on $PREFIX/$ECHO_SVC (got '$(cat "$WORK/echo.out")')"
	echo "ok: '$1' published on $PREFIX/$ECHO_SVC/cmd came back on $PREFIX/$ECHO_SVC"
}

last_tick() { # FILE -> highest tick number in it
	sed -n 's/^tick \([0-9][0-9]*\)$/\1/p' "$1" | sort -n | tail -n 1
}

# 1. the broker, on a free port
PORT=""
for _ in $(seq 20); do
	PORT=$((20000 + RANDOM % 40000))
	start_broker "$WORK/broker1.log" && break
	PORT=""
done
[ -n "$PORT" ] || fail "could not start mosquitto on any port (see $WORK/broker1.log)"
echo "broker: mosquitto on 127.0.0.1:$PORT"

# 2. the remote (ticker every 50 ms + the echo service) and the bridge
"$AMPLINK" remote --link "$LINK" --ticker tick:50 --once --timeout 10000 >"$WORK/remote.log" 2>&1 &
REMOTE_PID=$!
"$AMPLINK" bridge mqtt --link "$LINK" --port "$PORT" --buffer "$BUFFER" --greet tick --stats \
	>"$WORK/bridge.log" 2>&1 &
BRIDGE_PID=$!

# 3. remote -> MQTT: ticks arrive
sub "$PREFIX/tick" 3 8 >"$WORK/ticks1.out"
[ "$(grep -c '^tick [0-9]*$' "$WORK/ticks1.out")" = 3 ] || fail "no ticks on $PREFIX/tick"
T1=$(last_tick "$WORK/ticks1.out")
echo "ok: ticks on $PREFIX/tick (up to tick $T1)"

# 4. MQTT -> remote -> MQTT: the echo
check_echo "hello-bridge-1"

# 5. the broker goes away for 1.5 s (about 30 ticks, more than --buffer)
stop_broker
for _ in $(seq 40); do
	grep -q "lost the broker" "$WORK/bridge.log" && break
	sleep 0.05
done
grep -q "lost the broker" "$WORK/bridge.log" || fail "the bridge did not notice the broker going away"
sleep 1.5
started=0
for _ in $(seq 20); do
	start_broker "$WORK/broker2.log" && { started=1; break; }
	sleep 0.1
done
[ "$started" = 1 ] || fail "could not restart mosquitto on port $PORT"
echo "broker: restarted on 127.0.0.1:$PORT"

# 6. traffic resumes in both directions (back-off is at most 1.6 s here)
sub "$PREFIX/tick" 3 8 >"$WORK/ticks2.out"
[ "$(grep -c '^tick [0-9]*$' "$WORK/ticks2.out")" = 3 ] || fail "ticks did not resume after the broker restart"
T2=$(last_tick "$WORK/ticks2.out")
[ "$T2" -gt "$T1" ] || fail "tick numbers went backwards ($T1 then $T2)"
grep -q "reconnected to the broker" "$WORK/bridge.log" || fail "no reconnect message"
echo "ok: ticks resumed after the restart (tick $T2)"
check_echo "hello-bridge-2"

# 7. stop the bridge: counters
kill -TERM "$BRIDGE_PID"
rc=0
wait "$BRIDGE_PID" || rc=$?
BRIDGE_PID=""
[ "$rc" = 0 ] || fail "bridge exited with $rc"
totals=$(grep "amplink bridge: totals:" "$WORK/bridge.log")
[ -n "$totals" ] || fail "no totals line"
echo "$totals"
grep -A3 "amplink bridge: totals:" "$WORK/bridge.log" | tail -n 3
dropped=$(sed -n 's/.*dropped \([0-9]*\); commands.*/\1/p' <<<"$totals")
peak=$(sed -n 's/.*(peak \([0-9]*\) of \([0-9]*\)).*/\1/p' <<<"$totals")
connects=$(sed -n 's/.*broker connects \([0-9]*\), disconnects \([0-9]*\).*/\1 \2/p' <<<"$totals")
cmds=$(sed -n 's/.*commands \([0-9]*\) delivered.*/\1/p' <<<"$totals")
[ -n "$dropped" ] && [ "$dropped" -gt 0 ] || fail "no drops counted while the broker was away for 1.5 s"
[ -n "$peak" ] && [ "$peak" -le "$BUFFER" ] || fail "buffer grew past --buffer $BUFFER (peak $peak)"
[ "$peak" = "$BUFFER" ] || fail "buffer never filled (peak $peak of $BUFFER)"
[ "$connects" = "2 1" ] || fail "expected 2 connects and 1 disconnect, got '$connects'"
[ -n "$cmds" ] && [ "$cmds" -ge 2 ] || fail "commands delivered: '$cmds'"
grep -q "amplink bridge: stats:" "$WORK/bridge.log" || fail "--stats printed nothing"
echo "ok: $dropped dropped while the broker was away, buffer peak $peak of $BUFFER"

# 8. hostile names: 'a', 'a/cmd', and a ticker named t<0xff> (not UTF-8)
wait "$REMOTE_PID" 2>/dev/null
LINK2="itbridge2-$$"
P2="amplink/$LINK2"
BAD=$'t\xff'
"$AMPLINK" remote --link "$LINK2" --service a --service a/cmd --ticker "$BAD:50" --once \
	--timeout 10000 >"$WORK/remote2.log" 2>&1 &
REMOTE_PID=$!
"$AMPLINK" bridge mqtt --link "$LINK2" --port "$PORT" --greet "$BAD" \
	>"$WORK/bridge2.log" 2>&1 &
BRIDGE_PID=$!
sub "$P2/t%FF" 3 8 >"$WORK/ticks3.out"
[ "$(grep -c '^tick [0-9]*$' "$WORK/ticks3.out")" = 3 ] ||
	{ cat "$WORK/bridge2.log"; fail "no ticks on the escaped topic $P2/t%FF"; }
echo "ok: the ticker named t<0xff> publishes on $P2/t%FF"
echo_on() { # SERVICE-TOPIC TEXT
	rm -f "$WORK/echo2.out"
	timeout 6 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t "$1" -C 1 -W 5 >"$WORK/echo2.out" &
	SUB_PID=$!
	for _ in $(seq 25); do
		mosquitto_pub -h 127.0.0.1 -p "$PORT" -t "$1/cmd" -m "$2" || true
		sleep 0.2
		[ -s "$WORK/echo2.out" ] && break
	done
	wait "$SUB_PID" 2>/dev/null
	SUB_PID=""
	[ "$(head -n 1 "$WORK/echo2.out")" = "$2" ] ||
		{ cat "$WORK/bridge2.log"; fail "no echo of '$2' on $1"; }
	echo "ok: '$2' on $1/cmd came back on $1"
}
echo_on "$P2/a" "to-a"
# what service a/cmd sends must not land on a's command topic
timeout 4 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t "$P2/a/cmd" -C 1 -W 3 >"$WORK/leak.out" &
SUB_PID=$!
sleep 0.3
echo_on "$P2/a%2Fcmd" "to-a-slash-cmd"
wait "$SUB_PID" 2>/dev/null
SUB_PID=""
[ -s "$WORK/leak.out" ] && fail "service a/cmd reached a's command topic: $(cat "$WORK/leak.out")"
echo "ok: service a/cmd lives on $P2/a%2Fcmd, nothing of it on $P2/a/cmd"
kill -TERM "$BRIDGE_PID"
wait "$BRIDGE_PID" 2>/dev/null
BRIDGE_PID=""
echo "PASS it_bridge"

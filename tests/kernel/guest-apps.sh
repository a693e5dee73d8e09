#!/bin/sh
# Runs inside the User-Mode Linux guest (run-remote.sh): the live web page
# and the MQTT bridge over the kernel's rpmsg_char (--link kernel), on the
# guest's own loopback, against `amplink remote --vhost-user --demo motor`.
# The lines the test expects are in guest-apps.txt.
#   guest-apps.sh AMPLINK WORKDIR SEED_RNG
# WORKDIR holds rng.seed, 64 bytes from the host's /dev/urandom: seed_rng
# credits them, as a board's boot does from its saved seed.
A=${1:?usage: guest-apps.sh AMPLINK WORKDIR SEED_RNG}
W=${2:?usage: guest-apps.sh AMPLINK WORKDIR SEED_RNG}
SEED=${3:?usage: guest-apps.sh AMPLINK WORKDIR SEED_RNG}
set -e
step() {
	echo "guest-apps: $*"
}
step "random seed"
"$SEED" "$W/rng.seed"
step "loopback up"
ip link set lo up

step "dash: telemetry from the motor demo through the kernel"
"$A" dash --link kernel --port 0 --db "$W/dash.db" --duration 8000 >"$W/dash.out" 2>"$W/dash.err" &
dash=$!
i=0
until grep -q http "$W/dash.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "dash did not start within 30 s"; cat "$W/dash.err"; exit 1; }
	sleep 0.05
done
echo "guest-apps: dash started after $i polls of 50 ms"
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$W/dash.out")
sleep 1.5
# the page charts what the remote described: temp, adc, speed
nd=$(curl -sf "${url}api/series" | grep -o '"described":true' | wc -l)
echo "guest-apps: series described: $nd"
[ "$nd" -ge 3 ]
n=$(curl -sf "${url}api/samples?series=temp&limit=1000" | grep -o '"value"' | wc -l)
echo "guest-apps: temperature samples stored: $n"
[ "$n" -gt 5 ]
kill "$dash"
wait "$dash" || true

step "bridge: the sensors to MQTT through the kernel"
mosquitto -p 18830 >"$W/broker.log" 2>&1 &
broker=$!
sleep 0.3
mosquitto_sub -h 127.0.0.1 -p 18830 -t amplink/kernel/sensor-temp -C 3 -W 8 -F %t >"$W/mqtt.out" &
sub=$!
sleep 0.2
"$A" bridge mqtt --link kernel --port 18830 --channel sensor-temp --greet sensor-temp \
	--duration 3000 >"$W/bridge.out" 2>&1 || { cat "$W/bridge.out"; exit 1; }
wait "$sub"
echo "guest-apps: MQTT messages on amplink/kernel/sensor-temp: $(grep -c . "$W/mqtt.out" || true)"
kill "$broker"
wait "$broker" || true
step "every app exited 0"

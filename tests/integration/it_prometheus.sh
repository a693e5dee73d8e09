#!/usr/bin/env bash
# A real Prometheus server scraping amplink (docs/metrics.md):
#   1. a remote running the motor demo and `amplink dash` on a free port of
#      127.0.0.1; Prometheus (Debian's package) with a generated config,
#      scrape interval 1 s, storage in a temporary directory; once it has
#      scraped, its HTTP API must show the link up, message counters that
#      grow between two queries, per-endpoint counters and a plausible
#      temperature;
#   2. `amplink stats --watch 1 --format prometheus --output FILE` (the
#      textfile-collector recipe) runs alongside;
#   3. the remote is killed while /metrics is scraped in a tight loop: every
#      request must be answered in full (the link shown down) or refused at
#      once (never stall, never half an answer), the textfile must say
#      amplink_link_up 0; the dash is then restarted with a new remote, as a
#      service manager would, and Prometheus sees the target go down and the
#      counters start over (a new start time, a counter reset).
# Exits 77 (CTest: skipped) when prometheus or promtool is missing.
# usage: it_prometheus.sh PATH-TO-amplink OUTDIR
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
for t in prometheus promtool curl python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (apt-get install prometheus)"; exit 77; }
done
tmp=$(mktemp -d /tmp/it_prom.XXXXXX)
link="itprom-$$"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in dash.err prom.log stats.err; do echo "--- $f"; tail -20 "$tmp/$f" 2>/dev/null || true; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dport=$(free_port) pport=$(free_port)
api="http://127.0.0.1:$pport/api/v1"
metrics="http://127.0.0.1:$dport/metrics"

start_pair() {
  "$bin" remote --link "$link" --demo motor 2>>"$tmp/remote.err" & remote=$!; pids+=($remote)
  "$bin" dash --link "$link" --port "$dport" --db "$tmp/t.db" >>"$tmp/dash.out" 2>>"$tmp/dash.err" & dash=$!; pids+=($dash)
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$metrics" && return 0; sleep 0.05; done
  fail "dash did not serve /metrics on port $dport"
}

# One value of an instant query (the first series), or "none".
q() {
  curl -sf --get --data-urlencode "query=$1" "$api/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}
# Wait until query $1 gives a value for which python expression $2 (on v) holds.
wait_for() {
  for _ in $(seq 1 ${3:-60}); do
    v=$(q "$1" || echo none)
    if [ "$v" != none ] && python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$v"; then
      echo "$v"; return 0
    fi
    sleep 0.5
  done
  fail "$1: $v, wanted $2"
}
gt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$1" "$2"; }

start_pair
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: amplink
    static_configs:
      - targets: ['127.0.0.1:$dport']
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "generated config refused"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prom.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$pport/-/ready" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$pport/-/ready" || fail "prometheus not ready"

# ---- 1. scraped, counters growing --------------------------------------------------
wait_for 'up{job="amplink"}' 'v == 1' >/dev/null
wait_for 'amplink_link_up{link="'"$link"'",side="host"}' 'v == 1' >/dev/null
rx1=$(wait_for 'amplink_link_messages_total{direction="rx"}' 'v > 0')
wait_for 'amplink_link_messages_total{direction="rx"}' "v > $rx1" >/dev/null
rx2=$(q 'amplink_link_messages_total{direction="rx"}')
temp=$(wait_for 'amplink_telemetry_value{series="temp"}' 'v > -40 and v < 150')
ept=$(wait_for 'amplink_endpoint_messages_total{endpoint="sensor-temp",direction="rx"}' 'v > 0')
bytes=$(wait_for 'amplink_link_bytes_total{direction="rx"}' "v >= 4 * $rx1")
echo "scraped: rx messages $rx1 then $rx2, rx bytes $bytes, sensor-temp rx $ept, temp $temp"
curl -sf "$metrics" | promtool check metrics || fail "/metrics refused by promtool"
start1=$(q 'amplink_link_start_time_seconds')

# ---- 2. the textfile-collector recipe alongside ------------------------------------
"$bin" stats --link "$link" --watch 1 --format prometheus --output "$tmp/amplink.prom" \
  2>"$tmp/stats.err" & stats=$!; pids+=($stats)
for _ in $(seq 1 40); do grep -q 'amplink_link_up{.*} 1' "$tmp/amplink.prom" 2>/dev/null && break; sleep 0.1; done
grep -q "amplink_link_up{link=\"$link\",side=\"host\"} 1" "$tmp/amplink.prom" || fail "textfile does not show the link up"
promtool check metrics <"$tmp/amplink.prom" || fail "textfile refused by promtool"

# ---- 3. the remote killed while scraping ---------------------------------------------
python3 - "$metrics" >"$tmp/scrapes" <<'PY' & loop=$!
import sys, time, urllib.request
url, end = sys.argv[1], time.time() + 4
while time.time() < end:
    t = time.time()
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            body = r.read().decode()
            ok = body.rstrip().split("\n")[-1].startswith("amplink_metrics_series_dropped_total")
            up = "down" if 'amplink_link_up{' in body and '"} 0' in body.split("amplink_link_up{")[1].split("\n")[0] else "up"
            print(f"{r.status} {time.time() - t:.3f} {'complete' if ok else 'cut'} {up}")
    except Exception as e:  # refused once the dash has gone
        print(f"refused {time.time() - t:.3f} {type(e).__name__}")
    time.sleep(0.005)
PY
sleep 1
kill -9 "$remote"
for _ in $(seq 1 40); do grep -q 'amplink_link_up{.*} 0' "$tmp/amplink.prom" && break; sleep 0.1; done
grep -q "amplink_link_up{link=\"$link\",side=\"host\"} 0" "$tmp/amplink.prom" ||
  fail "textfile does not show the link down: $(grep link_up "$tmp/amplink.prom")"
grep -Eo 'state="[a-z]+"' "$tmp/amplink.prom" | head -1
wait "$loop" || true
n_ok=$(grep -c '^200 .* complete' "$tmp/scrapes" || true)
n_ref=$(grep -c '^refused' "$tmp/scrapes" || true)
n_down=$(grep -c '^200 .* down$' "$tmp/scrapes" || true)
n_all=$(wc -l <"$tmp/scrapes")
slow=$(awk '$2 > 1.0' "$tmp/scrapes" | wc -l)
[ "$n_all" = $((n_ok + n_ref)) ] || fail "a scrape was neither answered in full nor refused: $(grep -v '^200 .* complete' "$tmp/scrapes" | grep -v '^refused' | head -3)"
[ "$slow" = 0 ] || fail "$slow scrapes took over 1 s (stalled)"
[ "$n_ok" -gt 10 ] || fail "only $n_ok scrapes answered: the kill was not under scraping"
# The dash either goes on serving with the link shown down (lost), or ends
# and is refused: both are answers; a stall or a half answer is not.
[ "$n_down" -gt 0 ] || [ "$n_ref" -gt 0 ] || fail "no scrape showed the link down after the kill"
slowest=$(awk '$2 > m { m = $2 } END { print m }' "$tmp/scrapes")
echo "during the kill: $n_all scrapes, $n_ok answered in full ($n_down showing the link down), $n_ref refused, slowest ${slowest} s"
if kill -0 "$dash" 2>/dev/null; then
  wait_for 'amplink_link_up{link="'"$link"'",side="host"}' 'v == 0' >/dev/null
  kill "$dash"; wait "$dash" 2>/dev/null || true   # as a service manager restarts it
fi
wait_for 'up{job="amplink"}' 'v == 0' >/dev/null

# ---- and back: counters start over -----------------------------------------------------
start_pair
wait_for 'up{job="amplink"}' 'v == 1' >/dev/null
start2=$(wait_for 'amplink_link_start_time_seconds' "v > $start1")
resets=$(wait_for 'resets(amplink_link_messages_total{direction="rx"}[2m])' 'v >= 1')
grep -q "amplink_link_up{link=\"$link\",side=\"host\"} 1" "$tmp/amplink.prom" || sleep 1.5
grep -q "amplink_link_up{link=\"$link\",side=\"host\"} 1" "$tmp/amplink.prom" || fail "textfile does not show the link back up"
maxdur=$(q 'max_over_time(scrape_duration_seconds{job="amplink"}[2m])')
echo "restarted: start time $start1 -> $start2, counter resets seen $resets, longest scrape ${maxdur}s"
cp "$tmp/amplink.prom" "$out/amplink.prom"
echo "PASS it_prometheus"

#!/usr/bin/env bash
# What `amplink dash` does with bad input (docs/dashboard.md, "Limits"),
# against the hostile remote tests/integration/dash_remote.c:
#   1. values that are not numbers (NaN, infinities), values outside the
#      described range and messages of no valid size: dropped, counted, not
#      stored, not sent to the page; descriptions with HTML, quotes, control
#      characters, bad UTF-8 or 1 KiB long: refused and counted (the series
#      keeps its key as its name); service names no chart may show: refused
#      and counted; nothing of it raw on the terminal
#   2. a browser that connects to /events and never reads, while 2,000
#      samples a second flow: another client still gets the stream, the
#      API still answers at once, and the stuck client is dropped (counted)
#   3. a remote announcing 300 sensors: 32 charted, the rest refused and
#      counted, with a sentence saying why
#   4. a sensor the remote withdraws and announces anew at another address
#      (a restarted firmware task): subscribed again, its series carries on
# usage: it_dash_bad.sh PATH-TO-amplink PATH-TO-dash_remote
set -euo pipefail
bin=$1 remote=$2
tmp=$(mktemp -d /tmp/it_dash_bad.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- dash stderr"; head -c 3000 "$tmp/dash.err" | cat -v || true; exit 1; }

# start SCENARIO: the hostile remote and a dash on it; sets $url and $dash
start() {
  local link="itdashbad-$$-$1"
  "$remote" "$1" "$link" >"$tmp/remote.out" 2>"$tmp/remote.err" & pids+=($!)
  "$bin" dash --link "$link" --port 0 --db "$tmp/$1.db" --duration 90000 >"$tmp/dash.out" 2>"$tmp/dash.err" &
  dash=$!; pids+=($dash)
  for _ in $(seq 1 200); do grep -q http "$tmp/dash.out" 2>/dev/null && break; sleep 0.05; done
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/dash.out") || fail "dash did not start"
}
stop() {
  kill -TERM "$dash"; wait "$dash" || true
  grep -q 'samples stored in' "$tmp/dash.err" || fail "dash did not shut down cleanly"
  if grep -q $'[\x01-\x08\x0b-\x1f]' "$tmp/dash.err"; then fail "raw control characters from the remote on the terminal"; fi
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# ---- 1. bad values, descriptions and names ----------------------------------
start bad
sleep 3   # > SENSOR_HUB_DESCRIBE_WAIT_MS: the refused ones run on defaults
curl -sf "${url}api/series" >"$tmp/series"
curl -sf "${url}api/status" >"$tmp/status"
echo "status: $(cat "$tmp/status")"
keys=$(json "' '.join(sorted(s['key'] for s in d['series']))" <"$tmp/series")
echo "series: $keys"
[ "$keys" = "big ctl garbage good good2 html nan quote range utf" ] || fail "unexpected series: $keys"
for k in html quote ctl utf big; do
  [ "$(json "[(s['described'], s['label']) for s in d['series'] if s['key']=='$k'][0]" <"$tmp/series")" = "(False, '$k')" ] ||
    fail "the description of $k was not refused"
done
[ "$(json "[s['label'] for s in d['series'] if s['key']=='nan'][0]" <"$tmp/series")" = Float ] || fail "good description refused"
d() { json "d['dropped']['$1']" <"$tmp/status"; }
echo "dropped: not_finite $(d not_finite), out_of_range $(d out_of_range), malformed $(d malformed), bad_description $(d bad_description), bad_name $(d bad_name)"
[ "$(d not_finite)" -ge 10 ] || fail "NaN/inf not counted"
[ "$(d out_of_range)" -ge 10 ] || fail "out-of-range values not counted"
[ "$(d malformed)" -ge 10 ] || fail "messages of no valid size not counted"
[ "$(d bad_description)" -ge 4 ] || fail "bad descriptions not counted"
ns_bad=$(json "d.get('link_counters',{}).get('ns_malformed',0)" <"$tmp/status")
[ $(( $(d bad_name) + ns_bad )) -ge 5 ] || fail "bad names: $(d bad_name) refused by the dash, $ns_bad by the link, want 5"
grep -q "refused" <<<"$(json "d['last_fault'] or ''" <"$tmp/status")$(cat "$tmp/dash.err")" || fail "no sentence about the refusals"
# nothing refused was stored
nanv=$(curl -sf "${url}api/samples?series=nan&limit=100000" | json "sorted(set(s['value'] for s in d))")
[ "$nanv" = "[1.5]" ] || fail "stored values of the NaN sensor: $nanv"
rmax=$(curl -sf "${url}api/samples?series=range&limit=100000" | json "max(s['value'] for s in d)")
[ "$rmax" = 50.0 ] || fail "a value outside the range was stored: $rmax"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${url}api/samples?series=%3Cb%3Ex")" = 400 ] || fail "a refused name answered"
# ... nor sent to the page: every event is JSON with a finite value
timeout 2 curl -sN "${url}events" >"$tmp/sse" || true
python3 - "$tmp/sse" <<'PY' || fail "bad event on the stream"
import json, math, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("data: "):
        d = json.loads(line[6:])
        if "value" in d:
            assert math.isfinite(d["value"]), d
            assert d["series"] != "nan" or d["value"] == 1.5, d
            assert d["series"] != "range" or d["value"] <= 100, d
            n += 1
print("stream: %d sample events, every value finite and in range" % n)
assert n > 100
PY

# ---- 2. a client that never reads its event stream ----------------------------
port=${url#http://127.0.0.1:}; port=${port%/}
python3 - "$port" "$url" >"$tmp/slow" 2>&1 <<'PY' || { cat "$tmp/slow"; fail "slow client"; }
import json, socket, subprocess, sys, time, urllib.request
port, url = int(sys.argv[1]), sys.argv[2]
def status():
    t = time.monotonic()
    d = json.load(urllib.request.urlopen(url + "api/status", timeout=5))
    return d, time.monotonic() - t
stuck = socket.socket()
stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
stuck.connect(("127.0.0.1", port))
stuck.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
time.sleep(2)  # its buffers fill: the server can send it nothing more
t = time.monotonic()
out = subprocess.run(["timeout", "3", "curl", "-sN", url + "events"], capture_output=True).stdout
got = out.count(b"event: sample")
worst = max(status()[1] for _ in range(10))
print("while a client is stuck: another got %d sample events in 3 s, /api/status answered within %.0f ms" % (got, worst * 1000))
assert got > 1000, "the other client starved"
assert worst < 0.5, "the API stalled"
deadline = time.monotonic() + 25
while time.monotonic() < deadline:
    d, _ = status()
    if d["dropped"]["sse_timeouts"] >= 1:
        break
    time.sleep(0.5)
print("stuck client dropped after %.1f s: sse_timeouts %d, sse_skipped %d" % (
    time.monotonic() - t, d["dropped"]["sse_timeouts"], d["dropped"]["sse_skipped"]))
assert d["dropped"]["sse_timeouts"] >= 1, "the stuck client was never dropped"
PY
cat "$tmp/slow"
stop

# ---- 3. hundreds of sensors ----------------------------------------------------
start many
n=0
for _ in $(seq 1 100); do
  curl -sf "${url}api/status" >"$tmp/status" || true
  n=$(json "d['dropped']['over_cap']" <"$tmp/status" 2>/dev/null || echo 0)
  [ "$n" -ge 268 ] && break
  sleep 0.1
done
series=$(json "d['series']" <"$tmp/status")
echo "300 sensors announced: $series charted, $n refused: $(json "d['last_fault']" <"$tmp/status")"
[ "$series" = 32 ] || fail "$series series charted, want 32"
[ "$n" = 268 ] || fail "$n sensors refused, want 268"
grep -q "at most 32 series" "$tmp/dash.err" || fail "no message about the cap"
[ "$(curl -sf "${url}api/series" | json "len(d['series'])")" = 32 ] || fail "/api/series is not capped"
stop

# ---- 4. a sensor withdrawn and announced anew ------------------------------------
start cycle
sleep 6   # four re-announcements, 1.5 s apart
curl -sf "${url}api/status" >"$tmp/status"
w=$(json "d['dropped']['withdrawn']" <"$tmp/status"); r=$(json "d['dropped']['reannounced']" <"$tmp/status")
cycles=$(grep -c "re-announced" "$tmp/remote.out" || true)
echo "sensor announced anew $cycles times: withdrawn $w, followed to its new address $r"
# (withdrawn counts only a withdrawal seen before the new announcement)
[ "$r" -ge 3 ] || fail "a re-announced sensor was not followed"
[ "$(curl -sf "${url}api/series" | json "len(d['series'])")" = 1 ] || fail "a re-announced sensor became a second series"
# samples flow between re-announcements: the longest gap stays well
# under the 1.5 s between them (a lost sensor would stop for good)
gap=$(curl -sf "${url}api/samples?series=cycle&limit=100000" |
  json "max(b['host_ms'] - a['host_ms'] for a, b in zip(d, d[1:]))")
echo "the re-announced sensor: longest gap between samples $gap ms"
[ "$gap" -lt 1000 ] || fail "samples stopped after a re-announcement ($gap ms)"
# the remote stops (withdrawing its sensor first): the dash notices the link
# is gone although no channel has anything to read, says so, exits 3
kill -TERM "${pids[${#pids[@]}-2]}"
for _ in $(seq 1 60); do kill -0 "$dash" 2>/dev/null || break; sleep 0.05; done
rc=0; wait "$dash" || rc=$?
[ "$rc" = 3 ] || fail "the dash did not exit 3 when its remote went ($rc)"
grep -q "the remote went away" "$tmp/dash.err" || fail "no sentence about the remote going"
echo "the remote stopped: the dash said so and exited 3"
echo "PASS (bad)"

#!/usr/bin/env bash
# `amplink stats` (tools/amplink/cmd_stats.c) against a running link: a
# remote whose services have hostile names (quote, backslash, newline,
# escape sequence, a byte that is not UTF-8) and `amplink echo` as host.
# Checks the text, JSON and Prometheus outputs of both sides, --watch
# rates, --output written atomically, the answer when nothing serves the
# link (exit 3, and amplink_link_up 0 all the same), and bad options.
# promtool (Debian prometheus) checks the exposition when installed.
# With the example firmware, also `amplink stats --rproc`: boots, crashes
# and recoveries of a remote killed once under `amplink rproc start`.
# usage: it_stats.sh PATH-TO-amplink [PATH-TO-rproc_fw_demo]
set -euo pipefail
bin=$1 fw=${2:-}
tmp=$(mktemp -d /tmp/it_stats.XXXXXX)
link="itstats-$$"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
evil=$'ev"il\\na\nme\033[2J\xff'

# nothing serves the link yet
set +e
"$bin" stats --link "$link" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[ $rc = 3 ] || fail "no server: exit $rc, wanted 3"
grep -q "no process serves the metrics of link '$link'" "$tmp/err" || fail "no server: $(cat "$tmp/err")"
set +e
"$bin" stats --link "$link" --format prometheus --output "$tmp/none.prom" 2>/dev/null; rc=$?
set -e
[ $rc = 3 ] || fail "no server, prometheus: exit $rc"
grep -q "amplink_link_up{link=\"$link\",side=\"host\"} 0" "$tmp/none.prom" || fail "no server: $(cat "$tmp/none.prom")"
grep -q 'state="none"' "$tmp/none.prom" || fail "no server: state none missing"

"$bin" remote --link "$link" --service "$evil" 2>"$tmp/remote.err" & pids+=($!)
# before any host: the remote serves its side, with no link open yet
for _ in $(seq 1 100); do "$bin" stats --link "$link" --side remote --json 2>/dev/null | grep -q '"state":"none"' && break; sleep 0.05; done
"$bin" stats --link "$link" --side remote --json | grep -q '"state":"none"' || fail "remote before any host: not served as none"
"$bin" echo --link "$link" --count 100000000 >"$tmp/echo.out" 2>&1 & echo_pid=$!; pids+=($echo_pid)
for _ in $(seq 1 100); do "$bin" stats --link "$link" >/dev/null 2>&1 && break; sleep 0.05; done
sleep 0.5

# text, both sides
"$bin" stats --link "$link" >"$tmp/host.txt" || fail "stats (host) failed"
grep -q "^link $link (host side): up since" "$tmp/host.txt" || fail "host text: $(head -3 "$tmp/host.txt")"
grep -q 'rpmsg-openamp-demo-channel' "$tmp/host.txt" || fail "host text lacks the echo endpoint"
"$bin" stats --link "$link" --side remote >"$tmp/remote.txt" || fail "stats (remote) failed"
grep -q "(remote side): up" "$tmp/remote.txt" || fail "remote text: $(head -3 "$tmp/remote.txt")"
grep -q $'\033' "$tmp/remote.txt" && fail "a raw escape from a remote's name reached the terminal"
grep -qF 'ev"il\\na\nme\x1b[2J\xff' "$tmp/remote.txt" || fail "hostile name not shown escaped: $(grep ev "$tmp/remote.txt")"

# JSON: valid, counters move
"$bin" stats --link "$link" --json >"$tmp/a.json"
sleep 0.3
"$bin" stats --link "$link" --json >"$tmp/b.json"
python3 - "$tmp/a.json" "$tmp/b.json" <<'PY' || fail "JSON"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
la, lb = a["links"][0], b["links"][0]
assert la["state"] == "up" and la["side"] == "host", la
assert lb["tx_msgs"] > la["tx_msgs"] > 0, (la["tx_msgs"], lb["tx_msgs"])
assert lb["rx_bytes"] >= la["rx_bytes"] > 0
e = [x for x in lb["endpoints"] if x["name"] == "rpmsg-openamp-demo-channel"][0]
assert e["tx_msgs"] > 0 and e["tx_bytes"] >= e["tx_msgs"]
print("json: tx", la["tx_msgs"], "->", lb["tx_msgs"])
PY
"$bin" stats --link "$link" --side remote --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [e["name"] for e in d["links"][0]["endpoints"]]
assert any(n.startswith("ev\"il\\na\nme\x1b[2J") for n in names), names
' || fail "remote JSON lacks the hostile name"

# Prometheus, both sides, written atomically
"$bin" stats --link "$link" --format prometheus --output "$tmp/host.prom" || fail "--output"
"$bin" stats --link "$link" --side remote --format prometheus >"$tmp/remote.prom"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
grep -q 'amplink_link_messages_total{link="'"$link"'",side="host",direction="tx"} [1-9]' "$tmp/host.prom" ||
  fail "host exposition: $(grep messages_total "$tmp/host.prom")"
grep -qF 'endpoint="ev\"il\\na\nme\\x1b[2J\\xff"' "$tmp/remote.prom" ||
  fail "remote exposition: $(grep -a 'endpoint="ev' "$tmp/remote.prom" | head -1)"
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/host.prom" || fail "promtool: host"
  promtool check metrics <"$tmp/remote.prom" || fail "promtool: remote"
  echo "promtool: both expositions valid"
fi

# --watch: two refreshes, the second with rates
timeout 2.6 "$bin" stats --link "$link" --watch 1 >"$tmp/watch.txt" || true
n=$(grep -c "^link $link" "$tmp/watch.txt")
[ "$n" -ge 2 ] || fail "--watch refreshed $n times in 2.6 s"
awk '/^    TX:/ {n++; if (n == 2) print $5}' "$tmp/watch.txt" | grep -qE '^[0-9]+\.[0-9]$' ||
  fail "no tx rate on the second refresh: $(grep 'TX:' "$tmp/watch.txt")"
timeout 2.6 "$bin" stats --link "$link" --watch=1 --json >"$tmp/watch.jsonl" || true
[ "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["links"]))' "$tmp/watch.jsonl")" -ge 2 ] ||
  fail "--watch --json: not JSON Lines"

# the host goes: its process no longer serves; the remote says "none"
kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
set +e
"$bin" stats --link "$link" >/dev/null 2>&1; rc=$?
set -e
[ $rc = 3 ] || fail "after the host left: exit $rc"
for _ in $(seq 1 40); do "$bin" stats --link "$link" --side remote --json | grep -q '"state":"none"' && break; sleep 0.05; done
"$bin" stats --link "$link" --side remote --json | grep -q '"state":"none"' || fail "remote side does not show the link gone"

# bad options
for bad in "--watch 0" "--watch=x" "--format xml" "--side both" "--output $tmp/x" "--link kernel"; do
  set +e
  "$bin" stats $bad >/dev/null 2>&1; rc=$?
  set -e
  [ $rc = 2 ] || fail "'stats $bad': exit $rc, wanted 2"
done
# a managed remote: its lifecycle counters span the firmware's restarts
if [ -n "$fw" ]; then
  rp="itstats-rp-$$"
  "$bin" rproc start "$fw" --restart --name "$rp" 2>"$tmp/rproc.err" & mgr=$!; pids+=($mgr)
  for _ in $(seq 1 100); do "$bin" stats --rproc "$rp" 2>/dev/null | grep -q 'running, boots 1' && break; sleep 0.05; done
  fwpid=$(pgrep -P "$mgr" | head -1)
  [ -n "$fwpid" ] || fail "no firmware process under the manager"
  kill -9 "$fwpid"
  for _ in $(seq 1 100); do "$bin" stats --rproc "$rp" 2>/dev/null | grep -q 'boots 2.*last heartbeat' && break; sleep 0.05; done
  "$bin" stats --rproc "$rp" --format prometheus >"$tmp/rproc.prom"
  for want in "amplink_remote_up{remote=\"$rp\"} 1" "amplink_remote_boots_total{remote=\"$rp\"} 2" \
              "amplink_remote_crashes_total{remote=\"$rp\"} 1" "amplink_remote_recoveries_total{remote=\"$rp\"} 1"; do
    grep -qF "$want" "$tmp/rproc.prom" || fail "rproc: no '$want' in: $(grep -v '^#' "$tmp/rproc.prom")"
  done
  grep -q "amplink_remote_heartbeat_age_seconds{remote=\"$rp\"} 0\.[0-9]" "$tmp/rproc.prom" ||
    fail "rproc: heartbeat age: $(grep heartbeat "$tmp/rproc.prom")"
  kill "$mgr"; wait "$mgr" 2>/dev/null || true
  set +e
  "$bin" stats --rproc "$rp" --format prometheus >"$tmp/rproc.prom" 2>/dev/null; rc=$?
  set -e
  [ $rc = 3 ] && grep -qF "amplink_remote_up{remote=\"$rp\"} 0" "$tmp/rproc.prom" ||
    fail "rproc gone: exit $rc, $(grep remote_up "$tmp/rproc.prom")"
  echo "rproc: boots 2, crashes 1, recoveries 1 after one kill; shown down once the manager left"
fi
"$bin" help stats | grep -q "usage: amplink stats" || fail "help stats"
"$bin" help | grep -q "^  stats " || fail "stats not in the usage"
echo "PASS it_stats"

#!/usr/bin/env bash
# End-to-end test of `amplink dash` (apps/dash/cmd_dash.c): a remote running the
# motor demo, the dash on 127.0.0.1 with a free port, then
#   http     plain HTTP with curl: page, Chart.js served by the dash, the
#            series the remote described (temp, adc, speed with their
#            units), SSE stream, samples from SQLite (the newest N, and a
#            time range folded into a bounded number of points), set-duty
#            acknowledged, bad requests answered 4xx; and what a
#            hostile web page or local client cannot do: a foreign Host or
#            Origin, a POST without the page's token (403), raw escapes
#            from /api/report on the terminal, more than 64 connections
#            (threads) at once
#   browser  headless Chromium loads the page in self-test mode: Chart.js
#            loads from the dash, every announced series gets a chart and
#            live points, the range selector loads history from SQLite, a
#            duty command from the page comes back acknowledged (the page
#            reports all of it to /api/report); then, after about 20 s of
#            data, a screenshot of the page is saved as OUTDIR/dash.png
#            (through the DevTools protocol with tests/integration/
#            cdp_shot.mjs when node is there, else chromium --screenshot).
#            Exits 77 (CTest: skipped) when chromium is not installed.
# usage: it_dash.sh http|browser PATH-TO-amplink OUTDIR
set -euo pipefail
mode=$1 bin=$2 out=$3
mkdir -p "$out"
if [ "$mode" = browser ] && ! command -v chromium >/dev/null; then
  echo "SKIP: chromium not installed (apt-get install chromium)"; exit 77
fi
tmp=$(mktemp -d /tmp/it_dash.XXXXXX)
link="itdash-$$-$mode"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- dash stderr"; cat "$tmp/dash.err" || true; exit 1; }

"$bin" remote --link "$link" --once --demo motor 2>"$tmp/remote.err" & pids+=($!)
"$bin" dash --link "$link" --port 0 --db "$tmp/t.db" --duration 60000 >"$tmp/dash.out" 2>"$tmp/dash.err" & dash=$!; pids+=($dash)
for _ in $(seq 1 100); do grep -q http "$tmp/dash.out" 2>/dev/null && break; sleep 0.05; done
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/dash.out") || fail "dash did not start"
echo "dash at $url"
sleep 1.2   # about 12 temperature samples and one ADC sample

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
if [ "$mode" = http ]; then
  curl -sf "$url" >"$tmp/page"
  grep -q '<script src="/chart.js">' "$tmp/page" || fail "page does not load Chart.js from us"
  curl -sf "${url}chart.js" >"$tmp/chart.js" || fail "no /chart.js"
  head -c 300 "$tmp/chart.js" | grep -q 'Chart.js v3' || fail "/chart.js is not Chart.js 3"
  series=$(curl -sf "${url}api/series")
  echo "series: ${series:0:200}..."
  for want in '"key":"temp","label":"Motor temperature","unit":"°C"' \
              '"key":"adc","label":"ADC channel 0","unit":"counts"' \
              '"key":"speed","label":"Motor speed","unit":"rpm","format":"float32"'; do
    grep -qF "$want" <<<"$series" || fail "series description missing: $want"
  done
  token=$(sed -n "s/^const TOKEN='\([0-9a-f]*\)';$/\1/p" "$tmp/page")
  [ ${#token} = 32 ] || fail "the page carries no token"
  T=(-H "X-Amplink-Token: $token")
  port=${url#http://127.0.0.1:}; port=${port%/}
  [ "$(code -X POST "${url}api/duty?value=10")" = 403 ] || fail "duty without token not 403"
  [ "$(code -X POST -H "X-Amplink-Token: 0123456789abcdef0123456789abcdef" "${url}api/duty?value=10")" = 403 ] ||
    fail "duty with a wrong token not 403"
  [ "$(code -H "Host: evil.example:$port" "$url")" = 403 ] || fail "foreign Host not 403"
  [ "$(code -H "Host: 127.0.0.1" "$url")" = 403 ] || fail "Host without our port not 403"
  [ "$(code -H "Host: localhost:$port" "$url")" = 200 ] || fail "Host localhost refused"
  [ "$(code -X POST "${T[@]}" -H "Origin: http://evil.example" "${url}api/duty?value=10")" = 403 ] ||
    fail "foreign Origin not 403"
  [ "$(code "${T[@]}" -H "Origin: http://127.0.0.1:$port" "${url}api/status")" = 200 ] ||
    fail "our own Origin refused"
  printf '{"x":"\033]0;pwned\007\033[2J"}' >"$tmp/esc"
  [ "$(code -X POST "${T[@]}" --data-binary @"$tmp/esc" "${url}api/report")" = 200 ] || fail "report refused"
  sleep 0.1
  if grep -q $'\033' "$tmp/dash.err"; then fail "raw escape from /api/report on the terminal"; fi
  grep -q 'page report' "$tmp/dash.err" || fail "the report was not shown"
  # 100 idle connections: at most 64 are held (a thread each), the rest are
  # closed at once; the held ones go after 10 s of silence
  python3 - "$port" "$dash" >"$tmp/conns" <<'PY' || fail "connection flood: $(cat "$tmp/conns")"
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
time.sleep(0.5)
threads = int([l for l in open(f"/proc/{pid}/status") if l.startswith("Threads:")][0].split()[1])
print("threads with 100 idle connections:", threads)
for s in socks: s.close()
sys.exit(0 if threads <= 64 + 16 else 1)
PY
  cat "$tmp/conns"
  sleep 0.3
  temp=$(curl -sf "${url}api/samples?series=temp&limit=1000")
  n=$(grep -o '"seq"' <<<"$temp" | wc -l)
  [ "$n" -ge 6 ] || fail "only $n temperature samples in SQLite after 1.2 s: $temp"
  echo "SQLite: $n temperature samples, e.g. ${temp:0:90}..."
  now=$(date +%s%3N)
  r=$(curl -sf "${url}api/samples?series=temp&since=$((now - 600000))&until=$now&points=4")
  nb=$(grep -o '"host_ms"' <<<"$r" | wc -l)
  [ "$nb" -ge 1 ] && [ "$nb" -le 4 ] || fail "range folded into $nb points, want 1..4: $r"
  grep -q '"n":[0-9]*' <<<"$r" || fail "buckets do not say how many samples: $r"
  echo "range of 10 min in at most 4 points: $r"
  r=$(curl -sf "${url}api/samples?series=speed&since=$((now - 600000))")
  [ "$(grep -o '"host_ms"' <<<"$r" | wc -l)" -ge 3 ] || fail "no speed history: $r"
  [ "$(code "${url}api/samples?series=temp&since=abc")" = 400 ] || fail "bad since not 400"
  [ "$(code "${url}api/samples?series=temp&since=10&until=5")" = 400 ] || fail "until < since not 400"
  [ "$(code "${url}api/samples?series=temp&since=0&points=5001")" = 400 ] || fail "points > 5000 not 400"
  timeout 2 curl -sN "${url}events" >"$tmp/sse" || true
  grep -q '^event: sample$' "$tmp/sse" || fail "no SSE sample event"
  grep -q '^data: {"series":"temp"' "$tmp/sse" || fail "bad SSE data"
  ack=$(curl -sf -X POST "${T[@]}" "${url}api/duty?value=60") || fail "duty request failed"
  echo "duty 60: $ack"
  grep -q '"status":"ok","duty":60' <<<"$ack" || fail "duty not acknowledged: $ack"
  [ "$(code -X POST "${T[@]}" "${url}api/duty?value=abc")" = 400 ] || fail "bad duty value not 400"
  [ "$(code -X POST "${T[@]}" "${url}api/duty?value=101")" = 400 ] || fail "duty 101 not 400"
  [ "$(code -X POST "${T[@]}" "${url}api/duty")" = 400 ] || fail "missing value not 400"
  [ "$(code "${url}api/duty?value=5")" = 405 ] || fail "GET duty not 405"
  [ "$(code "${url}api/samples?series=x")" = 400 ] || fail "bad series not 400"
  [ "$(code "${url}api/samples?series=temp&limit=-1")" = 400 ] || fail "bad limit not 400"
  [ "$(code "${url}no/such/page")" = 404 ] || fail "unknown page not 404"
  [ "$(code -X DELETE "$url")" = 405 ] || fail "DELETE not 405"
  head -c 5000 /dev/zero | tr '\0' x >"$tmp/big"
  [ "$(code -X POST "${T[@]}" --data-binary @"$tmp/big" "${url}api/report")" = 413 ] || fail "big body not 413"
  status=$(curl -sf "${url}api/status")
  echo "status: $status"
  grep -q '"acks":1,' <<<"$status" || fail "ack not counted"
else
  ud=$(mktemp -d "$tmp/chrome.XXXXXX")
  flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
         --disable-component-update --disable-sync --user-data-dir="$ud")
  chromium "${flags[@]}" --remote-debugging-port=0 --window-size=1280,900 "${url}?autotest=1" \
    >"$tmp/chrome.log" 2>&1 & pids+=($!)
  rep="{}"
  for _ in $(seq 1 300); do   # up to 30 s
    rep=$(curl -sf "${url}api/report") || true
    [ "$rep" != "{}" ] && break
    sleep 0.1
  done
  echo "page report: $rep"
  [ "$rep" != "{}" ] || { tail -5 "$tmp/chrome.log"; fail "the page never reported"; }
  grep -q '"acked":true,"duty":60' <<<"$rep" || fail "duty from the page not acknowledged"
  grep -q '"chartjs":"3\.' <<<"$rep" || fail "the page did not load Chart.js from the dash"
  for k in temp adc speed; do
    grep -q "\"series\":\[[^]]*\"$k\"" <<<"$rep" || fail "series $k not charted"
    grep -q "\"live_points\":{[^}]*\"$k\":[1-9]" <<<"$rep" || fail "no live points for $k"
  done
  grep -q '"history_ok":true' <<<"$rep" || fail "the range selector loaded no history"
  grep -q '"zoom_ok":true' <<<"$rep" || fail "zoom did not show the chosen span"
  grep -q '"custom_ok":true' <<<"$rep" || fail "the custom range did not show its span"
  grep -q '"pause_ok":true,"resume_ok":true' <<<"$rep" || fail "pause/resume did not hold/follow the view"
  grep -q '"charts":3' <<<"$rep" || fail "not one chart per series"
  grep -q '"errors":\[\]' <<<"$rep" || fail "script errors on the page"
  pts=$(sed -n 's/.*"temp_points":\([0-9]*\).*/\1/p' <<<"$rep")
  [ "${pts:-0}" -ge 5 ] || fail "chart got only ${pts:-0} points"
  # the screenshot: the same browser after about 20 s of data (the duty
  # step of the self-test shows in the temperature and the speed)
  sleep 14
  rm -f "$out/dash.png"
  if command -v node >/dev/null; then
    node --experimental-websocket "$(dirname "$0")/cdp_shot.mjs" "$ud/DevToolsActivePort" \
      "$out/dash.png" 1280 720 2>"$tmp/shot.log" || { cat "$tmp/shot.log"; fail "no screenshot"; }
  else
    ud2=$(mktemp -d "$tmp/chrome.XXXXXX")
    flags[-1]=--user-data-dir="$ud2"
    timeout 30 chromium "${flags[@]}" --screenshot="$out/dash.png" --window-size=1280,720 \
      --timeout=5000 "$url" >"$tmp/shot.log" 2>&1 || true
  fi
  [ -s "$out/dash.png" ] || { tail -5 "$tmp/shot.log"; fail "no screenshot"; }
  echo "screenshot: $out/dash.png ($(stat -c %s "$out/dash.png") bytes)"
fi
kill -TERM "$dash"; wait "$dash" || true
grep -q 'samples stored in' "$tmp/dash.err" || fail "dash did not shut down cleanly"
echo "PASS ($mode)"

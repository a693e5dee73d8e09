#!/usr/bin/env bash
# `amplink log --journal` into a real systemd-journald, and the queries of
# docs/gateway.md answered by a real journalctl. journald runs as a journal
# namespace of its own (`systemd-journald NS`: its own sockets under
# /run/systemd/journal.NS, no /dev/log), inside a private mount namespace
# whose /run/systemd, /run/log and /var/log/journal are empty tmpfs: nothing
# reaches the machine's own logs. `amplink remote --log-flood` logs at the
# levels warning (the drops), notice, info and debug; the test checks that
# journald took every entry by the native protocol with our fields, that
# `journalctl REMOTE=NAME -p warning` returns the warnings and only them,
# and that a line's text and the remote's timestamp survive.
# Exit 77 (skip) without systemd-journald, journalctl, or the right to make
# a mount namespace (root).
#   usage: it_journald.sh AMPLINK_BIN
set -u
AMPLINK=${1:?usage: it_journald.sh AMPLINK_BIN}
JD=/lib/systemd/systemd-journald
skip() { echo "SKIP it_journald: $*"; exit 77; }
[ -x "$JD" ] || skip "no $JD (apt-get install systemd)"
command -v journalctl >/dev/null || skip "no journalctl"
command -v python3 >/dev/null || skip "no python3"

if [ -z "${IT_JOURNALD_INNER:-}" ]; then
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a mount namespace (not root?)"
	exec unshare -m --propagation private env IT_JOURNALD_INNER=1 "$0" "$@"
fi

for d in /run/systemd /run/log /var/log/journal; do
	mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || skip "cannot mount a tmpfs on $d"
done
NS=amplinkit
LINK="itjd-$$"
NAME="m4-core-$$"
PIDS=()
T=$(mktemp -d /tmp/it_journald.XXXXXX)
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL it_journald: $*"; exit 1; }

"$JD" "$NS" >"$T/journald.log" 2>&1 &
PIDS+=($!)
SOCK=/run/systemd/journal.$NS/socket
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { cat "$T/journald.log"; fail "journald made no socket"; }
echo "ok: systemd-journald (namespace $NS) listens on $SOCK"

"$AMPLINK" remote --link "$LINK" --log-flood 40 --stats-ms 100 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
AMPLINK_JOURNAL_SOCKET=$SOCK timeout 30 "$AMPLINK" log --journal --link "$LINK" --ident "$NAME" -n 60 \
	|| fail "amplink log --journal exited $?"
journalctl --namespace="$NS" --sync 2>/dev/null || sleep 1

q() { journalctl --namespace="$NS" --no-pager -o json "$@"; }
q REMOTE="$NAME" >"$T/all.json" || fail "journalctl REMOTE=$NAME"
q REMOTE="$NAME" -p warning >"$T/warn.json" || fail "journalctl REMOTE=$NAME -p warning"
python3 - "$NAME" "$LINK" "$T/all.json" "$T/warn.json" <<'PY'
import json, re, sys
name, link, fall, fwarn = sys.argv[1:]
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
def fail(m):
    print("FAIL it_journald: " + m); sys.exit(1)
every, warn = load(fall), load(fwarn)
if len(every) < 60:
    fail("journalctl REMOTE=%s found %d entries, want >= 60" % (name, len(every)))
for e in every:
    if e.get("_TRANSPORT") != "journal":
        fail("not the native protocol: %r" % e)
    if e.get("SYSLOG_IDENTIFIER") != name or e.get("LINK") != link:
        fail("wrong names: %r" % e)
    if not re.fullmatch(r"\d+\.\d{3}", e.get("REMOTE_TIMESTAMP", "")):
        fail("no REMOTE_TIMESTAMP: %r" % e)
prios = sorted({int(e["PRIORITY"]) for e in every})
print("ok: journalctl REMOTE=%s: %d entries, native protocol, PRIORITY %s" % (name, len(every), prios))
if not {4, 5, 6, 7} <= set(prios):
    fail("levels missing: %s" % prios)
if not warn or any(int(e["PRIORITY"]) > 4 for e in warn):
    fail("-p warning gave %r" % [(e["PRIORITY"], e["MESSAGE"]) for e in warn])
if not any(e["MESSAGE"].startswith("remote dropped") and e.get("REMOTE_DROPPED") for e in warn):
    fail("no drop warning among %r" % [e["MESSAGE"] for e in warn])
print("ok: journalctl REMOTE=%s -p warning: %d entries, all warning or worse: %r"
      % (name, len(warn), warn[0]["MESSAGE"]))
flood = [e for e in every if e["MESSAGE"].startswith("flood line ")]
if not flood or any(e["PRIORITY"] != "7" or not e.get("REMOTE_SEQ") for e in flood):
    fail("the debug lines: %r" % flood[:2])
print("ok: %d debug lines with their text and REMOTE_SEQ" % len(flood))
PY
[ $? -eq 0 ] || exit 1
echo "PASS it_journald"

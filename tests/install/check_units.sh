#!/usr/bin/env bash
# The systemd units as `cmake --install` puts them (packaging/systemd/,
# docs/gateway.md), checked by systemd itself: install into a temporary
# DESTDIR, name an instance of each template, point ExecStart at the
# installed binary inside DESTDIR (the only change), and run
# `systemd-analyze verify` with the installed man page on MANPATH. Any
# message fails the test, not only a non-zero exit: systemd merely warns
# about an unknown key or a bad value and goes on. To show the check can
# fail, a deliberately broken copy (a misspelt key, a bad Type=, a binary
# that is not there) must be refused, once each. Then each unit's
# hardening: `systemd-analyze security --offline` exposure at most 2.5
# (of 10), and the keys every unit must carry.
#   usage: check_units.sh BUILD_DIR
set -u
BUILD=${1:?usage: check_units.sh BUILD_DIR}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze (apt-get install systemd)"; exit 77; }
T=$(mktemp -d /tmp/check_units.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL check_units: $*"; exit 1; }

DESTDIR=$T/root cmake --install "$BUILD" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install"; }
UNITS=$(find "$T/root" -path '*/systemd/system/amplink-*' -type f | sort)
[ "$(wc -w <<<"$UNITS")" -eq 5 ] || fail "expected 5 installed units, found: $UNITS"
MANDIR=$(dirname "$(dirname "$(find "$T/root" -name amplink.1 | head -1)")")
BINDIR=$(grep -ho '^ExecStart=[^ ]*' $UNITS | head -1 | sed 's/^ExecStart=//; s|/amplink$||')
[ -x "$T/root$BINDIR/amplink" ] || fail "ExecStart's $BINDIR/amplink is not installed in DESTDIR"

mkdir -p "$T/v"
for u in $UNITS; do
	n=$(basename "$u")
	n=${n/@./@rproc0.}
	sed "s|^\(Exec[A-Za-z]*=\)$BINDIR/|\1$T/root$BINDIR/|" "$u" >"$T/v/$n"
done

# verify FILE...: 0 when systemd-analyze exits 0 and says nothing
verify() {
	local out rc
	out=$(cd "$T/v" && MANPATH=$MANDIR systemd-analyze verify "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && [ -z "$out" ] && return 0
	printf '%s\n' "$out" | sed 's/^/    /'
	return 1
}

for f in "$T"/v/*.service; do
	verify "$f" || fail "systemd-analyze verify $(basename "$f")"
	echo "ok: verify $(basename "$f")"
done

# the check can fail: three broken copies, each must be refused
base=$T/v/amplink-rproc@rproc0.service
broken() { # NAME SED-EXPR
	sed "$2" "$base" >"$T/v/broken-$1@x.service"
	if verify "$T/v/broken-$1@x.service" >"$T/broken.log"; then
		fail "a unit with $1 passed verify"
	fi
	echo "ok: a unit with $1 is refused: $(head -1 "$T/broken.log" | sed 's/^ *//')"
	rm -f "$T/v/broken-$1@x.service"
}
broken misspelt-key 's/^WatchdogSec=/WatchdogSecs=/'
broken bad-type 's/^Type=notify/Type=notifyy/'
broken missing-binary "s|$T/root$BINDIR/amplink|$T/root$BINDIR/amplink-not-there|"

# hardening: exposure and the keys every long-running unit carries
for f in "$T"/v/*.service; do
	n=$(basename "$f")
	line=$(systemd-analyze security --offline=yes "$f" 2>/dev/null | grep 'Overall exposure level')
	score=$(grep -o 'level for [^:]*: [0-9.]*' <<<"$line" | awk '{print $NF}')
	[ -n "$score" ] || fail "no exposure level for $n"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$n: exposure $score > 2.5"
	for k in NoNewPrivileges=yes PrivateTmp=yes ProtectSystem=strict ProtectHome=yes \
		SystemCallArchitectures=native RestrictAddressFamilies= CapabilityBoundingSet= \
		SystemCallFilter=@system-service; do
		grep -q "^$k" "$f" || fail "$n lacks $k"
	done
	case $n in
	amplink-rproc-sysfs@*) grep -q '^Type=oneshot' "$f" || fail "$n: not oneshot" ;;
	*)
		for k in Type=notify WatchdogSec= Restart=on-failure; do
			grep -q "^$k" "$f" || fail "$n lacks $k"
		done
		;;
	esac
	echo "ok: $n hardening, exposure $score"
done
echo "PASS check_units"

#!/bin/sh
# scripts/openamp-interop.sh without OpenAMP: its absent path (says so,
# how to build OpenAMP, exits 0), and its checks run against stand-ins
# for OpenAMP's apps made of amplink itself (both sides in the profile):
# all pass, and a stand-in ping that reports errors makes it fail.
# Usage: it_openamp_interop.sh SCRIPT AMPLINK
set -u
script=$1
amplink=$2
fail() {
	echo "FAIL: $*"
	exit 1
}

out=$(env -u OPENAMP_APPS sh "$script") || fail "absent apps: exit $?, not 0"
echo "$out" | grep -q "skipped: OpenAMP's apps not found" || fail "absent apps: not said"
echo "$out" | grep -q "not packaged in Debian" || fail "absent apps: no way to build them"
out=$(OPENAMP_APPS=/nonexistent sh "$script") || fail "missing folder: exit $?, not 0"
echo "$out" | grep -q "skipped" || fail "missing folder: not said"

fake=$(mktemp -d "${TMPDIR:-/tmp}/oa-fake.XXXXXX")
trap 'rm -rf "$fake"' EXIT
empty=$fake/empty
mkdir "$empty"
out=$(OPENAMP_APPS=$empty sh "$script") || fail "empty folder: exit $?, not 0"
echo "$out" | grep -q "skipped: OpenAMP's apps not found in" || fail "empty folder: not said"

# stand-ins with OpenAMP's names and the output lines the script reads
cat >"$fake/rpmsg-echo-static" <<EOS
#!/bin/sh
exec "$amplink" remote --profile openamp --once
EOS
cat >"$fake/msg-test-rpmsg-ping-static" <<EOS
#!/bin/sh
"$amplink" echo --profile openamp -n 20 --size 1-496 --quiet || exit 1
echo " Test Results: Error count = 0"
EOS
cat >"$fake/bad-ping" <<EOS
#!/bin/sh
"$amplink" echo --profile openamp -n 2 --quiet
echo " Test Results: Error count = 3"
EOS
chmod +x "$fake"/rpmsg-echo-static "$fake"/msg-test-rpmsg-ping-static "$fake"/bad-ping

OPENAMP_APPS=$fake AMPLINK=$amplink WAIT_S=30 sh "$script" >"$fake/out" 2>&1
rc=$?
cat "$fake/out"
[ "$rc" -eq 0 ] || fail "stand-ins: exit $rc, not 0"
grep -q "7 passed, 0 failed" "$fake/out" || fail "stand-ins: not 7 checks passed"

OPENAMP_APPS=$fake OPENAMP_PING=$fake/bad-ping AMPLINK=$amplink WAIT_S=30 sh "$script" \
	>"$fake/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "a ping reporting errors: exit $rc, not 1"
grep -q "FAIL: .*error count 0" "$fake/out" || fail "a ping reporting errors: not reported"
echo "it_openamp_interop: passed"

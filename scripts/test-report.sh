#!/usr/bin/env bash
# After ctest: which tests did not run, and why. A test that needs an
# optional tool is listed in tests/expected-tests.txt with what it needs;
# it may be missing from the build (CMake did not find the tool) or have
# been skipped at run time (exit code 77). Exit 1 if any did not run and
# AMPLINK_REQUIRE_ALL=1 (CI), else 0.
#   scripts/test-report.sh BUILD_DIR CTEST_LOG
set -u
build=$1 log=$2
top=$(cd "$(dirname "$0")/.." && pwd)
registered=$(ctest --test-dir "$build" -N 2>/dev/null | sed -n 's/.*Test *#[0-9]*: //p')
missing=0
report=""
while IFS=$'\t' read -r name needs; do
	case "$name" in "" | \#*) continue ;; esac
	if ! grep -qx "$name" <<<"$registered"; then
		report+="  $name: not built: needs $needs"$'\n'
		missing=$((missing + 1))
	fi
done <"$top/tests/expected-tests.txt"
# skipped at run time: ctest prints "NN - name (Skipped)" under "did not run"
while read -r name; do
	[ -n "$name" ] || continue
	needs=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$top/tests/expected-tests.txt")
	report+="  $name: skipped at run time${needs:+: needs $needs}"$'\n'
	missing=$((missing + 1))
done < <(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (Skipped)$/\1/p' "$log")
if [ "$missing" -eq 0 ]; then
	echo "every expected test ran"
	exit 0
fi
echo "tests that did not run ($missing):"
printf '%s' "$report"
if [ "${AMPLINK_REQUIRE_ALL:-0}" = 1 ]; then
	echo "AMPLINK_REQUIRE_ALL=1: failing because expected tests did not run"
	exit 1
fi
exit 0

#!/usr/bin/env bash
# `amplink bench` end to end, small: two runs (--repeat 2) must print the
# medians, every figure's range, and non-zero throughput for amplink and
# for the SPSC floor measured beside it; bad --repeat values are refused.
set -euo pipefail
bin=${1:-build/amplink}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bad in 0 101 x; do
	rc=0
	"$bin" bench --repeat "$bad" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || { echo "--repeat $bad: exit $rc, want 2 (usage)"; exit 1; }
done
"$bin" bench --count 100 --repeat 2 >"$out"
python3 - "$out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = j["throughput_msgs_per_s"]
r = j["ratios"]
assert j["runs"] == 2, j["runs"]
for k in ("amplink_16", "amplink_496", "amplink_496_zero_copy", "spsc_floor_16",
          "spsc_floor_496", "spsc_floor_65520", "seqpacket_496"):
    assert t[k] > 0, (k, t[k])
for k in ("thr496_over_spsc_floor", "zero_copy496_over_copy", "big_over_spsc_floor"):
    assert r[k] > 0, (k, r[k])
rg = j["ranges"]
for k, v in rg.items():
    assert v["min"] <= v["max"], (k, v)
m = rg["thr496_msgs_per_s"]
assert m["min"] <= t["amplink_496"] <= m["max"], (m, t["amplink_496"])
print("bench ok: 496 B at %.0f%% of the floor, zero-copy/copy %.2f"
      % (100 * r["thr496_over_spsc_floor"], r["zero_copy496_over_copy"]))
PY

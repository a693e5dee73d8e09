#!/usr/bin/env bash
# The Prometheus exposition of a snapshot full of what a hostile remote
# could name things (quotes, backslashes, newlines, escape sequences,
# bytes that are not UTF-8), checked by Prometheus' own promtool: every
# line must parse and pass its lint (HELP, TYPE, _total on counters).
# Exits 77 (CTest: skipped) without promtool (apt-get install prometheus).
# usage: metrics_promtool.sh PATH-TO-test_metrics_prom OUTFILE
set -euo pipefail
emit=$1 out=$2
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (apt-get install prometheus)"; exit 77; }
"$emit" --emit "$out"
promtool check metrics <"$out" || { echo "FAIL: promtool refused $out"; exit 1; }
grep -q 'endpoint="new\\nline\\\\x0d' "$out" || { echo "FAIL: hostile name not escaped as expected"; exit 1; }
echo "PASS metrics_promtool ($(grep -vc '^#' "$out") samples)"

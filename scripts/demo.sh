#!/usr/bin/env bash
# The main demo: a remote core and a host as two processes, talking RPMsg
# over shared memory and doorbells; the host prints the RT-Thread rpmsg_echo output.
set -euo pipefail
bin=${1:-build/amplink}
link="demo-$$"
"$bin" remote --once --link "$link" 2> >(sed 's/^/[remote] /' >&2) &
remote=$!
trap 'kill $remote 2>/dev/null || true' EXIT
"$bin" echo --link "$link" -n 10
wait "$remote"
trap - EXIT

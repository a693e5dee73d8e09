#!/bin/sh
# Runs inside the User-Mode Linux guest (run-remote.sh): the ordinary
# amplink host tools over the kernel's rpmsg_char (--link kernel), against
# `amplink remote --vhost-user --demo motor`. Each must exit 0; the lines
# the test expects are in guest-tools.txt.
#   guest-tools.sh AMPLINK
A=${1:?usage: guest-tools.sh AMPLINK}
set -e
step() {
	echo "guest-tools: $*"
}
step "ls"
"$A" ls --link kernel
step "ls --json"
"$A" ls --link kernel --json
step "echo 300 messages of 1..496 bytes"
"$A" echo --link kernel -n 300 --size 1-496 --quiet
step "echo, the rpmsg_echo lines"
"$A" echo --link kernel -n 3
step "motor"
"$A" motor --link kernel --duty 40 --duration 1500
step "log"
"$A" log --link kernel -n 3 --duration 5000
step "send and receive the reply"
"$A" send rpmsg-openamp-demo-channel hello-from-the-guest --link kernel --reply
step "every tool exited 0"

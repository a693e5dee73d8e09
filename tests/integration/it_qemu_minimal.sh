#!/usr/bin/env bash
# The minimal remote images (built with the AL_CFG_MIN profile that
# `make size` measures) booted on QEMU's mps2-an386, each driven by
# mcu/test/qemu_minimal_test.py playing the Linux host: link-up, name-service
# announcement, receive by callback through the doorbell interrupt, the
# 5-byte send, buffers returned. fw_minimal (OpenAMP-style API) and both
# RPMsg-Lite-style images (static and dynamic).
# usage: it_qemu_minimal.sh SOURCE_DIR WORK_DIR
# Exit 77 (skipped) when qemu-system-arm or arm-none-eabi-gcc is missing.
set -uo pipefail
SRC=$1
WORK=$2
for tool in qemu-system-arm arm-none-eabi-gcc python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool not installed"
		exit 77
	fi
done
mkdir -p "$WORK"
IMAGES="fw_minimal fw_minimal_lite_static fw_minimal_lite_dynamic"
# shellcheck disable=SC2086
if ! { cmake -S "$SRC/mcu" -B "$WORK/mcu" >"$WORK/build.log" 2>&1 &&
	cmake --build "$WORK/mcu" --target $IMAGES >>"$WORK/build.log" 2>&1; }; then
	tail -n 20 "$WORK/build.log"
	echo "FAIL: cannot cross-build the minimal images"
	exit 1
fi
for fw in $IMAGES; do
	if ! python3 "$SRC/mcu/test/qemu_minimal_test.py" --fw "$WORK/mcu/$fw.elf" >"$WORK/$fw.out" 2>&1; then
		tail -n 20 "$WORK/$fw.out"
		echo "FAIL: $fw"
		exit 1
	fi
	echo "ok $fw"
done
echo "PASS it_qemu_minimal"

# amplink: the two commands of the README, and a few more.
#   make demo   build and run the main demo
#   make test   install what is missing (the emulator, the Arm toolchain,
#               the browser, the MQTT broker, the kernel source), build the
#               User-Mode Linux kernel once (cached), build, run every
#               test, and list the tests that did not run and why
#   make demo-kernel  the RT-Thread echo with the real Linux kernel as the host
# Build tree: $(BUILD) (default build/). Extra CMake flags: CMAKE_FLAGS=...

SHELL := /bin/bash
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages the build and the tests need.
DEPS := cmake make gcc clang pkg-config libcmocka-dev
# telemetry store (amplink motor --db, amplink dash) and web page (its
# charts: Chart.js, served by the dash itself)
DEPS += libsqlite3-dev libmicrohttpd-dev libjs-chart.js
# `amplink bridge mqtt` (libmosquitto; skipped in CMake when missing)
DEPS += libmosquitto-dev
DEPS_MCU := gcc-arm-none-eabi libnewlib-arm-none-eabi
# What the optional tests need besides (tests/expected-tests.txt): the
# emulated Cortex-M4, the dashboard's browser test (Chromium, driven by
# Node.js), the MQTT broker, the kernel source for the User-Mode Linux
# kernel, ShellCheck, systemd-analyze (Debian systemd) that checks the
# unit files, and the Prometheus server (with promtool) for the metrics
# tests.
DEPS_TESTS := $(DEPS_MCU) qemu-system-arm chromium nodejs mosquitto mosquitto-clients \
  linux-source-6.1 flex bison bc xz-utils patch python3 shellcheck systemd prometheus

.PHONY: all deps deps-all kernel build test demo demo-inproc demo-kernel format format-check clean docs

all: build

# Install only what is missing (root, or sudo when available).
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Everything the optional tests need too.
deps-all: deps
	@missing=""; for p in $(DEPS_TESTS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The User-Mode Linux kernel with the kernel's rpmsg drivers, cached by a
# hash of its configuration (about 5 min the first time, then seconds).
kernel:
	scripts/uml/build-kernel.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Configure again after installing: CMake registers the optional tests
# only when it finds what they need.
test: deps-all kernel
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	@set -o pipefail; ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) \
	  2>&1 | tee $(BUILD)/ctest.log; rc=$$?; \
	  scripts/test-report.sh $(BUILD) $(BUILD)/ctest.log || rc=1; exit $$rc

# Two processes: `amplink remote` and `amplink echo` (the lines of the
# RT-Thread rpmsg_echo example).
demo: build
	./scripts/demo.sh ./$(BUILD)/amplink

# API reference from the public headers (Doxygen, installed if missing):
# $(BUILD)/docs/html/index.html
docs: deps
	@dpkg -s doxygen >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq doxygen; }
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake -S . -B $(BUILD) >/dev/null
	cmake --build $(BUILD) --target docs
	@echo "API reference: $(BUILD)/docs/html/index.html"

# RT-Thread's rpmsg_echo with the real Linux kernel (User-Mode Linux) as the
# host and `amplink remote --vhost-user` as the remote core; builds the
# kernel first when it is not cached (scripts/uml/build-kernel.sh).
demo-kernel: build
	./scripts/uml/demo-kernel.sh $(BUILD)

# Both sides in one process over the loopback port.
demo-inproc: build
	./$(BUILD)/echo_inproc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-*

# ---- Cortex-M4 firmware (mcu/, its own CMake project and toolchain) ------
#   make mcu    cross-build the firmware images into $(BUILD_MCU)
#   make size   ... and print .text/.data/.bss of each image and of the
#               amplink library part, per object (scripts/size_report.py)
BUILD_MCU ?= build-mcu

.PHONY: deps-mcu mcu size

# The cross toolchain and newlib, plus what the build itself runs.
deps-mcu:
	@missing=""; for p in $(DEPS_MCU) cmake make python3; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BUILD_MCU)/CMakeCache.txt:
	cmake -S mcu -B $(BUILD_MCU)

mcu: deps-mcu $(BUILD_MCU)/CMakeCache.txt
	cmake --build $(BUILD_MCU) -j $(JOBS)

size: mcu
	@python3 scripts/size_report.py --nm arm-none-eabi-nm $(BUILD_MCU)/*.elf

# ---- the remote on an emulated Cortex-M4 ---------------------------------------
#   make demo-mcu   the echo demo against build-mcu/fw_echo.elf run by
#                   qemu-system-arm (mps2-an386), booted by `amplink rproc`;
#                   installs qemu-system-arm and the cross toolchain if missing
.PHONY: demo-mcu
demo-mcu: build mcu
	@dpkg -s qemu-system-arm >/dev/null 2>&1 || { \
	  echo "installing: qemu-system-arm"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq qemu-system-arm; }
	./$(BUILD)/amplink rproc start --machine mps2-an386 $(BUILD_MCU)/fw_echo.elf \
	  --echo 10 --fw-log $(BUILD_MCU)/fw_echo.console.log

# ---- fuzzing (fuzz/) ---------------------------------------------------------
#   make fuzz                      build the libFuzzer targets with clang and
#                                  run each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=link
# Crash inputs land in build-fuzz/artifacts/<target>/ (see fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= link rsc elf rel

.PHONY: fuzz
fuzz:
	@missing=""; for p in clang libclang-rt-14-dev; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	$(MAKE) -f fuzz/fuzz.mk run FUZZ_SECONDS=$(FUZZ_SECONDS) TARGETS="$(FUZZ_TARGETS)"

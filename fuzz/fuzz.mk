# libFuzzer targets, called by the root Makefile's `make fuzz`:
#   make -f fuzz/fuzz.mk build            build every target into $(BUILD_FUZZ)
#   make -f fuzz/fuzz.mk run              ... and run each for FUZZ_SECONDS
#   make -f fuzz/fuzz.mk run TARGETS=rsc  one target only
# Each target runs under ASan + UBSan with the committed seeds
# (fuzz/corpus/<t>/, read-only) and a working corpus in
# $(BUILD_FUZZ)/corpus/<t>/; a crash input lands in
# $(BUILD_FUZZ)/artifacts/<t>/ and the run fails. Keep each crash input as
# fuzz/regress/<t>/<name> once fixed: the fuzz_replay_<t> CTests replay them.

CC_FUZZ ?= clang
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
TARGETS ?= link rsc elf rel
FUZZ_FLAGS ?=
SHELL := /bin/bash

CORE_DIRS := src/common src/virtio src/rpmsg src/remoteproc src/proto
CORE_SRC := $(wildcard $(CORE_DIRS:%=%/*.c)) src/port/loopback/loopback.c
CFLAGS_FUZZ := -std=c11 -g -O1 -Wall -Wextra -Werror -fno-strict-aliasing \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -Iinclude $(CORE_DIRS:%=-I%) -Ifuzz

.PHONY: build run

build: $(TARGETS:%=$(BUILD_FUZZ)/fuzz_%)

$(BUILD_FUZZ)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(CORE_SRC) $(wildcard include/amplink/*.h $(CORE_DIRS:%=%/*.h))
	@mkdir -p $(BUILD_FUZZ)
	$(CC_FUZZ) $(CFLAGS_FUZZ) $< $(CORE_SRC) -o $@

run: build
	@set -e; for t in $(TARGETS); do \
	  mkdir -p $(BUILD_FUZZ)/corpus/$$t $(BUILD_FUZZ)/artifacts/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  nice -n 10 ./$(BUILD_FUZZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD_FUZZ)/artifacts/$$t/ $(FUZZ_FLAGS) \
	    $(BUILD_FUZZ)/corpus/$$t fuzz/corpus/$$t > $(BUILD_FUZZ)/fuzz_$$t.log 2>&1 \
	  && grep -E '^(Done|stat::(number_of|average|new_units|peak))' $(BUILD_FUZZ)/fuzz_$$t.log \
	  || { tail -n 60 $(BUILD_FUZZ)/fuzz_$$t.log; \
	       echo "fuzz_$$t FAILED: input in $(BUILD_FUZZ)/artifacts/$$t/"; exit 1; }; \
	done

# runvm: one entry point. See README.md.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -I. -DRUNVM_VERSION='"$(VERSION)"' -DRUNVM_COMMIT='"$(COMMIT)"' \
            -DRUNVM_PREFIX='"$(PREFIX)"'
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP

# Code linked into both the host binary and the guest agent.
COMMON_SRC := $(wildcard base/*.c) $(wildcard spec/*.c) $(wildcard vm/channel/*.c) hooks/run.c
# Host only.
HOST_SRC   := $(wildcard libcontainer-vm/*.c) $(wildcard vm/*.c) $(wildcard vm/qemu/*.c) \
              $(filter-out hooks/run.c,$(wildcard hooks/*.c)) $(wildcard netns/*.c)
MAIN_SRC   := $(wildcard main/*.c)
AGENT_SRC  := $(wildcard vm/agent/*.c)

HOST_OBJ   := $(patsubst %.c,$(BUILD)/host/%.o,$(COMMON_SRC) $(HOST_SRC))
MAIN_OBJ   := $(patsubst %.c,$(BUILD)/host/%.o,$(MAIN_SRC))
AGENT_OBJ  := $(patsubst %.c,$(BUILD)/agent/%.o,$(COMMON_SRC) $(AGENT_SRC))

HOST_LIBS  := -lyajl -lnl-route-3 -lnl-3
AGENT_LIBS := -static -Wl,-Bstatic -lyajl_s -lseccomp -lcap -lnl-route-3 -lnl-3 -lpthread -lm
NL_CFLAGS  := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)

RUNVM      := $(BUILD)/bin/runvm
AGENT      := $(BUILD)/bin/runvm-agent
TESTLIB    := $(BUILD)/libruntime-testing.a
GUEST_DIR  := $(BUILD)/guest
INITRD     := $(GUEST_DIR)/initrd.img
# The purpose-built guest kernel (vm/image/guest-kernel.config) and its
# module-less initramfs: runvm uses them when both exist.
KERNEL     := $(GUEST_DIR)/vmlinux-runvm
INITRD_RUNVM := $(GUEST_DIR)/initrd-runvm.img

.PHONY: all deps demo check bench install clean unit integration fuzz soak image kernel compat
all: $(RUNVM) $(AGENT) $(INITRD) $(KERNEL) $(INITRD_RUNVM)

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(BUILD)/agent/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NL_CFLAGS) -DRUNVM_AGENT -c $< -o $@

$(RUNVM): $(HOST_OBJ) $(MAIN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(HOST_LIBS)

$(AGENT): $(AGENT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(AGENT_LIBS)

# Everything but main/, with internals visible, for the unit tests.
$(TESTLIB): $(HOST_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The modules inside must match the kernel: a kernel upgrade rebuilds it.
$(INITRD): $(AGENT) vm/image/build-initrd.sh vm/image/modules.list $(wildcard /boot/vmlinuz-*-cloud-amd64)
	vm/image/build-initrd.sh $(AGENT) $(GUEST_DIR)

# ~13 minutes on 2 cores the first time; kept in $(BUILD)/kernel-build.
# The directory too: a patch removed changes its mtime, not any file left.
$(KERNEL): vm/image/build-kernel.sh vm/image/guest-kernel.config vm/image/kernel-patches $(wildcard vm/image/kernel-patches/*.patch)
	vm/image/build-kernel.sh $(GUEST_DIR) $(BUILD)/kernel-build

$(INITRD_RUNVM): $(AGENT) vm/image/build-initrd.sh
	vm/image/build-initrd.sh --builtin $(AGENT) $(GUEST_DIR)

image: $(INITRD) $(INITRD_RUNVM)
kernel: $(KERNEL)

deps:
	tests/deps.sh

# --- tests -------------------------------------------------------------
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/tests/%: tests/unit/%.c $(TESTLIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NL_CFLAGS) -o $@ $< $(TESTLIB) -lcmocka $(HOST_LIBS)

# Fuzzers are libFuzzer targets built with clang; tests/fuzz/replay.c gives
# them a main() that replays the corpus, so `make check` needs no clang.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(TESTLIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(TESTLIB) $(HOST_LIBS)

# libFuzzer builds: clang, ASan, each with the sources its target needs
# beyond COMMON_SRC. `make fuzz` runs every target FUZZ_SECONDS (60) each.
FUZZ_LF_DIR := $(BUILD)/fuzz-libfuzzer
FUZZ_LF_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_LF_DIR)/%,$(FUZZ_SRC))
FUZZ_EXTRA_fuzz-qmp := vm/qemu/qmp.c

.SECONDEXPANSION:
$(FUZZ_LF_DIR)/%: tests/fuzz/%.c $(COMMON_SRC) $$(FUZZ_EXTRA_$$*)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -I. $(NL_CFLAGS) -o $@ $< $(COMMON_SRC) $(FUZZ_EXTRA_$*) -lyajl

fuzz: $(FUZZ_LF_BIN)
	tests/run-fuzz.sh $${FUZZ_SECONDS:-60} $(FUZZ_LF_BIN)

# Fault injection at length: 50 trials of each fault in 4 parallel loops.
soak: all
	FAULT_TRIALS=$${FAULT_TRIALS:-50} FAULT_LOOPS=$${FAULT_LOOPS:-4} FAULT_COUNTS=1 \
	  INTEGRATION_TIMEOUT=$${INTEGRATION_TIMEOUT:-14400} tests/run-integration.sh tests/integration/faults.bats

unit: $(UNIT_BIN) $(FUZZ_BIN)
	tests/run-unit.sh $(UNIT_BIN) $(FUZZ_BIN) tests/lint/layout.sh

integration: all
	tests/run-integration.sh

# Installs what it needs, builds, runs every test, ends with one summary line.
check: deps
	$(MAKE) all
	tests/check.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

bench: deps
	$(MAKE) all
	tests/bench/bench.sh

install: all
	install -D -m 0755 $(RUNVM) $(DESTDIR)$(PREFIX)/bin/runvm
	install -D -m 0644 $(INITRD) $(DESTDIR)$(PREFIX)/share/runvm/initrd.img
	install -D -m 0644 $(GUEST_DIR)/vmlinuz $(DESTDIR)$(PREFIX)/share/runvm/vmlinuz
	install -D -m 0644 $(KERNEL) $(DESTDIR)$(PREFIX)/share/runvm/vmlinux-runvm
	install -D -m 0644 $(INITRD_RUNVM) $(DESTDIR)$(PREFIX)/share/runvm/initrd-runvm.img
	install -D -m 0644 completions/runvm.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/runvm
	install -D -m 0644 completions/_runvm $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_runvm
	install -D -m 0644 completions/runvm.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/runvm.fish

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/host $(BUILD)/agent $(BUILD)/tests $(BUILD)/fuzz -name '*.d' 2>/dev/null)

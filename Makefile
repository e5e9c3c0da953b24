# kprof: build, dependencies, tests, demo, benchmarks, sanitizer and fuzz builds.
#
#   make deps      install missing Debian packages (apt-get; does nothing when all is there)
#   make           build/kprof and the test kernels in build/guest/
#   make check     deps, build, every test (unit, integration, sanitizer run, fuzz smoke)
#   make demo      deps, build, boot the bundled guest on 2 vCPUs and profile it
#   make bench     benchmarks, as ratios against peers measured in the same run
#   make SANITIZE=address,undefined   an instrumented build in build/san/
#   make fuzz      libFuzzer harnesses (clang-14) in build/fuzz/

CC      ?= gcc
BUILD   ?= build
ifneq ($(SANITIZE),)
BUILD   := build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
           -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
KP_CFLAGS := -std=gnu11 $(WARN) -I. -I/usr/include/json-c -I/usr/include/libdwarf \
           -D_GNU_SOURCE -pthread $(SANFLAGS) $(CFLAGS)
LDLIBS  := -ldwarf -lelf -lz -lpcre2-8 -ljson-c -lpthread -lm
KP_LDFLAGS := -pthread $(SANFLAGS) $(LDFLAGS)

MODULES := common target vmm gdbstub profiler flamegraph bootlab
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check check-unit check-san demo bench fuzz clean guest
all: $(BUILD)/kprof guest $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KP_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libkprof.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kprof: $(CLI_OBJ) $(BUILD)/libkprof.a
	$(CC) $(KP_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libkprof.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkprof.a
	@mkdir -p $(dir $@)
	$(CC) $(KP_CFLAGS) $(KP_LDFLAGS) -o $@ $< $(BUILD)/libkprof.a $(LDLIBS) -lcmocka

# The test kernel is freestanding: built with the host gcc, never with sanitizers.
include guest/guest.mk

deps:
	@bash tests/deps.sh

check: deps
	$(MAKE) all
	$(MAKE) SANITIZE=address,undefined all
	$(MAKE) fuzz
	@bash tests/run.sh

demo: deps
	$(MAKE) all
	@bash examples/demo.sh

bench: deps
	$(MAKE) all
	@bash bench/run.sh

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# vmm/ needs KVM at run time, except its pure parsers, which have their own fuzzers; bootlab/
# sits on vmm/.
FUZZ_LIB_SRC := $(filter-out vmm/% bootlab/%,$(LIB_SRC)) vmm/elf_pvh.c vmm/pagewalk.c \
		vmm/snapshot_read.c vmm/bzimage.c vmm/cpu_template.c vmm/insn_hint.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -I/usr/include/json-c -I/usr/include/libdwarf -D_GNU_SOURCE \
		-pthread -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(FUZZ_LIB_SRC:%.c=build/fuzz/obj/%.o)
fuzz: $(FUZZ_BIN)
# The library is compiled once with coverage instrumentation; each harness links against it.
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang-14 $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/libkprof-fuzz.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libkprof-fuzz.a
	@mkdir -p $(dir $@)
	clang-14 $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libkprof-fuzz.a $(LDLIBS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

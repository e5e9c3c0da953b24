# kprof: build, dependencies, tests, demo, benchmarks, sanitizer and fuzz builds, install.
#
#   make deps      install missing Debian packages (apt-get; does nothing when all is there)
#   make           build/kprof, its man page build/kprof.1 and the test kernels in build/guest/
#   make check     deps, build, every test (unit, integration, sanitizer run, fuzz smoke)
#   make demo      deps, build, boot the bundled guest on 2 vCPUs and profile it
#   make bench     benchmarks, as ratios against peers measured in the same run
#   make SANITIZE=address,undefined   an instrumented build in build/san/
#   make fuzz      libFuzzer harnesses (the clang that has libFuzzer) in build/fuzz/
#   make install   kprof, kprof.1 and the examples under PREFIX (/usr/local), DESTDIR for staging
#   make uninstall what make install put there, and nothing else

CC      ?= gcc
BUILD   ?= build
ifneq ($(SANITIZE),)
BUILD   := build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Libraries through pkg-config, asked once and only by the targets that compile (make deps
# must run on a machine without them).  Debian 12's libdwarf-dev (20210528) has no
# libdwarf.pc; its headers are in the libdwarf/ folder of the system's include directory.
PKG_CONFIG ?= pkg-config
LIB_PKGS   := json-c libelf libpcre2-8 zlib liblzma libprotobuf-c
TEST_PKGS  := cmocka
pkg_missing = $(strip $(foreach p,$(1),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(p))))
pkg_flags = $(if $(call pkg_missing,$(2)),$(error pkg-config finds no \
	$(call pkg_missing,$(2)) (make deps installs them)),$(shell $(PKG_CONFIG) $(1) $(2)))
dwarf_flags = $(if $(shell $(PKG_CONFIG) --exists libdwarf && echo y), \
	$(shell $(PKG_CONFIG) $(1) libdwarf), \
	$(if $(filter --cflags,$(1)), \
	     -I$(shell $(PKG_CONFIG) --variable=includedir libelf)/libdwarf,-ldwarf))
# VAR = $(call once,VAR,VALUE): VALUE computed at the first use, then kept.
once = $(eval $(1) := $(2))$($(1))
LIB_CFLAGS  = $(call once,LIB_CFLAGS,$(call dwarf_flags,--cflags) \
	$(call pkg_flags,--cflags,$(LIB_PKGS)))
LIB_LIBS    = $(call once,LIB_LIBS,$(call dwarf_flags,--libs) \
	$(call pkg_flags,--libs,$(LIB_PKGS)))
TEST_CFLAGS = $(call once,TEST_CFLAGS,$(call pkg_flags,--cflags,$(TEST_PKGS)))
TEST_LIBS   = $(call once,TEST_LIBS,$(call pkg_flags,--libs,$(TEST_PKGS)))

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
           -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
KP_CFLAGS = -std=gnu11 $(WARN) -I. -I$(BUILD)/gen $(LIB_CFLAGS) -D_GNU_SOURCE -pthread $(SANFLAGS) $(CFLAGS)
LDLIBS   = $(LIB_LIBS) -lpthread -lm
KP_LDFLAGS := -pthread $(SANFLAGS) $(LDFLAGS)

MODULES := common target vmm gdbstub profiler flamegraph convert bootlab
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
# pprof's message code is generated from convert/pprof.proto (protoc-c) into BUILD/gen.
PB_SRC  := gen/convert/pprof.pb-c.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/$(PB_SRC:.c=.o)
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# The commands without main(), an archive the unit tests link too (cli/run_options.c's table).
CLI_LIB_OBJ := $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_OBJ))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check check-unit check-san demo bench fuzz clean guest install uninstall FORCE
all: $(BUILD)/kprof $(BUILD)/kprof.1 guest $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KP_CFLAGS) -MMD -MP -c $< -o $@

%/gen/convert/pprof.pb-c.c %/gen/convert/pprof.pb-c.h: convert/pprof.proto
	@mkdir -p $*/gen
	protoc-c --c_out=$*/gen convert/pprof.proto
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KP_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/obj/convert/pprof.o: $(BUILD)/gen/convert/pprof.pb-c.h

$(BUILD)/libkprof.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libkprof-cli.a: $(CLI_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kprof: $(BUILD)/obj/cli/main.o $(BUILD)/libkprof-cli.a $(BUILD)/libkprof.a
	$(CC) $(KP_LDFLAGS) -o $@ $^ $(LDLIBS)

# The man page: the hand-written parts of man/kprof.1.in around every command's own --help
# (man/mkman.sh), so a new command or option is in it at the next build.  It names the
# installed examples, so it is made again when docdir changes.
$(BUILD)/kprof.1: $(BUILD)/kprof man/kprof.1.in man/mkman.sh $(BUILD)/docdir.txt
	sh man/mkman.sh $(BUILD)/kprof man/kprof.1.in '$(docdir)' >$@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@
$(BUILD)/docdir.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(docdir)' | cmp -s - $@ || echo '$(docdir)' >$@
FORCE:

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkprof-cli.a $(BUILD)/libkprof.a
	@mkdir -p $(dir $@)
	$(CC) $(KP_CFLAGS) $(TEST_CFLAGS) $(KP_LDFLAGS) -o $@ $< $(BUILD)/libkprof-cli.a \
		$(BUILD)/libkprof.a $(LDLIBS) $(TEST_LIBS)

# The test kernel is freestanding: built with the host gcc, never with sanitizers.
include guest/guest.mk

# Installing, as GNU packages do: PREFIX (or prefix), DESTDIR, and the usual directories.
# The examples are the inputs the man page's EXAMPLES read and the bundled test kernels (the
# scripts in examples/ run from the source tree and stay there).
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
mandir      ?= $(datarootdir)/man
man1dir     ?= $(mandir)/man1
docdir      ?= $(datarootdir)/doc/kprof
INSTALL         ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA    ?= $(INSTALL) -m 644
# (Files only: examples/linux/ holds the pieces linux-initramfs.sh puts in an initramfs.)
EXAMPLES := $(filter-out %.sh,$(shell find examples -maxdepth 1 -type f | sort)) \
	    $(GUEST_OUT)/kprof-guest.elf $(GUEST_OUT)/kprof-guest-nofp.elf

install: $(BUILD)/kprof $(BUILD)/kprof.1 guest
	$(INSTALL) -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(man1dir)' '$(DESTDIR)$(docdir)/examples'
	$(INSTALL_PROGRAM) $(BUILD)/kprof '$(DESTDIR)$(bindir)/kprof'
	$(INSTALL_DATA) $(BUILD)/kprof.1 '$(DESTDIR)$(man1dir)/kprof.1'
	$(INSTALL_DATA) $(EXAMPLES) '$(DESTDIR)$(docdir)/examples/'

# The shared directories (bindir, man1dir) stay; kprof's own go when nothing else is in them.
uninstall:
	rm -f '$(DESTDIR)$(bindir)/kprof' '$(DESTDIR)$(man1dir)/kprof.1'
	cd '$(DESTDIR)$(docdir)/examples' 2>/dev/null && rm -f $(notdir $(EXAMPLES)) || true
	rmdir '$(DESTDIR)$(docdir)/examples' '$(DESTDIR)$(docdir)' 2>/dev/null || true

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
		vmm/snapshot_read.c vmm/bzimage.c vmm/cpu_template.c vmm/insn_hint.c vmm/uart.c
# The clang with libFuzzer, found once when a fuzz target needs it (tests/fuzz/find_clang.sh).
FUZZ_CC = $(call once,FUZZ_CC,$(or $(shell sh tests/fuzz/find_clang.sh),$(error no clang \
	that links libFuzzer harnesses: make deps installs clang-14 and libclang-rt-14-dev)))
FUZZ_CFLAGS = -std=gnu11 -g -O1 -I. -Ibuild/fuzz/gen $(LIB_CFLAGS) -D_GNU_SOURCE \
		-pthread -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(FUZZ_LIB_SRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/$(PB_SRC:.c=.o)
fuzz: $(FUZZ_BIN)
# The library is compiled once with coverage instrumentation; each harness links against it.
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/obj/gen/%.o: build/fuzz/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/obj/convert/pprof.o: build/fuzz/gen/convert/pprof.pb-c.h
build/fuzz/libkprof-fuzz.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libkprof-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libkprof-fuzz.a $(LDLIBS)

clean:
	rm -rf build

# make -s print-VAR: a variable's value, for scripts that build against libkprof.a with the
# same flags (LIB_CFLAGS, LDLIBS).
print-%:
	@echo '$($*)'

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

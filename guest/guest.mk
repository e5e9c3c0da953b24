# The test kernel (guest/): two builds of the same sources, in their own object
# directories, with their own flags.  Nothing from the host build's CFLAGS or
# SANITIZE reaches it: a kernel cannot link a sanitizer runtime.
#
#   build/guest/kprof-guest.elf       frame pointers in every function
#   build/guest/kprof-guest-nofp.elf  -fomit-frame-pointer: only DWARF CFI describes frames

GUEST_CC      ?= gcc
GUEST_OUT     := build/guest
GUEST_C_SRC   := $(wildcard guest/*.c)
GUEST_S_SRC   := $(wildcard guest/*.S)
GUEST_LDS     := guest/kernel.ld
GUEST_OBJS     = $(GUEST_C_SRC:guest/%.c=$(GUEST_OUT)/$(1)/%.o) $(GUEST_S_SRC:guest/%.S=$(GUEST_OUT)/$(1)/%.o)

# -fno-optimize-sibling-calls and noipa in workload.c keep every frame of the
# documented call chains; asynchronous unwind tables give .eh_frame for all code.
GUEST_CFLAGS  := -std=gnu11 -O2 -g -ffreestanding -I. -fno-pic -fno-pie -mcmodel=kernel \
                 -mno-red-zone -mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
                 -fasynchronous-unwind-tables -fno-optimize-sibling-calls \
                 -fno-tree-loop-distribute-patterns \
                 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes
# -fno-shrink-wrap: the frame is set up before any early return, so every
# instruction of a chain function except its first two has a valid frame pointer.
GUEST_FP_FLAGS   := -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-shrink-wrap
GUEST_NOFP_FLAGS := -fomit-frame-pointer
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_LDS) -Wl,--build-id \
                 -Wl,--eh-frame-hdr -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack

guest: $(GUEST_OUT)/kprof-guest.elf $(GUEST_OUT)/kprof-guest-nofp.elf

$(GUEST_OUT)/fp/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_FP_FLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/fp/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_FP_FLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/nofp/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_NOFP_FLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/nofp/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_NOFP_FLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/kprof-guest.elf: $(call GUEST_OBJS,fp) $(GUEST_LDS)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_FP_FLAGS) $(GUEST_LDFLAGS) -o $@ $(call GUEST_OBJS,fp)

$(GUEST_OUT)/kprof-guest-nofp.elf: $(call GUEST_OBJS,nofp) $(GUEST_LDS)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_NOFP_FLAGS) $(GUEST_LDFLAGS) -o $@ $(call GUEST_OBJS,nofp)

-include $(wildcard $(GUEST_OUT)/fp/*.d $(GUEST_OUT)/nofp/*.d)

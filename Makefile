# Pagoda: build the kernel, the ISO, and run or test them under QEMU.
#
#   make            build/kernel.elf and build/pagoda.iso
#   make run        boot the ISO in QEMU (SeaBIOS), console on this terminal
#   make run-uefi   the same under OVMF (UEFI)
#   make debug      QEMU halted with a gdb stub; gdb loads the symbols
#   make test       boot headless under SeaBIOS and OVMF, check the KTAP
#                   (the test build: build/debug/kernel.elf, PAGODA_DEBUG=1)
#   make test-machines  the same on the slow machines make test leaves out
#   make bench      Pagoda beside Linux 6.1 and 6.12, and in-kernel
#                   microbenchmarks (TSC cycles): reported, never asserted
#   make profile    membench and threadbench under profile=2: the top kernel functions of
#                   each row (ROW=name picks rows; docs/profile.md)
#   make fuzz       long fuzzing runs, one boot per seed (SEEDS="1 2 3 4 5",
#                   CALLS=250000 per seed, THREADS=4 per child; REPLAY=S:N
#                   reruns call S:N)
#   make mutants    break the memory code on purpose (scripts/mutants.txt),
#                   one boot per mutant: fails unless the tests catch each
#   make lab LAB=buddy DEST=DIR   a lab's student tree (docs/course.md)
#   make grade LAB=buddy          boot the lab's suites, points per case
#   make check-labs every student tree scores below full marks, this one full
#   make check-gdb  the pg- gdb commands of make debug, checked on a live kernel
#   make clean
#
# Variables: CROSS_COMPILE=x86_64-elf- (a cross toolchain), CC=clang,
# DEBUG=1 (make, make run and make debug with the test build's kernel,
# build/debug/kernel.elf), UBSAN=1 (make test with a test build that has
# the undefined-behaviour sanitizer too, in build/ubsan),
# MEM=8G, KVM=1 (use KVM instead of TCG), CMDLINE='kernel options' (the
# ISO's command line; by default init is fbdemo, which animates the
# framebuffer until you quit QEMU: CMDLINE= runs the test init instead).

CROSS_COMPILE ?=
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
LD := $(CROSS_COMPILE)ld
NM := $(CROSS_COMPILE)nm
NASM ?= nasm
PYTHON ?= python3
FONT ?= /usr/share/consolefonts/Lat15-Terminus16.psf.gz
CMDLINE ?= init=/bin/fbdemo -- 0

# A student tree (make lab) says which lab it is and relaxes warnings.
-include lab.mk

# Quiet output ("  CC  kernel/main.c"); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

# Two builds of the kernel from the same sources (README, "Two builds"):
# build/kernel.elf for make, make run and make bench, without the
# expensive debug checks; build/debug/kernel.elf for make test and make
# test-machines, compiled with PAGODA_DEBUG=1 (include/pagoda/debug.h)
# into objects of its own, so that neither overwrites the other; and with
# UBSAN=1 a test build with -fsanitize=undefined (kernel/ubsan.c) in
# build/ubsan. KB is the directory of the kernel this make builds; user
# space is shared.
B := build
ifeq ($(UBSAN),1)
DEBUG := 1
KB := $(B)/ubsan
else ifeq ($(DEBUG),1)
KB := $(B)/debug
else
DEBUG := 0
KB := $(B)
endif
OBJ := $(KB)/obj
GEN := $(KB)/gen

# Headers: include/pagoda/ for the kernel's own interfaces, and
# arch/x86/include/asm/ for what only x86-64 has (#include <asm/x86.h>).
CFLAGS := -std=gnu11 -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -Iarch/x86/include \
	-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pic -fno-pie \
	-fstack-protector-strong -mstack-protector-guard=global \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fno-common -MMD -MP $(LAB_CFLAGS)
ifeq ($(DEBUG),1)
CFLAGS += -DPAGODA_DEBUG=1
endif
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
CFLAGS += --target=x86_64-unknown-none-elf
endif
ifeq ($(UBSAN),1)
CFLAGS += -fsanitize=undefined -DUBSAN_BUILD=1
endif
NASMFLAGS := -f elf64 -g -F dwarf -w+all -Iinclude
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T linker.ld

# Sources by directory (docs/layout.md says what lives where).
SRCDIRS := boot arch/x86 kernel mm fs lib drivers drivers/acpi
CSRCS := $(sort $(wildcard $(addsuffix /*.c,$(SRCDIRS))))
ASMSRCS := $(sort $(wildcard $(addsuffix /*.asm,$(SRCDIRS))))
OBJS := $(CSRCS:%.c=$(OBJ)/%.o) $(ASMSRCS:%.asm=$(OBJ)/%.o) $(OBJ)/gen/font_default.o

.PHONY: all run run-uefi debug test test-machines bench profile fuzz mutants clean deps lab grade check-labs \
	check-gdb
all: $(KB)/kernel.elf $(KB)/pagoda.iso

# User programs (static musl) and the initramfs GRUB loads as a module.
include user/Makefile.inc

# Missing host packages are installed by this script (apt-get, or sudo).
deps:
	@scripts/deps.sh

# The sanitizer's runtime must not check itself.
$(OBJ)/kernel/ubsan.o: CFLAGS += -fno-sanitize=all

$(OBJ)/%.o: %.c | deps
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/%.o: %.asm | deps
	$(call say,NASM,$<)
	@mkdir -p $(dir $@)
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

# The console font: a PSF font from Debian's console-setup-linux, turned
# into C at build time (scripts/psf2c.py).
$(GEN)/font_default.c: $(FONT) scripts/psf2c.py | deps
	$(call say,FONT,$(FONT))
	@mkdir -p $(GEN)
	$(Q)$(PYTHON) scripts/psf2c.py $(FONT) $@

$(OBJ)/gen/%.o: $(GEN)/%.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The panic backtrace names functions from a symbol table linked into the
# kernel itself. The table's size changes the addresses it lists, so link
# three times: with an empty table, with the table of link 1 (now the right
# size), and with the table of link 2 (the right addresses).
$(KB)/kernel.elf: $(OBJS) linker.ld scripts/ksyms.py
	$(call say,LD,$@)
	@mkdir -p $(GEN) $(OBJ)/gen
	$(Q)$(PYTHON) scripts/ksyms.py --empty > $(GEN)/ksyms0.c
	$(Q)$(CC) $(CFLAGS) -c $(GEN)/ksyms0.c -o $(OBJ)/gen/ksyms0.o
	$(Q)$(LD) $(LDFLAGS) -o $(KB)/kernel.1 $(OBJS) $(OBJ)/gen/ksyms0.o
	$(Q)$(NM) -n $(KB)/kernel.1 | $(PYTHON) scripts/ksyms.py > $(GEN)/ksyms1.c
	$(Q)$(CC) $(CFLAGS) -c $(GEN)/ksyms1.c -o $(OBJ)/gen/ksyms1.o
	$(Q)$(LD) $(LDFLAGS) -o $(KB)/kernel.2 $(OBJS) $(OBJ)/gen/ksyms1.o
	$(Q)$(NM) -n $(KB)/kernel.2 | $(PYTHON) scripts/ksyms.py > $(GEN)/ksyms2.c
	$(Q)$(CC) $(CFLAGS) -c $(GEN)/ksyms2.c -o $(OBJ)/gen/ksyms2.o
	$(Q)$(LD) $(LDFLAGS) -o $@ $(OBJS) $(OBJ)/gen/ksyms2.o
	$(Q)$(NM) -n $@ | $(PYTHON) scripts/ksyms.py | cmp -s - $(GEN)/ksyms2.c || \
		{ echo "ksyms: the symbol table did not converge after three links" >&2; exit 1; }
	@rm -f $(KB)/kernel.1 $(KB)/kernel.2

# The ISO: GRUB (BIOS and UEFI) + kernel + iso/grub.cfg with CMDLINE added.
# Rebuild the ISO when CMDLINE changes, not only when files do.
$(KB)/cmdline.txt: FORCE
	@mkdir -p $(KB)
	@printf '%s\n' '$(CMDLINE)' | cmp -s - $@ || printf '%s\n' '$(CMDLINE)' > $@
FORCE:

$(KB)/pagoda.iso: $(KB)/kernel.elf $(INITRAMFS) iso/grub.cfg scripts/mkiso.sh $(KB)/cmdline.txt
	$(call say,ISO,$@)
	$(Q)KERNEL=$(KB)/kernel.elf scripts/mkiso.sh $@ "$(CMDLINE)" $(INITRAMFS)

run: all
	scripts/qemu.sh --firmware bios --iso $(KB)/pagoda.iso

run-uefi: all
	scripts/qemu.sh --firmware uefi --iso $(KB)/pagoda.iso

# gdb loads the pg- commands (scripts/gdb/). When it quits, QEMU is ended:
# it is a child of the qemu.sh started here (sh has no %1 to kill).
debug: all
	scripts/qemu.sh --firmware bios --iso $(KB)/pagoda.iso --gdb & qemu=$$!; \
	gdb -q -x scripts/gdbinit $(KB)/kernel.elf; \
	pkill -P $$qemu 2>/dev/null; wait $$qemu 2>/dev/null; true

# The test build's kernel, from a make of its own with DEBUG=1; with
# UBSAN=1 the sanitizer's build is the test build, with results of its own.
ifneq ($(DEBUG),1)
$(B)/debug/kernel.elf: FORCE
	$(Q)$(MAKE) --no-print-directory DEBUG=1 $@
endif
TEST_KB := $(if $(filter 1,$(UBSAN)),$(KB),$(B)/debug)
TEST_OUT := $(if $(filter 1,$(UBSAN)),$(KB)/test,$(B)/test)

test: $(TEST_KB)/kernel.elf $(INITRAMFS)
	KERNEL=$(TEST_KB)/kernel.elf TEST_OUT=$(TEST_OUT) FONT=$(FONT) scripts/test.sh test

test-machines: $(TEST_KB)/kernel.elf $(INITRAMFS)
	KERNEL=$(TEST_KB)/kernel.elf TEST_OUT=$(TEST_OUT) FONT=$(FONT) scripts/test.sh machines

bench: $(B)/kernel.elf $(B)/debug/kernel.elf $(INITRAMFS)
	scripts/bench.sh

profile: $(B)/kernel.elf $(INITRAMFS)
	scripts/profile.sh $(ROW)

SEEDS ?= 1 2 3 4 5
CALLS ?= 250000
THREADS ?= 4
fuzz: $(B)/debug/kernel.elf $(INITRAMFS)
	KERNEL=$(B)/debug/kernel.elf scripts/fuzz.sh --seeds "$(SEEDS)" --calls $(CALLS) \
		--threads $(THREADS) $(if $(REPLAY),--replay $(REPLAY))

mutants: $(B)/kernel.elf $(INITRAMFS)
	$(PYTHON) scripts/mutants.py

# Labs (docs/course.md, scripts/labs.py).
lab:
	@test -n "$(LAB)" -a -n "$(DEST)" || { echo "usage: make lab LAB=NAME DEST=DIR" >&2; exit 2; }
	$(PYTHON) scripts/lab.py $(LAB) $(DEST)

grade: $(B)/kernel.elf $(INITRAMFS)
	@test -n "$(LAB)" || { echo "usage: make grade LAB=NAME" >&2; exit 2; }
	$(PYTHON) scripts/grade.py $(LAB)

check-labs:
	scripts/check-labs.sh

check-gdb: $(B)/kernel.elf $(INITRAMFS)
	scripts/gdb-check.sh

clean:
	rm -rf $(B)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

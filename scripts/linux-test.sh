#!/usr/bin/env bash
# Run Pagoda's user-space test suite on Debian's Linux 6.1 under the same
# QEMU machine (q35, -cpu max, TCG), to check that every expectation in
# user/*.c is Linux's behaviour, then check the KTAP with scripts/ktap.py.
#
# usage: scripts/linux-test.sh
# Environment: LINUX_VERSION=6.1 or 6.12 (default 6.1), LINUX_PKG=the exact
# package (default: the newest of that version apt knows),
# TEST_TIMEOUT=seconds (default 300), LINUX_SMP=CPUs (default 4: the
# threaded suites race threads on several CPUs, as make test's -smp 4
# boots do), FUZZ_CALLS=calls of user/fuzz.c to run after the test
# programs (default 20000).
#
# The kernel package is downloaded once (apt-get download, no install)
# and unpacked under build/linux/. The initramfs is build/initramfs-linux
# .cpio (user/Makefile.inc): the test programs plus /init, the same init
# Pagoda runs, which mounts proc, sysfs and devtmpfs itself and powers off
# with reboot(RB_POWER_OFF) when the programs are done.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/linux
mkdir -p "$out"
TIMEOUT=${TEST_TIMEOUT:-300}
FUZZ_CALLS=${FUZZ_CALLS:-20000} # after the test programs, as make test does
SMP=${LINUX_SMP:-4}
log=$out/serial.log

# The user programs and the initramfs (works whether or not the top
# Makefile includes user/Makefile.inc yet: the file guards itself).
make -s -f Makefile -f user/Makefile.inc build/initramfs-linux.cpio

vmlinuz=$(scripts/linux-kernel.sh "${LINUX_VERSION:-6.1}")
echo "linux-test: booting $vmlinuz" >&2

# quiet: no kernel chatter between the KTAP lines (segfault reports are
# KERN_INFO); panic=-1: if init dies, reboot at once, which -no-reboot
# turns into QEMU's exit; no5lvl: 4-level paging, as Pagoda, so that user
# space ends at 2^47 - 4096 on both (-cpu max offers 5-level paging).
rm -f "$log"
rc=0
timeout --foreground -k 5 "$TIMEOUT" \
	qemu-system-x86_64 -machine q35 -cpu max -accel tcg -smp "$SMP" -m 1G \
	-kernel "$vmlinuz" -initrd build/initramfs-linux.cpio \
	-append "console=ttyS0 quiet panic=-1 no5lvl rdinit=/init -- --fuzz --seed 1 --threads 4 --calls $FUZZ_CALLS" \
	-display none -serial file:"$log" -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null || rc=$?
case $rc in
0) ;;
124|137) echo "linux-test: timed out after ${TIMEOUT}s" >&2 ;;
*) echo "linux-test: QEMU exited with status $rc" >&2 ;;
esac

# The KTAP stream and init's summary, for the reader.
grep -E '^(KTAP|1\.\.|    |# |ok |not ok )' "$log" || true
scripts/ktap.py "$log"

#!/usr/bin/env bash
# Run Pagoda's user-space test suite on Debian's Linux 6.1 under the same
# QEMU machine (q35, -cpu max, TCG), to check that every expectation in
# user/*.c is Linux's behaviour, then check the KTAP with scripts/ktap.py.
#
# usage: scripts/linux-test.sh
# Environment: LINUX_PKG=linux-image-6.1.0-NN-amd64-unsigned (default: the
# newest such package apt knows), TEST_TIMEOUT=seconds (default 300),
# FUZZ_CALLS=calls of user/fuzz.c to run after the test programs (20000).
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
log=$out/serial.log

# The user programs and the initramfs (works whether or not the top
# Makefile includes user/Makefile.inc yet: the file guards itself).
make -s -f Makefile -f user/Makefile.inc build/initramfs-linux.cpio

vmlinuz=$(scripts/linux-kernel.sh)
echo "linux-test: booting $vmlinuz" >&2

# quiet: no kernel chatter between the KTAP lines (segfault reports are
# KERN_INFO); panic=-1: if init dies, reboot at once, which -no-reboot
# turns into QEMU's exit.
rm -f "$log"
rc=0
timeout --foreground -k 5 "$TIMEOUT" \
	qemu-system-x86_64 -machine q35 -cpu max -accel tcg -smp 1 -m 1G \
	-kernel "$vmlinuz" -initrd build/initramfs-linux.cpio \
	-append "console=ttyS0 quiet panic=-1 rdinit=/init -- --fuzz --seed 1 --calls $FUZZ_CALLS" \
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

#!/usr/bin/env bash
# Run Pagoda's user-space test suite on Debian's Linux 6.1 under the same
# QEMU machine (q35, -cpu max, TCG), to check that every expectation in
# user/*.c is Linux's behaviour, then check the KTAP with scripts/ktap.py.
#
# usage: scripts/linux-test.sh
# Environment: LINUX_PKG=linux-image-6.1.0-NN-amd64-unsigned (default: the
# newest such package apt knows), TEST_TIMEOUT=seconds (default 300).
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
log=$out/serial.log

# The user programs and the initramfs (works whether or not the top
# Makefile includes user/Makefile.inc yet: the file guards itself).
make -s -f Makefile -f user/Makefile.inc build/initramfs-linux.cpio

pick_package() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -n 1
}

vmlinuz=$(ls "$out"/root/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [[ -z $vmlinuz ]]; then
	pkg=${LINUX_PKG:-$(pick_package)}
	if [[ -z $pkg ]]; then
		apt-get update -qq || true
		pkg=$(pick_package)
	fi
	[[ -n $pkg ]] || { echo "linux-test: no linux-image-6.1.0-*-amd64-unsigned package" >&2; exit 1; }
	echo "linux-test: downloading $pkg" >&2
	rm -rf "$out/deb" "$out/root"
	mkdir -p "$out/deb"
	(cd "$out/deb" && apt-get download -q "$pkg" >/dev/null)
	dpkg -x "$out"/deb/*.deb "$out/root"
	rm -rf "$out/deb"
	vmlinuz=$(ls "$out"/root/boot/vmlinuz-* | head -n 1)
fi
echo "linux-test: booting $vmlinuz" >&2

# quiet: no kernel chatter between the KTAP lines (segfault reports are
# KERN_INFO); panic=-1: if init dies, reboot at once, which -no-reboot
# turns into QEMU's exit.
rm -f "$log"
rc=0
timeout --foreground -k 5 "$TIMEOUT" \
	qemu-system-x86_64 -machine q35 -cpu max -accel tcg -smp 1 -m 1G \
	-kernel "$vmlinuz" -initrd build/initramfs-linux.cpio \
	-append 'console=ttyS0 quiet panic=-1 rdinit=/init' \
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

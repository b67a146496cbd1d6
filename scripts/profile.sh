#!/usr/bin/env bash
# make profile: where the kernel's cycles go in each row of membench.
# Boots the run build (build/kernel.elf) on make bench's machine (q35,
# TCG, -smp 2, 8 GiB, a 1 GiB ivshmem BAR) with profile=2 (one counter per
# 4 bytes of kernel text) and /bin/membench as init, which reads
# /proc/profile around each row's timed part and prints the sums at the
# end (user/profile.h); then scripts/profile.py names the top functions
# of each row. docs/profile.md explains the figures.
#
# usage: scripts/profile.sh [ROW...]   rows whose name contains ROW (all)
# PROFILE_REPEAT=N runs membench's rows N times (3): at TIMER_HZ 100 a
# row gets about 100 samples per second it runs, so short rows need
# repeating. PROFILE_TOP=N functions per row (20); PROFILE_SHIFT (2).
# The log stays in build/profile/membench.log.
set -uo pipefail
cd "$(dirname "$0")/.."

REPEAT=${PROFILE_REPEAT:-3}
TOP=${PROFILE_TOP:-20}
SHIFT=${PROFILE_SHIFT:-2}
out=build/profile
mkdir -p "$out"
iso=$out/pagoda-profile.iso
log=$out/membench.log
shm=/dev/shm/pagoda-profile-ivshmem-$$.img

scripts/mkiso.sh "$iso" "ktest=off profile=$SHIFT init=/bin/membench -- repeat $REPEAT" \
	build/initramfs.cpio || exit 1
rm -f "$shm" && fallocate -l 1G "$shm" || exit 1
scripts/qemu.sh --test --firmware bios --mem 8G --iso "$iso" --serial "$log" \
	--timeout $((300 * REPEAT)) -- -smp 2 \
	-object memory-backend-file,id=shm,share=on,mem-path="$shm",size=1G \
	-device ivshmem-plain,memdev=shm,addr=5 >/dev/null 2>&1
rm -f "$shm"
grep -a '^membench: ' "$log" | tr -d '\r' | grep -v '^membench: #'
echo
rows=()
for r in "$@"; do rows+=(--row "$r"); done
python3 scripts/profile.py --elf build/kernel.elf --top "$TOP" "${rows[@]}" "$log"

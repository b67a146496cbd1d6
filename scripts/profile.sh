#!/usr/bin/env bash
# make profile: where the kernel's cycles go in each row of membench and
# threadbench. Boots the run build (build/kernel.elf) on make bench's
# machine (q35, TCG, -smp 2, 8 GiB, a 1 GiB ivshmem BAR) with profile=2
# (one counter per 4 bytes of kernel text) and each program as init; the
# program reads /proc/profile around each row's timed part and prints the
# sums at the end (user/profile.h); then scripts/profile.py names the top
# functions of each row. docs/profile.md explains the figures.
#
# usage: scripts/profile.sh [ROW...]   rows whose name contains ROW (all)
# PROFILE_REPEAT=N runs the rows N times (3): at TIMER_HZ 100 a row gets
# about 100 samples per second it runs, so short rows need repeating.
# PROFILE_TOP=N functions per row (20); PROFILE_SHIFT (2);
# PROFILE_PROGRAMS ("membench threadbench"); PROFILE_ARGS, the program's
# arguments instead of "repeat N" (PROFILE_PROGRAMS=membench
# PROFILE_ARGS="bar 2000": the BAR row alone, 2,000 rounds). The logs
# stay in build/profile/PROGRAM.log.
set -uo pipefail
cd "$(dirname "$0")/.."

REPEAT=${PROFILE_REPEAT:-3}
TOP=${PROFILE_TOP:-20}
SHIFT=${PROFILE_SHIFT:-2}
PROGRAMS=${PROFILE_PROGRAMS:-membench threadbench}
ARGS=${PROFILE_ARGS:-repeat $REPEAT}
out=build/profile
mkdir -p "$out"
shm=/dev/shm/pagoda-profile-ivshmem-$$.img
rows=()
for r in "$@"; do rows+=(--row "$r"); done

for prog in $PROGRAMS; do
	iso=$out/pagoda-profile-$prog.iso
	log=$out/$prog.log
	scripts/mkiso.sh "$iso" "ktest=off profile=$SHIFT init=/bin/$prog -- $ARGS" \
		build/initramfs.cpio || exit 1
	rm -f "$shm" && fallocate -l 1G "$shm" || exit 1
	scripts/qemu.sh --test --firmware bios --mem 8G --iso "$iso" --serial "$log" \
		--timeout $((300 * REPEAT)) -- -smp 2 \
		-object memory-backend-file,id=shm,share=on,mem-path="$shm",size=1G \
		-device ivshmem-plain,memdev=shm,addr=5 >/dev/null 2>&1
	rm -f "$shm"
	grep -a "^$prog: " "$log" | tr -d '\r' | grep -v "^$prog: #"
	echo
	# A filter that matches no row of this program is not an error.
	python3 scripts/profile.py --elf build/kernel.elf --top "$TOP" "${rows[@]}" "$log" 2>/dev/null ||
		[ ${#rows[@]} -gt 0 ] || exit 1
done

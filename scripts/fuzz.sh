#!/usr/bin/env bash
# make fuzz: long runs of user/fuzz.c, one boot per seed, two at a time,
# each ending in the kernel's invariant check; then the KTAP of every boot
# is checked (scripts/ktap.py) and the calls are totalled.
#
# usage: scripts/fuzz.sh [--seeds "1 2 3"] [--calls N] [--threads T] [--mem SIZE]
#                       [--replay S:N]
#   --seeds   one boot per seed (default: 1 2 3 4 5: more than a million calls,
#             as a child cut short by a signal leaves its numbers unused)
#   --calls   calls per seed (default: 250000)
#   --threads the fuzzer's threads per child, on four CPUs (default 4: the
#             main one and three racing on one range, about 400 calls a
#             second on a 2-core host; 1: no racing, about 1,500)
#   --mem     guest RAM (default 1G)
#   --replay  rerun the child that made call S:N, printing every call up to
#             it, in one boot (what a failure line "fuzz S:N ..." names)
# Environment: FUZZ_TIMEOUT=seconds per boot (default: 300 + calls/40,
# generous: the machine may be shared; the fuzzer catches a hung call
# itself, the timeout only a hung kernel).
#
# Each boot reserves 16 MiB of RAM at 512 MiB with memmap= and hands it to
# the fuzzer as the one /dev/mem window it may write (--devmem-rw).
set -uo pipefail
cd "$(dirname "$0")/.."

seeds="1 2 3 4 5" calls=250000 mem=1G replay= threads=4
while [[ $# -gt 0 ]]; do
	case $1 in
	--seeds) seeds=$2; shift 2 ;;
	--calls) calls=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--replay) replay=$2; shift 2 ;;
	*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

out=build/fuzz
mkdir -p "$out"
WINDOW=0x20000000:0x1000000
KERNEL_ARGS='memmap=16M\$0x20000000 ktest=off'
timeout=${FUZZ_TIMEOUT:-$((300 + calls / 40))}

boot() { # name fuzz-args...: one boot, log in $out/NAME.log
	local name=$1
	shift
	scripts/mkiso.sh "$out/$name.iso" \
		"$KERNEL_ARGS -- --no-tests --fuzz $* --threads $threads --devmem-rw $WINDOW" \
		build/initramfs.cpio || return 1
	scripts/qemu.sh --test --firmware bios --mem "$mem" --iso "$out/$name.iso" \
		--serial "$out/$name.log" --timeout "$timeout" -- -smp 4 >"$out/$name.qemu" 2>&1
	echo $? >"$out/$name.rc"
	rm -f "$out/$name.iso"
}

logs=()
start=$(date +%s)
if [[ -n $replay ]]; then
	rm -f "$out/replay.log"
	boot replay --replay "$replay"
	logs+=("$out/replay.log")
	grep -E '^    # fuzz ' "$out/replay.log" || true
else
	# Two boots at once only when their CPUs mostly idle: two four-CPU
	# boots with racing threads on a 2-core host spend their time waiting
	# for each other's descheduled vCPUs (eight times slower than one
	# after the other).
	parallel=$([[ $threads == 1 ]] && echo 2 || echo 1)
	for s in $seeds; do
		rm -f "$out/seed-$s.log"
		logs+=("$out/seed-$s.log")
		while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do wait -n; done
		boot "seed-$s" --seed "$s" --calls "$calls" &
	done
	wait
fi

status=0
for log in "${logs[@]}"; do
	rc=$(cat "${log%.log}.rc" 2>/dev/null || echo missing)
	case $rc in
	1|3) ;;
	124|137) echo "$log: timed out after ${timeout}s (a hang?)"; status=1 ;;
	*) echo "$log: QEMU exited with status $rc (see ${log%.log}.qemu)"; status=1 ;;
	esac
done
scripts/ktap.py "${logs[@]}" || status=1
total=$(grep -ho 'done: [0-9]* calls' "${logs[@]}" | awk '{n += $2} END {print n + 0}')
echo "fuzz: $total calls over ${#logs[@]} boot(s) in $(($(date +%s) - start)) s"
exit $status

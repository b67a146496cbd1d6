#!/usr/bin/env bash
# make test, make test-machines: boot Pagoda headless on the machines of
# scripts/machines.txt, check the KTAP stream each boot prints on COM1,
# and end with "N passed, N failed" (totals over all boots).
#
# usage: scripts/test.sh [test|machines]
#   test      the machines whose SET is "test" (make test)
#   machines  the machines whose SET is "machines": the slow ones that
#             make test leaves out (make test-machines)
# TEST_BOOTS="bios-8G devices" boots only the machines named ("devices":
# the device boots of scripts/devices.py); TEST_CMDLINE changes the
# command line of the test ISOs; TEST_JOBS and TEST_TIMEOUT the number of
# boots at a time (2) and the seconds one may take (180; more with more
# than four CPUs).
#
# Each boot runs the self-tests and powers off through isa-debug-exit with
# the verdict; a boot that hangs is killed after the timeout. Two boots run
# at a time (TCG uses one host core per guest CPU).
set -uo pipefail
cd "$(dirname "$0")/.."

set_wanted=${1:-test}
case $set_wanted in test|machines) ;; *) echo "usage: $0 [test|machines]" >&2; exit 2 ;; esac
# B: the build directory (make test UBSAN=1 uses build/ubsan).
B=${B:-build}
export KERNEL=$B/kernel.elf
out=$B/test
mkdir -p "$out"
TIMEOUT=${TEST_TIMEOUT:-180}
JOBS=${TEST_JOBS:-2}
MACHINES=${TEST_MACHINES:-scripts/machines.txt}

# memmap= reserves 64 MiB at 6 GiB, as a student would for /dev/mem: the
# tests check that it is never handed out. (GRUB needs the $ escaped.)
CMDLINE=${TEST_CMDLINE-'memmap=64M\$0x180000000'}

# name          firmware RAM   ISO: "test" (self-tests, then /sbin/init
#                              running the user suites), "busybox" or
#                              "fuzz" (user/fuzz.c, then the invariants)
boots=(
	"bios-8G       bios 8G    test"
	"uefi-8G       uefi 8G    test"
	"bios-64G      bios 64G   test"
	"bios-3G       bios 3G    test"
	"bios-128M     bios 128M  test"
	"bios-busybox  bios 1G    busybox"
	"bios-fuzz     bios 1G    fuzz"
)
[[ -n ${TEST_BOOTS:-} ]] && read -r -a only <<<"$TEST_BOOTS"
selected() { [[ -z ${TEST_BOOTS:-} || " ${only[*]} " == *" $1 "* ]]; }

# The machines to boot: "name firmware ram image options..." lines.
machines=()
while read -r name mset fw mem image opts; do
	[[ -z $name || $name == \#* ]] && continue
	if [[ -z $image ]]; then echo "$MACHINES: machine $name: too few fields" >&2; exit 2; fi
	[[ $mset != "$set_wanted" ]] && continue
	selected "$name" || continue
	machines+=("$name $fw $mem $image $opts")
done <"$MACHINES"

# The ISOs: "test" and "text" differ only in GRUB's gfxpayload; "busybox"
# runs Debian's busybox-static as init with a shell script of checks;
# "dynamic" runs Debian's dash (dynamically linked) as init with a script
# of dynamic programs (user/dynamic-checks.sh).
BUSYBOX_CMDLINE="ktest=off init=/bin/busybox -- sh /bin/busybox-checks.sh"
scripts/mkiso.sh "$out/pagoda-test.iso" "$CMDLINE" "$B/initramfs.cpio" || exit 1
GFXPAYLOAD=text scripts/mkiso.sh "$out/pagoda-text.iso" "$CMDLINE" "$B/initramfs.cpio" || exit 1
scripts/mkiso.sh "$out/pagoda-busybox.iso" "$BUSYBOX_CMDLINE" "$B/initramfs.cpio" || exit 1
DYNAMIC_CMDLINE="ktest=off init=/bin/dash -- /bin/dynamic-checks.sh"
scripts/mkiso.sh "$out/pagoda-dynamic.iso" "$DYNAMIC_CMDLINE" "$B/initramfs.cpio" || exit 1
# Device memory proven from the host (scripts/devices.py): /bin/devcheck
# as init after the kernel suites, with an ivshmem device (whose cases
# the other boots skip) and the memmap= reservation.
DEVICES_CMDLINE='memmap=64M\$0x180000000 init=/bin/devcheck'
scripts/mkiso.sh "$out/pagoda-devices.iso" "$DEVICES_CMDLINE" "$B/initramfs.cpio" || exit 1
# A bounded run of the fuzzer (user/fuzz.c; make fuzz runs long ones: at
# most FUZZ_CALLS calls, and no child started after 60 s), then
# the invariant check: no kernel suites, no test programs. 16 MiB of RAM
# kept from the kernel at 512 MiB is the one /dev/mem window it may write.
FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_CALLS=${FUZZ_CALLS:-8000}
FUZZ_CMDLINE="memmap=16M\\\$0x20000000 ktest=off -- --no-tests --fuzz --seed $FUZZ_SEED --threads 4"
FUZZ_CMDLINE+=" --calls $FUZZ_CALLS --max-seconds 60 --devmem-rw 0x20000000:0x1000000"
scripts/mkiso.sh "$out/pagoda-fuzz.iso" "$FUZZ_CMDLINE" "$B/initramfs.cpio" || exit 1

# The seconds a boot may take: TIMEOUT, scaled up for more than four CPUs
# (TCG runs every vCPU on the host's cores: 8 CPUs on 2 cores need about
# twice the wall time of 4 for the same threaded work).
boot_timeout() { # options...
	local cpus=1
	while [[ $# -gt 0 ]]; do
		[[ $1 == -smp && $# -gt 1 ]] && cpus=${2%%,*}
		shift
	done
	echo $((cpus > 4 ? TIMEOUT * cpus / 4 : TIMEOUT))
}

boot() { # name firmware mem image options...: one boot, its exit status in NAME.rc
	local name=$1 fw=$2 mem=$3 image=$4 timeout
	shift 4
	timeout=$(boot_timeout "$@")
	echo "$timeout" >"$out/$name.timeout"
	# Without COM1 there is no KTAP to read: the verdict is on the screen.
	if [[ " $* " == *" -serial none "* ]]; then
		scripts/screen.py "$out/pagoda-$image.iso" "$out" "$name" "$fw" "$mem" "$timeout" \
			"$@" >"$out/$name.qemu" 2>&1
		echo 1 >"$out/$name.rc"
		return
	fi
	scripts/qemu.sh --test --firmware "$fw" --mem "$mem" --iso "$out/pagoda-$image.iso" \
		--serial "$out/$name.log" --timeout "$timeout" -- "$@" >"$out/$name.qemu" 2>&1
	echo $? >"$out/$name.rc"
}

logs=()
for m in "${machines[@]}"; do
	read -r name fw mem image opts <<<"$m"
	rm -f "$out/$name.log" "$out/$name.rc"
	logs+=("$out/$name.log")
	while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do wait -n; done
	# shellcheck disable=SC2086 # the options are words, unquoted on purpose
	boot "$name" "$fw" "$mem" "$image" $opts &
done
wait

status=0
for log in "${logs[@]}"; do
	rc=$(cat "${log%.log}.rc" 2>/dev/null || echo missing)
	# isa-debug-exit: code 0 -> status 1 (all passed); 1 -> 3 (failures).
	case $rc in
	1) ;;
	3) echo "$log: the kernel reported failures" ;;
	5) echo "$log: kernel panic"; status=1 ;;
	124|137) echo "$log: timed out after $(cat "${log%.log}.timeout")s"; status=1 ;;
	*) echo "$log: QEMU exited with status $rc (triple fault or no verdict; see ${log%.log}.qemu)"; status=1 ;;
	esac
done

if selected devices; then
	read -r -a device_logs <<<"$(scripts/devices.py "$out/pagoda-devices.iso" "$out")"
	logs+=("${device_logs[@]}")
fi

scripts/ktap.py "${logs[@]}" || status=1
exit $status

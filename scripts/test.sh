#!/usr/bin/env bash
# make test: boot Pagoda headless under SeaBIOS and OVMF and with several
# RAM sizes, check the KTAP stream each boot prints on COM1, and end with
# "N passed, N failed" (totals over all boots).
#
# Each boot runs the self-tests and powers off through isa-debug-exit with
# the verdict; a boot that hangs is killed after a timeout. Two boots run
# at a time (TCG uses one host core per guest CPU).
set -uo pipefail
cd "$(dirname "$0")/.."

# B: the build directory (make test UBSAN=1 uses build/ubsan).
B=${B:-build}
export KERNEL=$B/kernel.elf
out=$B/test
mkdir -p "$out"
TIMEOUT=${TEST_TIMEOUT:-180}
JOBS=${TEST_JOBS:-2}

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

# Debian's busybox-static as init, with a shell script of checks.
BUSYBOX_CMDLINE="ktest=off init=/bin/busybox -- sh /bin/busybox-checks.sh"
scripts/mkiso.sh "$out/pagoda-test.iso" "$CMDLINE" "$B/initramfs.cpio" || exit 1
scripts/mkiso.sh "$out/pagoda-busybox.iso" "$BUSYBOX_CMDLINE" "$B/initramfs.cpio" || exit 1
# Device memory proven from the host (scripts/devices.py): /bin/devcheck
# as init after the kernel suites, with an ivshmem device (whose cases
# the other boots skip) and the memmap= reservation.
DEVICES_CMDLINE='memmap=64M\$0x180000000 init=/bin/devcheck'
scripts/mkiso.sh "$out/pagoda-devices.iso" "$DEVICES_CMDLINE" "$B/initramfs.cpio" || exit 1
# A bounded run of the fuzzer (user/fuzz.c; make fuzz runs long ones), then
# the invariant check: no kernel suites, no test programs. 16 MiB of RAM
# kept from the kernel at 512 MiB is the one /dev/mem window it may write.
FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_CALLS=${FUZZ_CALLS:-60000}
FUZZ_CMDLINE="memmap=16M\\\$0x20000000 ktest=off -- --no-tests --fuzz --seed $FUZZ_SEED"
FUZZ_CMDLINE+=" --calls $FUZZ_CALLS --devmem-rw 0x20000000:0x1000000"
scripts/mkiso.sh "$out/pagoda-fuzz.iso" "$FUZZ_CMDLINE" "$B/initramfs.cpio" || exit 1

boot() { # name firmware mem iso: run one boot, leave its exit status in NAME.rc
	scripts/qemu.sh --test --firmware "$2" --mem "$3" --iso "$out/pagoda-$4.iso" \
		--serial "$out/$1.log" --timeout "$TIMEOUT" >"$out/$1.qemu" 2>&1
	echo $? >"$out/$1.rc"
}

logs=()
for b in "${boots[@]}"; do
	read -r name fw mem kind <<<"$b"
	if [[ -n ${TEST_BOOTS:-} && " ${only[*]} " != *" $name "* ]]; then continue; fi
	rm -f "$out/$name.log" "$out/$name.rc"
	logs+=("$out/$name.log")
	while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do wait -n; done
	boot "$name" "$fw" "$mem" "$kind" &
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
	124|137) echo "$log: timed out after ${TIMEOUT}s"; status=1 ;;
	*) echo "$log: QEMU exited with status $rc (triple fault or no verdict; see ${log%.log}.qemu)"; status=1 ;;
	esac
done

if [[ -z ${TEST_BOOTS:-} || " ${only[*]} " == *" devices "* ]]; then
	read -r -a device_logs <<<"$(scripts/devices.py "$out/pagoda-devices.iso" "$out")"
	logs+=("${device_logs[@]}")
fi

scripts/ktap.py "${logs[@]}" || status=1
exit $status

#!/usr/bin/env bash
# Boot a Pagoda ISO under QEMU. Every QEMU option Pagoda uses lives here,
# so make run, make test and the device tests boot the same machine.
#
# usage: scripts/qemu.sh --iso FILE [--firmware bios|uefi] [--mem SIZE] [--smp N]
#                        [--headless] [--test] [--gdb] [--serial FILE]
#                        [--timeout SECONDS] [--ivshmem SIZE:FILE]
#                        [--monitor SOCKET] [--pause-on-poweroff]
#                        [-- extra qemu args]
#   extra qemu args come last, so they win over the defaults below where
#              QEMU keeps the last one (-cpu, -machine, -vga, -smp); with a
#              -serial among them, --serial is ignored
#   --test     headless, with isa-debug-exit so the kernel can report a
#              verdict as QEMU's exit status ((code << 1) | 1)
#   --ivshmem  an ivshmem-plain device at 00:05.0 whose BAR2 is FILE on
#              the host (SIZE like 1G): what the guest writes there, the
#              host can read after the run
#   --monitor  QEMU's monitor on a Unix socket (screendump, quit)
#   --pause-on-poweroff  ACPI power-off pauses QEMU instead of ending it,
#              so a screendump can still be taken
# KVM=1 in the environment uses KVM instead of TCG (TCG is the default:
# see ../shared/NOTES.md, KVM does not work on our CI machines).
set -euo pipefail

iso= firmware=bios mem=${MEM:-8G} smp=${SMP:-1} headless=0 test=0 gdb=0 serial=stdio timeout=0
ivshmem= monitor= pause=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--iso) iso=$2; shift 2 ;;
	--firmware) firmware=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--headless) headless=1; shift ;;
	--test) test=1; headless=1; shift ;;
	--gdb) gdb=1; shift ;;
	--serial) serial=file:$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--ivshmem) ivshmem=$2; shift 2 ;;
	--monitor) monitor=$2; shift 2 ;;
	--pause-on-poweroff) pause=1; shift ;;
	--) shift; break ;;
	*) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ -n $iso ]] || { echo "qemu.sh: --iso is required" >&2; exit 2; }

# Guest RAM is reserved lazily (MAP_NORESERVE), so a 64 GiB guest boots on
# a host with less memory: only what the guest touches is ever allocated.
args=(-machine q35,memory-backend=ram -cpu max -smp "$smp" -m "$mem" -no-reboot
	-object memory-backend-ram,id=ram,size="$mem",reserve=off
	-cdrom "$iso" -boot d)
[[ " $* " == *" -serial "* ]] || args+=(-serial "$serial")
if [[ ${KVM:-0} == 1 ]]; then args+=(-accel kvm); else args+=(-accel tcg); fi

if [[ $firmware == uefi ]]; then
	vars=$(mktemp /tmp/pagoda-ovmf-vars.XXXXXX)
	trap 'rm -f "$vars"' EXIT
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
	args+=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
		-drive if=pflash,format=raw,file="$vars")
fi

if [[ $headless == 1 || -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
	args+=(-display none)
fi
[[ $test == 1 ]] && args+=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
[[ $gdb == 1 ]] && args+=(-s -S)
if [[ -n $ivshmem ]]; then
	args+=(-object "memory-backend-file,id=shm,share=on,mem-path=${ivshmem#*:},size=${ivshmem%%:*}"
		-device ivshmem-plain,memdev=shm,addr=5)
fi
[[ -n $monitor ]] && args+=(-monitor "unix:$monitor,server,nowait")
[[ $pause == 1 ]] && args+=(-action shutdown=pause)

cmd=(qemu-system-x86_64 "${args[@]}" "$@")
[[ $timeout != 0 ]] && cmd=(timeout --foreground -k 5 "$timeout" "${cmd[@]}")
rc=0
"${cmd[@]}" || rc=$?
exit $rc

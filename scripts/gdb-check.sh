#!/usr/bin/env bash
# make check-gdb: the pg- gdb commands (scripts/gdb/) against a live kernel.
#
# Boots the test machine halted with a gdb stub on a free local port,
# attaches gdb in batch mode with the commands loaded, stops at init's
# first system call (syscall_dispatch: memory management is up and a user
# process runs), and runs scripts/gdb/check.py, which runs each command
# and checks its output against the kernel's own state; prints KTAP, which
# scripts/ktap.py reads. QEMU is ended when gdb is done.
set -uo pipefail
cd "$(dirname "$0")/.."

out=build/gdb
mkdir -p "$out"
rm -f "$out/serial.log" "$out/check.log"
scripts/mkiso.sh "$out/check.iso" 'ktest=off' build/initramfs.cpio || exit 1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

setsid scripts/qemu.sh --headless --mem 8G --iso "$out/check.iso" --serial "$out/serial.log" \
	--timeout 120 -- -S -gdb "tcp:127.0.0.1:$port" >"$out/qemu.log" 2>&1 &
qemu=$!
trap 'kill -- -$qemu 2>/dev/null; wait $qemu 2>/dev/null' EXIT

cat >"$out/check.gdb" <<EOF
set confirm off
set pagination off
source scripts/gdb/pagoda-gdb.py
target remote 127.0.0.1:$port
hbreak syscall_dispatch
continue
source scripts/gdb/check.py
kill
EOF
for _ in $(seq 100); do # until QEMU listens (state 0A in /proc/net/tcp)
	grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf '%04X' "$port") [0-9A-F:]* 0A" /proc/net/tcp && break
	sleep 0.1
done
PAGODA_SERIAL_LOG=$out/serial.log timeout 120 gdb -q -nx -batch -x "$out/check.gdb" \
	build/kernel.elf >"$out/check.log" 2>&1
sed -n '/^KTAP version 1$/,$p' "$out/check.log" | grep -v '^\[Inferior' >"$out/gdb.ktap"
if ! scripts/ktap.py "$out/gdb.ktap"; then
	cat "$out/check.log"
	exit 1
fi

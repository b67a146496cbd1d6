#!/usr/bin/env bash
# The user-space side of make bench: boot Pagoda and Debian's Linux 6.1
# under the same QEMU machine (q35, -cpu max, TCG, 8 GiB, one 1 GiB
# ivshmem device), each with an initramfs holding the same static
# /bin/membench as the first process, RUNS times each, and print the
# median nanoseconds per operation side by side. Writes
# build/bench/table.md and build/bench/membench.png (gnuplot).
# Figures under an emulator compare code paths, not hardware speed.
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
out=build/bench
mkdir -p "$out"
# The BAR's backing file lives in /dev/shm and is allocated in full before
# every boot, so that neither kernel pays the host's first-touch cost.
shm=/dev/shm/pagoda-bench-ivshmem.img
ivshmem=(-object memory-backend-file,id=shm,share=on,mem-path="$shm",size=1G
	-device ivshmem-plain,memdev=shm,addr=5)

make -s build/initramfs.cpio build/initramfs-linux.cpio || exit 1
vmlinuz=$(scripts/linux-kernel.sh) || exit 1
scripts/mkiso.sh "$out/pagoda-membench.iso" "ktest=off init=/bin/membench" build/initramfs.cpio || exit 1
prepare_shm() { rm -f "$shm" && fallocate -l 1G "$shm"; }

for run in $(seq 1 "$RUNS"); do
	prepare_shm
	scripts/qemu.sh --test --firmware bios --mem 8G --iso "$out/pagoda-membench.iso" \
		--serial "$out/pagoda-$run.log" --timeout 600 -- "${ivshmem[@]}" >/dev/null 2>&1
	prepare_shm
	timeout --foreground -k 5 600 qemu-system-x86_64 -machine q35 -cpu max -accel tcg -smp 1 \
		-m 8G -kernel "$vmlinuz" -initrd build/initramfs-linux.cpio \
		-append 'console=ttyS0 quiet panic=-1 rdinit=/bin/membench' \
		-display none -serial file:"$out/linux-$run.log" -no-reboot "${ivshmem[@]}" \
		</dev/null >/dev/null 2>&1
done
rm -f "$shm"

python3 - "$out" "$RUNS" <<'PY'
import statistics, sys, os, subprocess, datetime
out, runs = sys.argv[1], int(sys.argv[2])
def load(kernel):
    vals = {}
    for r in range(1, runs + 1):
        for line in open(f"{out}/{kernel}-{r}.log", errors="replace"):
            parts = line.replace("\r", "").split()
            if len(parts) == 3 and parts[0] == "membench:" and parts[2].isdigit():
                vals.setdefault(parts[1], []).append(int(parts[2]))
    return {k: statistics.median(v) for k, v in vals.items()}
p, l = load("pagoda"), load("linux")
ops = [o for o in ["boot_to_init", "demand_zero_fault", "cow_fault_after_fork", "fork_exit_wait_64MiB",
                   "mmap_munmap_4KiB", "fault_among_10000_vmas", "file_shared_read_fault",
                   "file_private_first_write", "fork_execve_wait_dynamic_dash",
                   "fork_execve_wait_static", "bar_1GiB_map_touch_unmap"]
       if o in p or o in l]
rows = []
for o in ops:
    pv, lv = p.get(o), l.get(o)
    ratio = f"{pv / lv:.2f}" if pv and lv else "n/a"
    rows.append((o, pv, lv, ratio))
fmt = lambda v: f"{v:,.0f}" if v is not None else "n/a"
print(f"{'operation':28} {'Pagoda ns':>14} {'Linux 6.1 ns':>14} {'Pagoda/Linux':>13}")
for o, pv, lv, r in rows:
    print(f"{o:28} {fmt(pv):>14} {fmt(lv):>14} {r:>13}")
with open(f"{out}/table.md", "w") as f:
    f.write(f"Median of {runs} runs, ns per operation, q35 + TCG, 8 GiB, "
            f"{datetime.date.today().isoformat()}\n\n")
    f.write("| operation | Pagoda (ns) | Linux 6.1 (ns) | Pagoda / Linux |\n|---|---:|---:|---:|\n")
    for o, pv, lv, r in rows:
        f.write(f"| {o} | {fmt(pv)} | {fmt(lv)} | {r} |\n")
with open(f"{out}/membench.dat", "w") as f:
    for o, pv, lv, r in rows:
        f.write(f"{o} {pv or 0} {lv or 0}\n")
gp = f"""set terminal pngcairo size 1000,500 noenhanced
set output '{out}/membench.png'
set title 'ns per operation under QEMU TCG (lower is better, log scale)'
set style data histograms
set style fill solid 0.8
set logscale y
set xtics rotate by -20
set key top left
plot '{out}/membench.dat' using 2:xtic(1) title 'Pagoda', '' using 3 title 'Linux 6.1'
"""
try:
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    print(f"wrote {out}/table.md and {out}/membench.png")
except Exception as e:
    print(f"wrote {out}/table.md (no plot: {e})")
PY

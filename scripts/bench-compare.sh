#!/usr/bin/env bash
# The user-space side of make bench: boot Pagoda and Debian's Linux 6.1
# and 6.12 under the same QEMU machine (q35, -cpu max, TCG, -smp 2,
# 8 GiB, one 1 GiB ivshmem device), each with an initramfs holding the
# same static /bin/membench as the first process, RUNS times each, and
# print the median nanoseconds per operation side by side. Then the same with
# /bin/threadbench (threads: faults in two threads, munmap and mprotect
# beside a thread on the other CPU, futex wakeups, pthread_create) at
# -smp 2 on both kernels: the machine has two host cores. Writes
# build/bench/table.md and build/bench/membench.png (gnuplot).
# Figures under an emulator compare code paths, not hardware speed.
# BENCH_RUNS=N boots each kernel N times per program (3); BENCH_SETS
# chooses the programs ("mem threads"; "table": no boots, the table again
# from the last run's logs); BENCH_LINUX the Linux versions
# ("6.1 6.12": scripts/linux-kernel.sh fetches Debian's packages).
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
SETS=${BENCH_SETS:-mem threads}
LINUXES=${BENCH_LINUX:-6.1 6.12}
out=build/bench
mkdir -p "$out"
# The BAR's backing file lives in /dev/shm and is allocated in full before
# every boot, so that neither kernel pays the host's first-touch cost.
shm=/dev/shm/pagoda-bench-ivshmem.img
ivshmem=(-object memory-backend-file,id=shm,share=on,mem-path="$shm",size=1G
	-device ivshmem-plain,memdev=shm,addr=5)

make -s build/initramfs.cpio build/initramfs-linux.cpio || exit 1
declare -A vmlinuz
for v in $LINUXES; do
	vmlinuz[$v]=$(scripts/linux-kernel.sh "$v") || exit 1
done
scripts/mkiso.sh "$out/pagoda-membench.iso" "ktest=off init=/bin/membench" build/initramfs.cpio || exit 1
# A second, short Pagoda boot: the fork row with page-table sharing off.
scripts/mkiso.sh "$out/pagoda-shareoff.iso" "ktest=off fork_share_tables=0 init=/bin/membench -- fork _share_off" \
	build/initramfs.cpio || exit 1
prepare_shm() { rm -f "$shm" && fallocate -l 1G "$shm"; }

for run in $(seq 1 "$RUNS"); do
	[[ " $SETS " == *" mem "* ]] || break
	prepare_shm
	scripts/qemu.sh --test --firmware bios --mem 8G --iso "$out/pagoda-membench.iso" \
		--serial "$out/pagoda-$run.log" --timeout 600 -- -smp 2 "${ivshmem[@]}" >/dev/null 2>&1
	scripts/qemu.sh --test --firmware bios --mem 8G --iso "$out/pagoda-shareoff.iso" \
		--serial "$out/pagoda-shareoff-$run.log" --timeout 300 -- -smp 2 >/dev/null 2>&1
	for v in $LINUXES; do
		prepare_shm
		timeout --foreground -k 5 600 qemu-system-x86_64 -machine q35 -cpu max -accel tcg \
			-smp 2 -m 8G -kernel "${vmlinuz[$v]}" -initrd build/initramfs-linux.cpio \
			-append 'console=ttyS0 quiet panic=-1 no5lvl rdinit=/bin/membench' \
			-display none -serial file:"$out/linux$v-$run.log" -no-reboot "${ivshmem[@]}" \
			</dev/null >/dev/null 2>&1
	done
done
rm -f "$shm"

scripts/mkiso.sh "$out/pagoda-threadbench.iso" "ktest=off init=/bin/threadbench" build/initramfs.cpio || exit 1
for run in $(seq 1 "$RUNS"); do
	[[ " $SETS " == *" threads "* ]] || break
	scripts/qemu.sh --test --firmware bios --mem 8G --iso "$out/pagoda-threadbench.iso" \
		--serial "$out/pagoda-threads-$run.log" --timeout 600 -- -smp 2 >/dev/null 2>&1
	for v in $LINUXES; do
		timeout --foreground -k 5 600 qemu-system-x86_64 -machine q35 -cpu max -accel tcg \
			-smp 2 -m 8G -kernel "${vmlinuz[$v]}" -initrd build/initramfs-linux.cpio \
			-append 'console=ttyS0 quiet panic=-1 no5lvl rdinit=/bin/threadbench' \
			-display none -serial file:"$out/linux$v-threads-$run.log" -no-reboot \
			</dev/null >/dev/null 2>&1
	done
done

python3 - "$out" "$RUNS" $LINUXES <<'PY'
import statistics, sys, os, subprocess, datetime
out, runs, linuxes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def lines(path):
    try:
        return open(path, errors="replace").readlines()
    except OSError:
        return []
def load(*kernels):
    vals = {}
    for r in range(1, runs + 1):
        for line in sum((lines(f"{out}/{k}-{r}.log") for k in kernels), []):
            parts = line.replace("\r", "").split()
            if len(parts) == 3 and parts[0] == "membench:" and parts[2].isdigit():
                vals.setdefault(parts[1], []).append(int(parts[2]))
    return {k: statistics.median(v) for k, v in vals.items()}
p = load("pagoda", "pagoda-shareoff")
ls = [load(f"linux{v}") for v in linuxes]
ops = [o for o in ["boot_to_init", "demand_zero_fault", "demand_zero_fault_thp_on",
                   "demand_zero_fault_thp_off", "cow_fault_after_fork", "fork_exit_wait_64MiB",
                   "fork_exit_wait_64MiB_share_off", "fork_exit_wait_64MiB_4KiB",
                   "fork_exit_wait_64MiB_4KiB_share_off",
                   "mmap_munmap_4KiB", "fault_among_10000_vmas", "file_shared_read_fault",
                   "file_private_first_write", "fork_execve_wait_dynamic_dash",
                   "fork_execve_wait_static", "bar_1GiB_map_touch_unmap",
                   "bar_1GiB_map", "bar_1GiB_touch_every_2MiB", "bar_1GiB_unmap"]
       if o in p or any(o in l for l in ls)]
fmt = lambda v: f"{v:,.0f}" if v is not None else "n/a"
ratio = lambda a, b: f"{a / b:.2f}" if a and b else "n/a"
rows = [(o, p.get(o), [l.get(o) for l in ls]) for o in ops]
print(f"{'operation':36} {'Pagoda ns':>14}" + "".join(f" {'Linux ' + v + ' ns':>16} {'ratio':>6}" for v in linuxes))
for o, pv, lvs in rows:
    print(f"{o:36} {fmt(pv):>14}" + "".join(f" {fmt(lv):>16} {ratio(pv, lv):>6}" for lv in lvs))
with open(f"{out}/table.md", "w") as f:
    f.write(f"Median of {runs} runs, ns per operation, q35 + TCG, -smp 2, 8 GiB, "
            f"{datetime.date.today().isoformat()}\n\n")
    f.write("| operation | Pagoda (ns) |" + "".join(f" Linux {v} (ns) | Pagoda / Linux {v} |" for v in linuxes)
            + "\n|---|---:|" + "---:|---:|" * len(linuxes) + "\n")
    for o, pv, lvs in rows:
        f.write(f"| {o} | {fmt(pv)} |" + "".join(f" {fmt(lv)} | {ratio(pv, lv)} |" for lv in lvs) + "\n")
# threadbench: "threadbench: NAME VALUE UNIT" at -smp 2.
# Rows of single calls add "p10=NS", their 10th percentile.
def load_threads(kernel):
    vals, units, p10 = {}, {}, {}
    for r in range(1, runs + 1):
        for line in lines(f"{out}/{kernel}-threads-{r}.log"):
            parts = line.replace("\r", "").split()
            if len(parts) in (4, 5) and parts[0] == "threadbench:" and parts[2].isdigit():
                vals.setdefault(parts[1], []).append(int(parts[2]))
                units[parts[1]] = parts[3]
                if len(parts) == 5 and parts[4].startswith("p10="):
                    p10.setdefault(parts[1], []).append(int(parts[4][4:]))
    med = lambda d: {k: statistics.median(v) for k, v in d.items()}
    return med(vals), units, med(p10)
tp, tu, tp10 = load_threads("pagoda")
tls = [load_threads(f"linux{v}") for v in linuxes]
for _, u, _ in tls:
    tu.update(u)
tops = [o for o in ["fault_64MiB_1thread", "fault_64MiB_each_2threads", "munmap_4KiB_alone",
                    "munmap_4KiB_peer_sleeping", "munmap_4KiB_peer_running", "mprotect_4KiB_alone",
                    "mprotect_4KiB_peer_running", "futex_wake_to_run_cross_cpu", "pthread_create_join"]
        if o in tp or any(o in t[0] for t in tls)]
if tops:
    print()
    print("threads, -smp 2 (faults/s: higher is better; ns: lower is better; p10: the 10th")
    print("percentile of single calls, less disturbed by a busy host than the median)")
    print(f"{'operation':28} {'unit':>9} {'Pagoda':>12} {'p10':>10}"
          + "".join(f" {'Linux ' + v:>12} {'p10':>10} {'ratio':>6}" for v in linuxes))
    for o in tops:
        pv = tp.get(o)
        print(f"{o:28} {tu.get(o, '?'):>9} {fmt(pv):>12} {fmt(tp10.get(o)) if tp10.get(o) else '':>10}"
              + "".join(f" {fmt(t[0].get(o)):>12} {fmt(t[2].get(o)) if t[2].get(o) else '':>10}"
                        f" {ratio(pv, t[0].get(o)):>6}" for t in tls))
    with open(f"{out}/table.md", "a") as f:
        f.write(f"\nThreads, -smp 2, median of {runs} runs (faults/s: higher is better; "
                f"ns: lower is better; p10: 10th percentile of single calls)\n\n")
        f.write("| operation | unit | Pagoda | Pagoda p10 |"
                + "".join(f" Linux {v} | Linux {v} p10 | Pagoda / Linux {v} |" for v in linuxes)
                + "\n|---|---|---:|---:|" + "---:|---:|---:|" * len(linuxes) + "\n")
        for o in tops:
            pv = tp.get(o)
            f.write(f"| {o} | {tu.get(o, '?')} | {fmt(pv)} | {fmt(tp10.get(o)) if tp10.get(o) else ''} |"
                    + "".join(f" {fmt(t[0].get(o))} | {fmt(t[2].get(o)) if t[2].get(o) else ''} |"
                              f" {ratio(pv, t[0].get(o))} |" for t in tls) + "\n")
with open(f"{out}/membench.dat", "w") as f:
    for o, pv, lvs in rows:
        f.write(f"{o} {pv or 0} " + " ".join(str(lv or 0) for lv in lvs) + "\n")
gp = f"""set terminal pngcairo size 1000,500 noenhanced
set output '{out}/membench.png'
set title 'ns per operation under QEMU TCG (lower is better, log scale)'
set style data histograms
set style fill solid 0.8
set logscale y
set xtics rotate by -20
set key top left
plot '{out}/membench.dat' using 2:xtic(1) title 'Pagoda'""" + "".join(
    f", '' using {i + 3} title 'Linux {v}'" for i, v in enumerate(linuxes)) + "\n"
try:
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    print(f"wrote {out}/table.md and {out}/membench.png")
except Exception as e:
    print(f"wrote {out}/table.md (no plot: {e})")
PY

#!/usr/bin/env bash
# make bench: boot Pagoda with the in-kernel microbenchmarks (command line
# "kbench", self-tests off) at 8 GiB and at 64 GiB, and the allocator rows
# again in the test build at 8 GiB, and print what they report. Figures
# are TSC cycles under QEMU's emulation: they compare code paths, not
# hardware. Nothing here asserts anything.
set -uo pipefail
cd "$(dirname "$0")/.."

out=build/bench
mkdir -p "$out"
iso=$out/pagoda-bench.iso
scripts/mkiso.sh "$iso" "ktest=off kbench" || exit 1

# The run build (build/kernel.elf), and the frame-allocator and kmalloc
# rows again in the test build (build/debug/kernel.elf, PAGODA_DEBUG=1):
# what the test build's checks cost.
debug_iso=$out/pagoda-bench-debug.iso
KERNEL=build/debug/kernel.elf scripts/mkiso.sh "$debug_iso" \
	"ktest=off kbench=pmm_alloc_free_order0,pmm_alloc_free_order9,kmalloc_free_64" || exit 1

for mem in 8G 64G; do
	log=$out/kbench-$mem.log
	scripts/qemu.sh --test --firmware bios --mem "$mem" --iso "$iso" \
		--serial "$log" --timeout 300 >/dev/null 2>&1
	echo "== in-kernel benchmarks, q35, $mem RAM, TCG ($(date -u +%Y-%m-%d))"
	grep -a '^kbench:' "$log" | tr -d '\r' | sed 's/^kbench: /  /'
	grep -a '^mm: ' "$log" | tr -d '\r' | sed 's/^/  /'
done

log=$out/kbench-debug-8G.log
scripts/qemu.sh --test --firmware bios --mem 8G --iso "$debug_iso" \
	--serial "$log" --timeout 300 >/dev/null 2>&1
echo "== in-kernel benchmarks, the test build (PAGODA_DEBUG=1), q35, 8G RAM, TCG"
grep -a '^kbench: \(pmm\|kmalloc\)' "$log" | tr -d '\r' | sed 's/^kbench: /  /'

echo
echo "== user space, Pagoda beside Linux 6.1 and 6.12 (scripts/bench-compare.sh)"
scripts/bench-compare.sh

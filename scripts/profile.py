#!/usr/bin/env python3
"""Where the kernel's cycles go: the top functions of a /proc/profile dump,
like readprofile(8) (docs/profile.md).

usage: scripts/profile.py [--elf build/kernel.elf] [--top 20] [--row ROW]... LOG
       scripts/profile.py [--elf build/kernel.elf] [--top 20] --raw FILE

LOG is a serial log holding membench's per-row dumps (user/profile.h:
"profile: ROW step=S buckets=N samples=T" then "profile: ROW B:C ..."
lines); --row keeps the rows whose name contains ROW. --raw reads a copy of
/proc/profile itself: the step, then one unsigned int per bucket.

Bucket b covers the text addresses [__text_start + b * step, + step); each
bucket's samples go to the function whose symbol is the last at or below
the bucket's start (nm -n). The last bucket also holds every sample taken
outside the text (Linux's clamp), and is shown as such."""
import argparse
import bisect
import struct
import subprocess
import sys

# The idle loop's samples say that a CPU had nothing to do (the other CPU
# of the machine, mostly), not where a row's time goes: counted apart.
IDLE = "sched_idle_loop"


def text_symbols(elf, nm):
    """(addresses, names) of the text symbols sorted by address, and the text's
    start and end."""
    out = subprocess.run([nm, "-n", elf], check=True, capture_output=True, text=True).stdout
    addrs, names, start, end = [], [], None, None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, kind, name = int(parts[0], 16), parts[1], parts[2]
        if name == "__text_start":
            start = addr
        elif name == "__text_end":
            end = addr
        if kind in "tTwW":
            addrs.append(addr)
            names.append(name)
    if start is None or end is None:
        sys.exit(f"{elf}: no __text_start/__text_end symbols")
    return addrs, names, start, end


def read_log(path, rows_wanted):
    """{row: (step, nbuckets, {bucket: count})} from the "profile:" lines."""
    rows = {}
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.replace("\r", "").split()
            if len(parts) < 3 or parts[0] != "profile:":
                continue
            row = parts[1]
            if rows_wanted and not any(w in row for w in rows_wanted):
                continue
            if parts[2].startswith("step="):
                fields = dict(p.split("=", 1) for p in parts[2:])
                rows[row] = (int(fields["step"]), int(fields["buckets"]), {})
                continue
            if row not in rows:
                continue
            for item in parts[2:]:
                b, _, c = item.partition(":")
                rows[row][2][int(b)] = rows[row][2].get(int(b), 0) + int(c)
    return rows


def read_raw(path):
    data = open(path, "rb").read()
    words = struct.unpack(f"<{len(data) // 4}I", data[: len(data) // 4 * 4])
    if not words:
        sys.exit(f"{path}: empty")
    counts = {b: c for b, c in enumerate(words[1:]) if c}
    return {path: (words[0], len(words) - 1, counts)}


def by_function(step, nbuckets, counts, syms):
    addrs, names, start, _ = syms
    funcs = {}
    for b, c in counts.items():
        if b == nbuckets - 1:
            name = "(last bucket: the text's end, and any PC outside the text)"
        else:
            i = bisect.bisect_right(addrs, start + b * step) - 1
            name = names[i] if i >= 0 else "(before the first symbol)"
        funcs[name] = funcs.get(name, 0) + c
    return funcs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", default="build/kernel.elf")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--row", action="append", default=[])
    ap.add_argument("--raw", action="store_true", help="FILE is a copy of /proc/profile")
    ap.add_argument("file")
    args = ap.parse_args()
    syms = text_symbols(args.elf, args.nm)
    rows = read_raw(args.file) if args.raw else read_log(args.file, args.row)
    if not rows:
        sys.exit(f"{args.file}: no profile (was the boot's command line given profile=N?)")
    for row, (step, nbuckets, counts) in rows.items():
        expect = (syms[3] - syms[2]) // step if step else 0
        if expect != nbuckets:
            print(f"# {row}: {nbuckets} buckets of {step} bytes, but {args.elf}'s text "
                  f"has {expect}: is it the kernel that ran?", file=sys.stderr)
        funcs = by_function(step, nbuckets, counts, syms)
        idle = funcs.pop(IDLE, 0)
        busy = sum(funcs.values())
        print(f"== {row}: {busy + idle} samples in kernel mode ({step}-byte buckets), "
              f"{idle} of them in {IDLE} (a CPU with nothing to run); "
              f"% of the other {busy}:")
        for name, c in sorted(funcs.items(), key=lambda kv: (-kv[1], kv[0]))[: args.top]:
            print(f"  {c:8d} {100.0 * c / busy:6.2f}%  {name}")
        print()


if __name__ == "__main__":
    main()

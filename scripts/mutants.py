#!/usr/bin/env python3
"""make mutants: check that the tests catch each breakage in scripts/mutants.txt.

usage: mutants.py [--jobs N] [--only SUBSTRING]

For each mutant: copy the tree (the files git tracks, plus the current
build's objects, timestamps kept, so that only the mutated file is
recompiled) to build/mutants/N/, apply the change, build the kernel, boot
it on two CPUs (the TLB cases need a second) with ktest=SUITES and the
usual initramfs (init runs no test program, only the invariant check),
and read the verdict. A
mutant is caught when the boot reports a failure (scripts/ktap.py), ends
without a verdict (a crash) or times out. The run fails unless every
mutant is caught, or when a mutant's text is not found exactly once.
Two boots run at a time (TCG uses one host core per guest).
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "mutants")
TIMEOUT = int(os.environ.get("MUTANT_TIMEOUT", "90"))


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t")


def parse(path):
    """[(line number, file, find, replace, suites)] from mutants.txt."""
    mutants = []
    for n, line in enumerate(open(path), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(" @@ ")
        if len(parts) != 4:
            sys.exit("mutants.txt:%d: expected 'file @@ find @@ replace @@ suites'" % n)
        f, find, repl, suites = parts
        mutants.append((n, f.strip(), unescape(find), unescape(repl), suites.strip()))
    return mutants


def prepare(i, m):
    """Copy the tree to build/mutants/I and apply mutant m; the directory."""
    n, path, find, repl, _ = m
    d = os.path.join(OUT, str(i))
    shutil.rmtree(d, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        os.makedirs(os.path.join(d, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(d, f))
    for sub in ("obj", "gen"):
        shutil.copytree(os.path.join(ROOT, "build", sub), os.path.join(d, "build", sub))
    target = os.path.join(d, path)
    text = open(target).read()
    if text.count(find) != 1:
        raise RuntimeError("mutants.txt:%d: the text occurs %d times in %s" % (n, text.count(find), path))
    open(target, "w").write(text.replace(find, repl))
    return d


def run(i, m):
    """Build and boot mutant i; returns (caught, what happened)."""
    n, path, _, _, suites = m
    try:
        d = prepare(i, m)
    except RuntimeError as e:
        return None, str(e)
    build = subprocess.run(["make", "-s", "build/kernel.elf"], cwd=d, capture_output=True, text=True)
    if build.returncode != 0:
        # A breakage the compiler refuses tests nothing: the line in
        # mutants.txt must be fixed to build (and then be caught).
        return None, "does not build: " + (build.stderr.strip().splitlines() or ["?"])[-1]
    iso, log = os.path.join(d, "mutant.iso"), os.path.join(d, "serial.log")
    subprocess.run(["scripts/mkiso.sh", iso, "ktest=" + suites + " -- --no-tests",
                    os.path.join(ROOT, "build", "initramfs.cpio")], cwd=d, check=True)
    boot = subprocess.run(["scripts/qemu.sh", "--test", "--mem", "2G", "--iso", iso, "--serial", log,
                           "--timeout", str(TIMEOUT), "--", "-smp", "2"], cwd=d, capture_output=True)
    verdict = subprocess.run([os.path.join(ROOT, "scripts", "ktap.py"), log], capture_output=True,
                             text=True)
    failed = [l.strip() for l in verdict.stdout.splitlines()
              if l.strip().startswith(("not ok", "kernel panic", "the KTAP"))]
    ran = open(log, errors="replace").read()
    missing = [s for s in suites.split(",") if s != "off" and "# Subtest: %s\n" % s not in ran]
    if missing and "Kernel panic" not in ran and boot.returncode not in (124, 137):
        return None, "no suite " + ",".join(missing) + " in the boot"
    if boot.returncode in (124, 137):
        return True, "timed out"
    if verdict.returncode != 0 or boot.returncode != 1:
        return True, "; ".join(failed[:3]) or "QEMU status %d" % boot.returncode
    return False, "every test passed"


def main(argv):
    jobs = int(argv[argv.index("--jobs") + 1]) if "--jobs" in argv else 2
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    mutants = [m for m in parse(os.path.join(ROOT, "scripts", "mutants.txt"))
               if not only or only in "%s %s" % (m[1], m[2])]
    os.makedirs(OUT, exist_ok=True)
    start = time.time()
    ok = True
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda im: run(*im), enumerate(mutants)))
    for m, (caught, what) in zip(mutants, results):
        name = "%s:%d %s" % (m[1], m[0], m[2].strip().splitlines()[0][:50])
        status = "caught" if caught else ("ERROR" if caught is None else "SURVIVED")
        print("%-8s %-70s [%s] %s" % (status, name, m[4], what))
        ok = ok and bool(caught)
    print("mutants: %d of %d caught in %d s" % (sum(1 for c, _ in results if c), len(mutants),
                                               time.time() - start))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Grade a lab: `make grade LAB=NAME` (in the main tree or a student tree).

usage: grade.py NAME

Boots build/kernel.elf once under QEMU (SeaBIOS, 8 GiB, headless, with
the lab's devices and CPUs) with `ktest=` naming the lab's kernel suites and init
running the lab's user programs (scripts/labs.py), reads the KTAP on the
serial port, and prints one line per graded item with its points, in the
manner of xv6's grade-lab-* scripts, ending with `Score: N/M`. The cases
a suite should have are read from the sources (KTEST_CASE, KTAP_CASE), so
a suite that never ran (the kernel panicked first) still shows every case
it owes. Exit status: 0 at full marks, 1 below, 2 if nothing could run.

The serial log stays in build/grade/NAME.log.
"""
import fnmatch
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from labs import LABS, WHOLE  # noqa: E402
import devices  # noqa: E402  (the ivshmem pattern check)

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "build", "grade")
MEMMAP = r"memmap=64M\$0x180000000"  # the reservation devmem and pmm test
PANIC_END = "---[ end Kernel panic ]---"
NO_INIT = "with no init to run"  # kernel/main.c, when init cannot start
SOURCE_DIRS = ("kernel", "mm", "drivers", "arch", "fs", "lib", "boot")

SUBTEST = re.compile(r"^    # Subtest: (\S+)$")
CASE = re.compile(r"^    (ok|not ok) \d+ (\S+)(?: # SKIP ?(.*))?$")
DIAG = re.compile(r"^    # (?!Subtest:)(.*)$")
TOP = re.compile(r"^(ok|not ok) \d+ (\S+)$")


# ---- what the sources say each suite holds ---------------------------------

def _c_sources():
    for top in SOURCE_DIRS:
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in sorted(names):
                if n.endswith(".c"):
                    yield os.path.join(d, n)


def kernel_cases(suite):
    """The case names of kernel suite `suite`, in order, from its
    KTEST_SUITE(suite, array) and the array's KTEST_CASE entries."""
    for path in _c_sources():
        text = open(path, errors="replace").read()
        m = re.search(r"KTEST_SUITE\(\s*%s\s*,\s*(\w+)\s*\)" % re.escape(suite), text)
        if m:
            arr = re.search(r"\b%s\s*\[\s*\]\s*=\s*\{(.*?)\};" % m.group(1), text, re.S)
            return re.findall(r"KTEST_CASE\((\w+)\)", arr.group(1)) if arr else []
    return []


def user_cases(prog):
    """The case names of user program `prog` from its KTAP_CASE table
    (user/PROG.c); a program that reports by hand (devcheck) has none, and
    scripts/labs.py lists the cases to grade instead."""
    try:
        text = open(os.path.join(ROOT, "user", prog + ".c"), errors="replace").read()
    except OSError:
        return []
    return re.findall(r"KTAP_CASE\((\w+)\)", text)


# ---- the boot ----------------------------------------------------------------

def cmdline(lab):
    args = [f"ktest={','.join(lab.ktest)}", MEMMAP]
    if lab.user:
        args += ["init=/sbin/init", "--"] + list(lab.user)
    else:
        args += ["init=/nonexistent"]
    return " ".join(args)


def boot(lab, iso, log, shm):
    """Boot once; returns (seconds, how it ended)."""
    cmd = [os.path.join(HERE, "qemu.sh"), "--headless", "--firmware", "bios", "--mem", "8G",
           "--smp", str(lab.smp), "--iso", iso, "--serial", log, "--timeout", str(lab.timeout)]
    if shm:
        cmd += ["--ivshmem", f"{lab.ivshmem}:{shm}"]
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    how = "powered off"
    while proc.poll() is None:
        time.sleep(0.2)
        text = _read(log)
        if PANIC_END in text:
            how = "kernel panic"
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            break
        if NO_INIT in text:
            # Nothing more will run (a student's mmap lab before its fault
            # handler works: no program can be mapped): stop waiting.
            how = "no init could start"
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            break
    if proc.returncode in (124, 137):
        how = f"timed out after {lab.timeout}s"
    return time.time() - start, how


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().replace("\r", "")
    except OSError:
        return ""


# ---- reading the KTAP ----------------------------------------------------------

class Suite:
    def __init__(self):
        self.cases = {}      # name -> (status, skip reason, diagnostics)
        self.result = None   # the top-level "ok"/"not ok" line, if seen


def parse(text):
    """{suite name: Suite} from one serial log."""
    suites, cur, diags = {}, None, []
    for line in text.splitlines():
        m = SUBTEST.match(line)
        if m:
            cur, diags = suites.setdefault(m.group(1), Suite()), []
            continue
        m = CASE.match(line)
        if m and cur is not None:
            status = "skip" if m.group(3) is not None else m.group(1)
            cur.cases[m.group(2)] = (status, m.group(3) or "", diags)
            diags = []
            continue
        m = DIAG.match(line)
        if m and cur is not None:
            diags.append(m.group(1))
            continue
        m = TOP.match(line)
        if m and m.group(2) in suites:
            suites[m.group(2)].result = m.group(1)
    return suites


def why_not_run(text, how):
    panic = re.search(r"^Kernel panic: (.*)$", text, re.M)
    if panic:
        return "did not run (kernel panic: %s)" % panic.group(1)
    if how != "powered off":
        return "did not run (%s)" % how
    return "did not run"


# ---- grading -------------------------------------------------------------------

def items(lab, suites, text, how):
    """Yield (label, points, earned, notes) for every graded item."""
    missing = why_not_run(text, how)
    for kind, table, expected_of in (("kernel", lab.ktest, kernel_cases),
                                     ("user", lab.user, user_cases)):
        for suite, pattern in table.items():
            got = suites.get(suite, Suite())
            if isinstance(pattern, list):
                names, pattern = pattern, "*"
            else:
                expected = expected_of(suite)
                names = expected + [c for c in got.cases if c not in expected]
            if pattern is WHOLE:
                yield whole_item(lab, suite, names, got, missing)
                continue
            for case in names:
                if fnmatch.fnmatchcase(case, pattern) and case not in lab.ungraded:
                    yield case_item(lab, suite, case, got, missing)


def case_item(lab, suite, case, got, missing):
    pts = lab.points.get(case, 1)
    if case not in got.cases:
        return f"{suite}: {case}", pts, 0, [missing]
    status, reason, diags = got.cases[case]
    if status == "ok":
        return f"{suite}: {case}", pts, pts, []
    if status == "skip":
        return f"{suite}: {case}", pts, 0, ["skipped: " + reason]
    more = [f"... {len(diags) - 6} more lines in the serial log"] if len(diags) > 6 else []
    return f"{suite}: {case}", pts, 0, diags[:6] + more


def whole_item(lab, suite, names, got, missing):
    pts = lab.points.get(suite, len(names))
    label = f"{suite} (all {len(names)} cases)"
    if not got.cases:
        return label, pts, 0, [missing]
    bad = [c for c in names if got.cases.get(c, ("missing",))[0] != "ok"]
    if got.result == "not ok" and not bad:
        bad = ["the program did not exit cleanly"]
    if bad:
        return label, pts, 0, ["failed: " + ", ".join(bad[:6]) + (" ..." if len(bad) > 6 else "")]
    return label, pts, pts, []


def host_file_holds_guest_bar_pattern(lab, shm, how):
    """The guest wrote devcheck's pattern over the whole BAR: the host
    reads it back from the file behind the ivshmem device."""
    pages, bad = devices.check_pattern(shm) if how == "powered off" else (0, -1)
    ok = pages > 0 and bad == 0
    return ok, [] if ok else [f"{bad} of {pages} pages of {shm} lack the pattern"]


HOST_CHECKS = {"host_file_holds_guest_bar_pattern": host_file_holds_guest_bar_pattern}


def main(argv):
    if len(argv) != 2 or argv[1] not in LABS:
        print(f"usage: grade.py NAME, NAME one of: {' '.join(LABS)}", file=sys.stderr)
        return 2
    lab = LABS[argv[1]]
    os.makedirs(OUT, exist_ok=True)
    iso, log = os.path.join(OUT, lab.name + ".iso"), os.path.join(OUT, lab.name + ".log")
    shm = f"/dev/shm/pagoda-grade-{lab.name}-{os.getpid()}.img" if lab.ivshmem else ""
    if os.path.exists(log):
        os.remove(log)
    r = subprocess.run([os.path.join(HERE, "mkiso.sh"), iso, cmdline(lab),
                        os.path.join("build", "initramfs.cpio")], cwd=ROOT)
    if r.returncode:
        return 2
    try:
        if shm:
            subprocess.run(["fallocate", "-l", lab.ivshmem, shm], check=True)
        secs, how = boot(lab, iso, log, shm)
        text = _read(log)
        cpus = f" (-smp {lab.smp})" if lab.smp > 1 else ""
        print(f"== Boot: {cmdline(lab).replace(chr(92), '')}{cpus} == {how} ({secs:.1f}s)")
        total = earned = 0
        results = list(items(lab, parse(text), text, how))
        for name in lab.host_checks:
            ok, notes = HOST_CHECKS[name](lab, shm, how)
            pts = lab.points.get(name, 1)
            results.append((f"host: {name}", pts, pts if ok else 0, notes))
    finally:
        if shm and os.path.exists(shm):
            os.remove(shm)
    for label, pts, got, notes in results:
        total, earned = total + pts, earned + got
        print(f"== Test {label} == {'OK' if got == pts else 'FAIL'} ({got}/{pts})")
        for n in notes:
            print(f"    {n}")
    print(f"(serial log: {os.path.relpath(log, ROOT)})")
    print(f"Score: {earned}/{total}")
    return 0 if earned == total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

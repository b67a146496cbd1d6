#!/usr/bin/env python3
"""Check the KTAP stream a Pagoda boot printed on its serial console.

usage: ktap.py [--expect-exit N] LOG [LOG ...]

For each log, count the test cases (the indented "ok"/"not ok" lines of
each suite) and fail the boot on any "not ok", a suite whose plan does not
match its cases, a missing top-level plan or totals line (the boot died or
timed out), a kernel panic, a lock-order inversion the kernel's checker
reported, or a report of the undefined-behaviour sanitizer (make test
UBSAN=1). Prints one line per boot, the failed cases,
and at the end the totals over all boots as "N passed, N failed".
"""
import re
import sys

CASE = re.compile(r"^    (ok|not ok) (\d+) (\S+)(?: # (SKIP)\b.*)?$")
PLAN = re.compile(r"^(    )?1\.\.(\d+)$")
SUBTEST = re.compile(r"^    # Subtest: (\S+)$")


def check(path):
    """Return (passed, failed, skipped, problems) for one serial log."""
    try:
        text = open(path, errors="replace").read().replace("\r", "")
    except OSError as e:
        return 0, 0, 0, ["cannot read %s: %s" % (path, e)]
    passed = failed = skipped = 0
    problems = []
    suite, planned, seen, top_plan = None, 0, 0, None

    def close_suite():
        if suite is not None and seen != planned:
            problems.append("suite %s planned %d cases but ran %d" % (suite, planned, seen))

    for line in text.splitlines():
        m = SUBTEST.match(line)
        if m:
            close_suite()
            suite, planned, seen = m.group(1), 0, 0
            continue
        m = PLAN.match(line)
        if m:
            if m.group(1):
                planned = int(m.group(2))
            else:
                top_plan = int(m.group(2))
            continue
        m = CASE.match(line)
        if m:
            seen += 1
            if m.group(1) == "not ok":
                failed += 1
                problems.append("not ok: %s.%s" % (suite, m.group(3)))
            elif m.group(4):
                skipped += 1
            else:
                passed += 1
            continue
        if "Kernel panic" in line:
            problems.append("kernel panic: " + line.strip())
        if line.startswith("UBSAN: "):
            problems.append("undefined behaviour: " + line[7:].strip())
        if "lockdep: lock order inversion" in line:
            problems.append("lock order inversion: " + line.strip())
    close_suite()
    if top_plan is None:
        problems.append("no KTAP plan: the kernel did not reach its self-tests")
    elif "# Totals:" not in text:
        problems.append("the KTAP stream stops early (crash, triple fault or timeout)")
    return passed, failed, skipped, problems


def main(argv):
    expect_exit = None
    if len(argv) > 2 and argv[1] == "--expect-exit":
        expect_exit, argv = argv[2], argv[2:]
    total_pass = total_fail = 0
    ok = True
    for path in argv[1:]:
        passed, failed, skipped, problems = check(path)
        total_pass += passed
        # A boot that died counts as one failure even if no case said so.
        total_fail += failed + (1 if problems and not failed else 0)
        status = "FAIL" if problems else "ok"
        print("%-40s %s: %d passed, %d failed, %d skipped" % (path, status, passed, failed, skipped))
        for p in problems:
            print("    " + p)
        ok = ok and not problems
    print("%d passed, %d failed" % (total_pass, total_fail))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

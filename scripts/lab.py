#!/usr/bin/env python3
"""Write a lab's student tree: `make lab LAB=NAME DEST=DIR`.

usage: lab.py NAME DEST
       lab.py --check                  parse every marker, list the labs
       lab.py --regions NAME           list the lab's regions, numbered
       lab.py --variant N NAME DEST    in the existing tree DEST, rewrite the
                                       lab's files with only region N stubbed

Copies the files of this tree that git knows (tracked, or new and not
ignored: never build/) into DEST, where every region the main tree marks
for lab NAME (scripts/labs.py) becomes a stub that compiles and returns
the "not implemented" result, and the marker lines of the other labs are
dropped (their code stays). Adds lab.mk (make grade's default lab, and
unused-function warnings not fatal: the helpers a stub no longer calls are
meant for the student) and LAB.md, then makes DEST a git repository with
one commit. A variant (one region stubbed, the others solved) is how
make check-labs proves that every region has a test that notices it.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labs import LABS  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = re.compile(r"^(\s*)/\* LAB (\w+): begin, the stub (.*?) \*/\s*$")
END = re.compile(r"^\s*/\* LAB (\w+): end \*/\s*$")
ANY = re.compile(r"/\* LAB \w+: (begin|end)\b")
MARKED_SUFFIXES = (".c", ".h")


class MarkerError(Exception):
    pass


def stub_lines(indent, lab, what, where):
    """The lines that replace a region: a pointer to the handout and the
    not-implemented return."""
    lines = [f"{indent}/* LAB {lab}: your code here (docs/labs/{lab}.md) */\n"]
    if re.fullmatch(r"does nothing(?: \(.*\))?", what):
        return lines
    m = re.fullmatch(r"returns (.+?)(?: \(.*\))?", what)
    if not m:
        raise MarkerError(f"{where}: say 'the stub returns X' or 'the stub does nothing'")
    return lines + [f"{indent}return {m.group(1)};\n"]


def transform(lines, lab, path, only=None):
    """Return (new lines, regions of lab found) for one file. With only, a
    set of region numbers (1, 2, ... in the file), stub just those."""
    out, regions, open_region = [], 0, None
    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        b, e = BEGIN.match(line), END.match(line)
        if b:
            if open_region:
                raise MarkerError(f"{where}: LAB {b.group(2)} begins inside LAB {open_region[0]}")
            stubbed = b.group(2) == lab and (only is None or regions + 1 in only)
            regions += b.group(2) == lab
            open_region = (b.group(2) if stubbed else "", where, b.group(2))
            if stubbed:
                out += stub_lines(b.group(1), lab, b.group(3), where)
            continue
        if e:
            if not open_region or open_region[2] != e.group(1):
                raise MarkerError(f"{where}: LAB {e.group(1)} ends without a begin")
            open_region = None
            continue
        if ANY.search(line):
            raise MarkerError(f"{where}: a LAB marker must be a line of its own: {line.strip()}")
        if not (open_region and open_region[0] == lab):
            out.append(line)
    if open_region:
        raise MarkerError(f"{open_region[1]}: LAB {open_region[2]} never ends")
    return out, regions


def regions_of(name):
    """[(file, number in the file, line, function)] of every region of a
    lab, in the order of LABS[name].files."""
    found = []
    for path in LABS[name].files:
        lines, function = read_lines(path), "?"
        for n, line in enumerate(lines, 1):
            m = re.match(r"^[a-z].*?\b(\w+)\(", line)
            if m:
                function = m.group(1)
            b = BEGIN.match(line)
            if b and b.group(2) == name:
                k = sum(1 for f in found if f[0] == path) + 1
                found.append((path, k, n, function))
    return found


def write_variant(name, number, dest):
    """Rewrite the lab's files in the existing tree dest with only region
    `number` (of regions_of(name), from 1) stubbed."""
    path, k, line, function = regions_of(name)[number - 1]
    for f in LABS[name].files:
        lines, _ = transform(read_lines(f), name, f, only={k} if f == path else set())
        with open(os.path.join(dest, f), "w", encoding="utf-8") as out:
            out.writelines(lines)
    print(f"lab {name}: only {function}() stubbed ({path}:{line})")


def tree_files():
    """Paths git knows here: tracked, or untracked and not ignored. Outside
    a git checkout (a tarball): every file but build/ and caches."""
    r = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], capture_output=True)
    if r.returncode == 0:
        paths = r.stdout.decode().split("\0")
    else:
        paths = [os.path.relpath(os.path.join(d, n), ROOT)
                 for d, dirs, names in os.walk(ROOT) for n in names]
        paths = [p for p in paths if not p.startswith(("build/", ".git/")) and "__pycache__" not in p]
    return sorted({p for p in paths if p and os.path.isfile(os.path.join(ROOT, p))})


def read_lines(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.readlines()


def check_all():
    """Parse every marker; returns {lab: [files with regions]}."""
    found = {}
    for path in tree_files():
        if not path.endswith(MARKED_SUFFIXES):
            continue
        lines = read_lines(path)
        labs = {m.group(2) for m in map(BEGIN.match, lines) if m}
        for lab in labs:
            transform(lines, lab, path)
            found.setdefault(lab, []).append(path)
    return found


def lab_mk(name):
    return (f"# Written by scripts/lab.py: this tree is lab {name}'s starting point.\n"
            f"LAB ?= {name}\n"
            "# Helpers that only the missing code calls are still compiled: warn.\n"
            "LAB_CFLAGS := -Wno-error=unused-function\n")


def lab_readme(lab):
    return (f"# Lab {lab.name}: {lab.title}\n\n"
            f"This tree is the starting point of lab `{lab.name}`. The handout is\n"
            f"[docs/labs/{lab.name}.md](docs/labs/{lab.name}.md); the course is\n"
            f"[docs/course.md](docs/course.md). The code to write is marked\n"
            f"`LAB {lab.name}: your code here` in {', '.join(lab.files)}.\n\n"
            "    make run      # boot it\n"
            f"    make grade    # the grader: points per case, then Score: N/M\n\n"
            "Commit your work as you go: this directory is a git repository.\n")


def write_tree(name, dest):
    lab = LABS[name]
    if os.path.exists(dest) and os.listdir(dest):
        raise SystemExit(f"lab.py: {dest} exists and is not empty")
    if os.path.commonpath([ROOT, os.path.abspath(dest)]) == ROOT:
        raise SystemExit(f"lab.py: {dest} is inside this tree; put the student tree elsewhere")
    regions = {}
    for path in tree_files():
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if path.endswith(MARKED_SUFFIXES):
            lines, n = transform(read_lines(path), name, path)
            with open(target, "w", encoding="utf-8") as f:
                f.writelines(lines)
            shutil.copymode(os.path.join(ROOT, path), target)
            if n:
                regions[path] = n
        else:
            shutil.copy2(os.path.join(ROOT, path), target)
    missing = set(lab.files) - set(regions)
    if missing or not regions:
        raise SystemExit(f"lab.py: lab {name} has no marked region in {sorted(missing)}")
    with open(os.path.join(dest, "lab.mk"), "w") as f:
        f.write(lab_mk(name))
    with open(os.path.join(dest, "LAB.md"), "w") as f:
        f.write(lab_readme(lab))
    git = ["git", "-C", dest, "-c", "user.name=Pagoda labs", "-c",
           "user.email=labs@pagoda.invalid", "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", f"Lab {name}: starting point"], check=True)
    where = ", ".join(f"{p} ({n})" for p, n in sorted(regions.items()))
    print(f"lab {name}: stubs in {where}; handout docs/labs/{name}.md; tree in {dest}")


def main(argv):
    try:
        if argv[1:2] == ["--check"]:
            for lab, files in sorted(check_all().items()):
                print(f"lab {lab}: {', '.join(files)}")
            return 0
        if argv[1:2] == ["--regions"] and len(argv) == 3 and argv[2] in LABS:
            for i, (path, _, line, function) in enumerate(regions_of(argv[2]), 1):
                print(f"{i} {path}:{line} {function}")
            return 0
        if argv[1:2] == ["--variant"] and len(argv) == 5 and argv[3] in LABS:
            write_variant(argv[3], int(argv[2]), argv[4])
            return 0
        if len(argv) != 3 or argv[1] not in LABS:
            print(f"usage: lab.py NAME DEST, NAME one of: {' '.join(LABS)}", file=sys.stderr)
            return 2
        check_all()
        write_tree(argv[1], argv[2])
    except MarkerError as e:
        print(f"lab.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

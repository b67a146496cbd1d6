#!/usr/bin/env python3
"""A boot whose verdict is read off the screen (part of make test).

usage: screen.py ISO OUTDIR NAME FIRMWARE RAM TIMEOUT [QEMU OPTION ...]

For a machine without a serial port (QEMU option -serial none): there is
no KTAP stream to read, so this script boots ISO without isa-debug-exit,
lets ACPI power-off pause QEMU, takes a screendump through the monitor and
reads the text on it back, cell by cell, with the font the kernel draws
with (FONT in the environment, as for make). The kernel prints its self-
test summary again as it powers off, so the last screen holds both
verdicts. Writes OUTDIR/NAME.screen.txt (the text) and OUTDIR/NAME.log
(this script's checks, as KTAP) for scripts/ktap.py.
"""
import gzip, os, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devices import monitor, wait_paused  # noqa: E402
import psf2c  # noqa: E402

DEFAULT_FONT = "/usr/share/consolefonts/Lat15-Terminus16.psf.gz"


def load_font(path):
    """{glyph bitmap: character} and the cell size, for the kernel's font."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    parse = psf2c.parse_psf2 if data[:4] == psf2c.PSF2_MAGIC else psf2c.parse_psf1
    width, height, glyphs, table = parse(data)
    latin1 = psf2c.latin1_glyphs(width, height, glyphs, table)
    bitmaps = {}
    for code in range(0x7e, 0x1f, -1):  # printable ASCII wins over look-alikes
        bitmaps.setdefault(bytes(latin1[code]), chr(code))
    return bitmaps, width, height


def screen_text(ppm, font):
    """The screen's text: each cell's lit pixels looked up in the font."""
    bitmaps, fw, fh = font
    with open(ppm, "rb") as f:
        magic, dims, maxval, pixels = f.read().split(b"\n", 3)
    w, h = map(int, dims.split())
    bpr = (fw + 7) // 8
    lines = []
    for row in range(h // fh):
        line = []
        for col in range(w // fw):
            glyph = bytearray()
            for y in range(fh):
                bits = 0
                for x in range(fw):
                    o = ((row * fh + y) * w + col * fw + x) * 3
                    bits = bits << 1 | (pixels[o:o + 3] != b"\0\0\0")
                glyph += (bits << (bpr * 8 - fw)).to_bytes(bpr, "big")
            line.append(bitmaps.get(bytes(glyph), "\ufffd"))
        lines.append("".join(line).rstrip())
    return lines


def checks(lines):
    """(ok, case name, why) for the verdicts the screen must show."""
    text = "\n".join(lines)
    kernel = re.findall(r"^ktest: (\d+) passed, (\d+) failed, (\d+) skipped$", text, re.M)
    user = re.findall(r"^# Totals: pass:(\d+) fail:(\d+) skip:(\d+)", text, re.M)
    init = re.findall(r"^# init: (\d+) of (\d+) test programs passed", text, re.M)
    return [
        (bool(kernel) and kernel[-1][1] == "0" and int(kernel[-1][0]) > 0,
         "screen_shows_kernel_self_tests_without_failures", "kernel summary: %s" % kernel),
        (bool(user) and user[-1][1] == "0" and int(user[-1][0]) > 0,
         "screen_shows_user_suites_without_failures", "user totals: %s" % user),
        (bool(init) and init[-1][0] == init[-1][1],
         "screen_shows_every_test_program_passed", "init: %s" % init),
    ]


def write_ktap(path, name, cases):
    fails = sum(1 for c in cases if not c[0])
    with open(path, "w") as f:
        f.write("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: screen_%s\n" % name)
        f.write("    1..%d\n" % len(cases))
        for i, (good, case, why) in enumerate(cases, 1):
            if not good:
                f.write("    # %s: %s\n" % (case, why))
            f.write("    %s %d %s\n" % ("ok" if good else "not ok", i, case))
        f.write("# screen_%s: pass:%d fail:%d skip:0 total:%d\n"
                % (name, len(cases) - fails, fails, len(cases)))
        f.write("%s 1 screen_%s\n" % ("not ok" if fails else "ok", name))
        f.write("# Totals: pass:%d fail:%d skip:0 total:%d\n" % (len(cases) - fails, fails, len(cases)))


def main():
    iso, out, name, firmware, mem, timeout = sys.argv[1:7]
    extra = sys.argv[7:]
    sock, ppm = "%s/%s.sock" % (out, name), "%s/%s.ppm" % (out, name)
    for path in (sock, ppm):
        if os.path.exists(path):
            os.remove(path)
    proc = subprocess.Popen(
        ["scripts/qemu.sh", "--headless", "--firmware", firmware, "--mem", mem, "--iso", iso,
         "--timeout", timeout, "--monitor", sock, "--pause-on-poweroff", "--"] + extra,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    paused = wait_paused(sock, proc, int(timeout) - 10)
    cases = [(paused, "guest_powered_off", "QEMU never paused after power-off")]
    if paused:
        monitor(sock, "screendump %s" % ppm)
        time.sleep(1)
        monitor(sock, "quit")
    proc.wait()
    lines = []
    if os.path.exists(ppm):
        lines = screen_text(ppm, load_font(os.environ.get("FONT") or DEFAULT_FONT))
    with open("%s/%s.screen.txt" % (out, name), "w") as f:
        f.write("\n".join(lines) + "\n")
    cases += checks(lines)
    write_ktap("%s/%s.log" % (out, name), name, cases)
    return 0 if all(c[0] for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())

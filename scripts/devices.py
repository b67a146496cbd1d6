#!/usr/bin/env python3
"""Device memory proven from outside the guest (part of make test).

usage: scripts/devices.py ISO OUTDIR

Boots ISO (whose init is /bin/devcheck, user/devcheck.c) twice, with an
ivshmem-plain device whose BAR2 is a file on the host:
  - SeaBIOS, 8 GiB, a 1 GiB BAR (placed above RAM, at 10 GiB);
  - OVMF, 8 GiB, a 64 MiB BAR (placed near 896 GiB).
devcheck writes a pattern over the whole BAR through its sysfs resource
file and paints four quadrants on /dev/fb0, then powers off; QEMU pauses
instead of exiting, this script takes a screendump through the monitor,
then checks the pattern in the host file and the pixels in the picture.
Each boot leaves OUTDIR/NAME.log (the guest's KTAP) and
OUTDIR/NAME-host.log (this script's checks, as KTAP) for scripts/ktap.py.
"""
import os, socket, struct, subprocess, sys, time

MAGIC = 0x5061676F6461
PAGE = 4096
QUADRANTS = [(0xFF, 0, 0), (0, 0xFF, 0), (0, 0, 0xFF), (0xFF, 0xFF, 0xFF)]


def monitor(sock_path, command):
    """Send one monitor command; return what QEMU answered."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.settimeout(5)
    time.sleep(0.2)
    s.recv(4096)  # the banner
    s.sendall((command + "\n").encode())
    time.sleep(0.5)
    try:
        reply = s.recv(65536).decode(errors="replace")
    except socket.timeout:
        reply = ""
    s.close()
    return reply


def wait_paused(sock_path, proc, timeout):
    """Wait until the guest powered off (QEMU paused) or QEMU ended."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(sock_path):
            try:
                if "paused" in monitor(sock_path, "info status"):
                    return True
            except OSError:
                pass
        time.sleep(1)
    return False


def check_pattern(path):
    """Every page's first word is index ^ MAGIC, its last ~(index ^ MAGIC)."""
    bad = 0
    with open(path, "rb") as f:
        data = f.read()
    for i in range(len(data) // PAGE):
        first, = struct.unpack_from("<Q", data, i * PAGE)
        last, = struct.unpack_from("<Q", data, i * PAGE + PAGE - 8)
        if first != (i ^ MAGIC) or last != (~(i ^ MAGIC) & 0xFFFFFFFFFFFFFFFF):
            bad += 1
    return len(data) // PAGE, bad


def check_quadrants(ppm):
    """The centre pixel of each quadrant has devcheck's colour."""
    with open(ppm, "rb") as f:
        magic, dims, maxval, pixels = f.read().split(b"\n", 3)
    w, h = map(int, dims.split())
    got = []
    for q in range(4):
        x = w // 4 + (q % 2) * w // 2
        y = h // 4 + (q // 2) * h // 2
        o = (y * w + x) * 3
        got.append(tuple(pixels[o:o + 3]))
    return got == QUADRANTS, got, (w, h)


def run(iso, out, name, firmware, bar_size):
    log, host_log = f"{out}/{name}.log", f"{out}/{name}-host.log"
    sock, ppm = f"{out}/{name}.sock", f"{out}/{name}.ppm"
    shm = f"/dev/shm/pagoda-{os.getpid()}-{name}.img"  # clones may test at once
    for path in (log, host_log, sock, ppm, shm):
        if os.path.exists(path):
            os.remove(path)
    subprocess.run(["fallocate", "-l", bar_size, shm], check=True)
    proc = subprocess.Popen(
        ["scripts/qemu.sh", "--headless", "--firmware", firmware, "--mem", "8G",
         "--iso", iso, "--serial", log, "--timeout", "300", "--ivshmem", f"{bar_size}:{shm}",
         "--monitor", sock, "--pause-on-poweroff"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cases = []
    paused = wait_paused(sock, proc, 280)
    cases.append((paused, "guest_powered_off", "QEMU never paused after power-off"))
    if paused:
        monitor(sock, f"screendump {ppm}")
        time.sleep(1)
        monitor(sock, "quit")
    proc.wait()
    pages, bad = check_pattern(shm) if paused else (0, -1)
    cases.append((paused and pages > 0 and bad == 0, "host_file_holds_guest_bar_pattern",
                  f"{bad} of {pages} pages wrong"))
    ok, got, dims = check_quadrants(ppm) if os.path.exists(ppm) else (False, None, None)
    cases.append((ok, "screendump_shows_devcheck_quadrants", f"pixels {got}, screen {dims}"))
    os.remove(shm)
    with open(host_log, "w") as f:
        f.write("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: host_%s\n" % name)
        f.write("    1..%d\n" % len(cases))
        for i, (good, case, why) in enumerate(cases, 1):
            if not good:
                f.write(f"    # {case}: {why}\n")
            f.write(f"    {'ok' if good else 'not ok'} {i} {case}\n")
        fails = sum(1 for c in cases if not c[0])
        f.write(f"# host_{name}: pass:{len(cases) - fails} fail:{fails} skip:0 total:{len(cases)}\n")
        f.write(f"{'not ok' if fails else 'ok'} 1 host_{name}\n")
        f.write(f"# Totals: pass:{len(cases) - fails} fail:{fails} skip:0 total:{len(cases)}\n")
    return [log, host_log]


def main():
    iso, out = sys.argv[1], sys.argv[2]
    logs = run(iso, out, "devices-bios", "bios", "1G")
    logs += run(iso, out, "devices-uefi", "uefi", "64M")
    print(" ".join(logs))


if __name__ == "__main__":
    main()

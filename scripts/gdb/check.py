"""Checks of the pg- commands against the kernel they inspect, printed as
KTAP (run by scripts/gdb-check.sh, inside gdb, stopped in
syscall_dispatch() at init's first system call: mm is up, init runs).

Each case runs a command, reads its output, and compares it with what
the kernel's own variables or an independent read of memory say."""
import os
import re

import gdb

KERNEL_VIRT_BASE = 0xFFFFFFFF80000000  # include/pagoda/layout.h
DIRECT_MAP_BASE = 0xFFFF888000000000

results = []


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def value(expr):
    return int(gdb.parse_and_eval(expr))


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def mapped_to(out):
    """(physical address, page size) from pg-pagewalk's last line."""
    m = re.search(r"=> 0x[0-9a-f]+ maps to physical (0x[0-9a-f]+) \(([0-9]+ [KMG]iB) page", out)
    expect(m, "no 'maps to physical' line in:\n" + out)
    return int(m.group(1), 16), m.group(2)


def leaf_line(out):
    lines = [line for line in out.splitlines() if "frame=" in line]
    expect(len(lines) == 1, "expected one leaf entry in:\n" + out)
    return lines[0]


def pagewalk_of_kmain_gives_its_physical_frame():
    kmain = value("(unsigned long)&kmain")
    out = run("pg-pagewalk %#x" % kmain)
    pa, _ = mapped_to(out)
    expect(pa == kmain - KERNEL_VIRT_BASE, "kmain at %#x walks to %#x, its physical address is %#x"
           % (kmain, pa, kmain - KERNEL_VIRT_BASE))
    leaf = leaf_line(out)
    for word in ("present", "read-only", "kernel", "exec", "cache=WB"):
        expect(" %s " % word in leaf + " ", "kernel text entry lacks '%s': %s" % (word, leaf))
    expect(out.count("table=") >= 2, "fewer than two table levels above kmain:\n" + out)


def pagewalk_of_kernel_data_is_a_writable_nx_4k_page():
    va = value("(unsigned long)&zones[1]")
    out = run("pg-pagewalk %#x" % va)
    pa, size = mapped_to(out)
    expect(pa == va - KERNEL_VIRT_BASE and size == "4 KiB", "zones[1] at %#x walks to %#x (%s)"
           % (va, pa, size))
    leaf = leaf_line(out)
    for word in ("present", "write", "kernel", "nx"):
        expect(" %s " % word in leaf + " ", "kernel data entry lacks '%s': %s" % (word, leaf))


def pagewalk_of_direct_map_is_a_huge_writable_nx_page():
    pa = 0x112345678  # RAM at 4 GiB + 291 MiB (the guest has 8 GiB), inside a huge page
    out = run("pg-pagewalk %#x" % (DIRECT_MAP_BASE + pa))
    got, size = mapped_to(out)
    expect(got == pa, "direct map of %#x walks to %#x" % (pa, got))
    expect(size in ("2 MiB", "1 GiB"), "the direct map uses a %s page at 4 GiB" % size)
    leaf = leaf_line(out)
    for word in ("present", "write", "kernel", "nx", "PS"):
        expect(" %s " % word in leaf + " ", "direct-map entry lacks '%s': %s" % (word, leaf))


def pagewalk_of_framebuffer_console_is_write_combining():
    base = value("(unsigned long)fbcon.base")
    fb = value("boot_info.fb.addr")
    expect(base, "fbcon.base is NULL: no framebuffer console")
    out = run("pg-pagewalk %#x" % base)
    got, _ = mapped_to(out)
    expect(got == fb, "fbcon.base %#x walks to %#x, the framebuffer is at %#x" % (base, got, fb))
    expect("cache=WC" in leaf_line(out), "the framebuffer console is not WC:\n" + out)


def pagewalk_of_user_rip_reads_the_same_bytes():
    rip = value("tf->rip")
    out = run("pg-pagewalk %#x" % rip)
    pa, _ = mapped_to(out)
    leaf = leaf_line(out)
    for word in ("present", "user", "exec"):
        expect(" %s " % word in leaf + " ", "init's text entry lacks '%s': %s" % (word, leaf))
    inf = gdb.selected_inferior()
    through_va = bytes(inf.read_memory(rip, 16))
    through_pa = bytes(inf.read_memory(DIRECT_MAP_BASE + pa, 16))
    expect(through_va == through_pa, "16 bytes at rip %#x differ from those at physical %#x"
           % (rip, pa))


def pagewalk_of_hole_is_not_mapped():
    out = run("pg-pagewalk 0xffff900000000000")
    expect("is not mapped" in out and "not present" in out, out)


def pagewalk_rejects_noncanonical_address():
    out = run("pg-pagewalk 0x8000000000000000")
    expect("not canonical" in out, out)


def vmas_of_init_hold_its_text_and_stack():
    out = run("pg-vmas")
    rip, rsp = value("tf->rip"), value("tf->rsp")
    rows = re.findall(r"^  ([0-9a-f]{16})-([0-9a-f]{16}) (\S{4}) .*?(\S*)$", out, re.M)
    expect(len(rows) == value("percpu_areas[0].curr->mm->map_count"),
           "%d rows, map_count %d:\n%s" % (len(rows), value("percpu_areas[0].curr->mm->map_count"), out))
    text = [r for r in rows if int(r[0], 16) <= rip < int(r[1], 16)]
    stack = [r for r in rows if int(r[0], 16) <= rsp < int(r[1], 16)]
    expect(text and text[0][2] == "r-xp" and text[0][3] == "/sbin/init",
           "no r-xp /sbin/init VMA holds rip %#x:\n%s" % (rip, out))
    expect(stack and stack[0][2] == "rw-p" and stack[0][3] == "[stack]",
           "no rw-p [stack] VMA holds rsp %#x:\n%s" % (rsp, out))


def buddy_lists_agree_with_the_zone_counters():
    out = run("pg-buddy")
    expect("free lists agree with the counters" in out, out)
    zones = re.findall(r"^zone (\S+) .*free (\d+) pages$", out, re.M)
    expect([z[0] for z in zones] == ["DMA", "DMA32", "Normal"], out)
    for i, (name, free) in enumerate(zones):
        expect(int(free) == value("zones[%d].free_pages" % i), "%s: %s" % (name, out))
    blocks = re.findall(r"^  blocks((?: +\d+)+)$", out, re.M)
    expect(len(blocks) == 3, out)
    for (name, free), row in zip(zones, blocks):
        pages = sum(int(n) << o for o, n in enumerate(row.split()))
        expect(pages == int(free), "%s: the blocks add up to %d pages, not %s" % (name, pages, free))


def tasks_show_init_running_and_idle():
    out = run("pg-tasks")
    expect(re.search(r"^\*\s+1 RUNNABLE\s+0 init\s", out, re.M), out)
    expect(re.search(r"^\s+0 RUNNABLE\s+0 idle\s", out, re.M), out)


def dmesg_ends_with_what_the_serial_port_printed():
    out = run("pg-dmesg")
    serial = open(os.environ["PAGODA_SERIAL_LOG"], errors="replace").read().replace("\r", "")
    tail = [line for line in serial.splitlines() if line.strip()][-3:]
    expect("Pagoda booting via" in out, "no boot banner in pg-dmesg")
    expect(out.rstrip("\n").endswith("\n".join(tail)),
           "pg-dmesg ends with:\n%s\nthe serial port's last lines are:\n%s"
           % ("\n".join(out.splitlines()[-3:]), "\n".join(tail)))


CASES = [pagewalk_of_kmain_gives_its_physical_frame,
         pagewalk_of_kernel_data_is_a_writable_nx_4k_page,
         pagewalk_of_direct_map_is_a_huge_writable_nx_page,
         pagewalk_of_framebuffer_console_is_write_combining,
         pagewalk_of_user_rip_reads_the_same_bytes,
         pagewalk_of_hole_is_not_mapped,
         pagewalk_rejects_noncanonical_address,
         vmas_of_init_hold_its_text_and_stack,
         buddy_lists_agree_with_the_zone_counters,
         tasks_show_init_running_and_idle,
         dmesg_ends_with_what_the_serial_port_printed]


def main():
    lines = ["KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: gdb",
             "    1..%d" % len(CASES)]
    failed = 0
    for i, case in enumerate(CASES, 1):
        try:
            case()
            lines.append("    ok %d %s" % (i, case.__name__))
        except (Failed, gdb.error) as e:
            failed += 1
            lines += ["    # %s: %s" % (case.__name__, line) for line in str(e).splitlines()]
            lines.append("    not ok %d %s" % (i, case.__name__))
    n = len(CASES)
    lines.append("# gdb: pass:%d fail:%d skip:0 total:%d" % (n - failed, failed, n))
    lines.append("%s 1 gdb" % ("not ok" if failed else "ok"))
    lines.append("# Totals: pass:%d fail:%d skip:0 total:%d" % (n - failed, failed, n))
    gdb.write("\n".join(lines) + "\n")


main()

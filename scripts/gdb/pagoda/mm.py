"""Memory commands: pg-pagewalk, pg-vmas, pg-buddy."""
import gdb

from . import utils

# include/pagoda/pgtable.h and cache.h
PTE_PRESENT, PTE_WRITE, PTE_USER = 1 << 0, 1 << 1, 1 << 2
PTE_PWT, PTE_PCD, PTE_ACCESSED, PTE_DIRTY = 1 << 3, 1 << 4, 1 << 5, 1 << 6
PTE_PS, PTE_GLOBAL = 1 << 7, 1 << 8
PTE_SPECIAL, PTE_COW, PTE_PROTNONE = 1 << 9, 1 << 10, 1 << 11
PTE_PAT_LARGE, PTE_NX = 1 << 12, 1 << 63
PTE_ADDR_MASK = 0x000FFFFFFFFFF000
# IA32_PAT as pat_init() programs it (cache.h): the memory type of each
# PAT index, index = PAT << 2 | PCD << 1 | PWT.
PAT_TYPES = ["WB", "WC", "UC-", "UC", "WB", "WP", "UC-", "WT"]
LEVEL_NAMES = ["PT", "PD", "PDPT", "PML4"]
PAGE_SIZES = ["4 KiB", "2 MiB", "1 GiB"]

# include/pagoda/mm_types.h
VM_FLAG_NAMES = [(0x100, "GROWSDOWN"), (0x400, "PFNMAP"), (0x4000, "IO"),
                 (0x20000, "DONTCOPY"), (0x40000, "DONTEXPAND"), (0x4000000, "DONTDUMP")]


def cache_type(entry, level):
    pat = entry & (1 << 7) if level == 0 else entry & PTE_PAT_LARGE
    idx = (4 if pat else 0) | (2 if entry & PTE_PCD else 0) | (1 if entry & PTE_PWT else 0)
    return PAT_TYPES[idx]


def is_leaf(entry, level):
    return level == 0 or (level in (1, 2) and entry & PTE_PS)


def decode(entry, level):
    """The bits of one entry in words: present, write, user, nx, PS, the
    cache type (leaves), the software bits, and what it points to."""
    if not entry & (PTE_PRESENT | PTE_PROTNONE):
        return "not present"
    leaf = is_leaf(entry, level)
    words = ["present" if entry & PTE_PRESENT else "prot-none",
             "write" if entry & PTE_WRITE else "read-only",
             "user" if entry & PTE_USER else "kernel",
             "nx" if entry & PTE_NX else "exec"]
    if level in (1, 2) and entry & PTE_PS:
        words.append("PS")
    for bit, name in ((PTE_ACCESSED, "accessed"), (PTE_DIRTY, "dirty"), (PTE_GLOBAL, "global"),
                      (PTE_SPECIAL, "special"), (PTE_COW, "cow")):
        if entry & bit and (leaf or bit == PTE_ACCESSED):
            words.append(name)
    if leaf:
        size = 1 << (12 + 9 * level)
        words.append("cache=%s" % cache_type(entry, level))
        words.append("frame=%#x" % (entry & PTE_ADDR_MASK & ~(size - 1)))
    else:
        words.append("table=%#x" % (entry & PTE_ADDR_MASK))
    return " ".join(words)


def canonical(va):
    top = va >> 47
    return top == 0 or top == (1 << 17) - 1


def root_of(arg):
    """The PML4 to walk: that of the task with the given pid, else CR3."""
    if arg:
        t = utils.find_task(int(gdb.parse_and_eval(arg)))
        if int(t["mm"]):
            return int(t["mm"]["pgd"]), "pid %d" % int(t["pid"])
        return int(utils.symbol_value("kernel_pml4")), "kernel_pml4"
    try:
        return int(gdb.parse_and_eval("$cr3")) & PTE_ADDR_MASK, "CR3"
    except gdb.error:
        return int(utils.symbol_value("kernel_pml4")), "kernel_pml4"


def walk(va, root, read_phys):
    """[(level, index, entry address, entry)] from the PML4 down to the
    leaf or the first entry that maps nothing."""
    steps, table = [], root
    for level in (3, 2, 1, 0):
        index = (va >> (12 + 9 * level)) & 511
        addr = table + 8 * index
        entry = read_phys(addr)
        steps.append((level, index, addr, entry))
        if not entry & (PTE_PRESENT | PTE_PROTNONE) or is_leaf(entry, level):
            break
        table = entry & PTE_ADDR_MASK
    return steps


class PageWalk(gdb.Command):
    """Walk the page tables for a virtual address: pg-pagewalk ADDR [PID]

Shows each level's entry (PML4, PDPT, PD, PT) decoded: present, write,
user, nx/exec, PS (a 2 MiB or 1 GiB page), accessed, dirty, global, the
software bits special (device memory) and cow, the cache type its PAT/PCD/
PWT bits select, and the next table or the frame. Walks the tables in CR3,
or those of task PID. Table pages are read as physical memory."""

    def __init__(self):
        super().__init__("pg-pagewalk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv:
            raise gdb.GdbError("usage: pg-pagewalk ADDR [PID]")
        va = int(gdb.parse_and_eval(argv[0]).cast(utils.lookup_type("unsigned long"))) & (2**64 - 1)
        root, what = root_of(argv[1] if len(argv) > 1 else "")
        gdb.write("pg-pagewalk %#x (%s %#x)\n" % (va, what, root))
        if not canonical(va):
            gdb.write("=> %#x is not canonical: bits 63-47 must all equal bit 47\n" % va)
            return
        with utils.physical_memory() as read_phys:
            steps = walk(va, root, read_phys)
        for level, index, addr, entry in steps:
            gdb.write("  %-4s [%3d] @%#x  %#018x  %s\n" % (LEVEL_NAMES[level], index, addr, entry,
                                                          decode(entry, level)))
        level, _, _, entry = steps[-1]
        if entry & PTE_PRESENT and is_leaf(entry, level):
            size = 1 << (12 + 9 * level)
            pa = (entry & PTE_ADDR_MASK & ~(size - 1)) + (va & (size - 1))
            gdb.write("=> %#x maps to physical %#x (%s page, %s)\n" % (
                va, pa, PAGE_SIZES[level], cache_type(entry, level)))
        else:
            gdb.write("=> %#x is not mapped (no present entry at %s)\n" % (va, LEVEL_NAMES[level]))


def vma_name(v, mm):
    f = v["vm_file"]
    if int(f):
        if int(f["path"][0]):
            return utils.c_string(f["path"])
        if int(f["name"]):
            return utils.c_string(f["name"])
    if int(v["vm_ops"]):
        return "(%s)" % utils.symbol_at(int(v["vm_ops"]))
    start, end = int(v["vm_start"]), int(v["vm_end"])
    if start <= int(mm["brk"]) and end >= int(mm["start_brk"]):
        return "[heap]"
    if start <= int(mm["start_stack"]) <= end:
        return "[stack]"
    return ""


def perms(flags):
    return "".join(c if flags & bit else "-" for bit, c in ((1, "r"), (2, "w"), (4, "x"))) + \
        ("s" if flags & 0x8 else "p")


def size_str(n):
    for unit, shift in (("GiB", 30), ("MiB", 20)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d %s" % (n >> shift, unit)
    return "%d KiB" % (n >> 10)


class Vmas(gdb.Command):
    """List a process's VMAs: pg-vmas [PID]

One line per VMA of the task's mm (the current task without PID), in
address order, as [start, end) with permissions, size, page offset,
vm_flags and the name /proc/PID/maps would show."""

    def __init__(self):
        super().__init__("pg-vmas", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        t = utils.task_or_current(arg)
        mm = t["mm"]
        if not int(mm):
            gdb.write("pid %d (%s) is a kernel task: no mm\n" % (int(t["pid"]), utils.c_string(t["comm"])))
            return
        vmas = list(utils.list_for_each_entry(mm["vma_list"], "struct vm_area_struct", "vm_list"))
        gdb.write("pid %d (%s): mm %#x, pgd %#x, %d VMAs (map_count %d)\n" % (
            int(t["pid"]), utils.c_string(t["comm"]), int(mm), int(mm["pgd"]), len(vmas),
            int(mm["map_count"])))
        for v in vmas:
            flags = int(v["vm_flags"])
            named = [n for bit, n in VM_FLAG_NAMES if flags & bit]
            gdb.write("  %016x-%016x %s %9s pgoff %#-8x flags %#-9x %-20s %s\n" % (
                int(v["vm_start"]), int(v["vm_end"]), perms(flags),
                size_str(int(v["vm_end"]) - int(v["vm_start"])), int(v["vm_pgoff"]), flags,
                ",".join(named), vma_name(v, mm)))


class Buddy(gdb.Command):
    """Show the buddy allocator's free lists: pg-buddy

For each zone: its range, managed and free pages, and for each order the
number of free blocks, counted by walking the free list itself and
compared with the zone's counter (nr_free) and free_pages."""

    def __init__(self):
        super().__init__("pg-buddy", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        zones = utils.symbol_value("zones")
        nr_zones = zones.type.range()[1] + 1
        problems = walked_zones = 0
        for z in range(nr_zones):
            zone = zones[z]
            orders = zone["free_list"].type.range()[1] + 1
            if not int(zone["free_list"][0]["next"]):
                gdb.write("zone %s: no free lists yet (pmm_init has not run)\n"
                          % utils.c_string(zone["name"]))
                continue
            walked_zones += 1
            walked = [sum(1 for _ in utils.list_for_each_entry(zone["free_list"][o], "struct page", "lru"))
                      for o in range(orders)]
            counted = [int(zone["nr_free"][o]) for o in range(orders)]
            pages = sum(n << o for o, n in enumerate(walked))
            gdb.write("zone %-6s [%#x, %#x): managed %d pages, free %d pages\n" % (
                utils.c_string(zone["name"]), int(zone["start"]), int(zone["end"]),
                int(zone["managed_pages"]), int(zone["free_pages"])))
            gdb.write("  order  " + "".join("%7d" % o for o in range(orders)) + "\n")
            gdb.write("  blocks " + "".join("%7d" % n for n in walked) + "\n")
            for o in range(orders):
                if walked[o] != counted[o]:
                    gdb.write("  MISMATCH order %d: %d blocks on the list, nr_free says %d\n" % (
                        o, walked[o], counted[o]))
                    problems += 1
            if pages != int(zone["free_pages"]):
                gdb.write("  MISMATCH: the lists hold %d pages, free_pages says %d\n" % (
                    pages, int(zone["free_pages"])))
                problems += 1
        if walked_zones:
            gdb.write("free lists %s\n" % ("agree with the counters" if not problems
                                           else "DISAGREE with the counters (%d)" % problems))


PageWalk()
Vmas()
Buddy()

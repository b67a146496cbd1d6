"""Helpers shared by the pg- commands: list walking, tasks, and physical
memory reads through QEMU's gdb stub."""
import contextlib

import gdb

DIRECT_MAP_BASE = 0xFFFF888000000000  # include/pagoda/layout.h


def lookup_type(name):
    return gdb.lookup_type(name)


def offset_of(typename, member):
    """Byte offset of member in struct typename (Linux's offsetof)."""
    null = gdb.Value(0).cast(lookup_type(typename).pointer())
    return int(null[member].address)


def container_of(ptr, typename, member):
    """The struct typename whose member is at address ptr."""
    addr = int(ptr) - offset_of(typename, member)
    return gdb.Value(addr).cast(lookup_type(typename).pointer())


def list_for_each_entry(head, typename, member):
    """Yield the entries of a struct list_head list (include/pagoda/list.h)
    given the head (a gdb.Value of type struct list_head)."""
    head_addr = int(head.address)
    node = head["next"]
    seen = 0
    if not int(node):
        raise gdb.GdbError("the list at %#x is not initialised yet" % head_addr)
    while int(node) != head_addr:
        yield container_of(node, typename, member)
        node = node["next"]
        seen += 1
        if seen > 1_000_000:
            raise gdb.GdbError("list at %#x does not come back to its head" % head_addr)


def symbol_value(name):
    """A global or file-static variable, by name."""
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is None:
        raise gdb.GdbError("no symbol %s: is build/kernel.elf loaded?" % name)
    return sym.value()


def online_cpus():
    """The numbers of the online CPUs (cpu_online_mask, kernel/sched.c)."""
    mask = int(symbol_value("cpu_online_mask"))
    return [i for i in range(64) if mask & (1 << i)]


def percpu(cpu):
    """CPU cpu's struct percpu (include/pagoda/percpu.h)."""
    return symbol_value("percpu_areas")[cpu]


def selected_cpu():
    """The CPU gdb looks at: QEMU shows each CPU as a thread, 1 first."""
    thread = gdb.selected_thread()
    return thread.num - 1 if thread is not None else 0


def all_tasks():
    """Each online CPU's idle task, then every task of task_list
    (kernel/task.c)."""
    for cpu in online_cpus():
        idle = percpu(cpu)["idle"]
        if int(idle):
            yield idle
    for t in list_for_each_entry(symbol_value("task_list"), "struct task", "all_list"):
        yield t


def current_task():
    """The task running on the CPU gdb looks at (task.h's current)."""
    return percpu(selected_cpu())["curr"]


def find_task(pid):
    for t in all_tasks():
        if int(t["pid"]) == pid:
            return t
    raise gdb.GdbError("no task with pid %d" % pid)


def task_or_current(arg):
    """The task named by a pid argument, or the task running now."""
    arg = arg.strip()
    if arg:
        return find_task(int(gdb.parse_and_eval(arg)))
    return current_task()


def symbol_at(addr):
    """'name+off' of a kernel address, or its hex."""
    if not addr:
        return "-"
    out = gdb.execute("info symbol %#x" % addr, to_string=True).strip()
    if out.startswith("No symbol"):
        return "%#x" % addr
    return out.split(" in section")[0].replace(" + ", "+")


def read_u64(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def _phys_mode_supported():
    try:
        out = gdb.execute("maint packet qqemu.PhyMemMode", to_string=True)
    except gdb.error:
        return False
    return 'received: "0"' in out or 'received: "1"' in out


@contextlib.contextmanager
def physical_memory():
    """Within the block, read_phys(pa) reads physical memory: through QEMU's
    gdb stub in physical mode (Qqemu.PhyMemMode) when it has one, else
    through the kernel's direct map (which must be up: after mm_init)."""
    phys = _phys_mode_supported()
    if phys:
        gdb.execute("maint packet Qqemu.PhyMemMode:1", to_string=True)
    try:
        yield (lambda pa: read_u64(pa)) if phys else (lambda pa: read_u64(DIRECT_MAP_BASE + pa))
    finally:
        if phys:
            gdb.execute("maint packet Qqemu.PhyMemMode:0", to_string=True)


def c_string(value):
    try:
        return value.string()
    except gdb.error:
        return "?"

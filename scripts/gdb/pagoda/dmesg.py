"""pg-dmesg: the kernel log ring (kernel/printk.c)."""
import gdb

from . import utils


def log_ring_text():
    """The ring's bytes, oldest first, as printk_ring_read() returns them."""
    ring = utils.symbol_value("log_ring")
    head = int(utils.symbol_value("log_ring_head"))
    size = ring.type.sizeof
    data = bytes(gdb.selected_inferior().read_memory(ring.address, size))
    n = min(head, size)
    start = (head - n) % size
    raw = (data[start:] + data[:start])[:n] if n == size else data[start:start + n]
    return raw.decode("utf-8", errors="replace")


class Dmesg(gdb.Command):
    """Print the kernel log: pg-dmesg

The newest 16 KiB of everything printk() stored (debug messages included,
whatever the console log level), oldest first: kernel/printk.c's log ring."""

    def __init__(self):
        super().__init__("pg-dmesg", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        gdb.write(log_ring_text())


Dmesg()

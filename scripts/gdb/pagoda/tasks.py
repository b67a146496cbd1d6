"""pg-tasks: every task with its state and CPU."""
import gdb

from . import utils


def task_cpu(t):
    """The CPU a task is on: the task's cpu field once SMP gives it one;
    until then Pagoda runs on one CPU, CPU 0."""
    fields = {f.name for f in t.dereference().type.fields()}
    return int(t["cpu"]) if "cpu" in fields else 0


class Tasks(gdb.Command):
    """List tasks: pg-tasks

One line per task (the idle task first, then task_list): pid, state, the
CPU it runs on, its name, its mm and page-table root; '*' marks the task
running now (current)."""

    def __init__(self):
        super().__init__("pg-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        cur = int(utils.symbol_value("current"))
        gdb.write("  %5s %-14s %3s %-16s %-18s %s\n" % ("PID", "STATE", "CPU", "COMM", "MM", "PGD"))
        for t in utils.all_tasks():
            mm = int(t["mm"])
            state = str(t["state"]).replace("TASK_", "")
            gdb.write("%s %5d %-14s %3d %-16s %-18s %s\n" % (
                "*" if int(t) == cur else " ", int(t["pid"]), state, task_cpu(t),
                utils.c_string(t["comm"]) or "-", "%#x" % mm if mm else "-",
                "%#x" % int(t["mm"]["pgd"]) if mm else "-"))


Tasks()

"""pg-tasks: every task with its state and CPU."""
import gdb

from . import utils


def task_cpu(t):
    """The CPU whose run queue the task belongs to (task->cpu)."""
    return int(t["cpu"])


class Tasks(gdb.Command):
    """List tasks: pg-tasks

One line per task (each CPU's idle task first, then task_list): pid,
state, the CPU it belongs to, its name, its mm and page-table root; '*'
marks a task running now on some CPU."""

    def __init__(self):
        super().__init__("pg-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        running = {int(utils.percpu(c)["curr"]) for c in utils.online_cpus()}
        gdb.write("  %5s %-14s %3s %-16s %-18s %s\n" % ("PID", "STATE", "CPU", "COMM", "MM", "PGD"))
        for t in utils.all_tasks():
            mm = int(t["mm"])
            state = str(t["state"]).replace("TASK_", "")
            gdb.write("%s %5d %-14s %3d %-16s %-18s %s\n" % (
                "*" if int(t) in running else " ", int(t["pid"]), state, task_cpu(t),
                utils.c_string(t["comm"]) or "-", "%#x" % mm if mm else "-",
                "%#x" % int(t["mm"]["pgd"]) if mm else "-"))


Tasks()

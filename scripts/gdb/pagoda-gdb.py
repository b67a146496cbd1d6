"""Load Pagoda's gdb commands: `source scripts/gdb/pagoda-gdb.py` (make debug
does it through scripts/gdbinit).

  pg-pagewalk ADDR [PID]  the page-table walk for a virtual address
  pg-vmas [PID]           a process's VMAs
  pg-buddy                the buddy allocator's free lists per zone and order
  pg-tasks                tasks with their state and CPU
  pg-dmesg                the kernel log ring

`help pg-pagewalk` (and so on) says more."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pagoda.dmesg  # noqa: E402,F401
import pagoda.mm  # noqa: E402,F401
import pagoda.tasks  # noqa: E402,F401

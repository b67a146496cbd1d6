"""Pagoda's gdb commands (pg-*), in the manner of Linux's scripts/gdb lx-*."""

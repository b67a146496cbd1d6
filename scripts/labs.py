"""The labs of the operating-systems course (docs/course.md): what each
asks a student to write and how `make grade LAB=NAME` grades it.

Used by scripts/lab.py (which writes a student tree) and scripts/grade.py.

A lab's solution is marked in the main tree, in place, by comment lines:

    /* LAB buddy: begin, the stub returns NULL */
    ... the code the student writes ...
    /* LAB buddy: end */

"the stub returns X" makes the student's stub `return X;`; "the stub does
nothing" makes it empty (a trailing remark in parentheses is dropped from
either).

Grading boots the kernel once, with `ktest=` naming the lab's kernel
suites and init running the lab's user programs (`init=/sbin/init --
memtest`). `ktest` and `user` map a suite (or program) to the cases that
count: a shell pattern over the case names the sources declare
(KTEST_CASE, KTAP_CASE), a list of names (for a program that reports its
cases by hand), or WHOLE, which makes the suite a single item that passes
only if every one of its cases passes. Every item is worth one point
unless `points` names it (a case, or a WHOLE suite); a case `ungraded`
names does not count.
"""
from dataclasses import dataclass, field

WHOLE = None  # the suite counts as one item


@dataclass
class Lab:
    name: str
    title: str
    files: list                    # where the marked regions are
    ktest: dict                    # kernel suite -> pattern of graded cases (or WHOLE)
    user: dict                     # program in /bin -> pattern (or WHOLE)
    points: dict = field(default_factory=dict)
    ungraded: list = field(default_factory=list)  # cases a pattern matches that do not count
    ivshmem: str = ""              # size of an ivshmem BAR backed by a host file
    host_checks: list = field(default_factory=list)  # grade.py HOST_CHECKS names
    timeout: int = 120             # seconds the boot may take
    smp: int = 1                   # CPUs of the graded machine (QEMU's -smp)


LABS = {
    "buddy": Lab(
        name="buddy",
        title="The buddy allocator: split and merge",
        files=["mm/pmm.c"],
        ktest={"pmm": "*"},
        user={"memtest": WHOLE},
        points={
            "pmm_alloc_is_aligned_for_every_order": 3,
            "pmm_free_merges_back_what_alloc_split": 4,
            "pmm_zones_place_frames_by_address": 2,
            "pmm_exhaustion_returns_null_and_recovers_exactly": 3,
            "pmm_split_from_max_order_and_merge_back_to_one_block": 4,
            "pmm_random_stress_matches_shadow_model": 4,
            "memtest": 5,
        },
    ),
    "pgtable": Lab(
        name="pgtable",
        title="The page-table walker: map and unmap with three page sizes",
        files=["mm/pgtable.c"],
        ktest={"pgtable": "*", "directmap": "*"},
        user={"memtest": WHOLE},
        points={
            "pgtable_maps_4k_pages_above_4gib_without_truncation": 2,
            "pgtable_huge_flag_maps_2m_entry_at_high_address": 2,
            "pgtable_huge_flag_maps_1g_entry_near_1tib": 2,
            "pgtable_unmap_4k_inside_2m_entry_splits_it": 3,
            "pgtable_unmap_2m_inside_1g_entry_splits_it": 3,
            "pgtable_unmap_frees_tables_that_become_empty": 2,
            "pgtable_map_out_of_memory_part_way_leaves_nothing": 2,
            "memtest": 5,
        },
    ),
    "cow": Lab(
        name="cow",
        title="Copy-on-write fork",
        files=["mm/fork.c", "mm/fault.c"],
        ktest={"fork": "*", "remap": "remap_fork_*"},
        user={"memtest": "fork_*"},
        points={
            "fork_private_ptes_become_read_only_cow_with_refcount_2": 3,
            "fork_child_write_copies_page_and_leaves_parent_unchanged": 3,
            "fork_parent_write_after_child_copy_reuses_frame": 2,
            "fork_parent_write_after_child_exit_reuses_frame": 2,
            "fork_cow_fault_under_oom_keeps_child_data_and_leaks_nothing": 2,
            "remap_fork_copies_device_mapping_without_refcounts": 2,
            "fork_child_writes_stay_private": 2,
            "fork_parent_writes_stay_private": 2,
        },
    ),
    "remap": Lab(
        name="remap",
        title="remap_pfn_range(): a PCI BAR above 4 GiB in a process",
        files=["mm/remap.c"],
        ktest={"remap": "*", "devmem": "*", "pcisysfs": "*mmap*"},
        user={"devcheck": [  # user/devcheck.c reports by hand
            "ivshmem_bar_pattern_written", "bar_length_past_end_einval",
            "bar_offset_at_end_einval", "bar_unaligned_offset_einval", "bar_zero_length_einval",
            "bar_huge_length_enomem", "map_fixed_over_kernel_enomem",
            "bar_private_write_copies_the_page", "bar_mremap_growth_efault",
            "bar_madvise_dontneed_einval", "system_still_works_after_bad_inputs",
            "devmem_over_ram_eperm", "devmem_over_kernel_eperm",
            "devmem_memmap_range_round_trip", "devmem_read_through_kernel_sees_user_writes",
            "fb_paints_four_quadrants"]},
        points={
            "remap_rejects_bad_arguments_without_side_effects": 2,
            "remap_maps_pfn_above_4g_exactly": 3,
            "remap_uses_1g_entry_near_1tib_when_aligned": 3,
            "remap_falls_back_to_smaller_entries_when_unaligned": 2,
            "remap_partial_failure_unmaps_and_returns_enomem": 2,
            "pcisysfs_mmap_ivshmem_bar2_above_4g": 3,
            "ivshmem_bar_pattern_written": 3,
            "host_file_holds_guest_bar_pattern": 3,
        },
        # SeaBIOS places a 1 GiB BAR above RAM: at 10 GiB with 8 GiB of
        # RAM (../shared/NOTES.md), the seed story of docs/remap_pfn_range.md.
        ivshmem="1G",
        host_checks=["host_file_holds_guest_bar_pattern"],
    ),
    "tlb": Lab(
        name="tlb",
        title="TLB shootdown: flush every CPU that may hold a translation, then free",
        files=["mm/tlb.c"],
        ktest={"tlb": "*"},
        # main's lazy-TLB shortcut (a shootdown that passes an idle CPU
        # by) is not what the lab asks for: a tlb_flush() that flushes
        # every CPU in the mask is right.
        ungraded=["tlb_munmap_passes_a_lazy_cpu_by_and_it_flushes_on_return"],
        user={"memtest": WHOLE},
        points={
            "tlb_munmap_reaches_the_cpu_that_read_the_page": 3,
            "tlb_munmap_flushes_the_cpu_that_unmapped": 2,
            "tlb_munmap_above_the_ceiling_reaches_the_last_page": 2,
            "tlb_mprotect_read_only_reaches_the_cpu_that_wrote": 2,
            "tlb_cow_break_reaches_the_cpu_that_read_the_old_frame": 2,
            "tlb_fork_write_protects_the_parent_on_every_cpu": 2,
            "tlb_frees_the_frame_only_after_every_cpu_flushed": 3,
            "tlb_iounmap_reaches_every_cpu": 2,
            "memtest": 3,
        },
        # Two CPUs: the cases need a second one (they skip on one), and
        # the machine that grades may have no more than two cores.
        smp=2,
        timeout=60,
    ),
    "mmap": Lab(
        name="mmap",
        title="mmap of files: the page-cache fault and truncation's reverse map",
        files=["mm/filemap.c", "mm/rmap.c"],
        ktest={"filemap": "*", "rmap": "*", "shmem": "*",
               "exec": ["exec_ten_processes_share_the_text_frames",
                        "exec_pt_interp_starts_the_dynamic_linker_with_its_base_in_auxv"]},
        user={"mmaptest": "*", "filemaptest": "*"},
        points={
            "filemap_shared_store_is_the_file_data_at_once": 3,
            "filemap_private_read_shares_the_page_and_write_copies_it": 3,
            "filemap_fault_past_the_end_is_sigbus_and_the_tail_reads_zeros": 2,
            "filemap_fault_failing_at_any_allocation_leaves_no_page_and_no_entry": 2,
            "rmap_truncate_unmaps_the_pages_past_the_end_from_every_process": 3,
            "rmap_fork_puts_the_child_on_the_list_and_truncation_reaches_it": 2,
            "shmem_fork_shares_pages_not_touched_before_it": 2,
            "exec_ten_processes_share_the_text_frames": 2,
            "truncate_under_a_mapping_gives_sigbus_past_the_new_end": 3,
        },
    ),
}

/* Tests of the OOM killer's choice (mm/oom_kill.c) and of the resident
 * page counts it rests on (mm/rss.c).
 *
 * Stand-in tasks, each with its own address space holding a known number
 * of faulted-in pages, are put on the task list for the length of a case
 * (before init exists, the list is otherwise empty) and taken off again;
 * every frame is checked to come back. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_console.h>
#include <pagoda/ktest_mm.h>
#include <pagoda/mm.h>
#include <pagoda/oom.h>
#include <pagoda/pmm.h>
#include <pagoda/remap.h>
#include <pagoda/rss.h>
#include <pagoda/signal.h>
#include <pagoda/string.h>
#include <pagoda/task.h>
#include <pagoda/vma.h>

#define BASE 0x0000100000000000UL
#define P PAGE_SIZE
#define MAX_STANDINS 4

static struct task_standin standins[MAX_STANDINS];

/* An mm with pages resident pages of private anonymous memory. */
static struct mm_struct *mm_with_pages(unsigned int pages)
{
	struct mm_struct *mm = mm_create();

	if (!mm)
		return NULL;
	if (do_mmap(mm, BASE, (pages + 1) * P, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != (long)BASE)
		goto fail;
	for (unsigned int i = 0; i < pages; i++)
		if (handle_mm_fault(mm, BASE + i * P, FAULT_FLAG_WRITE) != VM_FAULT_OK)
			goto fail;
	return mm;
fail:
	mm_destroy(mm);
	return NULL;
}

/* Stand-in i: pid, and an mm of pages resident pages (none if pages < 0). */
static struct task *standin(unsigned int i, pid_t pid, int pages)
{
	struct task *t = &standins[i].task;

	uint64_t flags;

	task_standin_init(&standins[i], pid);
	/* Runnable but on no run queue, and never woken onto one (a wakeup
	 * only queues a sleeper): a signal to it must not make it run. */
	t->state = TASK_RUNNABLE;
	strlcpy(t->comm, "standin", sizeof(t->comm));
	if (pages >= 0 && !(t->mm = mm_with_pages(pages)))
		return NULL;
	flags = spin_lock_irqsave(&tasklist_lock);
	list_add_tail(&t->all_list, &task_list);
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return t;
}

static void standins_remove(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t flags = spin_lock_irqsave(&tasklist_lock);
		list_del(&standins[i].task.all_list);
		spin_unlock_irqrestore(&tasklist_lock, flags);
		mm_destroy(standins[i].task.mm);
		standins[i].task.mm = NULL;
	}
}

/* Run body with the task list holding only its stand-ins; leak check. */
static void run_with_standins(struct ktest *t, void (*body)(struct ktest *t))
{
	uint64_t before = ktest_free_frames();

	if (!list_empty(&task_list)) {
		ktest_skip(t, "processes are running: the OOM killer would look at them");
		return;
	}
	body(t);
	if (!list_empty(&task_list))
		ktest_fail(t, __FILE__, __LINE__, "stand-ins left on the task list");
	if (ktest_free_frames() != before)
		ktest_fail(t, __FILE__, __LINE__, "frames leaked");
}

#define OOM_CASE(name)                                                         \
	static void name##_body(struct ktest *t);                              \
	static void name(struct ktest *t) { run_with_standins(t, name##_body); } \
	static void name##_body(struct ktest *t)

OOM_CASE(oom_chooses_the_process_with_most_resident_memory)
{
	struct task *a = standin(0, 100, 10), *b = standin(1, 101, 30), *c = standin(2, 102, 20);

	if (a && b && c)
		KEXPECT_EQ(t, oom_select_victim(), b);
	else
		ktest_fail(t, __FILE__, __LINE__, "cannot set up the stand-ins");
	standins_remove(3);
}

/* Page tables count too (Linux's oom_badness()): a process that spreads
 * the same number of pages over many tables weighs more. */
OOM_CASE(oom_counts_page_tables_and_ties_go_to_the_later_process)
{
	struct task *a = standin(0, 100, 8), *b = standin(1, 101, 8);

	KASSERT_TRUE(t, a && b);
	KEXPECT_EQ(t, oom_select_victim(), b);
	/* One more page, 2 MiB away: one page and one table more for a. */
	KASSERT_EQ(t, do_mmap(a->mm, BASE + (2UL << 20), P, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
		   (long)(BASE + (2UL << 20)));
	KEXPECT_EQ(t, handle_mm_fault(a->mm, BASE + (2UL << 20), FAULT_FLAG_WRITE), VM_FAULT_OK);
	KEXPECT_EQ(t, oom_select_victim(), a);
	standins_remove(2);
}

OOM_CASE(oom_spares_init_unless_nothing_else_is_left)
{
	struct task *init = standin(0, 1, 50), *small = standin(1, 7, 2);

	KASSERT_TRUE(t, init && small);
	KEXPECT_EQ(t, oom_select_victim(), small);
	list_del(&small->all_list);
	KEXPECT_EQ(t, oom_select_victim(), init);
	list_add_tail(&small->all_list, &task_list);
	standins_remove(2);
}

/* No second victim while the first still holds its memory; once it has
 * exited (no mm), the flag no longer matters. Tasks without an address
 * space are never chosen. */
OOM_CASE(oom_waits_for_a_living_victim_and_skips_the_memoryless)
{
	struct task *a = standin(0, 100, 4), *b = standin(1, 101, 2), *k = standin(2, 102, -1);

	KASSERT_TRUE(t, a && b && k);
	KEXPECT_EQ(t, oom_select_victim(), a);
	a->oom_victim = true;
	KEXPECT_EQ(t, oom_select_victim(), OOM_WAIT);
	mm_destroy(a->mm);
	a->mm = NULL;
	a->state = TASK_ZOMBIE;
	KEXPECT_EQ(t, oom_select_victim(), b);
	list_del(&b->all_list);
	KEXPECT_NULL(t, oom_select_victim()); /* only a zombie and a kernel task */
	list_add_tail(&b->all_list, &task_list);
	standins_remove(3);
}

OOM_CASE(oom_kill_sends_sigkill_and_marks_the_victim)
{
	struct task *a = standin(0, 100, 3);
	unsigned long kills = oom_kill_count;

	KASSERT_NOT_NULL(t, a);
	ktest_console_start();
	oom_kill_process(a);
	ktest_console_stop();
	/* Linux 6.1's line: 3 pages of 4 VMA pages resident, 3 tables. */
	KEXPECT_EQ(t, ktest_console_count("Out of memory: Killed process 100 (standin) "
					  "total-vm:16kB, anon-rss:12kB, file-rss:0kB, "
					  "shmem-rss:0kB, UID:0 pgtables:12kB oom_score_adj:0\n"), 1);
	KEXPECT_TRUE(t, a->sig_pending & SIGBIT(SIGKILL));
	KEXPECT_EQ(t, a->sig_info[SIGKILL - 1].code, SI_KERNEL);
	KEXPECT_TRUE(t, a->oom_victim);
	KEXPECT_EQ(t, a->state, TASK_RUNNABLE); /* woken to die */
	KEXPECT_EQ(t, oom_kill_count, kills + 1);
	list_del(&a->run_list); /* sched_enqueue() queued it */
	list_init(&a->run_list);
	standins_remove(1);
}

/* The faulting task is the largest: it is told to die (false: do not
 * retry), with SIGKILL pending; once dying, nobody else is killed. */
OOM_CASE(oom_at_a_fault_of_the_largest_kills_the_faulting_task)
{
	struct task *me = standin(0, 100, 6), *other = standin(1, 101, 2), *saved = current;

	KASSERT_TRUE(t, me && other);
	current = me;
	KEXPECT_FALSE(t, out_of_memory());
	KEXPECT_TRUE(t, me->sig_pending & SIGBIT(SIGKILL));
	KEXPECT_FALSE(t, out_of_memory());
	KEXPECT_FALSE(t, other->sig_pending & SIGBIT(SIGKILL));
	current = saved;
	list_del(&me->run_list);
	list_init(&me->run_list);
	standins_remove(2);
}

static void rss_counts_anon_shared_and_tables(struct ktest *t, struct mm_struct *mm)
{
	struct mm_rss rss;

	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, mm_rss_total(&rss), 0);
	KEXPECT_EQ(t, rss.pgtables, 0);
	KASSERT_EQ(t, do_mmap(mm, BASE, 8 * P, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	KASSERT_EQ(t, do_mmap(mm, BASE + 16 * P, 3 * P, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)(BASE + 16 * P));
	for (unsigned int i = 0; i < 5; i++)
		KEXPECT_EQ(t, handle_mm_fault(mm, BASE + i * P, FAULT_FLAG_WRITE), VM_FAULT_OK);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, rss.shmem, 0); /* shared memory comes on fault */
	for (unsigned int i = 16; i < 19; i++)
		KEXPECT_EQ(t, handle_mm_fault(mm, BASE + i * P, 0), VM_FAULT_OK);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, rss.anon, 5);
	KEXPECT_EQ(t, rss.shmem, 3);
	KEXPECT_EQ(t, rss.file, 0);
	KEXPECT_EQ(t, rss.pgtables, 3); /* PDPT, PD, PT below the PML4 */
	KEXPECT_EQ(t, do_munmap(mm, BASE, 2 * P), 0);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, rss.anon, 3);
}

static void rss_counts_anon_shared_and_page_tables(struct ktest *t)
{
	ktest_run_in_mm(t, rss_counts_anon_shared_and_tables, false);
}

static void rss_device_memory(struct ktest *t, struct mm_struct *mm)
{
	struct vm_area_struct *v;
	struct page *frame = alloc_page(GFP_KERNEL);
	struct mm_rss rss;

	KASSERT_NOT_NULL(t, frame);
	KASSERT_EQ(t, do_mmap(mm, BASE, P, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0), (long)BASE);
	/* Make the VMA a device mapping of some frame: special entries. */
	KASSERT_NOT_NULL(t, v = vma_lookup(mm, BASE));
	mm_zap_range(mm, BASE, BASE + P);
	v->vm_flags |= VM_PFNMAP | VM_IO;
	KEXPECT_EQ(t, remap_pfn_range(v, BASE, page_to_pfn(frame), P, v->vm_page_prot), 0);
	mm_rss_count(mm, &rss);
	KEXPECT_EQ(t, mm_rss_total(&rss), 0);
	do_munmap(mm, BASE, P);
	free_pages(frame, 0);
}

static void rss_leaves_device_memory_out(struct ktest *t)
{
	ktest_run_in_mm(t, rss_device_memory, false);
}

static const struct ktest_case oom_cases[] = {
	KTEST_CASE(oom_chooses_the_process_with_most_resident_memory),
	KTEST_CASE(oom_counts_page_tables_and_ties_go_to_the_later_process),
	KTEST_CASE(oom_spares_init_unless_nothing_else_is_left),
	KTEST_CASE(oom_waits_for_a_living_victim_and_skips_the_memoryless),
	KTEST_CASE(oom_kill_sends_sigkill_and_marks_the_victim),
	KTEST_CASE(oom_at_a_fault_of_the_largest_kills_the_faulting_task),
	KTEST_CASE(rss_counts_anon_shared_and_page_tables),
	KTEST_CASE(rss_leaves_device_memory_out),
};
KTEST_SUITE(oom, oom_cases);

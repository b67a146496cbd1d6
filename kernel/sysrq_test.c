/* Tests of Magic SysRq (kernel/sysrq.c) and of reading a switched-out
 * task's call chain (sched_task_backtrace() in kernel/sched.c). The chains
 * are built by hand on a stand-in task's stack: what context_switch()
 * leaves at the saved RSP (six registers, RBP the sixth, then the return
 * address), then frames of [caller's RBP, return address]. */
#include <pagoda/errno.h>
#include <pagoda/ktest.h>
#include <pagoda/ktest_console.h>
#include <pagoda/sched.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/sysrq.h>
#include <pagoda/task.h>
#include <pagoda/vfs.h>

/* Three functions whose names the report must show. */
#define RET_A ((uintptr_t)schedule + 0x20)
#define RET_B ((uintptr_t)task_wait + 0x10)
#define RET_C ((uintptr_t)sysrq_handle + 0x4)

struct fake_stack {
	struct task_standin s;
	uintptr_t *stack; /* KSTACK_SIZE bytes, then a page that is not the
			   * stack's, where a frame can lie just above it */
};

/* A sleeping stand-in whose stack says: switched out in RET_A's
 * function, called from RET_B's, called from RET_C's; the outermost
 * frame's RBP is next_rbp. Returns false (and says why) without memory. */
static bool fake_sleeper(struct ktest *t, struct fake_stack *f, uintptr_t next_rbp)
{
	uintptr_t *w, *frame1, *frame2;

	f->stack = kzalloc(KSTACK_SIZE + PAGE_SIZE, GFP_KERNEL);
	if (!f->stack) {
		ktest_skip(t, "no memory for a stand-in's stack");
		return false;
	}
	task_standin_init(&f->s, 4242);
	memcpy(f->s.task.comm, "sysrq-standin", sizeof("sysrq-standin"));
	f->s.task.state = TASK_SLEEPING;
	f->s.task.kstack_top = (uintptr_t)f->stack + KSTACK_SIZE;
	w = (uintptr_t *)(f->s.task.kstack_top - 256);
	frame1 = w + 16;
	frame2 = w + 20;
	f->s.task.saved_rsp = (uintptr_t)w;
	w[5] = (uintptr_t)frame1; /* RBP, pushed by context_switch() */
	w[6] = RET_A;
	frame1[0] = (uintptr_t)frame2;
	frame1[1] = RET_B;
	frame2[0] = next_rbp;
	frame2[1] = RET_C;
	return true;
}

static void sysrq_report_names_the_calls_a_sleeping_task_stopped_in(struct ktest *t)
{
	struct fake_stack f;
	struct task_report r;

	if (!fake_sleeper(t, &f, 0))
		return;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.state, 'S');
	KEXPECT_EQ(t, r.pid, 4242);
	KEXPECT_EQ(t, r.depth, 3);
	KEXPECT_EQ(t, r.trace[0], RET_A);
	KEXPECT_EQ(t, r.trace[1], RET_B);
	KEXPECT_EQ(t, r.trace[2], RET_C);
	ktest_console_start();
	sysrq_print_task(&r);
	ktest_console_stop();
	KEXPECT_EQ(t, ktest_console_count("task:sysrq-standin   state:S pid:4242  tgid:4242 "), 1);
	KEXPECT_EQ(t, ktest_console_count(" schedule+0x20\n"), 1);
	KEXPECT_EQ(t, ktest_console_count(" task_wait+0x10\n"), 1);
	KEXPECT_EQ(t, ktest_console_count(" sysrq_handle+0x4\n"), 1);
	KEXPECT_EQ(t, ktest_console_count(" </TASK>"), 1);
	kfree(f.stack);
}

/* A chain that leaves the task's stack (a user's RBP at the system-call
 * entry, a corrupt frame) ends there, even where it leads to readable
 * memory that looks like a frame: here, just above the stack's top. */
static void sysrq_report_stops_where_the_chain_leaves_the_stack(struct ktest *t)
{
	struct fake_stack f;
	struct task_report r;
	uintptr_t *above, *outer;

	if (!fake_sleeper(t, &f, 0))
		return;
	above = (uintptr_t *)f.s.task.kstack_top + 8;
	outer = (uintptr_t *)f.s.task.saved_rsp + 20; /* the outermost frame */
	above[0] = 0;
	above[1] = RET_A; /* a frame as good as any, but not on the stack */
	outer[0] = (uintptr_t)above;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.depth, 3);
	/* Unaligned; below the last frame; in user space. */
	outer[0] = f.s.task.kstack_top - 255;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.depth, 3);
	outer[0] = f.s.task.saved_rsp;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.depth, 3);
	outer[0] = 0x00007fffffffe000UL;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.depth, 3);
	/* A saved RSP off the stack: nothing is read. */
	f.s.task.saved_rsp = (uintptr_t)above;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.depth, 0);
	kfree(f.stack);
}

/* The running task's stack changes under the reader: not read. */
static void sysrq_report_does_not_read_a_running_tasks_stack(struct ktest *t)
{
	struct task_report r;

	sysrq_report_task(current, &r);
	KEXPECT_EQ(t, r.depth, -1);
	KEXPECT_EQ(t, r.state, 'R');
	ktest_console_start();
	sysrq_print_task(&r);
	ktest_console_stop();
	KEXPECT_EQ(t, ktest_console_count(" (running)\n"), 1);
	KEXPECT_EQ(t, ktest_console_count("running on CPU "), 1);
	KEXPECT_EQ(t, ktest_console_count("Call Trace"), 0);
}

static void sysrq_zombie_and_dead_tasks_have_linux_letters(struct ktest *t)
{
	struct fake_stack f;
	struct task_report r;

	if (!fake_sleeper(t, &f, 0))
		return;
	f.s.task.state = TASK_ZOMBIE;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.state, 'Z');
	f.s.task.state = TASK_DEAD;
	sysrq_report_task(&f.s.task, &r);
	KEXPECT_EQ(t, r.state, 'X');
	kfree(f.stack);
}

/* /proc/sysrq-trigger as Linux's: the first key of a write runs, every
 * key after a '_' does, the write takes every byte, and a read is EIO. */
static void sysrq_trigger_runs_the_first_key_or_all_after_an_underscore(struct ktest *t)
{
	struct inode *inode;
	struct file *f;
	char c;
	int err;

	if (vfs_lookup("/", "/proc/sysrq-trigger", false, &inode)) {
		ktest_skip(t, "/proc is not served by procfs (procfs_init() not called)");
		return;
	}
	f = vfs_open("/", "/proc/sysrq-trigger", O_RDWR, 0, &err);
	KASSERT_TRUE(t, f != NULL);
	ktest_console_start();
	KEXPECT_EQ(t, vfs_write(f, "?t", 2), 2);
	KEXPECT_EQ(t, ktest_console_count("sysrq: HELP : show-task-states(t)"), 1);
	KEXPECT_EQ(t, ktest_console_count("sysrq: Show State"), 0);
	KEXPECT_EQ(t, vfs_write(f, "_??", 3), 3);
	KEXPECT_EQ(t, ktest_console_count("sysrq: HELP"), 3);
	KEXPECT_EQ(t, vfs_write(f, "t\n", 2), 2);
	KEXPECT_EQ(t, ktest_console_count("sysrq: Show State"), 1);
	KEXPECT_EQ(t, vfs_write(f, "", 0), 0);
	ktest_console_stop();
	KEXPECT_EQ(t, ktest_console_count("sysrq: HELP"), 3);
	KEXPECT_EQ(t, vfs_read(f, &c, 1), -EIO);
	file_put(f);
}

static const struct ktest_case sysrq_cases[] = {
	KTEST_CASE(sysrq_report_names_the_calls_a_sleeping_task_stopped_in),
	KTEST_CASE(sysrq_report_stops_where_the_chain_leaves_the_stack),
	KTEST_CASE(sysrq_report_does_not_read_a_running_tasks_stack),
	KTEST_CASE(sysrq_zombie_and_dead_tasks_have_linux_letters),
	KTEST_CASE(sysrq_trigger_runs_the_first_key_or_all_after_an_underscore),
};
KTEST_SUITE(sysrq, sysrq_cases);

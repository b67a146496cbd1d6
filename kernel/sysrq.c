/* Magic SysRq through /proc/sysrq-trigger, as Linux's
 * drivers/tty/sysrq.c: a write of one character runs one command, and
 * the command reports on the console. Pagoda has the one that tells a
 * hang apart from a lost wakeup or a livelock:
 *
 *   t   show the state of every task, and where each sleeping one sleeps
 *
 * A write beginning with '_' runs every character after it (Linux's bulk
 * mode); otherwise only the first one counts. An unknown key prints the
 * help line, as Linux's does.
 *
 * The report is taken first and printed after: the tasks are read under
 * tasklist_lock (so none is reaped meanwhile) and each stack under its
 * run-queue lock (so it cannot run meanwhile, sched_task_backtrace()),
 * and neither lock is held while the console is slow. */
#include <pagoda/errno.h>
#include <pagoda/ksyms.h>
#include <pagoda/printk.h>
#include <pagoda/sched.h>
#include <pagoda/slab.h>
#include <pagoda/string.h>
#include <pagoda/sysrq.h>
#include <pagoda/task.h>
#include <pagoda/vfs.h>

static char state_char(enum task_state s)
{
	switch (s) {
	case TASK_RUNNABLE: return 'R';
	case TASK_SLEEPING: return 'S';
	case TASK_ZOMBIE: return 'Z';
	case TASK_DEAD: return 'X';
	}
	return '?';
}

void sysrq_report_task(struct task *t, struct task_report *r)
{
	memcpy(r->comm, t->comm, sizeof(r->comm));
	r->comm[sizeof(r->comm) - 1] = '\0';
	r->pid = t->pid;
	r->tgid = t->tgid;
	r->ppid = t->parent ? t->parent->tgid : 0;
	r->depth = sched_task_backtrace(t, r->trace, SYSRQ_TRACE_MAX);
	r->state = state_char(READ_ONCE(t->state));
	r->cpu = READ_ONCE(t->cpu);
}

void sysrq_print_task(const struct task_report *r)
{
	printk(KERN_INFO "task:%-15.15s state:%c pid:%-5d tgid:%-5d ppid:%d%s\n", r->comm,
	       r->state, r->pid, r->tgid, r->ppid, r->depth < 0 ? " (running)" : "");
	if (r->depth < 0) {
		printk(KERN_INFO " running on CPU %u: its stack is in use\n", r->cpu);
		return;
	}
	printk(KERN_INFO "Call Trace:\n <TASK>\n");
	for (int i = 0; i < r->depth; i++) {
		uintptr_t off;
		const char *name = ksyms_lookup(r->trace[i], &off);
		if (name)
			printk(KERN_INFO " %s+0x%lx\n", name, off);
		else
			printk(KERN_INFO " 0x%016lx\n", r->trace[i]);
	}
	printk(KERN_INFO " </TASK>\n");
}

static unsigned int count_tasks(void)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	unsigned int n = 0;
	struct list_head *pos;

	list_for_each(pos, &task_list)
		n++;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return n;
}

/* 't': every task on the task list (the idle tasks are not). Tasks that
 * appear between the count and the report are left out, and said so. */
static void show_state(void)
{
	unsigned int room = count_tasks() + 8, n = 0, missed = 0;
	struct task_report *reports = kmalloc(room * sizeof(*reports), GFP_KERNEL);
	struct list_head *pos;
	uint64_t flags;

	printk(KERN_INFO "sysrq: Show State\n");
	if (!reports) {
		printk(KERN_INFO "sysrq: no memory for %u task reports\n", room);
		return;
	}
	flags = spin_lock_irqsave(&tasklist_lock);
	list_for_each(pos, &task_list) {
		if (n == room) {
			missed++;
			continue;
		}
		sysrq_report_task(list_entry(pos, struct task, all_list), &reports[n++]);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	for (unsigned int i = 0; i < n; i++)
		sysrq_print_task(&reports[i]);
	if (missed)
		printk(KERN_INFO "sysrq: %u tasks started during the report are not in it\n",
		       missed);
	kfree(reports);
}

void sysrq_handle(char key)
{
	switch (key) {
	case 't':
		show_state();
		break;
	default:
		printk(KERN_INFO "sysrq: HELP : show-task-states(t)\n");
		break;
	}
}

/* Linux's write_sysrq_trigger(): every byte is accepted. The write
 * comes in chunks of the system call's bounce buffer; bulk mode lasts
 * for one chunk (a write of more than a page of keys is not a use). */
static ssize_t sysrq_trigger_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	const char *c = buf;
	bool bulk = false;

	for (size_t i = 0; i < n; i++) {
		if (c[i] == '_') {
			bulk = true;
			continue;
		}
		sysrq_handle(c[i]);
		if (!bulk)
			break;
	}
	return (ssize_t)n;
}

/* Linux's proc_reg_read() of a file without a read operation. */
static ssize_t sysrq_trigger_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	return -EIO;
}

const struct file_operations sysrq_trigger_fops = {
	.read = sysrq_trigger_read,
	.write = sysrq_trigger_write,
};

/* Sleeping locks (kernel/mutex.c): a mutex, and a reader/writer semaphore
 * (each address space's mmap_lock). A task waiting for one sleeps on its
 * wait queue instead of spinning, so they may be held across anything
 * that sleeps: a user copy that faults, an allocation, I/O. They may not
 * be taken with a spinlock held or from an interrupt handler.
 *
 * Both are checked by the lock-order checker like spinlocks: a class per
 * initialisation site. A function that expects one held says so in its
 * name (_locked) and asserts it with mutex_held() / rwsem_held_write(). */
#ifndef PAGODA_MUTEX_H
#define PAGODA_MUTEX_H

#include <pagoda/wait.h>

struct mutex {
	struct task *owner;         /* NULL when free; changed atomically */
	struct wait_queue_head wq;  /* tasks waiting for it */
	struct lock_class *class;
};

#define mutex_init(m, cname)                                                   \
	do {                                                                   \
		static struct lock_class __mcls = { cname, 0 };                \
		__mutex_init(m, &__mcls);                                      \
	} while (0)
void __mutex_init(struct mutex *m, struct lock_class *class);

/* A mutex at file scope, ready before any code runs (no first-use
 * initialisation for two CPUs to race on). */
#define DEFINE_STATIC_MUTEX(name)                                              \
	static struct lock_class name##_mutex_class = { #name, 0 };            \
	static struct lock_class name##_wq_class = { #name ".wq", 0 };         \
	static struct mutex name = {                                           \
		.wq = __WAIT_QUEUE_INIT(name.wq, name##_wq_class),             \
		.class = &name##_mutex_class,                                  \
	}

void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
bool mutex_held(const struct mutex *m); /* by the current task */

/* Many readers or one writer, let in in the order they came: a reader
 * that arrives while a writer waits queues behind it, and a writer
 * behind the readers before it, so neither kind can starve the other.
 * Not recursive: a task holding it for reading must not take it again (a
 * waiting writer would deadlock them both); in particular, no user copy
 * may fault on the mmap_lock's address space while the lock is held. */
struct rw_semaphore {
	long count;                /* readers inside, or -1 for a writer */
	struct task *writer;       /* the writer inside, for asserts */
	struct wait_queue_head wq; /* its lock guards the fields above; its
				    * list holds the waiters, oldest first */
	struct lock_class *class;
};

#define rwsem_init(s, cname)                                                   \
	do {                                                                   \
		static struct lock_class __rcls = { cname, 0 };                \
		__rwsem_init(s, &__rcls);                                      \
	} while (0)
void __rwsem_init(struct rw_semaphore *s, struct lock_class *class);

void down_read(struct rw_semaphore *s);
void up_read(struct rw_semaphore *s);
void down_write(struct rw_semaphore *s);
void up_write(struct rw_semaphore *s);
/* Is it held for writing by the current task / held at all? */
bool rwsem_held_write(const struct rw_semaphore *s);
bool rwsem_held(const struct rw_semaphore *s);

#endif

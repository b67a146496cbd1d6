/* threadbench: the costs threads add to memory management, timed from
 * user space. The same static binary runs on Pagoda and on Linux, each at
 * -smp 2 (scripts/bench-compare.sh boots both under the same QEMU), so the
 * figures compare the two kernels' code paths; under an emulator they say
 * nothing about hardware speed.
 *
 * Run as pid 1 (init=/bin/threadbench on Pagoda, rdinit=/bin/threadbench
 * on Linux): prints one line per measurement, "threadbench: NAME VALUE
 * UNIT", and powers off. Rows:
 *   fault_64MiB_1thread        first-touch faults per second, one thread
 *   fault_64MiB_each_2threads  the same with two threads on two CPUs, each
 *                              in its own 64 MiB region of one process
 *   munmap_4KiB_alone          munmap of one touched page (a VMA of its own
 *                              between two PROT_NONE pages), no other thread
 *   munmap_4KiB_peer_sleeping  ... while a second thread sleeps
 *   munmap_4KiB_peer_running   ... while a second thread runs on the other
 *                              CPU: the TLB shootdown's cost
 *   mprotect_4KiB_alone, mprotect_4KiB_peer_running
 *                              mprotect(PROT_READ) of one written page
 *   futex_wake_to_run_cross_cpu  from FUTEX_WAKE on one CPU to the woken
 *                              thread running on the other
 *   pthread_create_join        one thread created and joined
 * Single calls are timed with the TSC (calibrated against
 * CLOCK_MONOTONIC), which costs no system call on either kernel; the
 * median of many calls is reported, and their 10th percentile beside it. The fault regions are madvise'd
 * MADV_NOHUGEPAGE so that Linux takes 4 KiB faults as Pagoda does. Nothing
 * here asserts anything. With /proc/profile (Pagoda booted with
 * profile=N: make profile), each row's loop is a profile window
 * (user/profile.h), and "threadbench repeat N" runs the rows N times. */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <x86intrin.h>

#include "profile.h"
#include "threads.h"

#define MiB (1UL << 20)
#define FAULT_REGION (64 * MiB)
#define SAMPLES 2000

static double ns_per_tick;
static int cpu_a, cpu_b; /* two CPUs of the affinity mask; cpu_b == -1 if one */

static uint64_t ticks(void)
{
	unsigned aux;

	return __rdtscp(&aux);
}

static void calibrate(void)
{
	double t0 = thr_now_ns();
	uint64_t c0 = ticks();

	sleep_ms(200);
	ns_per_tick = (thr_now_ns() - t0) / (double)(ticks() - c0);
}

static void report(const char *name, double value, const char *unit)
{
	printf("threadbench: %s %.0f %s\n", name, value, unit);
	fflush(stdout);
}

static void note(const char *fmt, const char *what, int err)
{
	printf("threadbench: # ");
	printf(fmt, what, strerror(err));
	printf("\n");
	fflush(stdout);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A row made of single calls: the median, then the 10th percentile,
 * "p10=NS". Under TCG on a busy host a thread's virtual CPU may wait for a
 * host core for milliseconds, and a call that waits for the other CPU
 * (a shootdown) waits as long: the median then measures the host, and the
 * 10th percentile is closer to the code path. */
static void report_samples(const char *name, uint64_t *samples, int n)
{
	qsort(samples, n, sizeof(*samples), cmp_u64);
	printf("threadbench: %s %.0f ns p10=%.0f\n", name, samples[n / 2] * ns_per_tick,
	       samples[n / 10] * ns_per_tick);
	fflush(stdout);
}

static void pin(int cpu)
{
	if (cpu >= 0 && thr_pin(cpu) < 0)
		note("pinning to a CPU failed (%s: %s)", "sched_setaffinity", errno);
}

/* ---- first-touch faults ---- */

struct toucher {
	int cpu;
	_Atomic int *go;
	double start, end;
};

static void *touch_region(void *arg)
{
	struct toucher *t = arg;
	char *p = mmap(NULL, FAULT_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	pin(t->cpu);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, FAULT_REGION, MADV_NOHUGEPAGE); /* Pagoda may refuse it: no matter */
	while (!atomic_load(t->go))
		;
	t->start = thr_now_ns();
	for (size_t off = 0; off < FAULT_REGION; off += PG)
		p[off] = 1;
	t->end = thr_now_ns();
	munmap(p, FAULT_REGION);
	return NULL;
}

/* n threads (1 or 2), each touching its own region; faults per second
 * over the whole: all pages over the span from the first start to the
 * last end. */
static void bench_faults(int n, const char *name)
{
	struct toucher t[2];
	pthread_t th[2];
	_Atomic int go = 0;
	double first, last;
	int err;

	for (int i = 0; i < n; i++) {
		t[i] = (struct toucher){ .cpu = i ? cpu_b : cpu_a, .go = &go };
		if ((err = pthread_create(&th[i], NULL, touch_region, &t[i]))) {
			note("%s: pthread_create: %s", name, err);
			return;
		}
	}
	sleep_ms(50);
	prof_begin();
	atomic_store(&go, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	prof_end(name);
	first = t[0].start, last = t[0].end;
	for (int i = 1; i < n; i++) {
		first = t[i].start < first ? t[i].start : first;
		last = t[i].end > last ? t[i].end : last;
	}
	report(name, n * (FAULT_REGION / PG) / ((last - first) / 1e9), "faults/s");
}

/* ---- munmap and mprotect beside a second thread ---- */

enum peer { PEER_NONE, PEER_SLEEPING, PEER_RUNNING };

static _Atomic int peer_stop;
static _Atomic uint32_t peer_word;

static void *peer_run(void *arg)
{
	pin(cpu_b);
	while (!atomic_load(&peer_stop))
		;
	return NULL;
}

static void *peer_sleep(void *arg)
{
	pin(cpu_b);
	while (!atomic_load(&peer_stop))
		futex_wait_private(&peer_word, 0, NULL);
	return NULL;
}

static bool peer_start(enum peer peer, pthread_t *th, const char *name)
{
	int err;

	atomic_store(&peer_stop, 0);
	if (peer == PEER_NONE)
		return true;
	if (cpu_b < 0) {
		note("%s: %s", name, ENODEV); /* "No such device": no second CPU */
		return false;
	}
	err = pthread_create(th, NULL, peer == PEER_RUNNING ? peer_run : peer_sleep, NULL);
	if (err)
		note("%s: pthread_create: %s", name, err);
	else
		sleep_ms(50); /* on its CPU, spinning or asleep */
	return !err;
}

static void peer_stop_join(enum peer peer, pthread_t th)
{
	if (peer == PEER_NONE)
		return;
	atomic_store(&peer_stop, 1);
	atomic_store(&peer_word, 1);
	futex_wake_private(&peer_word, 1);
	pthread_join(th, NULL);
	atomic_store(&peer_word, 0);
}

/* The page the munmap and mprotect rows work on: the middle one of three
 * whose outer two are PROT_NONE, so that it never merges with a
 * neighbour and each call changes one VMA of one page, whatever else the
 * process has mapped (a thread's stack, an earlier region). NULL if mmap
 * failed. */
static char *isolated_page(void)
{
	char *p = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return p + PG;
}

static void bench_munmap(enum peer peer, const char *name)
{
	static uint64_t samples[SAMPLES];
	char *page = isolated_page();
	pthread_t th;

	pin(cpu_a);
	if (!page || !peer_start(peer, &th, name))
		return;
	prof_begin(); /* the window holds the mmap and the touch too */
	for (int i = 0; i < SAMPLES; i++) {
		char *p = mmap(page, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			       -1, 0);
		uint64_t t0;
		p[0] = 1;
		t0 = ticks();
		munmap(p, PG);
		samples[i] = ticks() - t0;
	}
	prof_end(name);
	peer_stop_join(peer, th);
	munmap(page - PG, 3 * PG);
	report_samples(name, samples, SAMPLES);
}

static void bench_mprotect(enum peer peer, const char *name)
{
	static uint64_t samples[SAMPLES];
	char *p = isolated_page();
	pthread_t th;

	pin(cpu_a);
	if (!p || mprotect(p, PG, PROT_READ | PROT_WRITE) < 0 || !peer_start(peer, &th, name))
		return;
	prof_begin();
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t t0;
		p[0] = 1; /* writable and written: PROT_READ has a write bit to clear */
		t0 = ticks();
		mprotect(p, PG, PROT_READ);
		samples[i] = ticks() - t0;
		mprotect(p, PG, PROT_READ | PROT_WRITE);
	}
	prof_end(name);
	peer_stop_join(peer, th);
	munmap(p - PG, 3 * PG);
	report_samples(name, samples, SAMPLES);
}

/* ---- futex wake to run ---- */

#define PINGPONG 2000
static _Atomic uint32_t pp_word;
static _Atomic uint64_t pp_woke_at;

struct pp_side {
	int cpu, side, n;
	uint64_t samples[PINGPONG];
};

/* Side s acts when the word's value is s modulo 2: when it has slept
 * and been woken, the time since the waker's FUTEX_WAKE is one sample. */
static void *pp_play(void *arg)
{
	struct pp_side *s = arg;

	pin(s->cpu);
	for (uint32_t i = 0; i < PINGPONG; i++) {
		uint32_t want = 2 * i + s->side, v;
		bool slept = false;
		while ((v = atomic_load(&pp_word)) != want)
			slept = futex_wait_private(&pp_word, v, NULL) == 0;
		if (slept && atomic_load(&pp_word) == want)
			s->samples[s->n++] = ticks() - atomic_load(&pp_woke_at);
		atomic_store(&pp_word, want + 1);
		atomic_store(&pp_woke_at, ticks());
		futex_wake_private(&pp_word, 1);
	}
	return NULL;
}

static void bench_futex(void)
{
	static struct pp_side s[2];
	uint64_t all[2 * PINGPONG];
	pthread_t th[2];
	int n = 0, err;

	if (cpu_b < 0) {
		note("futex_wake_to_run_cross_cpu: %s (%s)", "one CPU", ENODEV);
		return;
	}
	atomic_store(&pp_word, 0);
	prof_begin();
	for (int i = 0; i < 2; i++) {
		s[i] = (struct pp_side){ .cpu = i ? cpu_b : cpu_a, .side = i };
		if ((err = pthread_create(&th[i], NULL, pp_play, &s[i]))) {
			note("futex_wake_to_run_cross_cpu: %s: %s", "pthread_create", err);
			return;
		}
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		memcpy(all + n, s[i].samples, s[i].n * sizeof(all[0]));
		n += s[i].n;
	}
	prof_end("futex_wake_to_run_cross_cpu");
	if (n < PINGPONG / 10) {
		note("futex_wake_to_run_cross_cpu: %s (%s)", "too few wakeups slept", EAGAIN);
		return;
	}
	report_samples("futex_wake_to_run_cross_cpu", all, n);
}

static void *nothing(void *arg)
{
	return arg;
}

static void bench_create_join(void)
{
	const int rounds = 200;
	double t0 = thr_now_ns();
	int err;

	prof_begin();
	for (int i = 0; i < rounds; i++) {
		pthread_t th;
		if ((err = pthread_create(&th, NULL, nothing, NULL))) {
			note("pthread_create_join: %s: %s", "pthread_create", err);
			return;
		}
		pthread_join(th, NULL);
	}
	prof_end("pthread_create_join");
	report("pthread_create_join", (thr_now_ns() - t0) / rounds, "ns");
}

static void bench_rows(void)
{
	bench_faults(1, "fault_64MiB_1thread");
	bench_faults(2, "fault_64MiB_each_2threads");
	bench_munmap(PEER_NONE, "munmap_4KiB_alone");
	bench_munmap(PEER_SLEEPING, "munmap_4KiB_peer_sleeping");
	bench_munmap(PEER_RUNNING, "munmap_4KiB_peer_running");
	bench_mprotect(PEER_NONE, "mprotect_4KiB_alone");
	bench_mprotect(PEER_RUNNING, "mprotect_4KiB_peer_running");
	bench_futex();
	bench_create_join();
}

int main(int argc, char **argv)
{
	cpu_set_t set;
	int ncpus = thr_cpus(&set);
	int repeat = argc > 2 && !strcmp(argv[1], "repeat") ? atoi(argv[2]) : 1;

	cpu_a = ncpus ? thr_nth_cpu(&set, 0) : -1;
	cpu_b = ncpus >= 2 ? thr_nth_cpu(&set, 1) : -1;
	printf("threadbench: # %d CPUs in the affinity mask\n", ncpus);
	calibrate();
	for (int i = 0; i < repeat; i++)
		bench_rows();
	prof_dump();
	printf("threadbench: done\n");
	fflush(stdout);
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 0;
}

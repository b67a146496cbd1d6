/* shmtest: shared memory between processes (suite "shmtest"): shared
 * anonymous memory is one object for parent and child, pages touched
 * after the fork included; memfd_create and shm_open round trips between
 * two processes; what /proc shows of them (maps, meminfo's Shmem); the
 * tmpfs at /dev/shm. Every expectation holds on Linux 6.1
 * (scripts/linux-test.sh), whose init mounts /dev/shm as a distribution
 * does. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ktap.h"

#define PG 4096
#define TMPFS_MAGIC 0x01021994

static char line[512];

/* The value of a /proc/meminfo field in kB, or -1. */
static long meminfo_kb(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			v = strtol(line + strlen(field) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* The /proc/self/maps line of the mapping at addr, in line[]; or NULL. */
static const char *maps_line(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	const char *found = NULL;

	while (f && !found && fgets(line, sizeof(line), f))
		if (strtoul(line, NULL, 16) == (uintptr_t)addr)
			found = line;
	if (f)
		fclose(f);
	return found;
}

static volatile uint64_t *shared;

static int child_writes_shared(void *arg)
{
	shared[PG / 8] = 0x5151; /* a page nobody touched before the fork */
	return shared[0] == 0x1111 ? 0 : 1;
}

static void shared_anonymous_memory_is_one_object_across_fork(void)
{
	shared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(shared != MAP_FAILED);
	shared[0] = 0x1111;
	EXPECT_CHILD_OK(child_writes_shared, NULL);
	EXPECT_EQ(shared[PG / 8], 0x5151);
	ASSERT_TRUE(maps_line((void *)shared));
	EXPECT_TRUE(strstr(line, " rw-s ") != NULL);
	EXPECT_TRUE(strstr(line, "/dev/zero (deleted)") != NULL);
	munmap((void *)shared, 4 * PG);
}

/* mremap(old_len 0) of shared memory: a second view of the same pages. */
static void mremap_old_len_zero_duplicates_shared_memory(void)
{
	volatile char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				-1, 0), *b;

	ASSERT_TRUE(a != MAP_FAILED);
	b = mremap((void *)a, 0, 2 * PG, MREMAP_MAYMOVE);
	ASSERT_TRUE(b != MAP_FAILED && b != a);
	a[PG + 3] = 'x';
	EXPECT_EQ(b[PG + 3], 'x');
	b[0] = 'y';
	EXPECT_EQ(a[0], 'y');
	munmap((void *)a, 2 * PG);
	munmap((void *)b, 2 * PG);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERRNO(mremap((void *)a, 0, PG, MREMAP_MAYMOVE), EINVAL);
	munmap((void *)a, PG);
}

static int memfd_fd;

/* The child writes through its own mapping of the memfd it inherited. */
static int child_fills_memfd(void *arg)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_fd, 0);

	if (p == MAP_FAILED)
		return 1;
	strcpy(p + PG, "from the child");
	return 0;
}

static void memfd_round_trip_between_two_processes(void)
{
	struct stat st;
	char *p;
	long shmem;

	memfd_fd = memfd_create("shmtest", MFD_CLOEXEC);
	ASSERT_TRUE(memfd_fd >= 0);
	EXPECT_EQ(fcntl(memfd_fd, F_GETFD), FD_CLOEXEC);
	ASSERT_EQ(fstat(memfd_fd, &st), 0);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(ftruncate(memfd_fd, 2 * PG), 0);
	EXPECT_CHILD_OK(child_fills_memfd, NULL);
	ASSERT_EQ(pread(memfd_fd, line, 15, PG), 15);
	EXPECT_EQ(strcmp(line, "from the child"), 0);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, memfd_fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(strcmp(p + PG, "from the child"), 0);
	ASSERT_TRUE(maps_line(p));
	EXPECT_TRUE(strstr(line, "/memfd:shmtest (deleted)") != NULL);
	munmap(p, 2 * PG);
	/* 8 MiB of it counts as Shmem while the file lives (Linux folds its
	 * counters in batches: a large change, not an exact one, shows). */
	shmem = meminfo_kb("Shmem");
	EXPECT_EQ(fallocate(memfd_fd, 0, 0, 8 << 20), 0);
	EXPECT_TRUE(meminfo_kb("Shmem") >= shmem + 7 * 1024);
	close(memfd_fd);
	EXPECT_TRUE(meminfo_kb("Shmem") <= shmem + 1024);
}

static void memfd_create_rejects_bad_flags_and_names(void)
{
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	EXPECT_ERRNO(memfd_create("x", 0x100), EINVAL);
	EXPECT_ERRNO(memfd_create(name, 0), EINVAL);
	name[249] = 0;
	int fd = memfd_create(name, 0);
	EXPECT_TRUE(fd >= 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
	close(fd);
	EXPECT_ERRNO(memfd_create((const char *)8, 0), EFAULT);
}

#define SHM_NAME "/shmtest-object"

static int child_opens_shm(void *arg)
{
	int fd = shm_open(SHM_NAME, O_RDWR, 0);
	uint32_t *p;

	if (fd < 0)
		return 1;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	if (p[0] != 0xfeed)
		return 3;
	p[1] = 0xbeef;
	return 0;
}

static void shm_open_round_trip_between_two_processes(void)
{
	struct statfs sfs;
	uint32_t *p;
	int fd;

	shm_unlink(SHM_NAME);
	fd = shm_open(SHM_NAME, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(ftruncate(fd, PG), 0);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 0xfeed;
	EXPECT_CHILD_OK(child_opens_shm, NULL);
	EXPECT_EQ(p[1], 0xbeef);
	EXPECT_EQ(fstatfs(fd, &sfs), 0);
	EXPECT_EQ(sfs.f_type, TMPFS_MAGIC);
	EXPECT_EQ(statfs("/dev/shm", &sfs), 0);
	EXPECT_EQ(sfs.f_type, TMPFS_MAGIC);
	EXPECT_EQ(shm_unlink(SHM_NAME), 0);
	EXPECT_ERRNO(shm_open(SHM_NAME, O_RDWR, 0), ENOENT);
	EXPECT_EQ(p[0], 0xfeed); /* the mapping outlives the name */
	munmap(p, PG);
	close(fd);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(shared_anonymous_memory_is_one_object_across_fork),
	KTAP_CASE(mremap_old_len_zero_duplicates_shared_memory),
	KTAP_CASE(memfd_round_trip_between_two_processes),
	KTAP_CASE(memfd_create_rejects_bad_flags_and_names),
	KTAP_CASE(shm_open_round_trip_between_two_processes),
};

int main(void)
{
	return ktap_run_suite("shmtest", cases, KTAP_ARRAY_SIZE(cases));
}

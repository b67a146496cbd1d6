/* devcheck: device memory mapped into a user process, proven from the
 * host (scripts/devices.sh). Runs as pid 1 in the device boots:
 *
 *  - writes a pattern over the whole ivshmem BAR through its sysfs
 *    resource file (the host reads the backing file afterwards);
 *  - the bad-input table for device mappings, each row with Linux's errno;
 *  - writes the memmap= reserved range through /dev/mem and reads it back
 *    through a second, independent mapping;
 *  - paints four quadrants on /dev/fb0 and keeps the mapping until the
 *    power goes off (the host takes a screendump and checks the pixels).
 *
 * Only Linux interfaces: it runs unchanged on Linux. Prints KTAP. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAGIC 0x5061676f6461ULL /* "Pagoda" */
#define MEMMAP_BASE 0x180000000UL
#define MEMMAP_SIZE (64UL << 20)

static int n, fails;

static void result(int ok, const char *name, const char *why)
{
	n++;
	if (!ok) {
		fails++;
		printf("    # %s: %s\n", name, why);
	}
	printf("    %s %d %s\n", ok ? "ok" : "not ok", n, name);
	fflush(stdout);
}

static void skip(const char *name, const char *why)
{
	printf("    ok %d %s # SKIP %s\n", ++n, name, why);
}

/* A failed mmap with the errno Linux gives. */
static void expect_mmap_errno(const char *name, void *addr, size_t len, int prot, int flags,
			      int fd, off_t off, int want)
{
	char why[128];
	void *p = mmap(addr, len, prot, flags, fd, off);
	int err = p == MAP_FAILED ? errno : 0;

	if (p != MAP_FAILED)
		munmap(p, len);
	snprintf(why, sizeof(why), "expected errno %d, got %d", want, err);
	result(err == want, name, why);
}

/* /sys/bus/pci/devices/X/resource2 of the ivshmem device, or -1. */
static int open_ivshmem(char *path, size_t size)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		char id[32] = "";
		snprintf(path, size, "/sys/bus/pci/devices/%s/device", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fgets(id, sizeof(id), f);
		fclose(f);
		if (strncmp(id, "0x1110", 6) != 0)
			continue;
		snprintf(path, size, "/sys/bus/pci/devices/%s/resource2", e->d_name);
		fd = open(path, O_RDWR | O_SYNC);
		break;
	}
	if (d)
		closedir(d);
	return fd;
}

/* Every 4 KiB page of the BAR gets its first word = index ^ MAGIC and its
 * last word = ~(index ^ MAGIC): scripts/devices.sh checks exactly that. */
static void check_ivshmem(void)
{
	char path[300], why[400];
	int fd = open_ivshmem(path, sizeof(path));
	struct stat st;

	if (fd < 0) {
		skip("ivshmem_bar_pattern_written", "no ivshmem device");
		skip("bar_bad_inputs", "no ivshmem device");
		return;
	}
	fstat(fd, &st);
	size_t size = st.st_size;
	volatile uint64_t *bar = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	snprintf(why, sizeof(why), "mmap %s (%zu bytes): %s", path, size,
		 bar == MAP_FAILED ? strerror(errno) : "ok");
	if (bar == MAP_FAILED) {
		result(0, "ivshmem_bar_pattern_written", why);
		return;
	}
	printf("    # %s: %zu MiB mapped at %p\n", path, size >> 20, (void *)bar);
	for (size_t i = 0; i < size / PAGE; i++) {
		bar[i * (PAGE / 8)] = i ^ MAGIC;
		bar[i * (PAGE / 8) + PAGE / 8 - 1] = ~(i ^ MAGIC);
	}
	size_t last = size / PAGE - 1;
	result(bar[0] == MAGIC && bar[last * (PAGE / 8)] == (last ^ MAGIC),
	       "ivshmem_bar_pattern_written", "read-back mismatch");
	/* The bad-input table (Linux 6.1's answers). */
	expect_mmap_errno("bar_length_past_end_einval", NULL, size + PAGE, PROT_READ, MAP_SHARED, fd, 0, EINVAL);
	expect_mmap_errno("bar_offset_at_end_einval", NULL, PAGE, PROT_READ, MAP_SHARED, fd, size, EINVAL);
	expect_mmap_errno("bar_unaligned_offset_einval", NULL, PAGE, PROT_READ, MAP_SHARED, fd, 100, EINVAL);
	expect_mmap_errno("bar_zero_length_einval", NULL, 0, PROT_READ, MAP_SHARED, fd, 0, EINVAL);
	expect_mmap_errno("bar_huge_length_enomem", NULL, 1UL << 50, PROT_READ, MAP_SHARED, fd, 0, ENOMEM);
	expect_mmap_errno("map_fixed_over_kernel_enomem", (void *)0xffffffff80000000UL, PAGE,
			  PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0, ENOMEM);
	/* MAP_PRIVATE with write: allowed, and a write copies the page (as
	 * Linux does for a private PFN mapping): the device never sees it. */
	volatile uint64_t *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (priv == MAP_FAILED) {
		result(0, "bar_private_write_copies_the_page", strerror(errno));
	} else {
		priv[1] = 0x1234;
		result(priv[1] == 0x1234 && priv[0] == MAGIC && bar[1] != 0x1234,
		       "bar_private_write_copies_the_page", "a private write reached the device");
		munmap((void *)priv, PAGE);
	}
	void *g = mremap((void *)bar, size, size + PAGE, MREMAP_MAYMOVE);
	result(g == MAP_FAILED && errno == EFAULT, "bar_mremap_growth_efault", "mremap grew a device mapping");
	result(madvise((void *)bar, PAGE, MADV_DONTNEED) < 0 && errno == EINVAL,
	       "bar_madvise_dontneed_einval", "madvise dropped device pages");
	munmap((void *)bar, size);
	void *after = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	result(after != MAP_FAILED, "system_still_works_after_bad_inputs", strerror(errno));
	close(fd);
}

/* The physical start of the first /proc/iomem line named name, or 0. */
static unsigned long iomem_find(const char *name)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[200];
	unsigned long start = 0, end;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, name) && sscanf(line, " %lx-%lx", &start, &end) == 2)
			break;
		else
			start = 0;
	if (f)
		fclose(f);
	return start;
}

static void check_devmem(void)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	unsigned long kernel = iomem_find("Kernel code");

	if (fd < 0) {
		result(0, "devmem_opens", strerror(errno));
		return;
	}
	expect_mmap_errno("devmem_over_ram_eperm", NULL, PAGE, PROT_READ, MAP_SHARED, fd,
			  0x200000, EPERM);
	if (kernel)
		expect_mmap_errno("devmem_over_kernel_eperm", NULL, PAGE, PROT_READ, MAP_SHARED, fd,
				  kernel, EPERM);
	volatile uint64_t *a = mmap(NULL, MEMMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, MEMMAP_BASE);
	volatile uint64_t *b = mmap(NULL, MEMMAP_SIZE, PROT_READ, MAP_SHARED, fd, MEMMAP_BASE);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		result(0, "devmem_memmap_range_round_trip", strerror(errno));
		return;
	}
	for (size_t i = 0; i < MEMMAP_SIZE / 8; i += PAGE / 8)
		a[i] = i ^ MAGIC;
	int ok = 1;
	for (size_t i = 0; i < MEMMAP_SIZE / 8; i += PAGE / 8)
		ok &= b[i] == (i ^ MAGIC);
	result(ok, "devmem_memmap_range_round_trip", "second mapping read other bytes");
	/* And through the kernel: read() of /dev/mem copies the physical
	 * memory with the kernel's own mapping of it, not ours. */
	ok = 1;
	for (size_t i = 0; i < MEMMAP_SIZE / 8; i += 4096 * (PAGE / 8)) {
		uint64_t word = 0;
		ok &= pread(fd, &word, sizeof(word), MEMMAP_BASE + i * 8) == sizeof(word) &&
		      word == (i ^ MAGIC);
	}
	result(ok, "devmem_read_through_kernel_sees_user_writes", "read() of /dev/mem disagrees");
	munmap((void *)a, MEMMAP_SIZE);
	munmap((void *)b, MEMMAP_SIZE);
	close(fd);
}

/* Colours of the four quadrants, 0xRRGGBB: scripts/devices.sh samples the
 * centre of each in the screendump. */
static const uint32_t quadrant_rgb[4] = { 0xff0000, 0x00ff00, 0x0000ff, 0xffffff };

static uint32_t pixel_of(const struct fb_var_screeninfo *v, uint32_t rgb)
{
	uint32_t r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;

	return (r >> (8 - v->red.length)) << v->red.offset |
	       (g >> (8 - v->green.length)) << v->green.offset |
	       (b >> (8 - v->blue.length)) << v->blue.offset;
}

/* Paint and keep the mapping: the console stays out of the way until the
 * power goes off. */
static void check_fb(void)
{
	struct fb_var_screeninfo v;
	struct fb_fix_screeninfo fx;
	int fd = open("/dev/fb0", O_RDWR);

	if (fd < 0 || ioctl(fd, FBIOGET_VSCREENINFO, &v) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fx) < 0) {
		result(0, "fb_paints_four_quadrants", strerror(errno));
		return;
	}
	printf("    # fb0: %ux%u, %u bpp, line %u, at 0x%lx\n", v.xres, v.yres, v.bits_per_pixel,
	       fx.line_length, (unsigned long)fx.smem_start);
	uint8_t *fb = mmap(NULL, fx.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fb == MAP_FAILED || v.bits_per_pixel != 32) {
		result(0, "fb_paints_four_quadrants", "cannot map a 32 bpp framebuffer");
		return;
	}
	for (uint32_t y = 0; y < v.yres; y++)
		for (uint32_t x = 0; x < v.xres; x++) {
			int q = (y >= v.yres / 2) * 2 + (x >= v.xres / 2);
			*(uint32_t *)(fb + y * fx.line_length + x * 4) = pixel_of(&v, quadrant_rgb[q]);
		}
	result(1, "fb_paints_four_quadrants", "");
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	printf("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: devcheck\n");
	check_ivshmem();
	check_devmem();
	check_fb();
	printf("    1..%d\n", n);
	printf("# devcheck: pass:%d fail:%d skip:0 total:%d\n", n - fails, fails, n);
	printf("%s 1 devcheck\n# Totals: pass:%d fail:%d skip:0 total:%d\n", fails ? "not ok" : "ok",
	       n - fails, fails, n);
	fflush(stdout);
	sync();
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return fails != 0;
}

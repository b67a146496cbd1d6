/* barpoke: read or write one word of a PCI BAR (or of any file that maps
 * device memory) through mmap(), like the common "pcimem" tool.
 *
 *   usage: barpoke RESOURCE_FILE OFFSET [TYPE [VALUE]]
 *     RESOURCE_FILE  /sys/bus/pci/devices/0000:00:05.0/resource2, or
 *                    /dev/mem with OFFSET a physical address
 *     TYPE           b: 8 bits, h: 16, w: 32 (the default), d: 64
 *     VALUE          written at OFFSET, then read back
 *
 * The page holding OFFSET is mapped MAP_SHARED (writes reach the device)
 * from a file opened O_SYNC, which asks /dev/mem for an uncached mapping.
 * Accesses are single loads and stores of the type's width, through a
 * volatile pointer: device registers often care. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: barpoke RESOURCE_FILE OFFSET [b|h|w|d [VALUE]]\n"
			"  b: 8 bits, h: 16 bits, w: 32 bits (default), d: 64 bits\n");
	exit(2);
}

static int width_of(const char *type)
{
	if (strlen(type) != 1)
		return 0;
	switch (type[0]) {
	case 'b': return 1;
	case 'h': return 2;
	case 'w': return 4;
	case 'd': return 8;
	default: return 0;
	}
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

static uint64_t load(volatile void *p, int width)
{
	switch (width) {
	case 1: return *(volatile uint8_t *)p;
	case 2: return *(volatile uint16_t *)p;
	case 4: return *(volatile uint32_t *)p;
	default: return *(volatile uint64_t *)p;
	}
}

static void store(volatile void *p, int width, uint64_t v)
{
	switch (width) {
	case 1: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 2: *(volatile uint16_t *)p = (uint16_t)v; break;
	case 4: *(volatile uint32_t *)p = (uint32_t)v; break;
	default: *(volatile uint64_t *)p = v; break;
	}
}

static void die(const char *what, const char *file)
{
	fprintf(stderr, "barpoke: %s%s%s\n", file ? file : "", file ? ": " : "", what);
	exit(1);
}

/* Open file and map the page holding offset; returns the word's address. */
static volatile uint8_t *map_word(const char *file, uint64_t offset, int width, int writing,
				  void **base, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = offset & ~(uint64_t)(page - 1);
	struct stat st;
	int fd = open(file, (writing ? O_RDWR : O_RDONLY) | O_SYNC);

	if (fd < 0)
		die(strerror(errno), file);
	if (fstat(fd, &st) < 0)
		die(strerror(errno), file);
	/* A sysfs resource file's size is its BAR's; /dev/mem's is 0. */
	if (S_ISREG(st.st_mode) && st.st_size > 0 && offset + width > (uint64_t)st.st_size) {
		fprintf(stderr, "barpoke: %s: offset %#" PRIx64 " is past the end (%#llx bytes)\n",
			file, offset, (unsigned long long)st.st_size);
		exit(1);
	}
	*len = page;
	*base = mmap(NULL, *len, writing ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd,
		     (off_t)start);
	if (*base == MAP_FAILED)
		die(strerror(errno), file);
	close(fd);
	return (volatile uint8_t *)*base + (offset - start);
}

int main(int argc, char **argv)
{
	uint64_t offset, value = 0, back;
	int width = 4, writing = argc > 4, digits;
	volatile uint8_t *p;
	void *base;
	size_t len;

	if (argc < 3 || argc > 5 || parse_u64(argv[2], &offset) < 0)
		usage();
	if (argc > 3 && !(width = width_of(argv[3])))
		usage();
	if (writing && parse_u64(argv[4], &value) < 0)
		usage();
	if (width < 8 && value >> (8 * width)) {
		fprintf(stderr, "barpoke: %s does not fit in %d bits\n", argv[4], 8 * width);
		return 2;
	}
	if (offset % width) {
		fprintf(stderr, "barpoke: offset %s is not aligned to %d bytes\n", argv[2], width);
		return 2;
	}
	digits = 2 * width;
	p = map_word(argv[1], offset, width, writing, &base, &len);
	printf("Value at offset %#" PRIx64 " (%p): 0x%0*" PRIX64 "\n", offset, (void *)p, digits,
	       load(p, width));
	if (writing) {
		store(p, width, value);
		back = load(p, width);
		printf("Written 0x%0*" PRIX64 "; readback 0x%0*" PRIX64 "\n", digits, value, digits,
		       back);
	}
	munmap(base, len);
	return 0;
}

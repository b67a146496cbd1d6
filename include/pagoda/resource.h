/* The physical resource tree, as Linux's /proc/iomem (mm/resource.c).
 *
 * Each resource is a half-open range [start, end) of physical addresses
 * with a name ("System RAM", "Reserved", "ACPI Tables", "Kernel code",
 * later PCI BARs and the framebuffer). Children lie inside their parent and
 * siblings do not overlap; the list of children is sorted by address. */
#ifndef PAGODA_RESOURCE_H
#define PAGODA_RESOURCE_H

#include <pagoda/types.h>

#define IORESOURCE_MEM 0x00000200
#define IORESOURCE_IO 0x00000100
#define IORESOURCE_BUSY 0x80000000
#define IORESOURCE_SYSRAM 0x01000000

struct resource {
	const char *name;
	phys_addr_t start;
	phys_addr_t end; /* exclusive */
	unsigned long flags;
	struct resource *parent, *sibling, *child;
};

/* The root of all physical memory addresses: [0, 2^64 - 1). */
extern struct resource iomem_resource;

/* Insert new under parent. It must fit inside parent and not overlap a
 * sibling. Returns 0, or -EINVAL (bad range) / -EBUSY (overlap; *conflict
 * gets the resource in the way if conflict is not NULL). Ownership of new
 * stays with the caller; it must outlive its place in the tree. */
int request_resource(struct resource *parent, struct resource *new, struct resource **conflict);

/* Like request_resource(), but where new covers existing siblings
 * completely, they become its children (Linux's insert_resource()). */
int insert_resource(struct resource *parent, struct resource *new);

/* Take res out of the tree (its children go with it). Returns 0 or -EINVAL. */
int release_resource(struct resource *res);

/* The deepest resource containing [start, end), or NULL. */
struct resource *resource_lookup(struct resource *root, phys_addr_t start, phys_addr_t end);

/* Format the tree as /proc/iomem does ("00000000-0009fbff : System RAM",
 * inclusive ends, two spaces per level). Returns the length written (as
 * snprintf). */
int resource_format(const struct resource *root, char *buf, size_t size);

/* Build the boot tree from memblock: System RAM, Reserved, ACPI Tables,
 * ACPI Non-volatile Storage, the kernel image parts, memmap= ranges. */
void resource_init_boot(void);

/* Print the tree to the kernel log. */
void resource_print(void);

#endif

/* Transparent huge pages for private anonymous memory: see
 * include/pagoda/thp.h for the accounting and docs/thp.md for the
 * picture. The page-table side (a PMD leaf installed, replaced, split)
 * is mm/pgtable.c's; this file decides when, and keeps the frames'
 * reference counts and the AnonHugePages count right. */
#include <asm/mtrr.h>
#include <pagoda/atomic.h>
#include <pagoda/cmdline.h>
#include <pagoda/errno.h>
#include <pagoda/format.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/string.h>
#include <pagoda/thp.h>
#include <pagoda/tlb.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>

/* The sysfs policy; one word, read by faults without a lock. */
static enum thp_policy policy = THP_ALWAYS; /* Debian's kernels: always */

/* Huge pages with at least one PMD leaf (atomic). */
static uint64_t nr_anon_thps;

static const char *const policy_names[] = {
	[THP_ALWAYS] = "always",
	[THP_MADVISE] = "madvise",
	[THP_NEVER] = "never",
};

enum thp_policy thp_policy_get(void) { return READ_ONCE(policy); }
void thp_policy_set(enum thp_policy p) { WRITE_ONCE(policy, p); }
uint64_t thp_nr_anon(void) { return atomic_load(&nr_anon_thps); }

int thp_policy_parse(const char *buf, size_t len)
{
	len = strnlen(buf, len);
	if (len && buf[len - 1] == '\n')
		len--; /* sysfs_streq(): one newline at the end is allowed */
	for (unsigned int i = 0; i < ARRAY_SIZE(policy_names); i++)
		if (strlen(policy_names[i]) == len && !memcmp(buf, policy_names[i], len))
			return (int)i;
	return -EINVAL;
}

/* ---- eligibility ---- */

/* Private anonymous memory: no file, no driver, not shared (Pagoda's
 * shared anonymous memory is populated with 4 KiB pages at mmap). */
static bool vma_is_private_anon(const struct vm_area_struct *v)
{
	return !v->vm_file && !v->vm_ops &&
	       !(v->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO));
}

bool thp_vma_allows(const struct vm_area_struct *vma, uintptr_t addr)
{
	uintptr_t haddr = addr & HPAGE_PMD_MASK;
	enum thp_policy p = thp_policy_get();

	if (p == THP_NEVER || !vma_is_private_anon(vma) || (vma->vm_flags & VM_NOHUGEPAGE))
		return false;
	if (p == THP_MADVISE && !(vma->vm_flags & VM_HUGEPAGE))
		return false;
	return haddr >= vma->vm_start && vma->vm_end - haddr >= HPAGE_PMD_SIZE;
}

bool thp_is_huge_leaf(pte_t e, unsigned int level)
{
	struct page *p;

	if (level != 1 || !(e & PTE_USER) || (e & PTE_SPECIAL))
		return false;
	p = pfn_to_page(phys_to_pfn(pte_leaf_phys(e, level)));
	return p && (p->flags & PG_thp);
}

/* ---- the compound page ---- */

/* The i-th descriptor of the block at head (pfn): descriptors are one
 * array per RAM section, and a block may in principle span two. */
static struct page *subpage(struct page *head, pfn_t pfn, unsigned int i)
{
	return pfn_to_page(pfn + i);
}

/* Make the order-9 block at head a huge page: the head counts for all. */
static void compound_init(struct page *head)
{
	pfn_t pfn = page_to_pfn(head);

	head->flags |= PG_thp;
	head->private = 0; /* PMD mappings */
	for (unsigned int i = 1; i < HPAGE_PMD_NR; i++) {
		struct page *t = subpage(head, pfn, i);
		t->flags = PG_tail;
		t->private = (uint64_t)(uintptr_t)head;
	}
}

/* The only mapping of the huge page is being split: make it 512
 * ordinary pages, one reference each, one per new 4 KiB entry (Linux's
 * split_huge_page(), at once rather than deferred), so that unmapping
 * part of it frees that part. Nobody else can take a reference meanwhile:
 * no other mm maps it, and ours is held by the caller. */
static void compound_split(struct page *head)
{
	pfn_t pfn = page_to_pfn(head);

	for (unsigned int i = 0; i < HPAGE_PMD_NR; i++) {
		struct page *p = subpage(head, pfn, i);
		p->flags = 0;
		p->order = 0;
		p->private = 0;
		atomic_store(&p->refcount, 1);
	}
}

void thp_pmd_mapped(struct page *head)
{
	if (atomic_fetch_add(&head->private, 1) == 0)
		atomic_inc(&nr_anon_thps);
}

void thp_pmd_unmapped(struct page *head)
{
	if (atomic_sub_return(&head->private, 1) == 0)
		atomic_dec(&nr_anon_thps);
}

void thp_pmd_split(pte_t old)
{
	struct page *head = pfn_to_page(phys_to_pfn(pte_leaf_phys(old, 1)));

	thp_pmd_unmapped(head);
	if (atomic_load(&head->refcount) == 1)
		compound_split(head);
	else /* the leaf's reference becomes 512, one per 4 KiB entry */
		atomic_fetch_add(&head->refcount, HPAGE_PMD_NR - 1);
}

/* ---- faults ---- */

/* Zero 2 MiB eight bytes at a time: under emulation (TCG) each iteration
 * of a rep string instruction costs about the same whatever its width, so
 * this is several times faster than memset()'s rep stosb, and on real
 * CPUs it is as fast. */
static void clear_huge(void *va)
{
	uint64_t n = HPAGE_PMD_SIZE / 8;

	__asm__ __volatile__("rep stosq" : "+D"(va), "+c"(n) : "a"(0UL) : "memory");
}

/* A zeroed huge page, or NULL (no free order-9 block, which is no error:
 * the caller falls back to 4 KiB pages). */
static struct page *thp_alloc(void)
{
	struct page *head = alloc_pages(GFP_KERNEL | __GFP_NOWARN, HPAGE_PMD_ORDER);

	if (!head)
		return NULL;
	clear_huge(page_address(head));
	/* A huge page over mixed MTRR types is undefined (SDM 12.11.9). */
	if (!mtrr_huge_ok(page_to_phys(head), HPAGE_PMD_SIZE)) {
		free_pages(head, HPAGE_PMD_ORDER);
		return NULL;
	}
	compound_init(head);
	return head;
}

vm_fault_t thp_do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma,
				 uintptr_t addr, unsigned int flags)
{
	uintptr_t haddr = addr & HPAGE_PMD_MASK;
	struct page *head;
	int ret;

	/* A read maps the 4 KiB zero page (Pagoda has no huge zero page). */
	if (!(flags & FAULT_FLAG_WRITE) || !thp_vma_allows(vma, addr) ||
	    !pt_level_empty(mm->pgd, haddr, 1))
		return VM_FAULT_FALLBACK;
	if (!(head = thp_alloc()))
		return VM_FAULT_FALLBACK;
	spin_lock(&mm->page_table_lock);
	ret = pt_map_leaf(mm->pgd, haddr, page_to_phys(head), 1, vma->vm_page_prot);
	if (ret == 0)
		thp_pmd_mapped(head);
	spin_unlock(&mm->page_table_lock);
	if (ret == 0)
		return VM_FAULT_OK;
	put_page(head); /* another thread mapped something here first, or -ENOMEM */
	return VM_FAULT_FALLBACK;
}

vm_fault_t thp_wp_fault(struct mm_struct *mm, struct vm_area_struct *vma, uintptr_t addr,
			unsigned int flags, pte_t pmd)
{
	uintptr_t haddr = addr & HPAGE_PMD_MASK;
	struct page *head = pfn_to_page(phys_to_pfn(pte_leaf_phys(pmd, 1)));
	struct pt_lookup_result r;
	struct mmu_gather tlb;
	bool split = false;
	int ret = 0;

	if (!(pmd & PTE_COW))
		return VM_FAULT_SIGSEGV;
	tlb_gather_init(&tlb, mm);
	spin_lock(&mm->page_table_lock);
	if (pt_lookup(mm->pgd, haddr, &r) == 0 && r.level == 1 && r.pte == pmd) {
		/* Our leaf holds the only reference: no one else sees the page. */
		if (atomic_load(&head->refcount) == 1) {
			ret = pt_set_huge_leaf_gather(mm->pgd, haddr, 1, page_to_phys(head),
						      vma->vm_page_prot, &tlb);
		} else {
			ret = pt_split_gather(mm->pgd, haddr, PAGE_SIZE, &tlb);
			split = true;
		}
	}
	tlb_flush(&tlb); /* under the lock: no CPU keeps the old entry after it */
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb);
	if (ret < 0)
		return VM_FAULT_OOM;
	/* Now a 4 KiB copy-on-write fault, which copies one page. */
	return split ? handle_mm_fault(mm, addr, flags) : VM_FAULT_OK;
}

/* ---- splitting for the mmap family ---- */

/* Split the huge page of mm whose PMD leaf maps addr, if there is one. */
static int split_one(struct mm_struct *mm, uintptr_t addr)
{
	struct pt_lookup_result r;
	struct mmu_gather tlb;
	int ret = 0;

	tlb_gather_init(&tlb, mm);
	spin_lock(&mm->page_table_lock);
	if (pt_lookup(mm->pgd, addr, &r) == 0 && thp_is_huge_leaf(r.pte, r.level))
		ret = pt_split_gather(mm->pgd, addr & HPAGE_PMD_MASK, PAGE_SIZE, &tlb);
	spin_unlock(&mm->page_table_lock);
	tlb_finish(&tlb);
	return ret;
}

int thp_split_at(struct mm_struct *mm, uintptr_t addr)
{
	if (!(addr & ~HPAGE_PMD_MASK))
		return 0; /* a boundary no PMD leaf straddles */
	return split_one(mm, addr);
}

int thp_split_range(struct mm_struct *mm, uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start & HPAGE_PMD_MASK; a < end; a += HPAGE_PMD_SIZE) {
		int ret = split_one(mm, MAX(a, start));
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- madvise ---- */

int thp_madvise(struct mm_struct *mm, struct vm_area_struct **vma, uintptr_t start,
		uintptr_t end, int advice)
{
	struct vm_area_struct *v = *vma, *tail;
	unsigned long flags = v->vm_flags;

	if (advice == MADV_HUGEPAGE)
		flags = (flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
	else
		flags = (flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
	if (flags == v->vm_flags)
		return 0;
	/* Linux's madvise_update_vma(): -ENOMEM splitting becomes -EAGAIN. */
	if (v->vm_start < start) {
		if (vma_split(mm, v, start, &tail) < 0)
			return -EAGAIN;
		v = tail;
	}
	if (v->vm_end > end && vma_split(mm, v, end, &tail) < 0)
		return -EAGAIN;
	/* Huge pages already there stay (Linux leaves them too). */
	v->vm_flags = flags;
	*vma = vma_merge_neighbours(mm, v);
	return 0;
}

/* ---- /sys/kernel/mm/transparent_hugepage ---- */

#define THP_SYSFS_DIR "/sys/kernel/mm/transparent_hugepage"
#define SYSFS_ATTR_SIZE 4096 /* st_size of a sysfs text attribute: a page */

/* Copy the part of text at *pos on into buf, as a sysfs read. */
static ssize_t attr_read(const char *text, void *buf, size_t n, uint64_t *pos)
{
	size_t len = strlen(text);

	if (*pos >= len)
		return 0;
	n = MIN(n, len - *pos);
	memcpy(buf, text + *pos, n);
	*pos += n;
	return (ssize_t)n;
}

/* "[always] madvise never\n": every policy, the current one bracketed. */
static ssize_t enabled_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	enum thp_policy cur = thp_policy_get();
	char text[64];
	size_t len = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(policy_names); i++)
		len += snprintf(text + len, sizeof(text) - len, i == cur ? "%s[%s]" : "%s%s",
				i ? " " : "", policy_names[i]);
	snprintf(text + len, sizeof(text) - len, "\n");
	return attr_read(text, buf, n, pos);
}

/* Each write is one store, wherever the file position is (sysfs). */
static ssize_t enabled_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	int p = thp_policy_parse(buf, n);

	if (!n)
		return 0; /* sysfs_kf_write(): nothing to store */
	if (p < 0)
		return p;
	thp_policy_set((enum thp_policy)p);
	return (ssize_t)n;
}

static ssize_t pmd_size_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	char text[24];

	snprintf(text, sizeof(text), "%lu\n", (unsigned long)HPAGE_PMD_SIZE);
	return attr_read(text, buf, n, pos);
}

/* A read-only attribute refuses to be opened for writing (kernfs). */
static int read_only_open(struct inode *inode, struct file *f)
{
	return (f->flags & O_ACCMODE) == O_RDONLY ? 0 : -EACCES;
}

static const struct file_operations enabled_fops = {
	.read = enabled_read,
	.write = enabled_write,
};
static const struct file_operations pmd_size_fops = {
	.read = pmd_size_read,
	.open = read_only_open,
};

/* Not ramfs's operations: O_TRUNC must not touch the size stat shows. */
static const struct inode_operations attr_iops;

static int attr_add(const char *name, uint32_t mode, const struct file_operations *fops)
{
	char path[96];
	struct inode *inode;
	int err;

	snprintf(path, sizeof(path), THP_SYSFS_DIR "/%s", name);
	if ((err = vfs_mknod(path, S_IFREG | mode, fops, NULL)) < 0 ||
	    (err = vfs_lookup(NULL, path, true, &inode)) < 0)
		return err;
	inode->size = SYSFS_ATTR_SIZE;
	inode->i_op = &attr_iops;
	return 0;
}

/* transparent_hugepage=always|madvise|never, as Linux's boot option. */
static void thp_cmdline(void)
{
	const char *v = kernel_param("transparent_hugepage");
	int p;

	if (!v)
		return;
	if ((p = thp_policy_parse(v, strlen(v))) < 0)
		pr_warn("thp: transparent_hugepage=%s cannot parse, ignored\n", v);
	else
		thp_policy_set((enum thp_policy)p);
}

void thp_sysfs_init(void)
{
	static const char *const dirs[] = { "/sys/kernel", "/sys/kernel/mm", THP_SYSFS_DIR };
	int err = 0;

	thp_cmdline();
	for (unsigned int i = 0; i < ARRAY_SIZE(dirs) && (!err || err == -EEXIST); i++)
		err = vfs_mkdir(dirs[i], 0755);
	if ((err && err != -EEXIST) || (err = attr_add("enabled", 0644, &enabled_fops)) < 0 ||
	    (err = attr_add("hpage_pmd_size", 0444, &pmd_size_fops)) < 0)
		pr_err("thp: cannot create %s: error %d\n", THP_SYSFS_DIR, err);
}

/* Tests of /dev/fb0 through its file operations, as a process sees it:
 * each case opens the device, enters a fresh address space with a page of
 * user memory for the ioctl arguments, and checks at the end that every
 * frame came back (the framebuffer's frames are device memory: a mapping
 * of them must never take or free one). Expected values come from the boot
 * information, not from the driver. */
#include <pagoda/bootfb.h>
#include <pagoda/bootinfo.h>
#include <pagoda/errno.h>
#include <pagoda/fbcon.h>
#include <pagoda/fbdev.h>
#include <pagoda/ktest.h>
#include <pagoda/power.h>
#include <pagoda/mm.h>
#include <pagoda/pmm.h>
#include <pagoda/printk.h>
#include <pagoda/slab.h>
#include <pagoda/uaccess.h>
#include <pagoda/vfs.h>
#include <pagoda/vma.h>
#include <asm/x86.h>

/* The Bochs DISPI registers, read here to see that a mode really changed
 * (QEMU include/hw/display/bochs-vbe.h). */
#define VBE_DISPI_IOPORT_INDEX 0x01ce
#define VBE_DISPI_IOPORT_DATA 0x01cf
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2

struct fb_env {
	struct mm_struct *mm;
	struct file *f;
	void *ubuf; /* a page of user memory in mm */
	uint64_t free_before;
};

/* Open /dev/fb0 and switch to a fresh mm holding one user page. Returns
 * false, with the case skipped or failed, when that cannot be done. */
static bool env_enter(struct ktest *t, struct fb_env *e)
{
	int err = fbdev_init();
	long addr;

	if (err == -ENODEV) {
		char why[160];
		snprintf(why, sizeof(why), "no /dev/fb0: %s", bootfb_why_not_rgb());
		ktest_skip(t, why);
		return false;
	}
	kmalloc_shrink();
	e->free_before = pmm_free_pages();
	e->f = err ? NULL : vfs_open("/", "/dev/fb0", O_RDWR, 0, &err);
	e->mm = e->f ? mm_create() : NULL;
	if (!e->mm) {
		ktest_fail(t, __FILE__, __LINE__, "cannot open /dev/fb0 in a new mm: %d", err);
		if (e->f)
			file_put(e->f);
		return false;
	}
	mm_switch(e->mm);
	addr = do_mmap(e->mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       NULL, 0);
	e->ubuf = addr > 0 ? (void *)addr : NULL;
	if (!e->ubuf)
		ktest_fail(t, __FILE__, __LINE__, "do_mmap of a user page: %ld", addr);
	return true;
}

/* Leave and destroy the mm, close the file, and check no frame leaked. */
static void env_exit(struct ktest *t, struct fb_env *e)
{
	mm_switch(NULL);
	mm_destroy(e->mm);
	file_put(e->f);
	kmalloc_shrink();
	KEXPECT_EQ(t, pmm_free_pages(), e->free_before);
}

typedef void (*fb_body_fn)(struct ktest *t, struct fb_env *e);

/* Run body inside the environment; env_exit() runs even when the body
 * returns early (KASSERT). */
static void run_in_env(struct ktest *t, fb_body_fn body)
{
	struct fb_env e;

	if (!env_enter(t, &e))
		return;
	body(t, &e);
	env_exit(t, &e);
}

/* FB_CASE(name) { ... }: a case whose body has e, an open /dev/fb0 and an
 * active fresh mm. */
#define FB_CASE(name)                                                          \
	static void name##_body(struct ktest *t, struct fb_env *e);            \
	static void name(struct ktest *t) { run_in_env(t, name##_body); }       \
	static void name##_body(struct ktest *t, struct fb_env *e)

static long fb_ioctl(struct fb_env *e, unsigned int cmd, const void *uarg)
{
	return e->f->f_op->ioctl(e->f, cmd, (unsigned long)uarg);
}

static long get_var(struct fb_env *e, struct fb_var_screeninfo *var)
{
	long r = fb_ioctl(e, FBIOGET_VSCREENINFO, e->ubuf);

	return r ? r : copy_from_user(var, e->ubuf, sizeof(*var));
}

static long get_fix(struct fb_env *e, struct fb_fix_screeninfo *fix)
{
	long r = fb_ioctl(e, FBIOGET_FSCREENINFO, e->ubuf);

	return r ? r : copy_from_user(fix, e->ubuf, sizeof(*fix));
}

/* FBIOPUT_VSCREENINFO; *var gets what the driver answered. */
static long put_var(struct fb_env *e, struct fb_var_screeninfo *var)
{
	long r = copy_to_user(e->ubuf, var, sizeof(*var));

	if (!r)
		r = fb_ioctl(e, FBIOPUT_VSCREENINFO, e->ubuf);
	copy_from_user(var, e->ubuf, sizeof(*var));
	return r;
}

static long map_fb(struct fb_env *e, size_t len, unsigned long pgoff)
{
	return do_mmap(e->mm, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, e->f, pgoff);
}

static uint16_t dispi_read(unsigned int index)
{
	outw(VBE_DISPI_IOPORT_INDEX, index);
	return inw(VBE_DISPI_IOPORT_DATA);
}

FB_CASE(fbdev_vscreeninfo_matches_boot_framebuffer)
{
	const struct boot_framebuffer *fb = bootfb_rgb();
	struct fb_var_screeninfo var;

	KASSERT_EQ(t, get_var(e, &var), 0);
	KEXPECT_EQ(t, var.xres, fb->width);
	KEXPECT_EQ(t, var.yres, fb->height);
	KEXPECT_EQ(t, var.xres_virtual, fb->width);
	KEXPECT_EQ(t, var.yres_virtual, fb->height);
	KEXPECT_EQ(t, var.xoffset, 0);
	KEXPECT_EQ(t, var.yoffset, 0);
	KEXPECT_EQ(t, var.bits_per_pixel, fb->bpp);
	KEXPECT_EQ(t, var.red.offset, fb->red_pos);
	KEXPECT_EQ(t, var.red.length, fb->red_size);
	KEXPECT_EQ(t, var.green.offset, fb->green_pos);
	KEXPECT_EQ(t, var.green.length, fb->green_size);
	KEXPECT_EQ(t, var.blue.offset, fb->blue_pos);
	KEXPECT_EQ(t, var.blue.length, fb->blue_size);
	if (fb->bpp == 32 && fb->red_pos == 16 && fb->green_pos == 8 && fb->blue_pos == 0) {
		KEXPECT_EQ(t, var.transp.offset, 24);
		KEXPECT_EQ(t, var.transp.length, 8);
	}
	ktest_log(t, "%ux%u, %u bpp", var.xres, var.yres, var.bits_per_pixel);
}

FB_CASE(fbdev_fscreeninfo_reports_64bit_address_and_line_length)
{
	const struct boot_framebuffer *fb = bootfb_rgb();
	struct fb_fix_screeninfo fix;

	KASSERT_EQ(t, get_fix(e, &fix), 0);
	KEXPECT_EQ(t, fix.smem_start, fb->addr);
	KEXPECT_EQ(t, fix.line_length, fb->pitch);
	KEXPECT_EQ(t, fix.smem_len, ALIGN_UP((uint64_t)fb->pitch * fb->height, PAGE_SIZE));
	KEXPECT_EQ(t, fix.type, FB_TYPE_PACKED_PIXELS);
	KEXPECT_EQ(t, fix.visual, FB_VISUAL_TRUECOLOR);
	KEXPECT_EQ(t, fix.mmio_len, 0);
	KEXPECT_STREQ(t, fix.id, boot_info.booted_via_efi ? "EFI VGA" : "VESA VGA");
	/* a line may be padded (4352 bytes for 1024 pixels on some GPUs), never short */
	KEXPECT_GE(t, fix.line_length, fb->width * ((fb->bpp + 7) / 8));
	ktest_log(t, "\"%s\" at %#lx, %u bytes, line length %u", fix.id, fix.smem_start,
		  fix.smem_len, fix.line_length);
}

/* Every page of a mapping: PTE_SPECIAL, write-combining, the right frame. */
static void expect_wc_mapping(struct ktest *t, struct mm_struct *mm, uintptr_t va,
			      phys_addr_t pa, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		struct pt_lookup_result r;
		KASSERT_EQ(t, pt_lookup(mm->pgd, va + off, &r), 0);
		KEXPECT_EQ(t, r.phys, pa + off);
		KEXPECT_TRUE(t, r.pte & PTE_SPECIAL);
		KEXPECT_EQ(t, pte_cache_mode(r.pte, r.level), CACHE_WC);
		if (r.phys != pa + off || !(r.pte & PTE_SPECIAL) ||
		    pte_cache_mode(r.pte, r.level) != CACHE_WC)
			return; /* one report is enough */
	}
}

FB_CASE(fbdev_mmap_is_write_combining_at_smem_start)
{
	struct fb_fix_screeninfo fix;
	struct vm_area_struct *v;
	uint32_t px = 0x00c0ffee, back = 0;
	long addr;

	KASSERT_EQ(t, get_fix(e, &fix), 0);
	addr = map_fb(e, fix.smem_len, 0);
	KASSERT_GT(t, addr, 0);
	expect_wc_mapping(t, e->mm, addr, fix.smem_start, fix.smem_len);
	v = vma_lookup(e->mm, addr);
	KASSERT_NOT_NULL(t, v);
	KEXPECT_EQ(t, v->vm_flags & (VM_IO | VM_PFNMAP), VM_IO | VM_PFNMAP);
	/* A pixel stored through the mapping is in the memory read(2) sees. */
	KEXPECT_EQ(t, copy_to_user((void *)addr, &px, sizeof(px)), 0);
	KEXPECT_EQ(t, vfs_pread(e->f, &back, sizeof(back), 0), (ssize_t)sizeof(back));
	KEXPECT_EQ(t, back, px);
}

/* False, with the case skipped and the reason, without a framebuffer
 * console to suspend. */
static bool console_active(struct ktest *t)
{
	char why[160];

	if (fbcon_active())
		return true;
	snprintf(why, sizeof(why), "no active framebuffer console: %s",
		 bootfb_rgb() ? "a process maps the framebuffer" : bootfb_why_not_rgb());
	ktest_skip(t, why);
	return false;
}

/* The console stays suspended until the last piece of the last mapping
 * goes: a split (partial munmap) and a fork make more VMAs to count. */
FB_CASE(fbdev_console_suspended_until_last_unmap)
{
	struct mm_struct *child;
	long addr;

	if (!console_active(t))
		return;
	addr = map_fb(e, 4 * PAGE_SIZE, 0);
	KASSERT_GT(t, addr, 0);
	KEXPECT_FALSE(t, fbcon_active());
	KEXPECT_EQ(t, fbdev_mapping_count(), 1);
	KEXPECT_EQ(t, do_munmap(e->mm, addr + PAGE_SIZE, PAGE_SIZE), 0); /* 2 pieces left */
	KEXPECT_EQ(t, fbdev_mapping_count(), 2);
	child = mm_fork(e->mm);
	KASSERT_NOT_NULL(t, child);
	KEXPECT_EQ(t, fbdev_mapping_count(), 4);
	mm_destroy(child);
	KEXPECT_EQ(t, fbdev_mapping_count(), 2);
	KEXPECT_EQ(t, do_munmap(e->mm, addr, PAGE_SIZE), 0);
	KEXPECT_FALSE(t, fbcon_active());
	KEXPECT_EQ(t, do_munmap(e->mm, addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	KEXPECT_EQ(t, fbdev_mapping_count(), 0);
	KEXPECT_TRUE(t, fbcon_active());
}

static void map_twice_body(struct ktest *t, struct fb_env *e)
{
	struct fb_fix_screeninfo fix;

	KASSERT_EQ(t, get_fix(e, &fix), 0);
	KEXPECT_GT(t, map_fb(e, fix.smem_len, 0), 0);
	KEXPECT_GT(t, map_fb(e, PAGE_SIZE, 1), 0);
	KEXPECT_EQ(t, fbdev_mapping_count(), 2);
	KEXPECT_FALSE(t, fbcon_active());
}

/* A process that exits with the framebuffer mapped gives the console back. */
static void fbdev_console_resumes_when_mm_destroyed(struct ktest *t)
{
	if (!console_active(t))
		return;
	run_in_env(t, map_twice_body);
	KEXPECT_EQ(t, fbdev_mapping_count(), 0);
	KEXPECT_TRUE(t, fbcon_active());
}

FB_CASE(fbdev_mmap_past_the_framebuffer_is_einval)
{
	struct fb_fix_screeninfo fix;

	KASSERT_EQ(t, get_fix(e, &fix), 0);
	KEXPECT_EQ(t, map_fb(e, PAGE_SIZE, fix.smem_len / PAGE_SIZE), -EINVAL);
	KEXPECT_EQ(t, map_fb(e, fix.smem_len + PAGE_SIZE, 0), -EINVAL);
	KEXPECT_EQ(t, map_fb(e, 2 * PAGE_SIZE, fix.smem_len / PAGE_SIZE - 1), -EINVAL);
	KEXPECT_EQ(t, fbdev_mapping_count(), 0);
	KEXPECT_EQ(t, e->mm->map_count, 1); /* only the argument page */
}

FB_CASE(fbdev_unknown_ioctl_is_enotty)
{
	KEXPECT_EQ(t, fb_ioctl(e, 0x4699, e->ubuf), -ENOTTY);
	KEXPECT_EQ(t, fb_ioctl(e, 0x5401 /* TCGETS */, e->ubuf), -ENOTTY);
}

FB_CASE(fbdev_bad_user_pointer_is_efault)
{
	struct fb_var_screeninfo var;

	KEXPECT_EQ(t, fb_ioctl(e, FBIOGET_VSCREENINFO, (void *)0x1000), -EFAULT);
	KEXPECT_EQ(t, fb_ioctl(e, FBIOGET_FSCREENINFO, &var), -EFAULT); /* kernel address */
	KEXPECT_EQ(t, fb_ioctl(e, FBIOPUT_VSCREENINFO, NULL), -EFAULT);
	KEXPECT_EQ(t, fb_ioctl(e, FBIOPAN_DISPLAY, NULL), -EFAULT);
	/* The structure straddles the end of the user page. */
	KEXPECT_EQ(t, fb_ioctl(e, FBIOGET_VSCREENINFO, (uint8_t *)e->ubuf + PAGE_SIZE - 8),
		   -EFAULT);
}

/* Putting the current mode back is a no-op that succeeds; a different one
 * is set, or, without mode setting, answered with the current mode (as
 * efifb and vesafb do). FB_ACTIVATE_TEST never changes anything. */
FB_CASE(fbdev_put_without_change_returns_current_mode)
{
	struct fb_var_screeninfo cur, var;

	KASSERT_EQ(t, get_var(e, &cur), 0);
	var = cur;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_EQ(t, memcmp(&var, &cur, sizeof(var)), 0);
	var.xres = 640;
	var.yres = 480;
	var.activate = FB_ACTIVATE_TEST;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_EQ(t, var.xres, fbdev_can_set_mode() ? 640 : cur.xres);
	KEXPECT_EQ(t, var.yres, fbdev_can_set_mode() ? 480 : cur.yres);
	KEXPECT_EQ(t, get_var(e, &var), 0);
	KEXPECT_EQ(t, memcmp(&var, &cur, sizeof(var)), 0);
}

FB_CASE(fbdev_put_rejects_impossible_modes)
{
	struct fb_var_screeninfo cur, var;

	if (!fbdev_can_set_mode()) {
		ktest_skip(t, "no Bochs DISPI interface: every request gets the boot mode");
		return;
	}
	KASSERT_EQ(t, get_var(e, &cur), 0);
	var = cur, var.bits_per_pixel = 8;
	KEXPECT_EQ(t, put_var(e, &var), -EINVAL);
	var = cur, var.xres = 4;
	KEXPECT_EQ(t, put_var(e, &var), -EINVAL);
	var = cur, var.xres = var.xres_virtual = 8000, var.yres = var.yres_virtual = 8000;
	KEXPECT_EQ(t, put_var(e, &var), -EINVAL); /* 256 MB: more than the video memory */
	var = cur, var.xres = 100000;
	KEXPECT_EQ(t, put_var(e, &var), -EINVAL);
	KEXPECT_EQ(t, get_var(e, &var), 0);
	KEXPECT_EQ(t, memcmp(&var, &cur, sizeof(var)), 0);
}

/* Set 800x600x32 and check the driver, the hardware and the console took
 * it; then put the boot mode back and find everything as it was. */
FB_CASE(fbdev_mode_set_round_trip)
{
	struct fb_var_screeninfo cur, var;
	struct fb_fix_screeninfo fix;
	unsigned int cols, rows, cols0, rows0;

	if (!fbdev_can_set_mode()) {
		ktest_skip(t, "no Bochs DISPI interface (not QEMU's standard VGA)");
		return;
	}
	if (!debug_exit_present()) {
		/* A mode change clears the console: keep an interactive boot's log. */
		ktest_skip(t, "interactive boot (mode setting is tested under make test)");
		return;
	}
	fbcon_get_geometry(&cols0, &rows0);
	KASSERT_EQ(t, get_var(e, &cur), 0);
	var = cur;
	var.xres = var.xres_virtual = 800;
	var.yres = var.yres_virtual = 600;
	var.bits_per_pixel = 32;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_EQ(t, var.xres, 800);
	KEXPECT_EQ(t, var.yres, 600);
	KEXPECT_EQ(t, get_fix(e, &fix), 0);
	KEXPECT_EQ(t, fix.line_length, 3200);
	KEXPECT_EQ(t, fix.smem_len, ALIGN_UP(3200 * 600, PAGE_SIZE));
	KEXPECT_EQ(t, fix.smem_start, boot_info.fb.addr);
	KEXPECT_EQ(t, dispi_read(VBE_DISPI_INDEX_XRES), 800);
	KEXPECT_EQ(t, dispi_read(VBE_DISPI_INDEX_YRES), 600);
	fbcon_get_geometry(&cols, &rows);
	if (cols0)
		KEXPECT_EQ(t, cols, 800 / 8);
	var = cur;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_EQ(t, get_var(e, &var), 0);
	KEXPECT_EQ(t, memcmp(&var, &cur, sizeof(var)), 0);
	KEXPECT_EQ(t, get_fix(e, &fix), 0);
	KEXPECT_EQ(t, fix.line_length, boot_info.fb.pitch);
	KEXPECT_EQ(t, dispi_read(VBE_DISPI_INDEX_XRES), boot_info.fb.width);
	fbcon_get_geometry(&cols, &rows);
	KEXPECT_EQ(t, cols, cols0);
	KEXPECT_EQ(t, rows, rows0);
}

static void mode_change_while_mapped_body(struct ktest *t, struct fb_env *e)
{
	struct fb_var_screeninfo cur, var;

	KASSERT_EQ(t, get_var(e, &cur), 0);
	KASSERT_GT(t, map_fb(e, PAGE_SIZE, 0), 0);
	var = cur;
	var.xres = var.xres_virtual = 640;
	var.yres = var.yres_virtual = 480;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_FALSE(t, fbcon_active());
	var = cur;
	KEXPECT_EQ(t, put_var(e, &var), 0);
	KEXPECT_FALSE(t, fbcon_active());
}

/* A mode change while a program has the pixels mapped must not wake the
 * console, which would draw over them; the unmap does. */
static void fbdev_mode_change_keeps_console_suspended(struct ktest *t)
{
	if (!console_active(t))
		return;
	if (!fbdev_can_set_mode()) {
		ktest_skip(t, "no Bochs DISPI interface: the mode cannot be changed");
		return;
	}
	if (!debug_exit_present()) {
		ktest_skip(t, "interactive boot (mode setting is tested under make test)");
		return;
	}
	run_in_env(t, mode_change_while_mapped_body);
	KEXPECT_TRUE(t, fbcon_active());
}

/* read(2) and write(2) as Linux's fb_read()/fb_write(): short at the end,
 * 0 past it for reads, -ENOSPC / -EFBIG for writes that cannot start. */
FB_CASE(fbdev_read_write_stop_at_the_end)
{
	struct fb_fix_screeninfo fix;
	uint8_t buf[8];
	uint64_t end;

	KASSERT_EQ(t, get_fix(e, &fix), 0);
	end = fix.smem_len;
	KEXPECT_EQ(t, vfs_pread(e->f, buf, sizeof(buf), end), 0);
	KEXPECT_EQ(t, vfs_pread(e->f, buf, sizeof(buf), end - 4), 4);
	KEXPECT_EQ(t, vfs_pwrite(e->f, buf, 4, end - 4), 4); /* the same bytes back */
	KEXPECT_EQ(t, vfs_pwrite(e->f, buf, sizeof(buf), end), -ENOSPC);
	KEXPECT_EQ(t, vfs_pwrite(e->f, buf, sizeof(buf), end + 1), -EFBIG);
}

static const struct ktest_case fbdev_cases[] = {
	KTEST_CASE(fbdev_vscreeninfo_matches_boot_framebuffer),
	KTEST_CASE(fbdev_fscreeninfo_reports_64bit_address_and_line_length),
	KTEST_CASE(fbdev_mmap_is_write_combining_at_smem_start),
	KTEST_CASE(fbdev_console_suspended_until_last_unmap),
	KTEST_CASE(fbdev_console_resumes_when_mm_destroyed),
	KTEST_CASE(fbdev_mmap_past_the_framebuffer_is_einval),
	KTEST_CASE(fbdev_unknown_ioctl_is_enotty),
	KTEST_CASE(fbdev_bad_user_pointer_is_efault),
	KTEST_CASE(fbdev_put_without_change_returns_current_mode),
	KTEST_CASE(fbdev_put_rejects_impossible_modes),
	KTEST_CASE(fbdev_mode_set_round_trip),
	KTEST_CASE(fbdev_mode_change_keeps_console_suspended),
	KTEST_CASE(fbdev_read_write_stop_at_the_end),
};

KTEST_SUITE(fbdev, fbdev_cases);

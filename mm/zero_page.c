/* The shared zero page: see include/pagoda/zero_page.h. It lives in the
 * kernel image's read-only data, so that not even a kernel bug writing
 * through the kernel's own mapping can make it non-zero unnoticed (the
 * write faults), and its frame is reserved RAM that no one frees. */
#include <pagoda/compiler.h>
#include <pagoda/zero_page.h>

const uint8_t empty_zero_page[PAGE_SIZE] __aligned(PAGE_SIZE)
	__section(".rodata.zero_page") = { 0 };

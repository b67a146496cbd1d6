/* PAGODA_DEBUG: the expensive checks of the test build.
 *
 * make test (and make test-machines) build the kernel with PAGODA_DEBUG=1,
 * in build/debug/; make, make run and make bench build it without, in
 * build/. Code tests the flag as a constant, `if (PAGODA_DEBUG)`, never
 * with #ifdef, so that both builds compile every check and the compiler
 * drops the ones that are off. What it switches (README, "Two builds"):
 * kmalloc's poisoning, poison checks and double-free scans (mm/slab.c),
 * the poisoning of freed frames (mm/pmm.c), and the check that no frame
 * is handed out before its descriptor is initialised (mm/pmm_deferred.c). */
#ifndef PAGODA_DEBUG_H
#define PAGODA_DEBUG_H

#ifndef PAGODA_DEBUG
#define PAGODA_DEBUG 0
#endif

#endif

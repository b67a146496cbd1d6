/* The undefined-behaviour sanitizer's runtime: the __ubsan_handle_*
 * functions that code built with -fsanitize=undefined calls when a check
 * fails (see include/pagoda/ubsan.h). The layouts of their arguments are
 * the compilers' ABI (GCC's libsanitizer and LLVM's compiler-rt share
 * it: ubsan_handlers.h). This file is built without the sanitizer.
 *
 * Shared data: the report count, written with interrupts off (a check can
 * fail in an interrupt handler too). */
#include <pagoda/printk.h>
#include <pagoda/ubsan.h>
#include <asm/x86.h>

#ifndef UBSAN_BUILD
#define UBSAN_BUILD 0 /* make UBSAN=1 defines it as 1 */
#endif

struct source_location {
	const char *file;
	uint32_t line, column;
};

struct type_descriptor {
	uint16_t kind; /* 0: integer, 1: float, 0xffff: unknown */
	uint16_t info; /* integer: bit 0 signed, bits 15:1 log2(width) */
	char name[];
};

struct overflow_data { struct source_location loc; const struct type_descriptor *type; };
struct shift_data {
	struct source_location loc;
	const struct type_descriptor *lhs, *rhs;
};
struct bounds_data {
	struct source_location loc;
	const struct type_descriptor *array, *index;
};
struct mismatch_data {
	struct source_location loc;
	const struct type_descriptor *type;
	uint8_t log_alignment, check_kind;
};
struct invalid_data { struct source_location loc; const struct type_descriptor *type; };
struct nonnull_arg_data { struct source_location loc, attr; int arg; };
struct loc_data { struct source_location loc; };
struct vla_data { struct source_location loc; const struct type_descriptor *type; };
struct builtin_data { struct source_location loc; uint8_t kind; };
struct alignment_data {
	struct source_location loc, assumption;
	const struct type_descriptor *type;
};

static unsigned int reports;
static unsigned int *expected; /* a self-test's counter, or NULL */

unsigned int ubsan_reports(void) { return reports; }
bool ubsan_enabled(void) { return UBSAN_BUILD; }
void ubsan_expect(unsigned int *count) { expected = count; }
void ubsan_expect_end(void) { expected = NULL; }

static bool is_signed(const struct type_descriptor *t) { return t->kind == 0 && (t->info & 1); }

static void report(const struct source_location *loc, const char *what, long long a, long long b)
{
	uint64_t flags = irq_save();
	const char *file = loc->file ? loc->file : "?";

	if (expected) {
		++*expected;
		printk_raw("    # UBSAN (expected by a test): %s at %s:%u:%u\n", what, file, loc->line,
			   loc->column);
	} else {
		reports++;
		pr_err("UBSAN: %s at %s:%u:%u (operands %#llx, %#llx)\n", what, file, loc->line,
		       loc->column, (unsigned long long)a, (unsigned long long)b);
	}
	irq_restore(flags);
}

static void overflow(const struct overflow_data *d, const char *op, long long a, long long b)
{
	report(&d->loc, is_signed(d->type) ? op : "unsigned overflow", a, b);
}

void __ubsan_handle_add_overflow(struct overflow_data *d, long long a, long long b)
{
	overflow(d, "signed-integer overflow in +", a, b);
}

void __ubsan_handle_sub_overflow(struct overflow_data *d, long long a, long long b)
{
	overflow(d, "signed-integer overflow in -", a, b);
}

void __ubsan_handle_mul_overflow(struct overflow_data *d, long long a, long long b)
{
	overflow(d, "signed-integer overflow in *", a, b);
}

void __ubsan_handle_negate_overflow(struct overflow_data *d, long long a)
{
	overflow(d, "signed-integer overflow in unary -", a, 0);
}

void __ubsan_handle_divrem_overflow(struct overflow_data *d, long long a, long long b)
{
	report(&d->loc, b == 0 ? "division by zero" : "division overflow", a, b);
}

void __ubsan_handle_shift_out_of_bounds(struct shift_data *d, long long a, long long b)
{
	report(&d->loc, "shift out of bounds", a, b);
}

void __ubsan_handle_out_of_bounds(struct bounds_data *d, long long index)
{
	report(&d->loc, "index out of bounds", index, 0);
}

void __ubsan_handle_type_mismatch_v1(struct mismatch_data *d, uintptr_t ptr)
{
	const char *what = !ptr ? "null pointer use" :
			   d->log_alignment && (ptr & ((1UL << d->log_alignment) - 1)) ?
				     "misaligned pointer use" : "object too small for the access";

	report(&d->loc, what, (long long)ptr, 1LL << d->log_alignment);
}

void __ubsan_handle_load_invalid_value(struct invalid_data *d, long long v)
{
	report(&d->loc, "load of a value invalid for its type (bool, enum)", v, 0);
}

void __ubsan_handle_builtin_unreachable(struct loc_data *d)
{
	report(&d->loc, "__builtin_unreachable() reached", 0, 0);
}

void __ubsan_handle_missing_return(struct loc_data *d)
{
	report(&d->loc, "end of a non-void function reached", 0, 0);
}

void __ubsan_handle_vla_bound_not_positive(struct vla_data *d, long long bound)
{
	report(&d->loc, "variable-length array bound not positive", bound, 0);
}

void __ubsan_handle_nonnull_arg(struct nonnull_arg_data *d)
{
	report(&d->loc, "null passed as an argument declared nonnull", d->arg, 0);
}

void __ubsan_handle_nonnull_return_v1(struct loc_data *d, struct source_location *where)
{
	report(where, "null returned from a function declared returns_nonnull", 0, 0);
}

void __ubsan_handle_pointer_overflow(struct loc_data *d, uintptr_t base, uintptr_t result)
{
	report(&d->loc, "pointer arithmetic overflowed", (long long)base, (long long)result);
}

void __ubsan_handle_invalid_builtin(struct builtin_data *d)
{
	report(&d->loc, "__builtin_clz/ctz of zero", d->kind, 0);
}

void __ubsan_handle_alignment_assumption(struct alignment_data *d, uintptr_t ptr,
					 uintptr_t align, uintptr_t offset)
{
	report(&d->loc, "alignment assumption violated", (long long)ptr, (long long)align);
}

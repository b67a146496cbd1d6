/* The legacy 8259A interrupt controllers: remapped, then masked for good.
 *
 * Firmware leaves the master PIC on vectors 0x08-0x0f, the CPU's exception
 * vectors: an IRQ arriving there (a spurious IRQ 7 can come even while
 * masked) would look like a double fault. So they are first moved to
 * PIC_MASTER_VECTOR/PIC_SLAVE_VECTOR, then every line is masked; the local
 * APIC takes over. Programming sequence: Intel 8259A datasheet,
 * "Initialization Command Words" (ICW1-ICW4) and OCW1. */
#include <pagoda/timer.h>
#include <asm/x86.h>

#define PIC1_CMD 0x20  /* master: command; data port is +1 */
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0  /* slave */
#define PIC2_DATA 0xa1

#define ICW1_INIT 0x10 /* start initialisation */
#define ICW1_ICW4 0x01 /* an ICW4 follows; edge triggered, cascaded */
#define ICW3_MASTER_SLAVE_ON_IR2 0x04 /* bit mask of the master's input */
#define ICW3_SLAVE_ID 0x02            /* the slave's cascade identity */
#define ICW4_8086 0x01                /* 8086/88 mode, normal EOI */
#define OCW1_MASK_ALL 0xff

#define IO_DELAY_PORT 0x80 /* POST code port: a write is a harmless ~1 us wait */

/* Old PICs need a moment between initialisation words. */
static void pic_out(uint16_t port, uint8_t v)
{
	outb(port, v);
	outb(IO_DELAY_PORT, 0);
}

void pic_disable(void)
{
	pic_out(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	pic_out(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	pic_out(PIC1_DATA, PIC_MASTER_VECTOR);
	pic_out(PIC2_DATA, PIC_SLAVE_VECTOR);
	pic_out(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IR2);
	pic_out(PIC2_DATA, ICW3_SLAVE_ID);
	pic_out(PIC1_DATA, ICW4_8086);
	pic_out(PIC2_DATA, ICW4_8086);
	pic_out(PIC1_DATA, OCW1_MASK_ALL);
	pic_out(PIC2_DATA, OCW1_MASK_ALL);
}

uint16_t pic_masks(void)
{
	return (uint16_t)inb(PIC2_DATA) << 8 | inb(PIC1_DATA);
}

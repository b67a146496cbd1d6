/* The 8254 PIT's channel 2 as a one-shot stopwatch, read by polling.
 *
 * Channel 2's gate and output are wired to port 0x61 (the PC "system
 * control port B"): bit 0 gates the counter, bit 1 sends its output to the
 * speaker (kept off), bit 5 reads the output. In mode 0 the output goes low
 * when the count is written and high when it reaches zero, so no interrupt
 * is needed (Intel 82C54 datasheet, "Mode 0: Interrupt on Terminal Count"). */
#include <pagoda/timer.h>
#include <asm/x86.h>

#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43
/* Control word: channel 2 (bits 7:6 = 10), lobyte then hibyte (5:4 = 11),
 * mode 0 (3:1 = 000), binary (0 = 0). */
#define PIT_CMD_CH2_ONESHOT 0xb0

#define PORT_B 0x61
#define PORT_B_GATE2 0x01   /* channel 2 gate */
#define PORT_B_SPEAKER 0x02 /* channel 2 output to the speaker */
#define PORT_B_OUT2 0x20    /* channel 2 output, read-only */

void pit_oneshot_start(uint16_t ticks)
{
	uint8_t b = inb(PORT_B);

	outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	outb(PIT_MODE_CMD, PIT_CMD_CH2_ONESHOT);
	outb(PIT_CH2_DATA, ticks & 0xff);
	outb(PIT_CH2_DATA, ticks >> 8); /* counting starts here */
}

bool pit_oneshot_expired(void)
{
	return inb(PORT_B) & PORT_B_OUT2;
}

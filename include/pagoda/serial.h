/* COM1, the 16550 serial console (drivers/serial.c). */
#ifndef PAGODA_SERIAL_H
#define PAGODA_SERIAL_H

/* If a 16550 answers at COM1 (interrupt-enable and loopback checks),
 * program it for 115200 8N1 and register it as the raw (test) console;
 * if none does, there is no serial console and nothing waits for one. */
void serial_init(void);

#endif

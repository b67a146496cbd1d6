/* COM1, the 16550 serial console (drivers/serial.c). */
#ifndef PAGODA_SERIAL_H
#define PAGODA_SERIAL_H

/* Program COM1 for 115200 8N1 and register it as the raw (test) console. */
void serial_init(void);

#endif

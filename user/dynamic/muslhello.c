/* A program linked by plain musl-gcc, dynamically: its PT_INTERP is musl's
 * dynamic linker (/lib/ld-musl-x86_64.so.1), which maps libc.so. It says
 * hello, and prints the lines of its own /proc/self/maps that name a
 * library, so that the dynamic boot's script can check both. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	printf("hello from musl, %d argument%s\n", argc - 1, argc == 2 ? "" : "s");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, ".so"))
			fputs(line, stdout);
	return f ? 0 : 1;
}

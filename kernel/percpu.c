/* The per-CPU areas (include/pagoda/percpu.h). */
#include <pagoda/percpu.h>

struct percpu percpu_areas[MAX_CPUS];

void percpu_init(unsigned int id, uint32_t apic_id)
{
	struct percpu *c = &percpu_areas[id];

	c->id = id;
	c->arch.apic_id = apic_id;
	arch_percpu_load(&c->arch);
}

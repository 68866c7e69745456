/* SPDX-License-Identifier: MIT */
/*
 * The host model: its code page (the stubs every host operation runs, and its
 * vectors), its reset state, and its registration as the machine's client.
 * Operations live in host_op.c, the boot flows and VM records above them.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "firmware.h"
#include "host.h"
#include "host_boot.h"
#include "linux_boot.h"
#include "linux_dwarf.h"
#include "host_vm.h"
#include "machine_priv.h"
#include "profile.h"

#define A64_HVC0 0xd4000002u
#define A64_NOP 0xd503201fu
#define A64_BRK(imm) (0xd4200000u | ((uint32_t)(imm) << 5))
static const uint32_t a64_ldr_x1_x0[] = {0x39400001u, 0x79400001u, 0xb9400001u, 0xf9400001u};
static const uint32_t a64_str_x1_x0[] = {0x39000001u, 0x79000001u, 0xb9000001u, 0xf9000001u};
static void host_smc(struct hs_machine *m, unsigned cpu)
{
	hs_firmware_smc(&m->cpus[cpu]);
}

static void host_destroy(struct hs_machine *m)
{
	hs_vm_records_free(m);
	hs_linux_free(m);
	hs_lx_dwarf_free(hs_host_of(m)->lx_dwarf);
	free(hs_host_of(m));
}

/* The hypervisor's panic reached the host's handler: the profile reads its report. */
static void host_panic(struct hs_machine *m, unsigned cpu, struct hs_event_exception *x)
{
	const struct hs_profile *p = hs_host_of(m)->profile;
	if (p->panic_fault)
		p->panic_fault(m, cpu, x);
}

int hs_host_init(struct hs_machine *m, struct hs_error *err)
{
	const struct hs_profile *profile = hs_profile_for_image(m->img);
	if (!profile)
		return hs_err(err, -EINVAL,
			      "%s: not a hypervisor hypscope knows (profiles: hypscope)",
			      m->opts.hyp_elf);
	struct hs_host *h = calloc(1, sizeof(*h));
	if (!h)
		return hs_err(err, -ENOMEM, "out of memory for the host model");
	h->profile = profile;
	h->code_pa = m->opts.ram_base;
	uint64_t panic_pa = 0;
	if (profile->panic_handler && hs_sym_pa(m, profile->panic_handler, &panic_pa, NULL))
		panic_pa = 0; /* not in this image: EL2 exceptions stop where they are taken */
	hs_machine_set_client(m, &(struct hs_machine_client){
				     .data = h,
				     .complete_op = hs_host_complete_op,
				     .smc = host_smc,
				     .destroy = host_destroy,
				     .el1_vectors_pa = h->code_pa + HS_HOST_OFF_VECTORS,
				     .el1_vectors_len = HS_PAGE_SIZE - HS_HOST_OFF_VECTORS,
				     .hyp_panic_pa = panic_pa,
				     .host_panic = host_panic,
				 });
	uint32_t page[HS_PAGE_SIZE / 4];
	for (size_t i = 0; i < HS_PAGE_SIZE / 4; i++)
		page[i] = A64_BRK(0xe1);
	page[HS_HOST_OFF_HVC / 4] = A64_HVC0;
	page[HS_HOST_OFF_HVC / 4 + 1] = A64_NOP;
	for (int i = 0; i < 4; i++) {
		page[(HS_HOST_OFF_LDR + i * 8) / 4] = a64_ldr_x1_x0[i];
		page[(HS_HOST_OFF_LDR + i * 8) / 4 + 1] = A64_NOP;
		page[(HS_HOST_OFF_STR + i * 8) / 4] = a64_str_x1_x0[i];
		page[(HS_HOST_OFF_STR + i * 8) / 4 + 1] = A64_NOP;
	}
	page[HS_HOST_OFF_IDLE / 4] = A64_NOP;
	page[HS_HOST_OFF_SMC / 4] = 0xd4000003u; /* smc #0 */
	page[HS_HOST_OFF_SMC / 4 + 1] = A64_NOP;
	page[HS_HOST_OFF_LOOP / 4] = 0xaa1403e0u;     /* mov x0, x20 */
	page[HS_HOST_OFF_LOOP / 4 + 1] = A64_HVC0;    /* hvc #0 */
	page[HS_HOST_OFF_LOOP / 4 + 2] = 0xf1000673u; /* subs x19, x19, #1 */
	page[HS_HOST_OFF_LOOP / 4 + 3] =
	    0x54000001u | ((0x7ffffu & (uint32_t)-3) << 5); /* b.ne -12 */
	page[HS_HOST_OFF_LOOP / 4 + 4] = A64_NOP;
	if (hs_machine_is_dump(m)) {
		/*
		 * A dump carries the host's memory but none of its records: the boot
		 * is taken as done when CPU 0 runs with a stage 2 on (HCR_EL2.VM).
		 */
		uint64_t hcr = 0;
		hs_cpu_sysreg(m, 0, HS_SR_HCR_EL2, &hcr);
		if (hcr & 1) {
			h->boot_step = HS_BOOT_DONE;
			h->booted = h->finalized = true;
		}
		return 0;
	}
	int rc = hs_phys_write(m, h->code_pa, page, sizeof(page), err);
	if (rc)
		return rc;
	/* memblock: everything above the hypervisor image, allocated top-down. */
	h->alloc_top = m->opts.ram_base + m->opts.ram_size;
	h->alloc_floor = hs_link_to_pa(m, m->img->link_end) + (2ULL << 20);
	return 0;
}

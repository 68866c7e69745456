/* SPDX-License-Identifier: MIT */
/*
 * Linux's panic path, the host's end of it. A hypervisor exception at EL2 (a BUG()'s
 * brk, a data abort) runs Linux's own code: __kvm_hyp_host_vector's
 * invalid_host_el2_vect -> hyp_panic (or hyp_panic_bad_stack) -> __hyp_do_panic, which
 * ERETs to the host kernel's nvhe_hyp_panic_handler (arch/arm64/kvm/handle_exit.c) with
 * x0..x7 = esr, spsr, elr_virt, elr_phys, par, vcpu, far, hpfar. The machine stops when
 * the CPU arrives there (hs_machine_client.hyp_panic_pa); this file reads those
 * registers and prints what that handler prints, in its order, for the configuration
 * scripts/linux-hyp builds (protected mode, CONFIG_NVHE_EL2_DEBUG=n; 7.x:
 * CONFIG_PKVM_DISABLE_STAGE2_ON_PANIC=n), then what hypscope adds: the BUG's
 * __bug_table site, which Linux's host reads only outside protected mode.
 */
#include "linux_panic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "events.h"
#include "linux_dwarf.h"

/* A NUL-terminated string of the image at link address `link` (loaded, so read RAM). */
static int read_str(struct hs_machine *m, uint64_t link, char *buf, size_t len)
{
	uint64_t pa = hs_link_to_pa(m, link);
	for (size_t i = 0; i + 1 < len; i++) {
		if (hs_phys_read(m, pa + i, &buf[i], 1, NULL))
			return -EFAULT;
		if (!buf[i])
			return 0;
	}
	buf[len - 1] = 0;
	return 0;
}

/* A 32-bit field of the entry at link address e. */
static int rd32(struct hs_machine *m, uint64_t e, uint64_t off, uint32_t *v)
{
	return hs_phys_read(m, hs_link_to_pa(m, e + off), v, sizeof(*v), NULL);
}

int hs_linux_bug_site(struct hs_machine *m, uint64_t pc, char *file, size_t len, unsigned *line,
		      bool *warning)
{
	const struct hs_lx_dwarf *d = hs_lx_dwarf(m);
	const struct hs_symbol *b0 = hs_image_symbol(hs_machine_image(m), "__start___bug_table");
	const struct hs_symbol *b1 = hs_image_symbol(hs_machine_image(m), "__stop___bug_table");
	uint64_t link;
	if (!d || !d->bug.ok || !b0 || !b1 || !hs_addr_to_link(m, pc, &link))
		return -ENOENT;
	/* asm-generic/bug.h, GENERIC_BUG_RELATIVE_POINTERS + DEBUG_BUGVERBOSE (arm64) */
	const struct hs_lx_bug_entry *b = &d->bug;
	for (uint64_t e = b0->addr; e + b->size <= b1->addr; e += b->size) {
		uint32_t disp, fdisp;
		if (rd32(m, e, b->addr_disp, &disp))
			return -EFAULT;
		if (e + b->addr_disp + (int64_t)(int32_t)disp != link)
			continue;
		uint16_t ln = 0, fl = 0;
		if (rd32(m, e, b->file_disp, &fdisp) ||
		    hs_phys_read(m, hs_link_to_pa(m, e + b->line), &ln, 2, NULL) ||
		    hs_phys_read(m, hs_link_to_pa(m, e + b->flags), &fl, 2, NULL) ||
		    read_str(m, e + b->file_disp + (int64_t)(int32_t)fdisp, file, len))
			return -EFAULT;
		*line = ln;
		*warning = fl & 1; /* BUGFLAG_WARNING */
		return 0;
	}
	return -ENOENT;
}

/* ESR_ELx.EC BRK64 with asm/bug.h BUG_BRK_IMM: BUG() and WARN() */
#define ESR_EC_BRK64 0x3c
#define BUG_BRK_IMM 0x800
/* asm/ptrace.h PSR_MODE_MASK, PSR_MODE_EL2t, PSR_MODE_EL2h */
#define PSR_MODE_MASK 0xfULL
#define PSR_MODE_EL2t 0x8ULL
#define PSR_MODE_EL2h 0x9ULL

void hs_linux_panic_fault(struct hs_machine *m, unsigned cpu, struct hs_event_exception *x)
{
	struct hs_cpu_state st;
	if (hs_cpu_state(m, cpu, &st))
		return;
	/* the arguments __hyp_do_panic loads (host.S) */
	uint64_t esr = st.x[0], spsr = st.x[1];
	x->from_el = (unsigned)(spsr >> 2) & 3;
	x->to_el = 1;
	x->esr = esr;
	x->ec = (unsigned)(esr >> 26) & 0x3f;
	x->ec_name = hs_ec_name(x->ec);
	x->pc = st.x[2]; /* elr_virt: the instruction that took it, as a HYP VA */
	x->far = st.x[6];
	x->hpfar = st.x[7];
	x->vector = st.pc;
}

/* Appends to a bounded buffer; *n counts what was asked for, so truncation is cut short. */
static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(*n < len ? buf + *n : NULL, *n < len ? len - *n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

/*
 * handle_exit.c print_nvhe_hyp_panic: "nVHE hyp NAME at: [<panic_addr>] %pB!", %pB
 * being the kernel symbol+offset/size of the address (here the image's link address).
 */
static void print_panic(struct hs_machine *m, const char *name, uint64_t panic_addr, char *buf,
			size_t len, size_t *n)
{
	uint64_t off = 0;
	const struct hs_symbol *s = hs_image_symbolize(hs_machine_image(m), panic_addr, &off);
	put(buf, len, n, "kvm: nVHE hyp %s at: [<%016" PRIx64 ">] ", name, panic_addr);
	if (s && (!s->size || off < s->size))
		put(buf, len, n, "%s+%#" PRIx64 "/%#" PRIx64 "!\n", s->name, off, s->size);
	else
		put(buf, len, n, "%#" PRIx64 "!\n", panic_addr);
}

/* The host's panic: nvhe_hyp_panic_handler's output, from the registers it was given. */
static int panic_report(struct hs_machine *m, const struct hs_linux_panic_facts *k, char *buf,
			size_t len)
{
	const struct hs_stop *ls = hs_last_stop(m);
	struct hs_cpu_state st;
	if (!ls || hs_cpu_state(m, ls->cpu, &st))
		return 0;
	uint64_t esr = st.x[0], spsr = st.x[1], elr_virt = st.x[2], elr_phys = st.x[3];
	uint64_t par = st.x[4], vcpu = st.x[5], far = st.x[6], hpfar = st.x[7];
	/*
	 * __phys_to_kimg: the kernel image VA is the link address (kimage_voffset = link -
	 * load), KASLR off (kaslr_offset() = 0).
	 */
	uint64_t elr_in_kimg = 0;
	hs_addr_to_link(m, elr_phys, &elr_in_kimg);
	uint64_t hyp_offset = elr_in_kimg - elr_virt;
	uint64_t mode = spsr & PSR_MODE_MASK, panic_addr = elr_virt + hyp_offset;
	size_t n = 0;
	put(buf, len, &n,
	    "Linux's panic path ran (hyp_panic -> __hyp_do_panic -> the host's "
	    "nvhe_hyp_panic_handler, cpu%u at EL1); the host kernel prints:\n",
	    ls->cpu);
	char file[160] = "";
	unsigned line = 0;
	bool warn = false, bug = false;
	if (mode != PSR_MODE_EL2t && mode != PSR_MODE_EL2h) {
		put(buf, len, &n, "kvm: Invalid host exception to nVHE hyp!\n");
	} else if (((esr >> 26) & 0x3f) == ESR_EC_BRK64 && (esr & 0xffff) == BUG_BRK_IMM) {
		/* protected mode without the debug option: the host does not read find_bug() */
		bug = !hs_linux_bug_site(m, elr_virt, file, sizeof(file), &line, &warn);
		print_panic(m, "BUG", panic_addr, buf, len, &n);
	} else {
		print_panic(m, "panic", panic_addr, buf, len, &n);
	}
	/* stacktrace.c kvm_nvhe_dump_backtrace: protected, without the stacktrace option */
	put(buf, len, &n, "kvm: Cannot dump pKVM nVHE stacktrace: !%s\n", k->stacktrace_config);
	if (k->dump_instr) {
		/* traps.c dump_kernel_instr: the four instructions before and the faulting one */
		put(buf, len, &n, "Code:");
		for (int i = -4; i < 1; i++) {
			uint32_t insn;
			if (hs_phys_read(m, hs_link_to_pa(m, panic_addr + (uint64_t)(i * 4)), &insn,
					 4, NULL))
				put(buf, len, &n, i ? " %s" : " (%s)", "????????"); /* unreadable */
			else
				put(buf, len, &n, i ? " %08x" : " (%08x)", insn);
		}
		put(buf, len, &n, "\n");
	}
	put(buf, len, &n, "kvm: Hyp Offset: 0x%" PRIx64 "\n", hyp_offset);
	put(buf, len, &n,
	    "Kernel panic - not syncing: HYP panic:\nPS:%08" PRIx64 " PC:%016" PRIx64
	    " ESR:%016" PRIx64 "\nFAR:%016" PRIx64 " HPFAR:%016" PRIx64 " PAR:%016" PRIx64
	    "\nVCPU:%016" PRIx64 "\n",
	    spsr, elr_virt, esr, far, hpfar, par, vcpu);
	if (bug)
		put(buf, len, &n,
		    "hypscope: the brk's __bug_table entry: nVHE hyp %s at: %s:%u! (%s's host "
		    "reads it only outside protected mode or with CONFIG_%s)",
		    warn ? "WARN" : "BUG", file, line, k->kernel, k->bug_config);
	else if (n && n <= len && buf[n - 1] == '\n')
		buf[--n] = 0;
	return n < len ? (int)n : (int)len - 1;
}

int hs_linux_panic_report(struct hs_machine *m, const struct hs_event_exception *x,
			  const struct hs_linux_panic_facts *k, char *buf, size_t len)
{
	if (!len)
		return 0;
	*buf = 0;
	if (x->host_panic)
		return panic_report(m, k, buf, len);
	char file[160];
	unsigned line;
	bool warn;
	/* a BUG()/WARN() brk the machine stopped at before Linux's path ran */
	if (x->ec != ESR_EC_BRK64 || (x->esr & 0xffff) != BUG_BRK_IMM ||
	    hs_linux_bug_site(m, x->pc, file, sizeof(file), &line, &warn))
		return 0;
	return snprintf(buf, len, "nVHE hyp %s at: %s:%u!", warn ? "WARN" : "BUG", file, line);
}

/* SPDX-License-Identifier: MIT */
/*
 * The arch seam of the memory-management code: barriers, TLB maintenance,
 * system-register access, warnings and the pool spinlock.
 *
 * Built for EL2 these are the AArch64 instructions. Built with -DHS_HOST_TEST
 * (host unit tests, Hafnium's "fake arch") they only count what would have
 * been executed in hs_fake_arch, which the test defines and inspects, so a
 * test can assert e.g. that breaking a block issued a TLB invalidation.
 */
#ifndef HYP_ARCH_H
#define HYP_ARCH_H

#include <hyp/types.h>
#include <hypscope/abi.h>

/* Also in abi.h; repeated so this header does not depend on that addition. */
#ifndef HS_BRK_WARN_IMM
#define HS_BRK_WARN_IMM 0x801
#endif

#ifdef HS_HOST_TEST

struct hs_fake_arch_state {
	unsigned long dsb_ishst;
	unsigned long dsb_ish;
	unsigned long isb;
	unsigned long tlbi_vae2is;
	unsigned long tlbi_alle2;
	unsigned long tlbi_ipas2e1is;
	unsigned long tlbi_vmalle1is;
	unsigned long tlbi_vmalls12e1is;
	u64 last_tlbi_arg;	    /* operand of the last TLBI by address */
	unsigned long warns;	    /* hyp_warn() hits */
	const char *last_warn_file; /* where the last warning fired */
	int last_warn_line;
	unsigned long sysreg_writes;
	const char *last_sysreg; /* name of the last register written */
	u64 last_sysreg_val;
	u64 sysreg_read_val; /* what read_sysreg() returns */
	long locks_held;     /* spin_lock minus spin_unlock */
};

/* Defined by the unit test program; reset it in each fixture. */
extern struct hs_fake_arch_state hs_fake_arch;

#define dsb(opt) ((void)hs_fake_arch.dsb_##opt++)
#define isb() ((void)hs_fake_arch.isb++)

#define __hs_fake_tlbi(op, arg)                     \
	do {                                        \
		hs_fake_arch.tlbi_##op++;           \
		hs_fake_arch.last_tlbi_arg = (arg); \
	} while (0)
#define tlbi_vae2is(va) __hs_fake_tlbi(vae2is, (u64)(va) >> 12)
#define tlbi_ipas2e1is(ipa) __hs_fake_tlbi(ipas2e1is, (u64)(ipa) >> 12)
#define tlbi_alle2() ((void)hs_fake_arch.tlbi_alle2++)
#define tlbi_vmalle1is() ((void)hs_fake_arch.tlbi_vmalle1is++)
#define tlbi_vmalls12e1is() ((void)hs_fake_arch.tlbi_vmalls12e1is++)

#define write_sysreg(v, r)                               \
	do {                                             \
		hs_fake_arch.sysreg_writes++;            \
		hs_fake_arch.last_sysreg = #r;           \
		hs_fake_arch.last_sysreg_val = (u64)(v); \
	} while (0)
#define read_sysreg(r) ((void)#r, hs_fake_arch.sysreg_read_val)

#define hyp_warn()                                      \
	do {                                            \
		hs_fake_arch.warns++;                   \
		hs_fake_arch.last_warn_file = __FILE__; \
		hs_fake_arch.last_warn_line = __LINE__; \
	} while (0)

static inline void hyp_spin_lock(u32 *lock)
{
	(void)lock;
	hs_fake_arch.locks_held++;
}

static inline void hyp_spin_unlock(u32 *lock)
{
	(void)lock;
	hs_fake_arch.locks_held--;
}

#else /* !HS_HOST_TEST */

#define dsb(opt) asm volatile("dsb " #opt : : : "memory")
#define isb() asm volatile("isb" : : : "memory")

/* TLBI by address takes the page number (VA[55:12] / IPA[51:12]) in Xt. */
#define tlbi_vae2is(va) asm volatile("tlbi vae2is, %0" : : "r"((u64)(va) >> 12) : "memory")
#define tlbi_ipas2e1is(ipa) asm volatile("tlbi ipas2e1is, %0" : : "r"((u64)(ipa) >> 12) : "memory")
#define tlbi_alle2() asm volatile("tlbi alle2" : : : "memory")
#define tlbi_vmalle1is() asm volatile("tlbi vmalle1is" : : : "memory")
#define tlbi_vmalls12e1is() asm volatile("tlbi vmalls12e1is" : : : "memory")

#define write_sysreg(v, r)                                      \
	do {                                                    \
		u64 __wv = (u64)(v);                            \
		asm volatile("msr " #r ", %x0" : : "rZ"(__wv)); \
	} while (0)

#define read_sysreg(r)                                    \
	({                                                \
		u64 __rv;                                 \
		asm volatile("mrs %0, " #r : "=r"(__rv)); \
		__rv;                                     \
	})

/*
 * A broken invariant that the hyp can survive: trap with a recognisable BRK
 * immediate so the emulator can report it (and step over it) instead of the
 * hyp silently carrying on.
 */
#define hyp_warn() asm volatile("brk %0" : : "i"(HS_BRK_WARN_IMM) : "memory")

/* Test-and-set lock with acquire/release exclusives (Armv8.0: no LSE atomics). */
static inline void hyp_spin_lock(u32 *lock)
{
	u32 tmp, fail;

	asm volatile("1:	ldaxr	%w0, [%2]\n"
		     "	cbnz	%w0, 1b\n"
		     "	stxr	%w1, %w3, [%2]\n"
		     "	cbnz	%w1, 1b\n"
		     : "=&r"(tmp), "=&r"(fail)
		     : "r"(lock), "r"(1)
		     : "memory");
}

static inline void hyp_spin_unlock(u32 *lock)
{
	asm volatile("stlr wzr, [%0]" : : "r"(lock) : "memory");
}

#endif /* HS_HOST_TEST */

/* WARN_ON(cond): evaluates to cond, warning when it holds. */
#define WARN_ON(cond)                     \
	({                                \
		bool __warn_c = !!(cond); \
		if (unlikely(__warn_c))   \
			hyp_warn();       \
		__warn_c;                 \
	})

#endif /* HYP_ARCH_H */

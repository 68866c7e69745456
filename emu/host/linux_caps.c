/* SPDX-License-Identifier: MIT */
/*
 * Which arm64 CPU capabilities Linux's host would find on the emulated CPU: the rules
 * of arch/arm64/kernel/cpufeature.c (ID register fields), cpu_errata.c (MIDR lists) and
 * proton-pack.c (Spectre), for the capabilities the hypervisor object has alternatives
 * on. Only capabilities with a rule here can be decided; any other is an error at the
 * site that uses it, so a new kernel's new capability is noticed, not guessed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_patch.h"

int hs_lx_caps_parse(const char *text, size_t len, struct hs_lx_caps *caps, struct hs_error *err)
{
	memset(caps, 0, sizeof(*caps));
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		char line[128];
		size_t n = e - i < sizeof(line) - 1 ? e - i : sizeof(line) - 1;
		memcpy(line, text + i, n);
		line[n] = '\0';
		i = e + 1;
		if (!n)
			continue;
		unsigned num;
		char name[100];
		if (sscanf(line, "%u %99s", &num, name) != 2 || num >= HS_LX_MAX_CAPS) {
			hs_lx_caps_free(caps);
			return hs_err(err, -EINVAL, "bad cpucap line '%s' in the image's note",
				      line);
		}
		free(caps->name[num]);
		caps->name[num] = strdup(name);
		if (!caps->name[num]) {
			hs_lx_caps_free(caps);
			return hs_err(err, -ENOMEM, "out of memory");
		}
		if (num + 1 > caps->n)
			caps->n = num + 1;
	}
	if (!caps->n)
		return hs_err(err, -EINVAL, "the image's cpucap note is empty");
	return 0;
}

void hs_lx_caps_free(struct hs_lx_caps *caps)
{
	for (unsigned i = 0; i < HS_LX_MAX_CAPS; i++)
		free(caps->name[i]);
	memset(caps, 0, sizeof(*caps));
}

/* ---- MIDR lists (asm/cputype.h numbers) ---------------------------------- */

#define MIDR(impl, part) ((uint32_t)(impl) << 24 | (uint32_t)(part) << 4)
#define ARM 0x41
#define QCOM 0x51
#define A55 MIDR(ARM, 0xd05)
#define A57 MIDR(ARM, 0xd07)
#define A72 MIDR(ARM, 0xd08)
#define A76 MIDR(ARM, 0xd0b)
#define A77 MIDR(ARM, 0xd0d)
#define A510 MIDR(ARM, 0xd46)
#define A710 MIDR(ARM, 0xd47)
#define N2 MIDR(ARM, 0xd49)
#define KRYO4_GOLD MIDR(QCOM, 0x804)
#define KRYO4_SILVER MIDR(QCOM, 0x805)
#define FALKOR_V1 MIDR(QCOM, 0x800)
#define AMPERE1 MIDR(0xc0, 0xac3)
#define TX2 MIDR(0x43, 0x0af)
#define THUNDERX MIDR(0x43, 0x0a1)
#define VULCAN MIDR(0x42, 0x516)

/* One MIDR_RANGE: model, and variant:revision bounds as (variant << 4 | revision). */
struct midr_range {
	uint32_t model;
	uint8_t rv_min, rv_max;
};
#define ALL(m)                \
	{                     \
		m, 0x00, 0xff \
	}
#define RANGE(m, v0, r0, v1, r1)                      \
	{                                             \
		m, (v0) << 4 | (r0), (v1) << 4 | (r1) \
	}

static const struct midr_range thunderx_pass1_2[] = {RANGE(THUNDERX, 0, 0, 1, 0xf)};

static bool midr_in(uint64_t midr, const struct midr_range *list, size_t n)
{
	uint32_t model = (uint32_t)midr & 0xff00fff0u;
	unsigned rv = ((unsigned)(midr >> 20) & 0xf) << 4 | ((unsigned)midr & 0xf);
	for (size_t i = 0; i < n; i++)
		if (list[i].model == model && rv >= list[i].rv_min && rv <= list[i].rv_max)
			return true;
	return false;
}
#define MIDR_IN(midr, list) midr_in(midr, list, sizeof(list) / sizeof(list[0]))

/* cpu_errata.c's lists for the workarounds the hypervisor has alternatives on. */
static const struct midr_range speculative_at[] = {
    RANGE(A76, 0, 0, 2, 0),
    ALL(A57),
    ALL(A72),
    RANGE(A55, 0, 0, 2, 0),
    {KRYO4_SILVER, 0xd, 0xe}}; /* errata 1165522, 1319367, 1530923 */
static const struct midr_range repeat_tlbi[] = {
    RANGE(FALKOR_V1, 0, 0, 0, 0), RANGE(A76, 0, 0, 3, 0),
    RANGE(KRYO4_GOLD, 0xc, 0xe, 0xf, 0xe)};				 /* Falkor 1009, 1286807 */
static const struct midr_range a57_r0_r1p2[] = {RANGE(A57, 0, 0, 1, 2)}; /* 832075, 834220 */
static const struct midr_range erratum_1508412[] = {RANGE(A77, 0, 0, 1, 0)};
static const struct midr_range tsb_flush[] = {ALL(N2), ALL(A710)}; /* 2054223, 2067961 */
static const struct midr_range erratum_2077057[] = {RANGE(A510, 0, 0, 0, 2)};
static const struct midr_range ampere_ac03[] = {ALL(AMPERE1)};
static const struct midr_range tx2_219[] = {ALL(TX2), ALL(VULCAN)};
/* proton-pack.c */
static const struct midr_range spectre_v3a[] = {ALL(A57), ALL(A72)};
/* 7.x */
static const struct midr_range a510_r0p0_r0p2[] = {RANGE(A510, 0, 0, 0, 2)}; /* 2038923, 2064142 */
static const struct midr_range c1_pro[] = {RANGE(MIDR(ARM, 0xd8b), 0, 0, 1, 2)}; /* 4193714 */
static const struct midr_range ampere_ac04[] = {ALL(MIDR(0xc0, 0xac4))};	 /* AmpereOne A */
static const struct midr_range spectre_v2_safe[] = {
    ALL(MIDR(ARM, 0xd04)),  ALL(MIDR(ARM, 0xd03)),  ALL(A55),
    ALL(MIDR(0x42, 0x100)), ALL(MIDR(0x48, 0xd01)), ALL(MIDR(QCOM, 0x801)),
    ALL(MIDR(QCOM, 0x803)), ALL(KRYO4_SILVER)};
/* A35, A53, A55, Brahma-B53, HiSilicon TSV110, Kryo 2xx/3xx/4xx Silver */
static const struct midr_range bhb_k8[] = {ALL(A72), ALL(A57)};
static const struct midr_range bhb_safe[] = {
    ALL(MIDR(ARM, 0xd04)),
    ALL(MIDR(ARM, 0xd03)),
    ALL(A55),
    ALL(A510),
    ALL(MIDR(ARM, 0xd80)),
    ALL(MIDR(0x42, 0x100)),
    ALL(MIDR(QCOM, 0x801)),
    ALL(MIDR(QCOM, 0x803)),
    ALL(KRYO4_SILVER)}; /* A35, A53, A55, A510, A520, Brahma-B53, Kryo 2xx/3xx/4xx Silver */

void hs_lx_spectre_state(const struct hs_lx_cpu *cpu, struct hs_lx_spectre *s)
{
	memset(s, 0, sizeof(*s));
	unsigned csv2 = (unsigned)(cpu->pfr0 >> 56) & 0xf;
	/* Spectre-v2: safe by CSV2 or the safe list; else only firmware (SMCCC 1.1 WA1). */
	bool v2_affected = !csv2 && !MIDR_IN(cpu->midr, spectre_v2_safe);
	s->v2_vulnerable = v2_affected && !cpu->smccc_1_1;
	s->v3a = MIDR_IN(cpu->midr, spectre_v3a);
	if (s->v3a)
		s->hyp_vector_slot += 2; /* HYP_VECTOR_INDIRECT */
	/* Spectre-BHB: not CSV2_3 (csv2 >= 3), not on the safe list -> affected. */
	bool clearbhb = ((cpu->isar2 >> 28) & 0xf) != 0;
	bool bhb_affected = csv2 < 3 && !MIDR_IN(cpu->midr, bhb_safe);
	if (bhb_affected && !clearbhb)
		s->bhb_k = MIDR_IN(cpu->midr, bhb_k8) ? 8 : 0;
	/* spectre_bhb_enable_mitigation: "no point mitigating Spectre-BHB alone" when v2 is
	 * vulnerable; otherwise ECBHB, CLEARBHB, the loop, or firmware WA3. */
	if (bhb_affected && !s->v2_vulnerable) {
		if ((cpu->mmfr1 >> 60) & 0xf)
			; /* BHB_HW: nothing to patch */
		else if (clearbhb) {
			s->bhb_insn = true;
			if (!s->hyp_vector_slot)
				s->hyp_vector_slot = 2;
		} else if (s->bhb_k) {
			s->bhb_loop = true;
			if (!s->hyp_vector_slot)
				s->hyp_vector_slot = 2;
		}
	}
}

/* ---- the capability table ------------------------------------------------ */

enum cpu_reg { PFR0, PFR1, PFR2, ISAR0, ISAR1, ISAR2, MMFR0, MMFR1, MMFR2, MMFR3, CTR, DFR0 };
static const char *const reg_names[] = {"ID_AA64PFR0_EL1",  "ID_AA64PFR1_EL1",	"ID_AA64PFR2_EL1",
					"ID_AA64ISAR0_EL1", "ID_AA64ISAR1_EL1", "ID_AA64ISAR2_EL1",
					"ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1", "ID_AA64MMFR2_EL1",
					"ID_AA64MMFR3_EL1", "CTR_EL0",		"ID_AA64DFR0_EL1"};

static uint64_t reg_val(const struct hs_lx_cpu *c, enum cpu_reg r)
{
	const uint64_t v[] = {c->pfr0,	c->pfr1,  c->pfr2,  c->isar0, c->isar1, c->isar2,
			      c->mmfr0, c->mmfr1, c->mmfr2, c->mmfr3, c->ctr,	c->dfr0};
	return v[r];
}

/* A field test: (reg >> shift) & mask >= min (signed 4-bit fields: -1 = absent). */
struct field {
	enum cpu_reg reg;
	uint8_t shift, width, min;
	bool is_signed;
	const char *field;
};

enum rule_kind {
	ALWAYS,
	PROTECTED_MODE,
	NEVER,
	FIELDS,
	MIDR_LIST,
	PMUV3,
	ABSENT_WITHOUT,
	FIELD_ABSENT
};
struct cap_rule {
	const char *name;
	enum rule_kind kind;
	struct field f[3]; /* FIELDS: any of them (Linux's "any of" capabilities) */
	const struct midr_range *list;
	size_t nlist;
	const char *because; /* NEVER, MIDR_LIST: the source of the rule */
};
#define F(r, s, m, nm)                \
	{                             \
		r, s, 4, m, false, nm \
	}
#define FS(r, s, m, nm)              \
	{                            \
		r, s, 4, m, true, nm \
	}
#define LIST(l) l, sizeof(l) / sizeof(l[0])

static const struct cap_rule rules[] = {
    {"ARM64_ALWAYS_BOOT", ALWAYS, {{0}}, NULL, 0, "always"},
    {"ARM64_ALWAYS_SYSTEM", ALWAYS, {{0}}, NULL, 0, "always"},
    {"ARM64_KVM_PROTECTED_MODE", PROTECTED_MODE, {{0}}, NULL, 0, NULL},
    {"ARM64_KVM_HVHE",
     NEVER,
     {{0}},
     NULL,
     0,
     "nVHE: hVHE needs VHE and the arm64_sw.hvhe=1 override, which the host does not give"},
    {"ARM64_HAS_VIRT_HOST_EXTN", NEVER, {{0}}, NULL, 0, "the host kernel runs at EL1 (nVHE)"},
    {"ARM64_HAS_LSE_ATOMICS", FIELDS, {F(ISAR0, 20, 2, "Atomic")}, NULL, 0, NULL},
    {"ARM64_HAS_LPA2", FIELDS, {FS(MMFR0, 28, 1, "TGran4")}, NULL, 0, NULL},
    {"ARM64_HAS_SB", FIELDS, {F(ISAR1, 36, 1, "SB")}, NULL, 0, NULL},
    {"ARM64_SVE", FIELDS, {F(PFR0, 32, 1, "SVE")}, NULL, 0, NULL},
    {"ARM64_HAS_CNP", FIELDS, {F(MMFR2, 0, 1, "CnP")}, NULL, 0, NULL},
    {"ARM64_MTE", FIELDS, {F(PFR1, 8, 2, "MTE")}, NULL, 0, NULL},
    {"ARM64_HAS_ADDRESS_AUTH",
     FIELDS,
     {F(ISAR1, 4, 1, "APA"), F(ISAR1, 8, 1, "API"), F(ISAR2, 12, 1, "APA3")},
     NULL,
     0,
     NULL},
    {"ARM64_HAS_GENERIC_AUTH",
     FIELDS,
     {F(ISAR1, 24, 1, "GPA"), F(ISAR1, 28, 1, "GPI"), F(ISAR2, 8, 1, "GPA3")},
     NULL,
     0,
     NULL},
    {"ARM64_HAS_S1POE", FIELDS, {F(MMFR3, 16, 1, "S1POE")}, NULL, 0, NULL},
    {"ARM64_HAS_S1PIE", FIELDS, {F(MMFR3, 8, 1, "S1PIE")}, NULL, 0, NULL},
    {"ARM64_HAS_TCR2", FIELDS, {F(MMFR3, 0, 1, "TCRX")}, NULL, 0, NULL},
    {"ARM64_HAS_FPMR", FIELDS, {F(PFR2, 32, 1, "FPMR")}, NULL, 0, NULL},
    {"ARM64_HAS_ARMv8_4_TTL", FIELDS, {F(MMFR2, 48, 1, "TTL")}, NULL, 0, NULL},
    {"ARM64_HAS_RAS_EXTN", FIELDS, {F(PFR0, 28, 1, "RAS")}, NULL, 0, NULL},
    {"ARM64_HAS_TLB_RANGE", FIELDS, {F(ISAR0, 56, 2, "TLB")}, NULL, 0, NULL},
    {"ARM64_HAS_FPSIMD", FIELDS, {FS(PFR0, 16, 0, "FP")}, NULL, 0, NULL},
    {"ARM64_HAS_HCX", FIELDS, {F(MMFR1, 40, 1, "HCX")}, NULL, 0, NULL},
    {"ARM64_HAS_FGT", FIELDS, {F(MMFR0, 56, 1, "FGT")}, NULL, 0, NULL},
    {"ARM64_HAS_ECV", FIELDS, {F(MMFR0, 60, 1, "ECV")}, NULL, 0, NULL},
    {"ARM64_HAS_PAN", FIELDS, {F(MMFR1, 20, 1, "PAN")}, NULL, 0, NULL},
    {"ARM64_HAS_STAGE2_FWB", FIELDS, {F(MMFR2, 40, 1, "FWB")}, NULL, 0, NULL},
    {"ARM64_HAS_CACHE_DIC", FIELDS, {{CTR, 29, 1, 1, false, "DIC"}}, NULL, 0, NULL},
    {"ARM64_HAS_CACHE_IDC", FIELDS, {{CTR, 28, 1, 1, false, "IDC"}}, NULL, 0, NULL},
    {"ARM64_WORKAROUND_SPECULATIVE_AT",
     MIDR_LIST,
     {{0}},
     LIST(speculative_at),
     "errata 1165522 (A76 r0p0-r2p0), 1319367 (A57, A72), 1530923 (A55 r0p0-r2p0, Kryo4xx "
     "Silver)"},
    {"ARM64_WORKAROUND_REPEAT_TLBI",
     MIDR_LIST,
     {{0}},
     LIST(repeat_tlbi),
     "Falkor 1009, erratum 1286807 (A76 r0p0-r3p0, Kryo4xx Gold)"},
    {"ARM64_WORKAROUND_DEVICE_LOAD_ACQUIRE",
     MIDR_LIST,
     {{0}},
     LIST(a57_r0_r1p2),
     "erratum 832075 (A57 r0p0-r1p2)"},
    {"ARM64_WORKAROUND_834220",
     MIDR_LIST,
     {{0}},
     LIST(a57_r0_r1p2),
     "erratum 834220 (A57 r0p0-r1p2)"},
    {"ARM64_WORKAROUND_1508412",
     MIDR_LIST,
     {{0}},
     LIST(erratum_1508412),
     "erratum 1508412 (A77 r0p0-r1p0)"},
    {"ARM64_WORKAROUND_TSB_FLUSH_FAILURE",
     MIDR_LIST,
     {{0}},
     LIST(tsb_flush),
     "errata 2054223, 2067961 (Neoverse N2, A710)"},
    {"ARM64_WORKAROUND_2077057",
     MIDR_LIST,
     {{0}},
     LIST(erratum_2077057),
     "erratum 2077057 (A510 r0p0-r0p2)"},
    {"ARM64_WORKAROUND_AMPERE_AC03_CPU_38",
     MIDR_LIST,
     {{0}},
     LIST(ampere_ac03),
     "AmpereOne AC03_CPU_38"},
    {"ARM64_WORKAROUND_CAVIUM_TX2_219_TVM",
     MIDR_LIST,
     {{0}},
     LIST(tx2_219),
     "Cavium ThunderX2 erratum 219"},
    /* Linux 7.x */
    {"ARM64_HAS_32BIT_EL1", FIELDS, {F(PFR0, 4, 2, "EL1")}, NULL, 0, NULL},
    {"ARM64_HAS_EVT", FIELDS, {F(MMFR2, 56, 1, "EVT")}, NULL, 0, NULL},
    {"ARM64_HAS_FGT2", FIELDS, {F(MMFR0, 56, 2, "FGT")}, NULL, 0, NULL},
    {"ARM64_HAS_GICV5_CPUIF", FIELDS, {F(PFR2, 12, 1, "GCIE")}, NULL, 0, NULL},
    {"ARM64_HAS_MOPS", FIELDS, {F(ISAR2, 16, 1, "MOPS")}, NULL, 0, NULL},
    {"ARM64_HAS_SCTLR2", FIELDS, {F(MMFR3, 4, 1, "SCTLRX")}, NULL, 0, NULL},
    {"ARM64_HAS_XNX", FIELDS, {F(MMFR1, 28, 1, "XNX")}, NULL, 0, NULL},
    {"ARM64_SME", FIELDS, {F(PFR1, 24, 1, "SME")}, NULL, 0, NULL},
    /* 6.1 cpufeature.c has_no_hw_prefetch */
    {"ARM64_HAS_NO_HW_PREFETCH",
     MIDR_LIST,
     {{0}},
     LIST(thunderx_pass1_2),
     "Cavium ThunderX pass 1.x and 2.x (software prefetching)"},
    /* 6.1 cpufeature.c has_no_fpsimd: ID_AA64PFR0_EL1.FP (signed) < 0 */
    {"ARM64_HAS_NO_FPSIMD", FIELD_ABSENT, {FS(PFR0, 16, 0, "FP")}, NULL, 0, NULL},
    {"ARM64_HAS_PMUV3", PMUV3, {F(DFR0, 8, 1, "PMUVer")}, NULL, 0, NULL},
    {"ARM64_MPAM",
     ABSENT_WITHOUT,
     {F(PFR0, 40, 1, "MPAM"), F(PFR1, 16, 1, "MPAM_frac")},
     NULL,
     0,
     "test_has_mpam also needs the MPAM driver's view of MPAMIDR"},
    {"ARM64_MPAM_HCR",
     ABSENT_WITHOUT,
     {F(PFR0, 40, 1, "MPAM"), F(PFR1, 16, 1, "MPAM_frac")},
     NULL,
     0,
     "MPAMIDR_EL1.HAS_HCR is not modelled"},
    {"ARM64_MISMATCHED_CACHE_TYPE",
     NEVER,
     {{0}},
     NULL,
     0,
     "every CPU is the same model: CTR_EL0 matches on all of them"},
    {"ARM64_WORKAROUND_4311569",
     NEVER,
     {{0}},
     NULL,
     0,
     "the machine has no Arm SI L1 device, whose driver sets arm_si_l1_workaround_4311569"},
    {"ARM64_WORKAROUND_2038923",
     MIDR_LIST,
     {{0}},
     LIST(a510_r0p0_r0p2),
     "erratum 2038923 (A510 r0p0-r0p2)"},
    {"ARM64_WORKAROUND_2064142",
     MIDR_LIST,
     {{0}},
     LIST(a510_r0p0_r0p2),
     "erratum 2064142 (A510 r0p0-r0p2)"},
    {"ARM64_WORKAROUND_4193714",
     MIDR_LIST,
     {{0}},
     LIST(c1_pro),
     "erratum 4193714 (C1-Pro r0p0-r1p2; r1p2 only without REVIDR_EL1[0])"},
    {"ARM64_WORKAROUND_AMPERE_AC04_CPU_23",
     MIDR_LIST,
     {{0}},
     LIST(ampere_ac04),
     "AmpereOne erratum AC04_CPU_23 (AmpereOne A)"},
    {"ARM64_SPECTRE_V3A",
     MIDR_LIST,
     {{0}},
     LIST(spectre_v3a),
     "proton-pack.c spectre_v3a_unsafe_list (A57, A72)"},
};

static int field_present(const struct hs_lx_cpu *cpu, const struct field *f)
{
	uint64_t v = (reg_val(cpu, f->reg) >> f->shift) & ((1ULL << f->width) - 1);
	if (f->is_signed && f->width == 4 && v >= 8)
		return 0; /* negative: not implemented */
	return v >= f->min;
}

int hs_lx_cap_decide(const char *name, const struct hs_lx_cpu *cpu, const struct hs_lx_layout *l,
		     char *why, size_t why_len)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct cap_rule *r = &rules[i];
		if (strcmp(r->name, name))
			continue;
		switch (r->kind) {
		case ALWAYS:
			snprintf(why, why_len, "always present");
			return 1;
		case NEVER:
			snprintf(why, why_len, "%s", r->because);
			return 0;
		case PROTECTED_MODE:
			snprintf(why, why_len, "kvm-arm.mode=%s",
				 l->protected_mode ? "protected" : "nvhe");
			return l->protected_mode;
		case MIDR_LIST: {
			int in = midr_in(cpu->midr, r->list, r->nlist);
			snprintf(why, why_len, "MIDR %#" PRIx64 " %s %s", cpu->midr,
				 in ? "is on" : "is not on", r->because);
			return in;
		}
		case PMUV3: {
			uint64_t v = (cpu->dfr0 >> 8) & 0xf;
			snprintf(why, why_len,
				 "ID_AA64DFR0_EL1.PMUVer=%" PRIu64
				 " (needs a PMUv3: not 0, not 0xf)",
				 v);
			return v != 0 && v != 0xf;
		}
		case FIELD_ABSENT: {
			/* the capability is the field's absence (signed field < min) */
			const struct field *f = &r->f[0];
			uint64_t v = (reg_val(cpu, f->reg) >> f->shift) & ((1ULL << f->width) - 1);
			snprintf(why, why_len, "%s.%s=%" PRIu64 " (present when signed < %u)",
				 reg_names[f->reg], f->field, v, f->min);
			return !field_present(cpu, f);
		}
		case ABSENT_WITHOUT:
		case FIELDS: {
			int any = 0;
			size_t len = 0;
			why[0] = '\0';
			for (int k = 0; k < 3 && r->f[k].field; k++) {
				const struct field *f = &r->f[k];
				uint64_t v =
				    (reg_val(cpu, f->reg) >> f->shift) & ((1ULL << f->width) - 1);
				any |= field_present(cpu, f);
				if (len < why_len)
					len += (size_t)snprintf(
					    why + len, why_len - len,
					    "%s%s.%s=%" PRIu64 " (needs %s%u)", k ? ", " : "",
					    reg_names[f->reg], f->field, v,
					    f->is_signed ? "signed >= " : ">= ", f->min);
			}
			if (r->kind == ABSENT_WITHOUT && any) {
				snprintf(why, why_len, "%s", r->because);
				return -ENOENT;
			}
			return any;
		}
		}
	}
	snprintf(why, why_len, "hypscope has no rule for %s", name);
	return -ENOENT;
}

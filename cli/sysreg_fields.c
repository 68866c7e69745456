/* SPDX-License-Identifier: MIT */
/*
 * Field decoders for the EL2 registers a memory-management debugger cares
 * about: one table per register (name, bits, meaning, value names). `sysreg`
 * prints them and `expect sysreg REG.FIELD` reads them.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "events.h"
#include "pt_decode.h"

static const char *const tg0_v[] = {"4KB", "64KB", "16KB", NULL};
static const char *const ps_v[] = {"32 bits", "36 bits", "40 bits", "42 bits",
				   "44 bits", "48 bits", "52 bits", NULL};
static const char *const sh_v[] = {"Non-shareable", "reserved", "Outer Shareable",
				   "Inner Shareable", NULL};
static const char *const rgn_v[] = {"Non-cacheable", "WB RA WA", "WT RA nWA", "WB RA nWA", NULL};
static const char *const sl0_v[] = {"level 2 (4KB)", "level 1 (4KB)", "level 0 (4KB)",
				    "level 3 (4KB, FEAT_TTST)", NULL};
static const char *const onoff_v[] = {"off", "on", NULL};

#define F(n, h, l, m)            \
	{                        \
		n, h, l, m, NULL \
	}
#define FV(n, h, l, m, v)     \
	{                     \
		n, h, l, m, v \
	}

static const struct cli_field tcr_el2[] = {
    F("T0SZ", 5, 0, "size offset: VA size = 64 - T0SZ bits"),
    FV("IRGN0", 9, 8, "inner cacheability of table walks", rgn_v),
    FV("ORGN0", 11, 10, "outer cacheability of table walks", rgn_v),
    FV("SH0", 13, 12, "shareability of table walks", sh_v),
    FV("TG0", 15, 14, "granule size", tg0_v),
    FV("PS", 18, 16, "physical address size", ps_v),
    F("TBI", 20, 20, "top byte ignored"),
    F("HA", 21, 21, "hardware Access flag update"),
    F("HD", 22, 22, "hardware dirty state management"),
    F("HPD", 24, 24, "hierarchical permissions disabled"),
    F("TBID", 29, 29, "TBI for data accesses only"),
    F("TCMA", 30, 30, "unchecked accesses (MTE)"),
};

static const struct cli_field hcr_el2[] = {
    FV("VM", 0, 0, "stage 2 translation for EL1&0", onoff_v),
    F("SWIO", 1, 1, "set/way invalidation override"),
    F("PTW", 2, 2, "protected table walk"),
    F("FMO", 3, 3, "FIQ routed to EL2"),
    F("IMO", 4, 4, "IRQ routed to EL2"),
    F("AMO", 5, 5, "SError routed to EL2"),
    F("VF", 6, 6, "virtual FIQ pending"),
    F("VI", 7, 7, "virtual IRQ pending"),
    F("VSE", 8, 8, "virtual SError pending"),
    F("FB", 9, 9, "force broadcast of TLB/cache maintenance"),
    F("BSU", 11, 10, "barrier shareability upgrade"),
    F("DC", 12, 12, "default cacheability"),
    F("TWI", 13, 13, "trap WFI"),
    F("TWE", 14, 14, "trap WFE"),
    F("TID3", 18, 18, "trap ID group 3"),
    F("TSC", 19, 19, "trap SMC"),
    F("TIDCP", 20, 20, "trap implementation defined registers"),
    F("TACR", 21, 21, "trap ACTLR"),
    F("TSW", 22, 22, "trap set/way cache maintenance"),
    F("TPCP", 23, 23, "trap cache maintenance to PoC/PoP"),
    F("TPU", 24, 24, "trap cache maintenance to PoU"),
    F("TTLB", 25, 25, "trap TLB maintenance"),
    F("TVM", 26, 26, "trap virtual memory controls (writes)"),
    F("TGE", 27, 27, "trap general exceptions"),
    F("TDZ", 28, 28, "trap DC ZVA"),
    F("HCD", 29, 29, "HVC disabled"),
    F("TRVM", 30, 30, "trap virtual memory controls (reads)"),
    F("RW", 31, 31, "EL1 is AArch64"),
    F("CD", 32, 32, "stage 2 data accesses non-cacheable"),
    F("ID", 33, 33, "stage 2 instruction accesses non-cacheable"),
    F("E2H", 34, 34, "EL2 host (VHE)"),
    F("TLOR", 35, 35, "trap LOR registers"),
    F("TERR", 36, 36, "trap error record accesses"),
    F("TEA", 37, 37, "route synchronous external aborts to EL2"),
    F("APK", 40, 40, "pointer authentication keys not trapped"),
    F("API", 41, 41, "pointer authentication instructions not trapped"),
    F("FWB", 46, 46, "stage 2 forced write-back"),
};

static const struct cli_field sctlr_el2[] = {
    FV("M", 0, 0, "EL2 stage 1 MMU enable", onoff_v),
    F("A", 1, 1, "alignment check"),
    F("C", 2, 2, "data cacheability"),
    F("SA", 3, 3, "SP alignment check"),
    F("EOS", 11, 11, "exception exit is context synchronising"),
    F("I", 12, 12, "instruction cacheability"),
    F("WXN", 19, 19, "write implies execute-never"),
    F("IESB", 21, 21, "implicit error synchronisation barrier"),
    F("EIS", 22, 22, "exception entry is context synchronising"),
    F("EE", 25, 25, "big-endian data accesses and table walks"),
    F("DSSBS", 44, 44, "default PSTATE.SSBS on exception entry"),
};

static const struct cli_field vtcr_el2[] = {
    F("T0SZ", 5, 0, "size offset: IPA size = 64 - T0SZ bits"),
    FV("SL0", 7, 6, "starting level of the stage 2 walk", sl0_v),
    FV("IRGN0", 9, 8, "inner cacheability of table walks", rgn_v),
    FV("ORGN0", 11, 10, "outer cacheability of table walks", rgn_v),
    FV("SH0", 13, 12, "shareability of table walks", sh_v),
    FV("TG0", 15, 14, "granule size", tg0_v),
    FV("PS", 18, 16, "physical address size", ps_v),
    F("VS", 19, 19, "16-bit VMID"),
    F("HA", 21, 21, "hardware Access flag update"),
    F("HD", 22, 22, "hardware dirty state management"),
    F("NSW", 29, 29, "non-secure stage 2 table walks"),
    F("NSA", 30, 30, "non-secure stage 2 output"),
};

static const struct cli_field esr_el2[] = {
    F("EC", 31, 26, "exception class"),
    F("IL", 25, 25, "32-bit instruction"),
    F("ISS", 24, 0, "instruction specific syndrome"),
    F("ISV", 24, 24, "aborts: syndrome valid (SAS/SRT/SF/AR)"),
    F("SAS", 23, 22, "aborts: access size (log2 bytes)"),
    F("SRT", 20, 16, "aborts: transfer register"),
    F("SF", 15, 15, "aborts: 64-bit register"),
    F("FnV", 10, 10, "aborts: FAR not valid"),
    F("EA", 9, 9, "aborts: external abort type"),
    F("S1PTW", 7, 7, "aborts: stage 2 fault on a stage 1 table walk"),
    F("WnR", 6, 6, "aborts: write, not read"),
    F("DFSC", 5, 0, "aborts: fault status code"),
    F("IMM16", 15, 0, "HVC/SMC/BRK: immediate"),
};

static const struct cli_field ttbr[] = {
    F("CnP", 0, 0, "common not private"),
    F("BADDR", 47, 1, "table base address (shown in place)"),
    F("VMID", 63, 48, "VMID (VTTBR_EL2) / ASID"),
};

static const struct cli_field mair_el2[] = {
    F("Attr0", 7, 0, "memory attribute 0"),   F("Attr1", 15, 8, "memory attribute 1"),
    F("Attr2", 23, 16, "memory attribute 2"), F("Attr3", 31, 24, "memory attribute 3"),
    F("Attr4", 39, 32, "memory attribute 4"), F("Attr5", 47, 40, "memory attribute 5"),
    F("Attr6", 55, 48, "memory attribute 6"), F("Attr7", 63, 56, "memory attribute 7"),
};

#define N(a) (sizeof(a) / sizeof(a[0]))

const struct cli_field *cli_sysreg_fields(int reg, size_t *n)
{
	switch (reg) {
	case HS_SR_TCR_EL2:
		*n = N(tcr_el2);
		return tcr_el2;
	case HS_SR_HCR_EL2:
		*n = N(hcr_el2);
		return hcr_el2;
	case HS_SR_SCTLR_EL2:
		*n = N(sctlr_el2);
		return sctlr_el2;
	case HS_SR_VTCR_EL2:
		*n = N(vtcr_el2);
		return vtcr_el2;
	case HS_SR_ESR_EL2:
	case HS_SR_ESR_EL1:
		*n = N(esr_el2);
		return esr_el2;
	case HS_SR_VTTBR_EL2:
	case HS_SR_TTBR0_EL2:
	case HS_SR_TTBR0_EL1:
	case HS_SR_TTBR1_EL1:
		*n = N(ttbr);
		return ttbr;
	case HS_SR_MAIR_EL2:
	case HS_SR_MAIR_EL1:
		*n = N(mair_el2);
		return mair_el2;
	default:
		*n = 0;
		return NULL;
	}
}

const struct cli_field *cli_sysreg_field(int reg, const char *name)
{
	size_t n;
	const struct cli_field *f = cli_sysreg_fields(reg, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static bool is_abort_ec(unsigned ec)
{
	return ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25;
}

static bool is_imm_ec(unsigned ec)
{
	return ec == 0x16 || ec == 0x17 || ec == 0x15 || ec == 0x3c;
}

/* The value's meaning, into buf (may be empty). */
static void field_value_str(int reg, const struct cli_field *f, uint64_t fv, char *buf, size_t len)
{
	buf[0] = '\0';
	if (f->values) {
		size_t n = 0;
		while (f->values[n])
			n++;
		if (fv < n)
			snprintf(buf, len, "%s", f->values[fv]);
		return;
	}
	if (!strcmp(f->name, "T0SZ"))
		snprintf(buf, len, "%u-bit %s", 64 - (unsigned)fv,
			 reg == HS_SR_VTCR_EL2 ? "IPA" : "VA");
	else if (!strcmp(f->name, "EC"))
		snprintf(buf, len, "%s", hs_ec_name((unsigned)fv));
	else if (!strncmp(f->name, "Attr", 4))
		hs_pt_mair_str((uint8_t)fv, buf, len);
	else if (!strcmp(f->name, "SAS"))
		snprintf(buf, len, "%u bytes", 1u << fv);
}

void cli_sysreg_decode(struct cli *c, int reg, uint64_t v, struct hs_strbuf *sb, bool json)
{
	size_t n;
	const struct cli_field *f = cli_sysreg_fields(reg, &n);
	unsigned ec = (unsigned)(v >> 26) & 0x3f;
	bool esr = reg == HS_SR_ESR_EL2 || reg == HS_SR_ESR_EL1;
	bool first = true;
	if (json)
		hs_sb_puts(sb, "{");
	for (size_t i = 0; i < n; i++) {
		if (esr && !strcmp(f[i].name, "IMM16") && !is_imm_ec(ec))
			continue;
		if (esr && !strncmp(f[i].meaning, "aborts:", 7) && !is_abort_ec(ec))
			continue;
		uint64_t fv = cli_field_get(&f[i], v);
		if (!strcmp(f[i].name, "BADDR"))
			fv <<= f[i].lo;
		char meaning[96];
		field_value_str(reg, &f[i], fv, meaning, sizeof(meaning));
		if (json) {
			hs_sb_printf(sb, "%s\"%s\":{\"bits\":\"%u:%u\",\"value\":%" PRIu64,
				     first ? "" : ",", f[i].name, f[i].hi, f[i].lo, fv);
			if (*meaning) {
				hs_sb_puts(sb, ",\"meaning\":");
				hs_sb_json_str(sb, meaning);
			}
			hs_sb_puts(sb, "}");
		} else {
			char bits[16];
			if (f[i].hi == f[i].lo)
				snprintf(bits, sizeof(bits), "[%u]", f[i].hi);
			else
				snprintf(bits, sizeof(bits), "[%u:%u]", f[i].hi, f[i].lo);
			hs_sb_printf(sb, "  %s%-6s%s %-8s = %-#10" PRIx64 " %s%s%s%s%s\n",
				     cli_col(c, COL_BOLD), f[i].name, cli_col(c, COL_RESET), bits,
				     fv, *meaning ? cli_col(c, COL_GREEN) : "", meaning,
				     *meaning ? cli_col(c, COL_RESET) : "", *meaning ? "  — " : "",
				     f[i].meaning);
		}
		first = false;
	}
	if (json)
		hs_sb_puts(sb, "}");
}

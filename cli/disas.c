/* SPDX-License-Identifier: MIT */
/*
 * Disassembly (Capstone) of the current CPU's code, with symbols and the PC
 * marked: what `disas`, `x/i`, stepping and stops print. Below every command
 * that shows code, so none of them calls into another command's file for it.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_el1_pc_space(struct cli *c, enum cli_space *sp)
{
	/*
	 * With the EL1 MMU off (the host model and the bundled guest) the PC is an
	 * IPA, translated by the current stage 2 (or a PA without one). A stage 1
	 * at EL1 is not walked.
	 */
	uint64_t sctlr1 = 0, hcr = 0;
	hs_cpu_sysreg(c->m, hs_current_cpu(c->m), HS_SR_SCTLR_EL1, &sctlr1);
	hs_cpu_sysreg(c->m, hs_current_cpu(c->m), HS_SR_HCR_EL2, &hcr);
	if (sctlr1 & 1)
		return false;
	*sp = (hcr & 1) ? SP_IPA : SP_PA;
	return true;
}

int cli_disas(struct cli *c, enum cli_space sp, uint64_t addr, unsigned n, bool mark_pc)
{
	if (sp == SP_DEFAULT && mark_pc) {
		/* A stop in the host or a guest: its PC as that CPU reads it, not as an EL2 VA. */
		struct hs_cpu_state now;
		hs_cpu_state(c->m, hs_current_cpu(c->m), &now);
		if (now.el < 2 && addr == now.pc && !cli_el1_pc_space(c, &sp))
			return 0;
	}
	csh cs;
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK)
		return cli_error(c, "capstone: cannot open an AArch64 disassembler");
	size_t len = (size_t)n * 4;
	uint8_t *buf = malloc(len ? len : 4);
	char err[256];
	if (!buf) {
		cs_close(&cs);
		return cli_error(c, "out of memory");
	}
	int rc = cli_read(c, sp, addr, buf, len, err, sizeof(err));
	if (rc) {
		free(buf);
		cs_close(&cs);
		return cli_error(c, "cannot read %#" PRIx64 ": %s", addr, err);
	}
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	cs_insn *insn = cs_malloc(cs);
	const uint8_t *code = buf;
	size_t size = len;
	uint64_t a = addr;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	unsigned i = 0;
	char last_sym[128] = "";
	while (size >= 4) {
		uint64_t at = a;
		bool ok = cs_disasm_iter(cs, &code, &size, &a, insn);
		char sym[128];
		cli_symbolize(c, at, sym, sizeof(sym));
		char text[256];
		uint32_t word;
		memcpy(&word, buf + (at - addr), 4);
		if (ok)
			snprintf(text, sizeof(text), "%s %s", insn->mnemonic, insn->op_str);
		else {
			snprintf(text, sizeof(text), ".inst %#010x", word);
			code += 4;
			size -= 4;
			a += 4;
		}
		if (c->json) {
			hs_sb_printf(&sb, "%s{\"addr\":\"0x%" PRIx64 "\",\"word\":%u,\"symbol\":",
				     i ? "," : "", at, word);
			hs_sb_json_str(&sb, sym);
			hs_sb_puts(&sb, ",\"text\":");
			hs_sb_json_str(&sb, text);
			hs_sb_puts(&sb, "}");
		} else {
			/* A function label when entering a new symbol. */
			char *plus = strchr(sym, '+');
			if (!plus && *sym && strcmp(sym, last_sym))
				hs_sb_printf(&sb, "%s<%s>:%s\n", cli_col(c, COL_BLUE), sym,
					     cli_col(c, COL_RESET));
			snprintf(last_sym, sizeof(last_sym), "%.*s",
				 plus ? (int)(plus - sym) : (int)strlen(sym), sym);
			bool here = mark_pc && at == st.pc;
			hs_sb_printf(&sb, "%s%s %#" PRIx64 " %s%-26s%s %08x  %s%s\n",
				     here ? cli_col(c, COL_GREEN) : "", here ? "=>" : "  ", at,
				     cli_col(c, COL_DIM), *sym ? sym : "", cli_col(c, COL_RESET),
				     word, text, here ? cli_col(c, COL_RESET) : "");
		}
		i++;
	}
	if (c->json)
		hs_sb_puts(&sb, "]");
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	cs_free(insn, 1);
	cs_close(&cs);
	free(buf);
	return 0;
}

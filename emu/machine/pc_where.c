/* SPDX-License-Identifier: MIT */
/* A PC as a person reads it: symbol, offset and source line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "elf_image.h"
#include "machine.h"

void hs_pc_where(const struct hs_machine *m, uint64_t pc, char *buf, size_t len)
{
	char sym[96];
	if (!pc) {
		snprintf(buf, len, "-");
		return;
	}
	if (!hs_symbolize(m, pc, sym, sizeof(sym)))
		snprintf(sym, sizeof(sym), "%#" PRIx64, pc);
	uint64_t link;
	const struct hs_line *l = NULL;
	if (hs_addr_to_link(m, pc, &link))
		l = hs_image_line(hs_machine_image(m), link);
	if (l) {
		const char *f = strrchr(l->file, '/');
		snprintf(buf, len, "%s (%s:%d)", sym, f ? f + 1 : l->file, l->line);
	} else {
		snprintf(buf, len, "%s", sym);
	}
}

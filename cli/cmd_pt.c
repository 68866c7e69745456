/* SPDX-License-Identifier: MIT */
/* `pt walk` and `pt dump`: the emulator's architectural walker on the live tables (`pt blame`:
 * cmd_blame.c). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "pt_dump.h"

static int parse_range(struct cli *c, const char *s, uint64_t *a, uint64_t *b)
{
	/* A-B where A and B may be symbols; split at the '-' that separates two terms. */
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	char *dash = strchr(buf + 1, '-');
	if (!dash)
		return cli_error(c, "pt dump: --range '%s': give START-END", s);
	*dash = '\0';
	enum cli_space sp = SP_DEFAULT;
	if (cli_eval(c, buf, &sp, a) || cli_eval(c, dash + 1, &sp, b))
		return -1;
	if (*b <= *a)
		return cli_error(c, "pt dump: --range '%s': END must be above START", s);
	return 0;
}

int cmd_pt(struct cli *c, int argc, char **argv)
{
	bool walk;
	if (!strcmp(argv[1], "blame"))
		return cmd_pt_blame(c, argc, argv);
	if (!strcmp(argv[1], "walk"))
		walk = true;
	else if (!strcmp(argv[1], "dump"))
		walk = false;
	else
		return cli_error(c, "pt: '%s': give walk, dump or blame", argv[1]);
	const char *table = "hyp", *addr_s = NULL, *guest_s = NULL;
	bool dot = false;
	uint64_t start = 0, end = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--table")) {
			if (i + 1 >= argc)
				return cli_error(c, "pt: --table needs hyp, host or guest N");
			table = argv[++i];
			if (!strcmp(table, "guest") && i + 1 < argc && argv[i + 1][0] != '-')
				guest_s = argv[++i];
		} else if (!strcmp(argv[i], "--range") && !walk) {
			if (i + 1 >= argc)
				return cli_error(c, "pt dump: --range needs START-END");
			if (parse_range(c, argv[++i], &start, &end))
				return -1;
		} else if (!strcmp(argv[i], "--dot") && !walk) {
			dot = true;
		} else if (walk && !addr_s && argv[i][0] != '-') {
			addr_s = argv[i];
		} else {
			return cli_error(c, "pt %s: unexpected argument '%s'", argv[1], argv[i]);
		}
	}
	if (walk && !addr_s && guest_s) {
		/* pt walk --table guest IPA: the one VM's stage 2 */
		addr_s = guest_s;
		guest_s = NULL;
	}
	if (walk && !addr_s)
		return cli_error(c, "pt walk: missing address; usage: pt walk [--table "
				    "hyp|host|guest HANDLE] ADDR");
	struct hs_pt_regime r;
	if (cli_pt_regime(c, argv[1], table, guest_s, &r))
		return -1;
	struct hs_phys ph = cli_phys(c);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	int rc = 0;
	if (walk) {
		uint64_t addr;
		enum cli_space sp = !strcmp(table, "hyp") ? SP_VA : SP_PA;
		if (cli_eval(c, addr_s, &sp, &addr)) {
			hs_sb_free(&sb);
			return -1;
		}
		struct hs_pt_trace t;
		rc = hs_pt_translate(&ph, &r, addr, &t);
		if (rc < 0) {
			hs_sb_free(&sb);
			return cli_error(c, "pt walk: cannot walk %#" PRIx64 " (%d)", addr, rc);
		}
		if (c->json)
			hs_pt_trace_json(&sb, &t);
		else
			hs_pt_trace_text(&sb, &t);
		rc = 0;
	} else {
		struct hs_pt_filter f;
		hs_pt_filter_init(&f);
		f.va_start = start;
		f.va_end = end;
		if (dot)
			rc = hs_pt_dump_dot(&ph, &r, &f, &sb);
		else if (c->json)
			rc = hs_pt_dump_json(&ph, &r, &f, &sb);
		else
			rc = hs_pt_dump_text(&ph, &r, &f, &sb);
		if (rc < 0) {
			hs_sb_free(&sb);
			return cli_error(c, "pt dump: the walk failed (%d)", rc);
		}
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

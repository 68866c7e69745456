/* SPDX-License-Identifier: MIT */
/*
 * gdb's `until LOCATION` and `advance LOCATION`: run to LOCATION or until the
 * current frame returns to its caller, whichever comes first (gdb sets a
 * momentary breakpoint at each). `until` takes LOCATION only in the current
 * frame (gdb's frame id: the CFA and the function, so neither a callee, a
 * recursive call nor a function the current one tail-called counts).
 * `advance` takes it in any frame. Without LOCATION, `until` is `next`.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cmd_frame.h"
#include "step_lines.h"

/*
 * gdb's frame id of the current physical frame: its CFA and its function (a
 * tail call keeps the CFA but is another frame); false: unknown.
 */
static bool frame_id(struct cli *c, const struct cli_frame *f0, uint64_t *cfa, uint64_t *fn)
{
	if (!f0->have_phys_cfa)
		return false;
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	struct step_loc l;
	step_locate(c, st.pc, &l);
	*cfa = f0->phys_cfa;
	*fn = l.fn ? l.fn->addr : 0;
	return true;
}

/* The current frame's id, and where it returns to; false: unknown. */
static bool frame_exit(struct cli *c, uint64_t *cfa, uint64_t *fn, uint64_t *ret)
{
	struct cli_frame f[CLI_MAX_FRAMES];
	char why[256];
	unsigned n = cli_unwind(c, f, CLI_MAX_FRAMES, why, sizeof(why));
	if (!n || !frame_id(c, &f[0], cfa, fn))
		return false;
	/* The physical caller: past the functions inlined here and those that tail-called it. */
	for (unsigned i = 1; i < n; i++) {
		if (!f[i].have_phys_cfa || f[i].phys_cfa == *cfa || !strcmp(f[i].how, "tail call"))
			continue;
		*ret = f[i].regs.pc;
		return true;
	}
	return false;
}

static bool in_frame(struct cli *c, uint64_t cfa0, uint64_t fn0)
{
	struct cli_frame f[1];
	char why[256];
	uint64_t cfa = 0, fn = 0;
	return cli_unwind(c, f, 1, why, sizeof(why)) && frame_id(c, &f[0], &cfa, &fn) &&
	       cfa == cfa0 && fn == fn0;
}

static int until_location(struct cli *c, const char *cmd, const char *where, bool anywhere)
{
	if (cli_need_pending(c, cmd))
		return -1;
	uint64_t loc[CLI_BP_MAX_ADDRS];
	unsigned nloc = 0;
	if (cli_resolve_location(c, cmd, where, loc, &nloc))
		return -1;
	if (nloc == 2 && loc[0] == loc[1])
		nloc = 1;
	uint64_t ret = 0, cfa0 = 0, fn0 = 0;
	bool have_exit = frame_exit(c, &cfa0, &fn0, &ret);
	int ids[CLI_BP_MAX_ADDRS + 1];
	unsigned nids = 0;
	char msg[256];
	for (unsigned i = 0; i <= nloc; i++) {
		if (i == nloc && !have_exit)
			break;
		if (cli_bp_add_internal(&c->bps, i < nloc ? loc[i] : ret, &ids[nids], msg,
					sizeof(msg))) {
			cli_bps_drop_internal(&c->bps);
			return cli_error(c, "%s: %s", cmd, msg);
		}
		nids++;
	}
	struct hs_stop s = {0};
	bool mine = false;
	for (;;) {
		struct hs_error err = {0};
		if (cli_continue_live(c, &s, &err)) {
			cli_bps_drop_internal(&c->bps);
			return cli_error(c, "%s: %s", cmd, err.msg);
		}
		cli_after_run(c, &s);
		if (s.reason != HS_STOP_BREAKPOINT || c->hit_id >= 0)
			break; /* a user breakpoint, the operation's end, a fault: reported below */
		struct hs_cpu_state st;
		hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
		/* The frame returned: the caller's SP is the frame's CFA again (deeper: below it).
		 */
		if (have_exit && st.pc == ret && st.sp >= cfa0) {
			mine = true;
			break;
		}
		bool at_loc = false;
		for (unsigned i = 0; i < nloc; i++)
			at_loc |= st.pc == loc[i];
		if (at_loc && (anywhere || !have_exit || in_frame(c, cfa0, fn0))) {
			mine = true;
			break;
		}
	}
	cli_bps_drop_internal(&c->bps);
	if (!mine) {
		cli_report_stop(c, &s);
		return hs_machine_dead(c->m) ? -1 : 0;
	}
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	step_show_location(c, st.pc, true);
	cli_stop_as_step(c);
	return 0;
}

int cmd_until(struct cli *c, int argc, char **argv)
{
	if (argc == 1)
		return cmd_next(c, argc, argv);
	return until_location(c, "until", argv[1], false);
}

int cmd_advance(struct cli *c, int argc, char **argv)
{
	(void)argc;
	return until_location(c, "advance", argv[1], true);
}

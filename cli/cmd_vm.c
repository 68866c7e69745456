/* SPDX-License-Identifier: MIT */
/*
 * `vm ...`: guests from the debugger. Every subcommand is one (or a few)
 * host-model calls of emu/host_vm.h: the host creates VMs from its memory,
 * shares or donates pages into their stage 2 and runs the bundled guest
 * program, keeping a gfn->pfn record per VM that `vm check` compares with the
 * guest stage 2 in memory. Refused hypercalls are results, not command
 * failures (`expect result == -EPERM` checks them); the command fails only
 * when the call could not be made.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "profile.h"
#include "host_vm.h"
#include "linux_boot.h"
#include "linux_vm.h"
#include "pt_decode.h"

#define VM_ROOT_MASK                                                                \
	((uint64_t)0x0000fffffffffffeULL) /* VTTBR_EL2.BADDR (VMID above, CnP at 0) \
					   */

struct vm_opts {
	int cpu; /* -1: the current CPU */
	unsigned prot;
	bool have_prot, clear, protected_vm, fault_in;
	const char *pos[6];
	int npos;
};

static const char *vm_usage =
    "vm create [--protected] | list | show HANDLE | load HANDLE [--cpu N] | put [--cpu N]\n"
    "  | share HANDLE PFN|PA|SYM GFN [NR] [--prot r|rw|rx|rwx] | unshare HANDLE GFN [NR]\n"
    "  | donate HANDLE PFN|PA|SYM GFN | wrprotect HANDLE GFN [NR]\n"
    "  | young HANDLE GFN [NR] [--clear] | mkyoung GFN | relax GFN --prot P\n"
    "  | run read|write|exec|resume [IPA] [VALUE] [--fault-in] [--cpu N] | teardown HANDLE\n"
    "  | start-teardown HANDLE | reclaim HANDLE GFN\n"
    "  | vcpu HANDLE IDX | reinit HANDLE (Linux's hypervisor)\n"
    "  | check [HANDLE]";

static bool parse_prot(const char *s, unsigned *prot)
{
	unsigned p = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s == 'r' && !(p & HS_PROT_R))
			p |= HS_PROT_R;
		else if (*s == 'w' && !(p & HS_PROT_W))
			p |= HS_PROT_W;
		else if (*s == 'x' && !(p & HS_PROT_X))
			p |= HS_PROT_X;
		else if (*s != '-')
			return false;
	}
	*prot = p;
	return p != 0;
}

static const char *prot_str(unsigned prot, char buf[4])
{
	buf[0] = (prot & HS_PROT_R) ? 'r' : '-';
	buf[1] = (prot & HS_PROT_W) ? 'w' : '-';
	buf[2] = (prot & HS_PROT_X) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

static int parse_opts(struct cli *c, int argc, char **argv, struct vm_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cpu = -1;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--cpu")) {
			int64_t v;
			if (i + 1 >= argc || !cli_parse_num(argv[i + 1], &v) || v < 0 ||
			    v >= (int64_t)hs_nr_cpus(c->m))
				return cli_error(c, "vm %s: --cpu %s: give a CPU 0..%u", argv[1],
						 i + 1 < argc ? argv[i + 1] : "(missing)",
						 hs_nr_cpus(c->m) - 1);
			o->cpu = (int)v;
			i++;
		} else if (!strcmp(a, "--prot")) {
			if (i + 1 >= argc || !parse_prot(argv[i + 1], &o->prot))
				return cli_error(c, "vm %s: --prot %s: give r, rw, rx or rwx",
						 argv[1], i + 1 < argc ? argv[i + 1] : "(missing)");
			o->have_prot = true;
			i++;
		} else if (!strcmp(a, "--clear")) {
			o->clear = true;
		} else if (!strcmp(a, "--protected")) {
			o->protected_vm = true;
		} else if (!strcmp(a, "--fault-in")) {
			o->fault_in = true;
		} else if (a[0] == '-' && a[1] == '-') {
			return cli_error(c, "vm %s: unknown option '%s'", argv[1], a);
		} else if (o->npos < 6) {
			o->pos[o->npos++] = a;
		} else {
			return cli_error(c, "vm %s: too many arguments", argv[1]);
		}
	}
	return 0;
}

static unsigned vm_cpu(struct cli *c, const struct vm_opts *o)
{
	return o->cpu >= 0 ? (unsigned)o->cpu : hs_current_cpu(c->m);
}

static int num_arg(struct cli *c, const char *sub, const char *what, const char *s, uint64_t *v)
{
	enum cli_space sp = SP_PA;
	(void)sub;
	(void)what;
	return cli_eval(c, s, &sp, v) ? -1 : 0; /* the message names the argument's column */
}

static int handle_arg(struct cli *c, const char *sub, const char *s, uint64_t *h)
{
	return num_arg(c, sub, "HANDLE", s, h);
}

/* A GFN: a number, or ipa:ADDR (its page). */
static int gfn_arg(struct cli *c, const char *sub, const char *s, uint64_t *gfn)
{
	(void)sub;
	enum cli_space sp = SP_DEFAULT;
	uint64_t v;
	if (cli_eval(c, s, &sp, &v))
		return -1; /* the message names the argument's column */
	*gfn = sp == SP_IPA ? v >> HS_PAGE_SHIFT : v;
	return 0;
}

/*
 * PFN|PA|SYM: a symbol or pa:ADDR is an address (its page); a plain number is
 * a PA when it lies in RAM, otherwise a PFN (RAM's PFNs are far below RAM's
 * PAs, so the two never collide).
 */
static int pfn_arg(struct cli *c, const char *sub, const char *s, uint64_t *pfn)
{
	enum cli_space sp = SP_DEFAULT;
	uint64_t v;
	if (cli_eval(c, s, &sp, &v))
		return -1; /* the message names the argument's column */
	const struct hs_machine_opts *mo = hs_machine_opts(c->m);
	int64_t num;
	bool plain = cli_parse_num(s, &num);
	bool in_ram = v >= mo->ram_base && v - mo->ram_base < mo->ram_size;
	if (sp == SP_VA || sp == SP_IPA) {
		uint64_t pa;
		char err[256];
		if (cli_to_pa(c, sp, v, &pa, err, sizeof(err)))
			return cli_error(c, "vm %s: '%s': %s", sub, s, err);
		v = pa;
		plain = false;
	}
	if (sp == SP_PA || !plain || in_ram)
		*pfn = v >> HS_PAGE_SHIFT;
	else
		*pfn = v;
	return 0;
}

static int nr_arg(struct cli *c, const char *sub, const struct vm_opts *o, int i, uint64_t *nr)
{
	*nr = 1;
	if (o->npos > i)
		return num_arg(c, sub, "NR", o->pos[i], nr);
	return 0;
}

static int want_pos(struct cli *c, const char *sub, const struct vm_opts *o, int min, int max,
		    const char *usage)
{
	if (o->npos < min || o->npos > max)
		return cli_error(c, "vm %s: usage: vm %s", sub, usage);
	return 0;
}

/*
 * One hypercall's result: "host_share_guest(DETAIL): 0 (ok)" or
 * "...: -EPERM (-1)"; JSON: {"call":...,"result":...,"errno":...EXTRA}.
 */
static void print_result_d(struct cli *c, const char *call, int64_t ret, const char *json_extra,
			   const char *detail)
{
	const char *e = ret < 0 ? cli_errno_name(ret) : NULL;
	if (c->json) {
		printf("{\"call\":\"%s\",\"result\":%" PRId64 ",\"errno\":", call, ret);
		if (e)
			printf("\"%s\"", e);
		else
			printf("null");
		printf("%s}\n", json_extra ? json_extra : "");
		return;
	}
	printf("%s%s%s%s%s%s: ", cli_col(c, COL_BOLD), call, cli_col(c, COL_RESET),
	       detail ? "(" : "", detail ? detail : "", detail ? ")" : "");
	if (e)
		printf("%s-%s%s (%" PRId64 ")\n", cli_col(c, COL_RED), e, cli_col(c, COL_RESET),
		       ret);
	else
		printf("%" PRId64 "%s\n", ret, ret == 0 ? " (ok)" : "");
}

/* The hypercall's name as the machine's hypervisor calls it (Linux: __pkvm_host_share_guest). */
static const char *call_name(struct cli *c, int nr)
{
	if (hs_linux_image(c->m)) {
		if (nr == HS_HC_vcpu_load)
			return "__pkvm_vcpu_load";
		/* 6.12 tears a VM down in one call */
		if (nr == HS_HC_teardown_vm &&
		    hs_machine_hypercall_by_name(c->m, "__pkvm_finalize_teardown_vm") < 0)
			return "__pkvm_teardown_vm";
		const char *n = hs_lx_guest_call_name(nr);
		if (n)
			return n;
	}
	return hs_hypercall_name(HS_HC_FN(nr));
}

static void print_result(struct cli *c, const char *call, int64_t ret, const char *json_extra)
{
	print_result_d(c, call, ret, json_extra, NULL);
}

static int fail(struct cli *c, const char *sub, const struct hs_error *err)
{
	/* a call that ended at a hypervisor fault or a host panic: its report first */
	const struct hs_stop *ls = hs_last_stop(c->m);
	if (err->code == -EINTR && ls && ls->reason == HS_STOP_HYP_FAULT)
		cli_report_stop(c, ls);
	return cli_error(c, "vm %s: %s", sub, err->msg);
}

/* ---- create / list / show ------------------------------------------------- */

static int vm_create(struct cli *c, struct vm_opts *o)
{
	if (want_pos(c, "create", o, 0, 0, "create [--protected] [--cpu N]"))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	uint64_t h, vttbr = 0, vtcr = 0;
	struct hs_error err = {0};
	if (hs_vm_create(c->m, cpu, o->protected_vm, &h, &err))
		return fail(c, "create", &err);
	if (hs_vm_regs(c->m, h, &vttbr, &vtcr, &err))
		return fail(c, "create", &err);
	struct hs_vm_info info;
	hs_vm_info(c->m, h, &info);
	unsigned vmid = (unsigned)(vttbr >> 48);
	if (c->json) {
		printf("{\"handle\":\"0x%" PRIx64
		       "\",\"vmid\":%u,\"protected\":%s,\"vttbr\":\"0x%" PRIx64
		       "\",\"vtcr\":\"0x%" PRIx64 "\",\"root\":\"0x%" PRIx64
		       "\",\"pa\":\"0x%" PRIx64 "\",\"nr_pages\":%" PRIu64
		       ",\"code_pfn\":\"0x%" PRIx64 "\",\"loaded_on\":%d}\n",
		       h, vmid, o->protected_vm ? "true" : "false", vttbr, vtcr,
		       vttbr & VM_ROOT_MASK, info.pa, info.nr_pages, info.code_pfn, info.loaded_on);
		return 0;
	}
	printf("%sVM %#" PRIx64 "%s created: VMID %u, %s, stage-2 root %#" PRIx64
	       " (VTTBR_EL2=%#" PRIx64 ")\n",
	       cli_col(c, COL_BOLD), h, cli_col(c, COL_RESET), vmid,
	       o->protected_vm ? "protected" : "not protected", vttbr & VM_ROOT_MASK, vttbr);
	printf("  %" PRIu64 " pages donated at %#" PRIx64 "; guest program at gfn %#" PRIx64
	       " -> pfn %#" PRIx64 " (%s); vCPU 0 loaded on cpu%d\n",
	       info.nr_pages, info.pa, hs_vm_code_gfn(c->m), info.code_pfn,
	       !info.nr_maps	 ? "not mapped: this hypervisor has no guest stage-2 hypercalls"
	       : o->protected_vm ? "donated"
				 : "shared r-x",
	       info.loaded_on);
	return 0;
}

static int vm_list(struct cli *c, struct vm_opts *o)
{
	if (want_pos(c, "list", o, 0, 0, "list"))
		return -1;
	uint64_t hs[HS_MAX_VMS];
	size_t n = hs_vm_list(c->m, hs, HS_MAX_VMS);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	else if (n == 0)
		hs_sb_puts(&sb, "no VMs (create one with `vm create`)\n");
	else
		hs_sb_printf(&sb, "%-8s %-5s %-10s %-9s %-8s %s\n", "HANDLE", "VMID", "PROTECTED",
			     "LOADED", "MAPPINGS", "STAGE-2 ROOT");
	for (size_t i = 0; i < n; i++) {
		struct hs_vm_info info;
		if (!hs_vm_info(c->m, hs[i], &info))
			continue;
		uint64_t vttbr = 0, vtcr = 0;
		hs_vm_regs(c->m, hs[i], &vttbr, &vtcr, NULL);
		if (c->json) {
			hs_sb_printf(
			    &sb,
			    "%s{\"handle\":\"0x%" PRIx64 "\",\"vmid\":%u,\"protected\":%s,"
			    "\"loaded_on\":%d,\"dying\":%s,\"mappings\":%zu,\"root\":\"0x%" PRIx64
			    "\",\"pa\":\"0x%" PRIx64 "\",\"nr_pages\":%" PRIu64 "}",
			    i ? "," : "", hs[i], (unsigned)(vttbr >> 48),
			    info.protected_vm ? "true" : "false", info.loaded_on,
			    info.dying ? "true" : "false", info.nr_maps, vttbr & VM_ROOT_MASK,
			    info.pa, info.nr_pages);
		} else {
			char loaded[16];
			if (info.loaded_on >= 0)
				snprintf(loaded, sizeof(loaded), "cpu%d", info.loaded_on);
			else if (info.dying)
				snprintf(loaded, sizeof(loaded), "dying");
			else
				snprintf(loaded, sizeof(loaded), "-");
			hs_sb_printf(&sb, "%#-8" PRIx64 " %-5u %-10s %-9s %-8zu %#" PRIx64 "\n",
				     hs[i], (unsigned)(vttbr >> 48),
				     info.protected_vm ? "yes" : "no", loaded, info.nr_maps,
				     vttbr & VM_ROOT_MASK);
		}
	}
	if (c->json)
		hs_sb_puts(&sb, "]");
	struct hs_lx_vm *gone[HS_MAX_VMS];
	size_t ng = c->json ? 0 : hs_vm_gone(c->m, gone, HS_MAX_VMS);
	for (size_t i = 0; i < ng; i++) {
		const struct hs_lx_ledger *l = hs_lx_vm_ledger(c->m, gone[i]);
		hs_sb_printf(&sb,
			     "torn down: VM %#" PRIx64 " (%s): %" PRIu64 " pages donated, %" PRIu64
			     " back\n",
			     l->handle, l->protected_vm ? "protected" : "normal", l->donated,
			     l->returned);
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

static int cmp_map(const void *a, const void *b)
{
	const struct hs_vm_map *x = a, *y = b;
	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

int cli_vm_regime(struct cli *c, uint64_t handle, struct hs_pt_regime *r, char *err, size_t len)
{
	uint64_t vttbr, vtcr;
	struct hs_error e = {0};
	if (hs_vm_regs(c->m, handle, &vttbr, &vtcr, &e)) {
		snprintf(err, len, "%s", e.msg);
		return -ENOENT;
	}
	return hs_machine_regime_s2(c->m, vtcr, vttbr, r, err, len);
}

/* What Linux's host gave the hypervisor for a VM, and what came back. */
static void ledger_text(struct cli *c, const struct hs_lx_ledger *l, struct hs_strbuf *sb)
{
	(void)c;
	hs_sb_printf(sb,
		     "  host: struct kvm %#" PRIx64 " (%" PRIu64
		     " pages), struct kvm_vcpu %#" PRIx64 " (%" PRIu64
		     " pages), shared with EL2; VTCR %#" PRIx64 "\n",
		     l->kvm_pa, l->kvm_pages, l->vcpu_pa, l->vcpu_pages, l->host_vtcr);
	hs_sb_printf(sb,
		     "  donated: hyp VM %#" PRIx64 " (%" PRIu64 "), PGD %#" PRIx64 " (%" PRIu64
		     "), hyp vCPU %#" PRIx64 " (%" PRIu64 "), memcache pages; %" PRIu64
		     " pages in all, %" PRIu64 " back%s; %" PRIu64 " guest pages given back\n",
		     l->hyp_vm_pa, l->hyp_vm_pages, l->pgd_pa, l->pgd_pages, l->hyp_vcpu_pa,
		     l->hyp_vcpu_pages, l->donated, l->returned, l->finalized ? " (finalized)" : "",
		     l->guest_back);
}

static int vm_show(struct cli *c, struct vm_opts *o)
{
	uint64_t h;
	if (want_pos(c, "show", o, 1, 1, "show HANDLE") || handle_arg(c, "show", o->pos[0], &h))
		return -1;
	struct hs_vm_info info;
	if (!hs_vm_info(c->m, h, &info))
		return cli_error(c, "vm show: no VM %#" PRIx64 " in the host's records (`vm list`)",
				 h);
	uint64_t vttbr = 0, vtcr = 0;
	struct hs_error e = {0};
	if (hs_vm_regs(c->m, h, &vttbr, &vtcr, &e))
		return fail(c, "show", &e);
	struct hs_pt_regime r;
	char err[256];
	bool have_r = !hs_machine_regime_s2(c->m, vtcr, vttbr, &r, err, sizeof(err));
	struct hs_phys ph = cli_phys(c);
	struct hs_vm_map *maps = NULL;
	if (info.nr_maps) {
		maps = malloc(info.nr_maps * sizeof(*maps));
		if (!maps)
			return cli_error(c, "vm show: out of memory");
		memcpy(maps, info.maps, info.nr_maps * sizeof(*maps));
		qsort(maps, info.nr_maps, sizeof(*maps), cmp_map);
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_printf(&sb,
			     "{\"handle\":\"0x%" PRIx64
			     "\",\"vmid\":%u,\"protected\":%s,\"loaded_on\":%d,\"dying\":%s,"
			     "\"vttbr\":\"0x%" PRIx64 "\",\"vtcr\":\"0x%" PRIx64
			     "\",\"pa\":\"0x%" PRIx64 "\",\"nr_pages\":%" PRIu64
			     ",\"code_pfn\":\"0x%" PRIx64 "\",\"maps\":[",
			     h, (unsigned)(vttbr >> 48), info.protected_vm ? "true" : "false",
			     info.loaded_on, info.dying ? "true" : "false", vttbr, vtcr, info.pa,
			     info.nr_pages, info.code_pfn);
	else
		hs_sb_printf(
		    &sb,
		    "VM %#" PRIx64 ": VMID %u, %s, %s\n"
		    "  VTTBR_EL2=%#" PRIx64 " VTCR_EL2=%#" PRIx64 " (%u-bit IPA, start level %d)\n"
		    "  donated block %#" PRIx64 " (%" PRIu64 " pages), guest program pfn %#" PRIx64
		    "\n  %zu mapping%s in the host's record%s\n",
		    h, (unsigned)(vttbr >> 48), info.protected_vm ? "protected" : "not protected",
		    info.loaded_on >= 0 ? "loaded"
		    : info.dying	? "dying (pages come back with `vm reclaim`)"
					: "not loaded",
		    vttbr, vtcr, have_r ? r.ia_bits : 0, have_r ? r.start_level : -1, info.pa,
		    info.nr_pages, info.code_pfn, info.nr_maps, info.nr_maps == 1 ? "" : "s",
		    info.nr_maps ? ":" : "");
	if (!c->json && info.nr_maps)
		hs_sb_printf(&sb, "  %-10s %-10s %-6s %-5s | %-5s %-16s %s\n", "GFN", "PFN", "KIND",
			     "PROT", "S2", "STATE", "AF");
	for (size_t i = 0; i < info.nr_maps; i++) {
		const struct hs_vm_map *mp = &maps[i];
		struct hs_pt_trace t;
		int rc = have_r ? hs_pt_translate(&ph, &r, mp->gfn << HS_PAGE_SHIFT, &t) : -1;
		/* An old page (AF clear) is still mapped: the guest's access faults once. */
		bool ok = rc == 0 || (rc == 1 && t.fault.type == HS_PT_FAULT_ACCESS_FLAG);
		if (rc == 1 && ok)
			t.out_pa = t.attrs.oa + ((mp->gfn << HS_PAGE_SHIFT) & (t.attrs.size - 1));
		char p[4], s2[4];
		prot_str(mp->prot, p);
		if (ok)
			hs_pt_perm_str(t.attrs.perm, s2);
		const char *state =
		    ok ? hs_swenc_state_name(hs_profile_of(c->m)->swenc, t.attrs.state)
		       : "unmapped";
		if (c->json) {
			hs_sb_printf(&sb,
				     "%s{\"gfn\":\"0x%" PRIx64 "\",\"pfn\":\"0x%" PRIx64
				     "\",\"donated\":%s,\"prot\":\"%s\",\"s2\":",
				     i ? "," : "", mp->gfn, mp->pfn, mp->donated ? "true" : "false",
				     p);
			if (ok)
				hs_sb_printf(&sb,
					     "{\"pa\":\"0x%" PRIx64
					     "\",\"perm\":\"%s\",\"state\":\"%s\","
					     "\"af\":%s}}",
					     t.out_pa, s2, state, t.attrs.af ? "true" : "false");
			else
				hs_sb_puts(&sb, "null}");
		} else {
			bool mismatch = ok && (t.out_pa >> HS_PAGE_SHIFT) != mp->pfn;
			hs_sb_printf(
			    &sb, "  %#-10" PRIx64 " %#-10" PRIx64 " %-6s %-5s | %-5s %-16s %s%s\n",
			    mp->gfn, mp->pfn, mp->donated ? "donate" : "share", p, ok ? s2 : "---",
			    state, ok ? (t.attrs.af ? "young" : "old") : "",
			    mismatch ? "  (stage 2 maps another page!)" : "");
		}
	}
	struct hs_lx_vm *lx = hs_vm_linux(c->m, h);
	if (c->json)
		hs_sb_puts(&sb, "]}");
	else if (info.loaded_on >= 0)
		hs_sb_printf(&sb, "  vCPU 0 is loaded on cpu%d\n", info.loaded_on);
	if (lx && !c->json)
		ledger_text(c, hs_lx_vm_ledger(c->m, lx), &sb);
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	free(maps);
	return 0;
}

/* ---- hypercalls -------------------------------------------------------------- */

static int vm_load(struct cli *c, struct vm_opts *o)
{
	uint64_t h;
	if (want_pos(c, "load", o, 1, 1, "load HANDLE [--cpu N]") ||
	    handle_arg(c, "load", o->pos[0], &h))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	int64_t ret;
	struct hs_error err = {0};
	if (hs_vm_load(c->m, cpu, h, &ret, &err))
		return fail(c, "load", &err);
	if (hs_linux_image(c->m) && !c->json)
		printf("__pkvm_vcpu_load: done (it returns nothing: Linux's host takes the vCPU as "
		       "loaded; a refusal shows at __kvm_vcpu_run)\n");
	else
		print_result(c, call_name(c, HS_HC_vcpu_load), ret, NULL);
	return 0;
}

static int vm_put(struct cli *c, struct vm_opts *o)
{
	if (want_pos(c, "put", o, 0, 0, "put [--cpu N]"))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	int64_t ret;
	struct hs_error err = {0};
	if (hs_vm_put(c->m, cpu, &ret, &err))
		return fail(c, "put", &err);
	print_result(c, call_name(c, HS_HC_vcpu_put), ret, NULL);
	return 0;
}

static int vm_share(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0, pfn = 0, gfn = 0, nr = 0;
	if (want_pos(c, "share", o, 3, 4,
		     "share HANDLE PFN|PA|SYM GFN [NR] [--prot r|rw|rx|rwx]") ||
	    handle_arg(c, "share", o->pos[0], &h) || pfn_arg(c, "share", o->pos[1], &pfn) ||
	    gfn_arg(c, "share", o->pos[2], &gfn) || nr_arg(c, "share", o, 3, &nr))
		return -1;
	unsigned prot = o->have_prot ? o->prot : (unsigned)HS_PROT_RW;
	unsigned cpu = vm_cpu(c, o);
	int64_t ret;
	struct hs_error err = {0};
	if (hs_vm_share(c->m, cpu, h, pfn, gfn, nr, prot, &ret, &err))
		return fail(c, "share", &err);
	char p[4], extra[160];
	snprintf(extra, sizeof(extra),
		 ",\"handle\":\"0x%" PRIx64 "\",\"pfn\":\"0x%" PRIx64 "\",\"gfn\":\"0x%" PRIx64
		 "\",\"nr\":%" PRIu64 ",\"prot\":\"%s\"",
		 h, pfn, gfn, nr, prot_str(prot, p));
	char d[160];
	snprintf(d, sizeof(d),
		 "pfn %#" PRIx64 " -> VM %#" PRIx64 " gfn %#" PRIx64 ", %" PRIu64 " page%s, %s",
		 pfn, h, gfn, nr, nr == 1 ? "" : "s", p);
	print_result_d(c, call_name(c, HS_HC_host_share_guest), ret, extra, d);
	return 0;
}

static int vm_unshare(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0, gfn = 0, nr = 0;
	if (want_pos(c, "unshare", o, 2, 3, "unshare HANDLE GFN [NR]") ||
	    handle_arg(c, "unshare", o->pos[0], &h) || gfn_arg(c, "unshare", o->pos[1], &gfn) ||
	    nr_arg(c, "unshare", o, 2, &nr))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	int64_t ret;
	struct hs_error err = {0};
	if (hs_vm_unshare(c->m, cpu, h, gfn, nr, &ret, &err))
		return fail(c, "unshare", &err);
	print_result(c, call_name(c, HS_HC_host_unshare_guest), ret, NULL);
	return 0;
}

static int vm_donate(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0, pfn = 0, gfn = 0;
	if (want_pos(c, "donate", o, 3, 3, "donate HANDLE PFN|PA|SYM GFN") ||
	    handle_arg(c, "donate", o->pos[0], &h) || pfn_arg(c, "donate", o->pos[1], &pfn) ||
	    gfn_arg(c, "donate", o->pos[2], &gfn))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	int64_t ret;
	struct hs_error err = {0};
	if (hs_vm_donate(c->m, cpu, h, pfn, gfn, &ret, &err))
		return fail(c, "donate", &err);
	char d[160];
	snprintf(d, sizeof(d), "pfn %#" PRIx64 " -> VM %#" PRIx64 " gfn %#" PRIx64, pfn, h, gfn);
	print_result_d(c, call_name(c, HS_HC_host_donate_guest), ret, NULL, d);
	return 0;
}

static int raw_hvc(struct cli *c, const char *sub, unsigned cpu, int nr, const uint64_t *a,
		   unsigned n, int64_t *ret)
{
	struct hs_error err = {0};
	if (hs_vm_hvc(c->m, cpu, nr, a, n, ret, &err))
		return fail(c, sub, &err);
	return 0;
}

static int vm_wrprotect(struct cli *c, struct vm_opts *o)
{
	uint64_t a[3];
	int64_t ret;
	if (want_pos(c, "wrprotect", o, 2, 3, "wrprotect HANDLE GFN [NR]") ||
	    handle_arg(c, "wrprotect", o->pos[0], &a[0]) ||
	    gfn_arg(c, "wrprotect", o->pos[1], &a[1]) || nr_arg(c, "wrprotect", o, 2, &a[2]) ||
	    raw_hvc(c, "wrprotect", vm_cpu(c, o), HS_HC_host_wrprotect_guest, a, 3, &ret))
		return -1;
	print_result(c, call_name(c, HS_HC_host_wrprotect_guest), ret, NULL);
	return 0;
}

static int vm_young(struct cli *c, struct vm_opts *o)
{
	uint64_t a[4];
	int64_t ret;
	if (want_pos(c, "young", o, 2, 3, "young HANDLE GFN [NR] [--clear]") ||
	    handle_arg(c, "young", o->pos[0], &a[0]) || gfn_arg(c, "young", o->pos[1], &a[1]) ||
	    nr_arg(c, "young", o, 2, &a[2]))
		return -1;
	a[3] = o->clear ? 1 : 0;
	if (raw_hvc(c, "young", vm_cpu(c, o), HS_HC_host_test_clear_young_guest, a, 4, &ret))
		return -1;
	char extra[64];
	snprintf(extra, sizeof(extra), ",\"young\":%s,\"cleared\":%s", ret == 1 ? "true" : "false",
		 o->clear ? "true" : "false");
	if (!c->json && ret >= 0)
		printf("gfn %#" PRIx64 "%s: %s%s\n", a[1], a[2] > 1 ? "+" : "",
		       ret ? "young (accessed since last cleared)" : "old",
		       o->clear ? "; access flag cleared" : "");
	print_result(c, call_name(c, HS_HC_host_test_clear_young_guest), ret, extra);
	return 0;
}

static int vm_mkyoung(struct cli *c, struct vm_opts *o)
{
	uint64_t a[1];
	int64_t ret;
	if (want_pos(c, "mkyoung", o, 1, 1, "mkyoung GFN [--cpu N]") ||
	    gfn_arg(c, "mkyoung", o->pos[0], &a[0]) ||
	    raw_hvc(c, "mkyoung", vm_cpu(c, o), HS_HC_host_mkyoung_guest, a, 1, &ret))
		return -1;
	print_result(c, call_name(c, HS_HC_host_mkyoung_guest), ret, NULL);
	return 0;
}

static int vm_relax(struct cli *c, struct vm_opts *o)
{
	uint64_t a[2];
	int64_t ret;
	if (want_pos(c, "relax", o, 1, 1, "relax GFN --prot r|rw|rx|rwx [--cpu N]") ||
	    gfn_arg(c, "relax", o->pos[0], &a[0]))
		return -1;
	if (!o->have_prot)
		return cli_error(c, "vm relax: give the permissions with --prot r|rw|rx|rwx");
	a[1] = o->prot;
	if (raw_hvc(c, "relax", vm_cpu(c, o), HS_HC_host_relax_perms_guest, a, 2, &ret))
		return -1;
	print_result(c, call_name(c, HS_HC_host_relax_perms_guest), ret, NULL);
	return 0;
}

static int vm_teardown(struct cli *c, struct vm_opts *o)
{
	uint64_t h;
	if (want_pos(c, "teardown", o, 1, 1, "teardown HANDLE") ||
	    handle_arg(c, "teardown", o->pos[0], &h))
		return -1;
	int64_t ret;
	struct hs_error err = {0};
	unsigned cpu = vm_cpu(c, o);
	if (hs_vm_teardown(c->m, cpu, h, &ret, &err))
		return fail(c, "teardown", &err);
	print_result(c, call_name(c, HS_HC_teardown_vm), ret, NULL);
	return 0;
}

static int vm_start_teardown(struct cli *c, struct vm_opts *o)
{
	uint64_t h;
	if (want_pos(c, "start-teardown", o, 1, 1, "start-teardown HANDLE") ||
	    handle_arg(c, "start-teardown", o->pos[0], &h))
		return -1;
	int64_t ret;
	struct hs_error err = {0};
	unsigned cpu = vm_cpu(c, o);
	if (hs_vm_start_teardown(c->m, cpu, h, &ret, &err))
		return fail(c, "start-teardown", &err);
	print_result(c, call_name(c, HS_HC_start_teardown_vm), ret, NULL);
	return 0;
}

static int vm_reclaim(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0, gfn = 0;
	if (want_pos(c, "reclaim", o, 2, 2, "reclaim HANDLE GFN") ||
	    handle_arg(c, "reclaim", o->pos[0], &h) || gfn_arg(c, "reclaim", o->pos[1], &gfn))
		return -1;
	int64_t ret;
	struct hs_error err = {0};
	unsigned cpu = vm_cpu(c, o);
	struct hs_vm_info info;
	/* Linux gives a normal VM's pages back by unsharing them (destroy_range). */
	bool unshare = hs_linux_image(c->m) && hs_vm_info(c->m, h, &info) && !info.protected_vm;
	if (hs_vm_reclaim(c->m, cpu, h, gfn, &ret, &err))
		return fail(c, "reclaim", &err);
	print_result(c, call_name(c, unshare ? HS_HC_host_unshare_guest : HS_HC_reclaim_page), ret,
		     NULL);
	return 0;
}

/* Linux's refusals need the host's own memory: these repeat a step of its sequence. */
static struct hs_lx_vm *linux_vm(struct cli *c, const char *sub, uint64_t h)
{
	struct hs_lx_vm *lx = hs_vm_linux(c->m, h);
	if (!lx)
		cli_error(c, "vm %s: %s", sub,
			  hs_linux_image(c->m) ? "no such VM in the host's records (`vm list`)"
					       : "only for Linux's hypervisor");
	return lx;
}

static int vm_vcpu(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0, idx = 0;
	if (want_pos(c, "vcpu", o, 2, 2, "vcpu HANDLE IDX") ||
	    handle_arg(c, "vcpu", o->pos[0], &h) || num_arg(c, "vcpu", "IDX", o->pos[1], &idx))
		return -1;
	struct hs_lx_vm *lx = linux_vm(c, "vcpu", h);
	int64_t ret;
	struct hs_error err = {0};
	if (!lx)
		return -1;
	if (hs_lx_vm_add_vcpu(c->m, vm_cpu(c, o), lx, idx, &ret, &err))
		return fail(c, "vcpu", &err);
	print_result(c, "__pkvm_init_vcpu", ret, NULL);
	return 0;
}

static int vm_reinit(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0;
	if (want_pos(c, "reinit", o, 1, 1, "reinit HANDLE") ||
	    handle_arg(c, "reinit", o->pos[0], &h))
		return -1;
	struct hs_lx_vm *lx = linux_vm(c, "reinit", h);
	int64_t ret;
	struct hs_error err = {0};
	if (!lx)
		return -1;
	if (hs_lx_vm_reinit(c->m, vm_cpu(c, o), lx, &ret, &err))
		return fail(c, "reinit", &err);
	print_result(c, "__pkvm_init_vm", ret, NULL);
	return 0;
}

/* ---- running the guest ------------------------------------------------------- */

static const char *const op_names[] = {"resume", "read", "write", "exec"};

const char *cli_vm_exit_name(uint64_t reason)
{
	switch (reason) {
	case HS_EXIT_GUEST_HVC:
		return "hvc";
	case HS_EXIT_S2_FAULT:
		return "s2-fault";
	case HS_EXIT_OTHER:
		return "other";
	case HS_EXIT_IRQ:
		return "irq";
	default:
		return "none";
	}
}

static const char *done_name(uint64_t x0)
{
	switch (x0) {
	case HS_GUEST_DONE_IDLE:
		return "idle";
	case HS_GUEST_DONE_READ:
		return "read";
	case HS_GUEST_DONE_WRITE:
		return "write";
	case HS_GUEST_DONE_EXEC:
		return "exec";
	default:
		return "unknown";
	}
}

/* "data abort, write, permission fault at level 3" from an ESR_EL2 of a stage-2 abort. */
void cli_vm_esr_text(uint64_t esr, char *buf, size_t len)
{
	unsigned ec = (unsigned)(esr >> 26) & 0x3f;
	unsigned fsc = (unsigned)esr & 0x3f;
	bool data = ec == 0x24 || ec == 0x25;
	const char *kind = ec == 0x24 ? "data abort" : ec == 0x20 ? "instruction abort" : NULL;
	char ft[64];
	unsigned lvl = fsc & 3;
	switch (fsc >> 2) {
	case 0:
		snprintf(ft, sizeof(ft), "address size fault at level %u", lvl);
		break;
	case 1:
		snprintf(ft, sizeof(ft), "translation fault at level %u", lvl);
		break;
	case 2:
		snprintf(ft, sizeof(ft), "access flag fault at level %u", lvl);
		break;
	case 3:
		snprintf(ft, sizeof(ft), "permission fault at level %u", lvl);
		break;
	default:
		snprintf(ft, sizeof(ft),
			 fsc == 0x10   ? "synchronous external abort"
			 : fsc == 0x21 ? "alignment fault"
			 : fsc == 0x30 ? "TLB conflict abort"
				       : "fault status %#x",
			 fsc);
		break;
	}
	if (!kind) {
		snprintf(buf, len, "%s", hs_ec_name(ec));
		return;
	}
	snprintf(buf, len, "%s, %s%s, %s", kind,
		 data ? ((esr & (1u << 6)) ? "write" : "read") : "fetch",
		 (esr & (1u << 7)) ? " (stage-1 table walk)" : "", ft);
}

static int vm_run(struct cli *c, struct vm_opts *o)
{
	if (o->npos < 1)
		return cli_error(c, "vm run: usage: vm run read IPA | write IPA VALUE | exec IPA | "
				    "resume [--cpu N]");
	uint64_t op = 4;
	for (unsigned k = 0; k < 4; k++)
		if (!strcmp(o->pos[0], op_names[k]))
			op = k;
	if (op == 4)
		return cli_error(c, "vm run: '%s': give read, write, exec or resume", o->pos[0]);
	int want = op == HS_VCPU_OP_RESUME ? 1 : op == HS_VCPU_OP_WRITE ? 3 : 2;
	if (o->npos != want)
		return cli_error(c, "vm run %s: usage: vm run %s%s", o->pos[0], o->pos[0],
				 want == 1   ? ""
				 : want == 2 ? " IPA"
					     : " IPA VALUE");
	uint64_t ipa = 0, value = 0;
	if (want >= 2) {
		enum cli_space sp = SP_DEFAULT;
		if (cli_eval(c, o->pos[1], &sp, &ipa))
			return -1;
	}
	if (want == 3 && num_arg(c, "run", "VALUE", o->pos[2], &value))
		return -1;
	unsigned cpu = vm_cpu(c, o);
	struct hs_vm_exit x;
	struct hs_error err = {0};
	c->have_vm_exit = false;
	struct hs_strbuf log;
	hs_sb_init(&log);
	int rc = o->fault_in ? hs_vm_run_fault_in(c->m, cpu, op, ipa, value, &x, &log, &err)
			     : hs_vm_run(c->m, cpu, op, ipa, value, &x, &err);
	if (!c->json)
		printf("%s", hs_sb_str(&log));
	hs_sb_free(&log);
	if (rc)
		return fail(c, "run", &err);
	c->have_vm_exit = true;
	c->vm_exit = x;
	c->vm_exit_op = op;
	c->vm_exit_ipa = ipa;
	if (x.status) {
		const char *e = cli_errno_name(x.status);
		if (c->json) {
			printf("{\"op\":\"%s\",\"status\":%" PRId64 ",\"errno\":\"%s\"}\n",
			       op_names[op], x.status, e ? e : "");
			return 0;
		}
		printf("%s: %s-%s%s (%" PRId64 ")%s\n",
		       hs_linux_image(c->m) ? "__kvm_vcpu_run" : "vcpu_run", cli_col(c, COL_RED),
		       e ? e : "?", cli_col(c, COL_RESET), x.status,
		       x.status == -HS_EINVAL ? ": no vCPU loaded on this CPU (`vm load HANDLE`)"
					      : "");
		return 0;
	}
	char esr[160] = "";
	if (x.reason == HS_EXIT_S2_FAULT || x.reason == HS_EXIT_OTHER)
		cli_vm_esr_text(x.x3, esr, sizeof(esr));
	if (c->json) {
		printf("{\"op\":\"%s\",\"ipa\":\"0x%" PRIx64 "\",\"status\":0,\"exit\":\"%s\"",
		       op_names[op], ipa, cli_vm_exit_name(x.reason));
		if (x.reason == HS_EXIT_GUEST_HVC)
			printf(",\"done\":\"%s\",\"guest_x0\":\"0x%" PRIx64
			       "\",\"value\":\"0x%" PRIx64 "\"}\n",
			       done_name(x.x2), x.x2, x.x3);
		else if (x.reason == HS_EXIT_S2_FAULT)
			printf(",\"fault_ipa\":\"0x%" PRIx64 "\",\"esr\":\"0x%" PRIx64
			       "\",\"decoded\":\"%s\"}\n",
			       x.x2, x.x3, esr);
		else if (x.reason == HS_EXIT_IRQ)
			printf(",\"pc\":\"0x%" PRIx64 "\"}\n", x.x2);
		else
			printf(",\"esr\":\"0x%" PRIx64 "\",\"decoded\":\"%s\"}\n", x.x3, esr);
		return 0;
	}
	switch (x.reason) {
	case HS_EXIT_GUEST_HVC:
		printf("%sguest hypercall%s: %s done", cli_col(c, COL_GREEN), cli_col(c, COL_RESET),
		       done_name(x.x2));
		if (x.x2 == HS_GUEST_DONE_READ)
			printf(", value %#" PRIx64, x.x3);
		else if (x.x2 == HS_GUEST_DONE_WRITE && op == HS_VCPU_OP_WRITE)
			printf(" (%#" PRIx64 " -> IPA %#" PRIx64 ")", value, ipa);
		printf("\n");
		break;
	case HS_EXIT_S2_FAULT:
		printf("%sstage-2 fault%s at IPA %#" PRIx64 ": %s (ESR_EL2=%#" PRIx64 ")\n",
		       cli_col(c, COL_RED), cli_col(c, COL_RESET), x.x2, esr, x.x3);
		printf("  `vm run resume` retries the access; another op abandons it\n");
		break;
	case HS_EXIT_IRQ:
		printf("%sinterrupted%s: the guest used its instruction budget at IPA %#" PRIx64
		       " (a timer tick took the CPU back)\n",
		       cli_col(c, COL_YELLOW), cli_col(c, COL_RESET), x.x2);
		printf("  `vm run resume` lets it go on; another op starts afresh\n");
		break;
	default:
		printf("%sother exit%s: %s (ESR_EL2=%#" PRIx64 ")\n", cli_col(c, COL_YELLOW),
		       cli_col(c, COL_RESET), esr, x.x3);
		break;
	}
	return 0;
}

/* ---- check ------------------------------------------------------------------ */

/* Check one VM (or all): returns mismatches (>= 0) or -1 after an error message. */
int cli_vm_check(struct cli *c, bool have_handle, uint64_t handle, struct hs_strbuf *sb,
		 size_t *nvms)
{
	uint64_t hs[HS_MAX_VMS];
	size_t n = 1;
	if (have_handle)
		hs[0] = handle;
	else
		n = hs_vm_list(c->m, hs, HS_MAX_VMS);
	int total = 0;
	for (size_t i = 0; i < n; i++) {
		struct hs_error err = {0};
		struct hs_strbuf one;
		hs_sb_init(&one);
		int k = hs_vm_check(c->m, hs[i], &one, &err);
		if (k < 0) {
			hs_sb_free(&one);
			return cli_error(c, "vm check %#" PRIx64 ": %s", hs[i], err.msg);
		}
		if (k)
			hs_sb_printf(sb, "VM %#" PRIx64 ": %d mismatch%s\n%s", hs[i], k,
				     k == 1 ? "" : "es", hs_sb_str(&one));
		total += k;
		hs_sb_free(&one);
	}
	struct hs_lx_vm *gone[HS_MAX_VMS];
	size_t ng = have_handle ? 0 : hs_vm_gone(c->m, gone, HS_MAX_VMS);
	for (size_t i = 0; i < ng; i++) {
		struct hs_error err = {0};
		struct hs_strbuf one;
		hs_sb_init(&one);
		int k = hs_lx_vm_check_gone(c->m, gone[i], &one, &err);
		if (k < 0) {
			hs_sb_free(&one);
			return cli_error(c, "vm check: %s", err.msg);
		}
		if (k)
			hs_sb_printf(sb, "VM %#" PRIx64 " (torn down): %d mismatch%s\n%s",
				     hs_lx_vm_ledger(c->m, gone[i])->handle, k, k == 1 ? "" : "es",
				     hs_sb_str(&one));
		total += k;
		hs_sb_free(&one);
	}
	if (nvms)
		*nvms = n + ng;
	return total;
}

static int vm_check(struct cli *c, struct vm_opts *o)
{
	uint64_t h = 0;
	if (want_pos(c, "check", o, 0, 1, "check [HANDLE]") ||
	    (o->npos && handle_arg(c, "check", o->pos[0], &h)))
		return -1;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	size_t n = 0;
	int k = cli_vm_check(c, o->npos > 0, h, &sb, &n);
	if (k < 0) {
		hs_sb_free(&sb);
		return -1;
	}
	if (c->json) {
		printf("{\"vms\":%zu,\"mismatches\":%d,\"text\":", n, k);
		struct hs_strbuf js;
		hs_sb_init(&js);
		hs_sb_json_str(&js, hs_sb_str(&sb));
		printf("%s}\n", hs_sb_str(&js));
		hs_sb_free(&js);
	} else {
		printf("%s", hs_sb_str(&sb));
		printf("%s%zu VM%s checked, %d mismatch%s%s between the host's record and the "
		       "guest stage 2\n",
		       k ? cli_col(c, COL_RED) : cli_col(c, COL_GREEN), n, n == 1 ? "" : "s", k,
		       k == 1 ? "" : "es", cli_col(c, COL_RESET));
	}
	hs_sb_free(&sb);
	return k ? -1 : 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(struct cli *c, struct vm_opts *o);
} subs[] = {
    {"create", vm_create},
    {"list", vm_list},
    {"show", vm_show},
    {"load", vm_load},
    {"put", vm_put},
    {"share", vm_share},
    {"unshare", vm_unshare},
    {"donate", vm_donate},
    {"wrprotect", vm_wrprotect},
    {"young", vm_young},
    {"mkyoung", vm_mkyoung},
    {"relax", vm_relax},
    {"run", vm_run},
    {"teardown", vm_teardown},
    {"check", vm_check},
    {"start-teardown", vm_start_teardown},
    {"reclaim", vm_reclaim},
    {"vcpu", vm_vcpu},
    {"reinit", vm_reinit},
};

int cmd_vm(struct cli *c, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		struct vm_opts o;
		if (parse_opts(c, argc, argv, &o))
			return -1;
		/* Guests need pKVM's vectors: nothing to call before the boot completes. */
		bool inspects =
		    subs[i].fn == vm_list || subs[i].fn == vm_show || subs[i].fn == vm_check;
		if (!inspects && !hs_machine_booted(c->m))
			return cli_error(c, "vm %s: the machine is not booted (run `boot` first)",
					 argv[1]);
		return subs[i].fn(c, &o);
	}
	return cli_error(c, "vm: unknown subcommand '%s'; usage: %s", argv[1], vm_usage);
}

/* SPDX-License-Identifier: MIT */
#include "inspect_owner.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pt_decode.h"

/* ------------------------------------------------------------------------ */
/* Reverse PA -> VA index of the EL2 stage 1                                 */
/* ------------------------------------------------------------------------ */

static int cmp_oa(const void *a, const void *b)
{
	uint64_t x = ((const struct hs_owner_rev *)a)->oa, y = ((const struct hs_owner_rev *)b)->oa;
	return x < y ? -1 : x > y;
}

static int cmp_goa(const void *a, const void *b)
{
	const struct hs_owner_grev *x = a, *y = b;
	if (x->oa != y->oa)
		return x->oa < y->oa ? -1 : 1;
	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int hs_owner_ctx_from_snapshot(struct hs_owner_ctx *ctx, struct hs_snapshot *snap,
			       struct hs_error *err)
{
	ctx->snap = *snap;
	hs_snapshot_init(snap);
	const struct hs_snap_pt_range *v = ctx->snap.pt[HS_SNAP_HYP_S1];
	size_t n = ctx->snap.nr_pt[HS_SNAP_HYP_S1], k = 0;
	ctx->rev = malloc((n ? n : 1) * sizeof(*ctx->rev));
	ctx->rev_max = malloc((n ? n : 1) * sizeof(*ctx->rev_max));
	if (!ctx->rev || !ctx->rev_max) {
		hs_owner_ctx_free(ctx);
		return hs_err(err, -ENOMEM, "ownership: out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == HS_SNAP_LEAF)
			ctx->rev[k++] = (struct hs_owner_rev){.oa = v[i].oa, .idx = i};
	qsort(ctx->rev, k, sizeof(*ctx->rev), cmp_oa);
	uint64_t mx = 0;
	for (size_t i = 0; i < k; i++) {
		const struct hs_snap_pt_range *r = &v[ctx->rev[i].idx];
		uint64_t e = r->oa + (r->end - r->start);
		if (e > mx)
			mx = e;
		ctx->rev_max[i] = mx;
	}
	ctx->nr_rev = k;
	/* guests: every leaf range of every VM */
	size_t ng = 0;
	for (size_t g = 0; g < ctx->snap.nr_guests; g++)
		ng += ctx->snap.guests[g].nr_pt;
	ctx->grev = malloc((ng ? ng : 1) * sizeof(*ctx->grev));
	ctx->grev_max = malloc((ng ? ng : 1) * sizeof(*ctx->grev_max));
	if (!ctx->grev || !ctx->grev_max) {
		hs_owner_ctx_free(ctx);
		return hs_err(err, -ENOMEM, "ownership: out of memory");
	}
	k = 0;
	for (size_t g = 0; g < ctx->snap.nr_guests; g++) {
		const struct hs_snap_guest *gu = &ctx->snap.guests[g];
		for (size_t i = 0; i < gu->nr_pt; i++)
			if (gu->pt[i].kind == HS_SNAP_LEAF)
				ctx->grev[k++] = (struct hs_owner_grev){
				    .oa = gu->pt[i].oa, .g = (uint32_t)g, .idx = i};
	}
	qsort(ctx->grev, k, sizeof(*ctx->grev), cmp_goa);
	mx = 0;
	for (size_t i = 0; i < k; i++) {
		const struct hs_snap_pt_range *r =
		    &ctx->snap.guests[ctx->grev[i].g].pt[ctx->grev[i].idx];
		uint64_t e = r->oa + (r->end - r->start);
		if (e > mx)
			mx = e;
		ctx->grev_max[i] = mx;
	}
	ctx->nr_grev = k;
	return 0;
}

int hs_owner_ctx_build(struct hs_machine *m, struct hs_owner_ctx *ctx, struct hs_error *err)
{
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	memset(ctx, 0, sizeof(*ctx));
	int rc = hs_snapshot_take(m, 0, &s, err);
	if (rc) {
		hs_snapshot_free(&s);
		return rc;
	}
	return hs_owner_ctx_from_snapshot(ctx, &s, err);
}

void hs_owner_ctx_free(struct hs_owner_ctx *ctx)
{
	hs_snapshot_free(&ctx->snap);
	free(ctx->rev);
	free(ctx->rev_max);
	free(ctx->grev);
	free(ctx->grev_max);
	memset(ctx, 0, sizeof(*ctx));
}

unsigned hs_owner_el2_vas(const struct hs_owner_ctx *ctx, uint64_t pa,
			  void (*cb)(uint64_t va, const struct hs_snap_pt_range *leaf, void *arg),
			  void *arg)
{
	const struct hs_snap_pt_range *v = ctx->snap.pt[HS_SNAP_HYP_S1];
	/* last index whose oa <= pa */
	size_t lo = 0, hi = ctx->nr_rev;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ctx->rev[mid].oa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	unsigned n = 0;
	for (size_t j = lo; j-- > 0;) {
		if (ctx->rev_max[j] <= pa)
			break;
		const struct hs_snap_pt_range *r = &v[ctx->rev[j].idx];
		if (pa < r->oa + (r->end - r->start)) {
			if (cb)
				cb(r->start + (pa - r->oa), r, arg);
			n++;
		}
	}
	return n;
}

unsigned hs_owner_guest_maps(const struct hs_owner_ctx *ctx, uint64_t pa,
			     void (*cb)(const struct hs_owner_guest_map *map, void *arg), void *arg)
{
	size_t lo = 0, hi = ctx->nr_grev;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ctx->grev[mid].oa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	unsigned n = 0;
	for (size_t j = lo; j-- > 0;) {
		if (ctx->grev_max[j] <= pa)
			break;
		const struct hs_snap_guest *g = &ctx->snap.guests[ctx->grev[j].g];
		const struct hs_snap_pt_range *r = &g->pt[ctx->grev[j].idx];
		if (pa < r->oa + (r->end - r->start)) {
			if (cb) {
				struct hs_owner_guest_map gm = {.handle = g->handle,
								.vmid = g->vmid,
								.gfn = (r->start + (pa - r->oa)) >>
								       HS_PAGE_SHIFT,
								.leaf = *r};
				cb(&gm, arg);
			}
			n++;
		}
	}
	return n;
}

static void collect_guest(const struct hs_owner_guest_map *gm, void *arg)
{
	struct hs_owner_page *p = arg;
	if (p->nr_guest < HS_OWNER_MAX_GUEST_MAPS)
		p->guest[p->nr_guest] = *gm;
	p->nr_guest++;
}

static int cmp_gmap(const void *a, const void *b)
{
	const struct hs_owner_guest_map *x = a, *y = b;
	if (x->handle != y->handle)
		return x->handle < y->handle ? -1 : 1;
	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

struct va_collect {
	struct hs_owner_page *p;
};

static void collect_va(uint64_t va, const struct hs_snap_pt_range *leaf, void *arg)
{
	struct hs_owner_page *p = arg;
	if (p->nr_el2 < HS_OWNER_MAX_VAS) {
		p->el2[p->nr_el2].va = va;
		p->el2[p->nr_el2].leaf = *leaf;
	}
	p->nr_el2++;
}

static int cmp_va(const void *a, const void *b)
{
	uint64_t x = ((const struct hs_owner_el2_map *)a)->va,
		 y = ((const struct hs_owner_el2_map *)b)->va;
	return x < y ? -1 : x > y;
}

void hs_owner_lookup(const struct hs_owner_ctx *ctx, uint64_t pa, struct hs_owner_page *out)
{
	const struct hs_snapshot *s = &ctx->snap;
	memset(out, 0, sizeof(*out));
	pa &= ~(HS_PAGE_SIZE - 1);
	out->pa = pa;
	out->region = hs_snap_mem_region(s, pa);
	out->owner = HS_OWNER_HOST;
	const struct hs_snap_pt_range *r = hs_snap_pt_find(s, HS_SNAP_HOST_S2, pa);
	if (r) {
		out->s2_present = true;
		out->s2 = *r;
		if (r->kind == HS_SNAP_ANNOT) {
			out->owner = r->owner;
			out->owner_meta = r->meta;
			if (r->owner == HS_OWNER_GUEST) {
				out->owner_meta += ((pa - r->start) >> HS_PAGE_SHIFT)
						   << HS_ANNOT_META_GFN_SHIFT;
				out->guest_handle = out->owner_meta & HS_ANNOT_META_HANDLE_MASK;
				out->guest_gfn = out->owner_meta >> HS_ANNOT_META_GFN_SHIFT;
			}
		}
	}
	hs_owner_guest_maps(ctx, pa, collect_guest, out);
	unsigned kg =
	    out->nr_guest < HS_OWNER_MAX_GUEST_MAPS ? out->nr_guest : HS_OWNER_MAX_GUEST_MAPS;
	qsort(out->guest, kg, sizeof(out->guest[0]), cmp_gmap);
	hs_owner_el2_vas(ctx, pa, collect_va, out);
	unsigned k = out->nr_el2 < HS_OWNER_MAX_VAS ? out->nr_el2 : HS_OWNER_MAX_VAS;
	qsort(out->el2, k, sizeof(out->el2[0]), cmp_va);
	const struct hs_snap_vm_range *vm = hs_snap_vm_find(s, pa);
	if (vm && vm->backed) {
		out->vm_backed = true;
		out->vm = vm->val;
		/* hyp's though the host stage 2 maps it (Linux 7.x's hyp text, read-only) */
		if (out->owner == HS_OWNER_HOST && HS_VM_HOST(vm->val) == HS_PAGE_NOPAGE &&
		    HS_VM_HYP(vm->val) == HS_PAGE_OWNED)
			out->owner = HS_OWNER_HYP;
	}
}

/* Two consecutive pages the tables describe alike (addresses advancing by a page)? */
static bool page_continues(const struct hs_owner_page *a, const struct hs_owner_page *b)
{
	if (a->region != b->region || a->owner != b->owner || a->s2_present != b->s2_present ||
	    a->nr_el2 != b->nr_el2 || a->vm_backed != b->vm_backed || a->vm != b->vm)
		return false;
	if (a->owner == HS_OWNER_GUEST &&
	    a->owner_meta + (1ULL << HS_ANNOT_META_GFN_SHIFT) != b->owner_meta)
		return false;
	if (a->owner != HS_OWNER_GUEST && a->owner_meta != b->owner_meta)
		return false;
	if (a->s2_present && memcmp(&a->s2, &b->s2, sizeof(a->s2)))
		return false;
	unsigned k = a->nr_el2 < HS_OWNER_MAX_VAS ? a->nr_el2 : HS_OWNER_MAX_VAS;
	for (unsigned i = 0; i < k; i++)
		if (a->el2[i].va + HS_PAGE_SIZE != b->el2[i].va ||
		    a->el2[i].leaf.start != b->el2[i].leaf.start)
			return false;
	if (a->nr_guest != b->nr_guest)
		return false;
	k = a->nr_guest < HS_OWNER_MAX_GUEST_MAPS ? a->nr_guest : HS_OWNER_MAX_GUEST_MAPS;
	for (unsigned i = 0; i < k; i++)
		if (a->guest[i].handle != b->guest[i].handle ||
		    a->guest[i].gfn + 1 != b->guest[i].gfn ||
		    a->guest[i].leaf.start != b->guest[i].leaf.start)
			return false;
	return true;
}

static void s2_text(struct hs_strbuf *sb, const struct hs_pt_swenc *sw,
		    const struct hs_owner_page *p)
{
	if (!p->s2_present) {
		hs_sb_puts(sb, "empty (host-owned, not faulted in yet)");
		return;
	}
	const struct hs_snap_pt_range *r = &p->s2;
	if (r->kind == HS_SNAP_LEAF) {
		struct hs_snap_pt_range c = *r;
		c.oa += p->pa - r->start;
		hs_sb_printf(sb, "valid, IPA %#" PRIx64 " -> ", p->pa);
		hs_snap_pt_range_text(sb, sw, HS_SNAP_HOST_S2, &c);
		hs_sb_printf(sb, " [range %#" PRIx64 "-%#" PRIx64 "]%s", r->start, r->end - 1,
			     c.oa != p->pa ? " NOT IDENTITY" : "");
	} else if (r->kind == HS_SNAP_ANNOT) {
		hs_sb_puts(sb, "annotation ");
		hs_sb_printf(sb, "OWNER %s", hs_swenc_canon_owner_name(sw, p->owner));
		if (p->owner == HS_OWNER_GUEST)
			hs_sb_printf(sb, " handle=%#" PRIx64 " gfn=%#" PRIx64,
				     p->owner_meta & HS_ANNOT_META_HANDLE_MASK,
				     p->owner_meta >> HS_ANNOT_META_GFN_SHIFT);
		else if (p->owner_meta)
			hs_sb_printf(sb, " meta=%#" PRIx64, p->owner_meta);
		hs_sb_printf(sb, " [range %#" PRIx64 "-%#" PRIx64 "]", r->start, r->end - 1);
	} else {
		hs_snap_pt_range_text(sb, sw, HS_SNAP_HOST_S2, r);
	}
}

static void entry_text(struct hs_strbuf *sb, const struct hs_pt_swenc *sw,
		       const struct hs_owner_page *p, uint64_t end)
{
	uint64_t n = (end - p->pa) >> HS_PAGE_SHIFT;
	hs_sb_printf(sb, "PA %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " page%s)", p->pa, end - 1, n,
		     n == 1 ? "" : "s");
	if (p->region >= 0)
		hs_sb_printf(sb, ", memory region %d\n", p->region);
	else
		hs_sb_puts(sb, ", not memory\n");
	hs_sb_printf(sb, "  owner:    %s", hs_swenc_canon_owner_name(sw, p->owner));
	if (p->owner == HS_OWNER_GUEST)
		hs_sb_printf(sb, " (VM %#" PRIx64 ", gfn %#" PRIx64 ")", p->guest_handle,
			     p->guest_gfn);
	else if (p->nr_guest)
		hs_sb_printf(sb, " (shared with %u guest mapping%s)", p->nr_guest,
			     p->nr_guest == 1 ? "" : "s");
	hs_sb_putc(sb, '\n');
	hs_sb_puts(sb, "  host s2:  ");
	s2_text(sb, sw, p);
	hs_sb_putc(sb, '\n');
	if (!p->nr_el2)
		hs_sb_puts(sb, "  hyp s1:   not mapped\n");
	unsigned k = p->nr_el2 < HS_OWNER_MAX_VAS ? p->nr_el2 : HS_OWNER_MAX_VAS;
	for (unsigned i = 0; i < k; i++) {
		const struct hs_snap_pt_range *l = &p->el2[i].leaf;
		char pb[4];
		hs_sb_printf(sb, "  hyp s1:   VA %#" PRIx64 " %s%s state=%s (%s)\n", p->el2[i].va,
			     hs_pt_perm_str(l->perm, pb), l->device ? " DEV" : " MEM",
			     hs_swenc_state_name(sw, l->state), l->block ? "block" : "page");
	}
	if (p->nr_el2 > k)
		hs_sb_printf(sb, "  hyp s1:   ... %u more\n", p->nr_el2 - k);
	unsigned kg = p->nr_guest < HS_OWNER_MAX_GUEST_MAPS ? p->nr_guest : HS_OWNER_MAX_GUEST_MAPS;
	if (!p->nr_guest)
		hs_sb_puts(sb, "  guest s2: not mapped by any VM\n");
	for (unsigned i = 0; i < kg; i++) {
		const struct hs_snap_pt_range *l = &p->guest[i].leaf;
		char pb[4];
		hs_sb_printf(sb,
			     "  guest s2: VM %#" PRIx64 " (VMID %u) gfn %#" PRIx64
			     " %s%s state=%s (%s)\n",
			     p->guest[i].handle, p->guest[i].vmid, p->guest[i].gfn,
			     hs_pt_perm_str(l->perm, pb), l->device ? " DEV" : " MEM",
			     hs_swenc_state_name(sw, l->state), l->block ? "block" : "page");
	}
	if (p->nr_guest > kg)
		hs_sb_printf(sb, "  guest s2: ... %u more\n", p->nr_guest - kg);
	hs_sb_puts(sb, "  vmemmap:  ");
	if (p->region < 0)
		hs_sb_puts(sb, "none (not memory)");
	else
		hs_snap_vm_text(sb, sw, p->vm, p->vm_backed);
	hs_sb_putc(sb, '\n');
}

static void entry_json(struct hs_strbuf *sb, const struct hs_pt_swenc *sw,
		       const struct hs_owner_page *p, uint64_t end)
{
	hs_sb_printf(
	    sb, "{\"pa\":\"%#" PRIx64 "\",\"end\":\"%#" PRIx64 "\",\"region\":%d,\"owner\":", p->pa,
	    end, p->region);
	hs_sb_json_str(sb, hs_swenc_canon_owner_name(sw, p->owner));
	if (p->owner == HS_OWNER_GUEST)
		hs_sb_printf(sb, ",\"handle\":\"%#" PRIx64 "\",\"gfn\":\"%#" PRIx64 "\"",
			     p->owner_meta & HS_ANNOT_META_HANDLE_MASK,
			     p->owner_meta >> HS_ANNOT_META_GFN_SHIFT);
	hs_sb_puts(sb, ",\"host_s2\":");
	if (!p->s2_present) {
		hs_sb_puts(sb, "{\"kind\":\"empty\"}");
	} else {
		struct hs_snap_pt_range c = p->s2;
		if (c.kind == HS_SNAP_LEAF)
			c.oa += p->pa - c.start;
		hs_snap_pt_range_json(sb, sw, HS_SNAP_HOST_S2, &c);
	}
	hs_sb_puts(sb, ",\"hyp_s1\":[");
	unsigned k = p->nr_el2 < HS_OWNER_MAX_VAS ? p->nr_el2 : HS_OWNER_MAX_VAS;
	for (unsigned i = 0; i < k; i++) {
		struct hs_snap_pt_range c = p->el2[i].leaf;
		c.oa = p->pa;
		hs_sb_printf(sb, "%s{\"va\":\"%#" PRIx64 "\",\"leaf\":", i ? "," : "",
			     p->el2[i].va);
		hs_snap_pt_range_json(sb, sw, HS_SNAP_HYP_S1, &c);
		hs_sb_putc(sb, '}');
	}
	hs_sb_printf(sb, "],\"hyp_s1_count\":%u,\"guest_s2\":[", p->nr_el2);
	unsigned kg = p->nr_guest < HS_OWNER_MAX_GUEST_MAPS ? p->nr_guest : HS_OWNER_MAX_GUEST_MAPS;
	for (unsigned i = 0; i < kg; i++) {
		struct hs_snap_pt_range c = p->guest[i].leaf;
		c.oa = p->pa;
		hs_sb_printf(
		    sb, "%s{\"vm\":\"%#" PRIx64 "\",\"vmid\":%u,\"gfn\":\"%#" PRIx64 "\",\"leaf\":",
		    i ? "," : "", p->guest[i].handle, p->guest[i].vmid, p->guest[i].gfn);
		hs_snap_pt_range_json(sb, sw, HS_SNAP_GUEST_S2, &c);
		hs_sb_putc(sb, '}');
	}
	hs_sb_printf(sb, "],\"guest_s2_count\":%u,\"vmemmap\":", p->nr_guest);
	if (p->region < 0)
		hs_sb_puts(sb, "null");
	else
		hs_snap_vm_json(sb, sw, p->vm, p->vm_backed);
	hs_sb_putc(sb, '}');
}

static void describe(const struct hs_owner_ctx *ctx, uint64_t pa, uint64_t size,
		     struct hs_strbuf *sb, bool json)
{
	/* Only the physical address space exists: clamp to it (callers check too). */
	const uint64_t pa_end = 1ULL << HS_PA_BITS;
	if (pa >= pa_end)
		pa = pa_end - 1;
	if (!size)
		size = 1;
	if (size > pa_end - pa)
		size = pa_end - pa;
	if (size > (64ULL << 30))
		size = 64ULL << 30; /* a per-page description of more is no use to anyone */
	uint64_t start = pa & ~(HS_PAGE_SIZE - 1);
	uint64_t end = (pa + size + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	struct hs_owner_page cur, nxt;
	hs_owner_lookup(ctx, start, &cur);
	uint64_t run_end = start + HS_PAGE_SIZE;
	unsigned nr = 0;
	if (json)
		hs_sb_putc(sb, '[');
	for (uint64_t a = start + HS_PAGE_SIZE;; a += HS_PAGE_SIZE) {
		bool last = a >= end;
		struct hs_owner_page prev_page;
		if (!last) {
			hs_owner_lookup(ctx, a, &nxt);
			/* compare against the previous page of the run */
			prev_page = cur;
			if (run_end - HS_PAGE_SIZE != cur.pa)
				hs_owner_lookup(ctx, run_end - HS_PAGE_SIZE, &prev_page);
			if (page_continues(&prev_page, &nxt)) {
				run_end = a + HS_PAGE_SIZE;
				continue;
			}
		}
		if (json) {
			if (nr++)
				hs_sb_putc(sb, ',');
			entry_json(sb, ctx->snap.swenc, &cur, run_end);
		} else {
			entry_text(sb, ctx->snap.swenc, &cur, run_end);
		}
		if (last)
			break;
		cur = nxt;
		run_end = a + HS_PAGE_SIZE;
	}
	if (json)
		hs_sb_putc(sb, ']');
}

void hs_owner_text(const struct hs_owner_ctx *ctx, uint64_t pa, uint64_t size, struct hs_strbuf *sb)
{
	describe(ctx, pa, size, sb, false);
}

void hs_owner_json(const struct hs_owner_ctx *ctx, uint64_t pa, uint64_t size, struct hs_strbuf *sb)
{
	describe(ctx, pa, size, sb, true);
}

int hs_owner_describe(struct hs_machine *m, uint64_t pa, uint64_t size, bool json,
		      struct hs_strbuf *sb, struct hs_error *err)
{
	const uint64_t max_size = 64ULL << 30;
	if (pa >> HS_PA_BITS)
		return hs_err(err, -EINVAL,
			      "%#" PRIx64 " is beyond the %d-bit physical address space", pa,
			      HS_PA_BITS);
	if (size > max_size || size > (1ULL << HS_PA_BITS) - pa)
		return hs_err(err, -EINVAL,
			      "size %#" PRIx64 " at %#" PRIx64 " leaves the physical address space "
			      "or exceeds 64 GiB",
			      size, pa);
	struct hs_owner_ctx ctx;
	int rc = hs_owner_ctx_build(m, &ctx, err);
	if (rc)
		return rc;
	describe(&ctx, pa, size, sb, json);
	hs_owner_ctx_free(&ctx);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Ownership map                                                             */
/* ------------------------------------------------------------------------ */

static int push_own(struct hs_owner_map *map, const struct hs_owner_range *r)
{
	if (map->nr) {
		struct hs_owner_range *l = &map->r[map->nr - 1];
		if (l->end == r->start && l->owner == r->owner && l->host_state == r->host_state &&
		    l->hyp_state == r->hyp_state && l->handle == r->handle &&
		    l->region == r->region && l->guest_maps == r->guest_maps &&
		    l->guest_shares == r->guest_shares) {
			l->end = r->end;
			return 0;
		}
	}
	if (map->nr == map->cap) {
		size_t n = map->cap ? map->cap * 2 : 64;
		void *p = realloc(map->r, n * sizeof(*map->r));
		if (!p)
			return -ENOMEM;
		map->r = p;
		map->cap = n;
	}
	map->r[map->nr++] = *r;
	return 0;
}

int hs_owner_map_from_snapshot(const struct hs_snapshot *s, struct hs_owner_map *map)
{
	map->nr = 0;
	map->pages = 0;
	map->swenc = s->swenc;
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	size_t na = s->nr_pt[HS_SNAP_HOST_S2];
	struct hs_snap_cover *c = NULL;
	size_t nc = 0, k = 0;
	if (hs_snap_guest_cover(s, ~0u, &c, &nc))
		return -ENOMEM;
	for (unsigned g = 0; g < s->nr_mem; g++) {
		uint64_t pos = s->mem[g].base, end = s->mem[g].base + s->mem[g].size;
		map->pages += s->mem[g].size >> HS_PAGE_SHIFT;
		/* first s2 range ending after pos, first vm range ending after pos */
		size_t i = 0, lo = 0, hi = na;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (a[mid].end <= pos)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
		const struct hs_snap_vm_range *v = hs_snap_vm_find(s, pos);
		size_t j = v ? (size_t)(v - s->vm) : s->nr_vm;
		while (pos < end) {
			while (i < na && a[i].end <= pos)
				i++;
			while (j < s->nr_vm && s->vm[j].end <= pos)
				j++;
			while (k < nc && c[k].end <= pos)
				k++;
			uint64_t seg = end;
			struct hs_owner_range r = {.start = pos,
						   .owner = HS_OWNER_HOST,
						   .region = (uint8_t)g,
						   .host_state = HS_STATE_UNKNOWN,
						   .hyp_state = HS_STATE_UNKNOWN};
			if (i < na && a[i].start <= pos) {
				if (a[i].end < seg)
					seg = a[i].end;
				if (a[i].kind == HS_SNAP_ANNOT) {
					r.owner = a[i].owner;
					if (r.owner == HS_OWNER_GUEST)
						r.handle = (uint16_t)(a[i].meta &
								      HS_ANNOT_META_HANDLE_MASK);
				}
			} else if (i < na && a[i].start < seg) {
				seg = a[i].start;
			}
			if (j < s->nr_vm && s->vm[j].start <= pos) {
				if (s->vm[j].end < seg)
					seg = s->vm[j].end;
				if (s->vm[j].backed) {
					r.host_state = (uint8_t)HS_VM_HOST(s->vm[j].val);
					r.hyp_state = (uint8_t)HS_VM_HYP(s->vm[j].val);
					r.guest_shares = HS_VM_SHARES(s->vm[j].val);
					/* owned by hyp though the host stage 2 still maps it
					 * (Linux 7.x's hyp text, read-only for the host) */
					if (r.owner == HS_OWNER_HOST &&
					    r.host_state == HS_PAGE_NOPAGE &&
					    r.hyp_state == HS_PAGE_OWNED)
						r.owner = HS_OWNER_HYP;
				}
			} else if (j < s->nr_vm && s->vm[j].start < seg) {
				seg = s->vm[j].start;
			}
			if (k < nc && c[k].start <= pos) {
				if (c[k].end < seg)
					seg = c[k].end;
				r.guest_maps = c[k].count > 0xffff ? 0xffff : (uint16_t)c[k].count;
			} else if (k < nc && c[k].start < seg) {
				seg = c[k].start;
			}
			r.end = seg;
			if (push_own(map, &r)) {
				free(c);
				return -ENOMEM;
			}
			pos = seg;
		}
	}
	free(c);
	return 0;
}

int hs_owner_map_build(struct hs_machine *m, struct hs_owner_map *map, struct hs_error *err)
{
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	memset(map, 0, sizeof(*map));
	int rc = hs_snapshot_take(m, 0, &s, err);
	if (!rc && hs_owner_map_from_snapshot(&s, map))
		rc = hs_err(err, -ENOMEM, "ownership map: out of memory");
	hs_snapshot_free(&s);
	return rc;
}

void hs_owner_map_free(struct hs_owner_map *map)
{
	free(map->r);
	memset(map, 0, sizeof(*map));
}

const struct hs_owner_range *hs_owner_map_find(const struct hs_owner_map *map, uint64_t pa)
{
	size_t lo = 0, hi = map->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->r[mid].end <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < map->nr && map->r[lo].start <= pa)
		return &map->r[lo];
	return NULL;
}

const char *hs_owner_range_class(const struct hs_owner_range *r)
{
	if (r->owner == HS_OWNER_GUEST)
		return "guest";
	if (r->owner == HS_OWNER_HYP)
		return "hyp";
	if (r->owner == HS_OWNER_HOST && (r->guest_maps || r->guest_shares))
		return "shared-guest";
	return r->owner == HS_OWNER_HOST ? "host" : "?";
}

static const char *st_name(const struct hs_pt_swenc *sw, unsigned s)
{
	return s == HS_STATE_UNKNOWN ? "?" : hs_swenc_state_name(sw, s);
}

void hs_owner_map_text(const struct hs_owner_map *map, struct hs_strbuf *sb)
{
	const struct hs_pt_swenc *sw = map->swenc;
	for (size_t i = 0; i < map->nr; i++) {
		const struct hs_owner_range *r = &map->r[i];
		hs_sb_printf(sb, "%#012" PRIx64 "-%#012" PRIx64 " %8" PRIu64 " pages  %-5s",
			     r->start, r->end - 1, (r->end - r->start) >> HS_PAGE_SHIFT,
			     hs_swenc_canon_owner_name(sw, r->owner));
		if (r->owner == HS_OWNER_GUEST)
			hs_sb_printf(sb, " h=%#x", r->handle);
		hs_sb_printf(sb, "  host %-15s hyp %s", st_name(sw, r->host_state),
			     st_name(sw, r->hyp_state));
		if (r->guest_maps || r->guest_shares)
			hs_sb_printf(sb, "  guest maps %u shares %u", r->guest_maps,
				     r->guest_shares);
		hs_sb_putc(sb, '\n');
	}
	hs_sb_printf(sb, "%zu ranges, %" PRIu64 " pages of memory\n", map->nr, map->pages);
}

void hs_owner_map_json(const struct hs_owner_map *map, struct hs_strbuf *sb)
{
	const struct hs_pt_swenc *sw = map->swenc;
	hs_sb_printf(sb, "{\"pages\":%" PRIu64 ",\"ranges\":[", map->pages);
	for (size_t i = 0; i < map->nr; i++) {
		const struct hs_owner_range *r = &map->r[i];
		hs_sb_printf(sb,
			     "%s{\"start\":\"%#" PRIx64 "\",\"end\":\"%#" PRIx64
			     "\",\"pages\":%" PRIu64 ",\"region\":%u,\"owner\":\"%s\"",
			     i ? "," : "", r->start, r->end, (r->end - r->start) >> HS_PAGE_SHIFT,
			     r->region, hs_swenc_canon_owner_name(sw, r->owner));
		if (r->owner == HS_OWNER_GUEST)
			hs_sb_printf(sb, ",\"handle\":\"%#x\"", r->handle);
		hs_sb_printf(sb,
			     ",\"class\":\"%s\",\"host_state\":\"%s\",\"hyp_state\":\"%s\","
			     "\"guest_maps\":%u,\"guest_shares\":%u}",
			     hs_owner_range_class(r), st_name(sw, r->host_state),
			     st_name(sw, r->hyp_state), r->guest_maps, r->guest_shares);
	}
	hs_sb_puts(sb, "]}");
}

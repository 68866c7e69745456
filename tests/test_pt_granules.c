/* SPDX-License-Identifier: MIT */
/*
 * The walker, translate and dump with every translation granule (4, 16 and
 * 64 KiB), on tables built in a plain buffer: no Unicorn, no hypervisor.
 * test_pt_walk.c covers the 4 KiB details; here each case runs once per
 * granule (a Check loop test), so a geometry mistake that only one granule
 * shows (a level's shift, a table's entry count, which levels may hold a
 * block, how stage 2 concatenates its root) fails for that granule by name.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_dump.h"
#include "pt_translate.h"
#include "pt_walk.h"

#define BIT(n) (1ULL << (n))
#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (64ULL << 20)

struct granule {
	const char *name;
	unsigned shift;	 /* 12, 14, 16 */
	uint64_t tg0;	 /* TCR_EL2.TG0 / VTCR_EL2.TG0 (bits [15:14]) */
	int l1_block;	 /* a block descriptor is allowed at level 1 (48-bit PA) */
	int s2_level;	 /* the stage-2 start level used below */
	unsigned s2_sl0; /* its VTCR_EL2.SL0 */
	unsigned s2_ia;	 /* IPA size giving concatenated roots at that level */
	unsigned s2_concat;
};

static const struct granule granules[] = {
    /* 4K: L1 covers 2^39 per table, a 40-bit IPA concatenates 2 level-1 tables. */
    {"4K", 12, 0ULL << 14, 1, 1, 1, 40, 2},
    /* 16K: level 2 covers 2^36 per table, a 40-bit IPA concatenates 16 of them. */
    {"16K", 14, 2ULL << 14, 0, 2, 1, 40, 16},
    /* 64K: level 2 covers 2^42 per table, a 43-bit IPA concatenates 2 of them. */
    {"64K", 16, 1ULL << 14, 0, 2, 1, 43, 2},
};

static uint8_t *mem;
static uint64_t next_free;
static struct hs_phys P;

static int buf_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	(void)ud;
	if (pa < RAM_BASE || pa + len > RAM_BASE + RAM_SIZE || pa + len < pa)
		return -1;
	memcpy(buf, mem + (pa - RAM_BASE), len);
	return 0;
}

static void setup(void)
{
	mem = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(mem);
	next_free = RAM_BASE;
	P.read = buf_read;
	P.ud = NULL;
}

static void teardown(void)
{
	free(mem);
	mem = NULL;
}

/* n granule-sized, granule-aligned table pages from the bump allocator. */
static uint64_t alloc_tables(const struct granule *g, unsigned n)
{
	uint64_t size = 1ULL << g->shift;
	uint64_t pa = (next_free + size - 1) & ~(size - 1);
	next_free = pa + n * size;
	ck_assert_uint_le(next_free, RAM_BASE + RAM_SIZE);
	return pa;
}

static uint64_t *entry_at(uint64_t pa)
{
	ck_assert(pa >= RAM_BASE && pa + 8 <= RAM_BASE + RAM_SIZE);
	return (uint64_t *)(mem + (pa - RAM_BASE));
}

static uint64_t oa_mask(const struct granule *g)
{
	return (BIT(48) - 1) & ~(BIT(g->shift) - 1);
}

/* Write desc at ia's entry of `level`, creating tables on the way; returns its PA. */
static uint64_t install(const struct granule *g, const struct hs_pt_regime *r, uint64_t ia,
			int level, uint64_t desc)
{
	uint64_t table = r->root_pa, entries = hs_pt_root_entries(r);
	for (int l = r->start_level;; l++) {
		uint64_t ea = table + ((ia >> hs_pt_level_shift(r, l)) & (entries - 1)) * 8;
		if (l == level) {
			*entry_at(ea) = desc;
			return ea;
		}
		if (!(*entry_at(ea) & 1))
			*entry_at(ea) = alloc_tables(g, 1) | 3;
		table = *entry_at(ea) & oa_mask(g);
		entries = 1ULL << (g->shift - 3);
	}
}

/* EL2 stage-1 leaf: AttrIndx 0, read-write, inner shareable, AF, XN. */
static uint64_t s1_leaf(uint64_t pa, int level)
{
	return pa | (1ULL << 6) | (3ULL << 8) | BIT(10) | BIT(54) | (level == 3 ? 3 : 1);
}

/* Stage-2 leaf: Normal WB memory, read-write, AF, XN. */
static uint64_t s2_leaf(uint64_t pa, int level)
{
	return pa | (0xfULL << 2) | (3ULL << 6) | (3ULL << 8) | BIT(10) | BIT(54) |
	       (level == 3 ? 3 : 1);
}

/* 48-bit VA and PA (T0SZ 16, PS 0b101), the granule's TG0. */
static struct hs_pt_regime el2_regime(const struct granule *g)
{
	struct hs_pt_regime r;
	char err[160] = "";
	uint64_t tcr = 16 | g->tg0 | (5ULL << 16);
	/* The root is one table, or 64 entries (64K, 48-bit: level 1). */
	uint64_t root = alloc_tables(g, 1);
	ck_assert_msg(hs_pt_regime_el2(tcr, root, 0xff, &r, err, sizeof(err)) == 0, "%s: %s",
		      g->name, err);
	return r;
}

static struct hs_pt_regime s2_regime(const struct granule *g)
{
	struct hs_pt_regime r;
	char err[160] = "";
	uint64_t vtcr = (64 - g->s2_ia) | ((uint64_t)g->s2_sl0 << 6) | g->tg0 | (5ULL << 16);
	uint64_t root = alloc_tables(g, g->s2_concat);
	ck_assert_msg(hs_pt_regime_s2(vtcr, root, &r, err, sizeof(err)) == 0, "%s: %s", g->name,
		      err);
	return r;
}

static uint64_t block_size(const struct granule *g, int level)
{
	return 1ULL << (g->shift + (unsigned)(3 - level) * (g->shift - 3));
}

START_TEST(el2_geometry_per_granule)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	ck_assert_uint_eq(r.granule_shift, g->shift);
	/* 48 bits: 4K and 16K start at level 0, 64K at level 1. */
	ck_assert_int_eq(r.start_level, g->shift == 16 ? 1 : 0);
	unsigned stride = g->shift - 3;
	for (int l = r.start_level; l <= 3; l++)
		ck_assert_uint_eq(hs_pt_level_shift(&r, l), g->shift + (unsigned)(3 - l) * stride);
	/* Root entries: what the levels below leave of the 48 bits. */
	uint64_t below = hs_pt_level_shift(&r, r.start_level);
	ck_assert_uint_eq(hs_pt_root_entries(&r), 1ULL << (48 - below));
}
END_TEST

START_TEST(el2_page_translates_through_every_level)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	uint64_t page = 1ULL << g->shift;
	uint64_t va = 0x0000712345000000ULL & ~(page - 1), pa = RAM_BASE + 40 * page;
	ck_assert_uint_lt(pa + page, RAM_BASE + RAM_SIZE);
	install(g, &r, va, 3, s1_leaf(pa, 3));
	struct hs_pt_trace t;
	uint64_t off = page - 8;
	ck_assert_int_eq(hs_pt_translate(&P, &r, va + off, &t), 0);
	ck_assert(t.ok);
	ck_assert_uint_eq(t.out_pa, pa + off);
	ck_assert_uint_eq(t.nr_steps, (unsigned)(4 - r.start_level));
	ck_assert_int_eq(t.steps[t.nr_steps - 1].level, 3);
	ck_assert_int_eq(t.steps[t.nr_steps - 1].attrs.kind, HS_PT_K_PAGE);
	/* The next page is not mapped: a translation fault at level 3. */
	ck_assert_int_eq(hs_pt_translate(&P, &r, va + page, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
	ck_assert_int_eq(t.fault.level, 3);
}
END_TEST

START_TEST(el2_level2_block_adds_offset)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	uint64_t bs = block_size(g, 2); /* 2M, 32M, 512M */
	uint64_t va = 8 * bs, pa = 3 * bs;
	install(g, &r, va, 2, s1_leaf(pa, 2));
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, va + bs - 16, &t), 0);
	ck_assert_uint_eq(t.out_pa, pa + bs - 16);
	ck_assert_int_eq(t.attrs.kind, HS_PT_K_BLOCK);
}
END_TEST

START_TEST(el2_level1_block_only_where_allowed)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	if (r.start_level > 1)
		return;
	uint64_t bs = block_size(g, 1);
	uint64_t va = 2 * bs;
	install(g, &r, va, 1, s1_leaf(bs, 1));
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&P, &r, va + 0x1000, &t);
	if (g->l1_block) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(t.out_pa, bs + 0x1000);
	} else {
		/* 16K and 64K with a 48-bit PA have no level-1 block: reserved, a fault. */
		ck_assert_int_eq(rc, 1);
		ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
		ck_assert_int_eq(t.fault.level, 1);
		ck_assert_int_eq(t.steps[t.nr_steps - 1].attrs.kind, HS_PT_K_RESERVED);
	}
}
END_TEST

/* A walk visits each leaf once; tables are granule-sized, so entry counts differ. */
struct tally {
	unsigned pages, blocks, tables, malformed;
};

static int tally_cb(const struct hs_pt_visit_ctx *ctx)
{
	struct tally *t = ctx->arg;
	if (ctx->visit == HS_PT_VISIT_LEAF && ctx->kind == HS_PT_K_PAGE)
		t->pages++;
	else if (ctx->visit == HS_PT_VISIT_LEAF)
		t->blocks++;
	else if (ctx->visit == HS_PT_VISIT_TABLE_PRE)
		t->tables++;
	else if (ctx->visit == HS_PT_VISIT_MALFORMED)
		t->malformed++;
	return 0;
}

START_TEST(walk_counts_leaves_and_tables)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	uint64_t page = 1ULL << g->shift, base = 0x0000400000000000ULL;
	/* The last page of one level-3 table and the first of the next: two tables. */
	uint64_t span = block_size(g, 2);
	install(g, &r, base + span - page, 3, s1_leaf(RAM_BASE, 3));
	install(g, &r, base + span, 3, s1_leaf(RAM_BASE + page, 3));
	install(g, &r, base + 4 * span, 2, s1_leaf(0, 2));
	struct tally t = {0};
	struct hs_pt_visitor v = {.cb = tally_cb, .arg = &t, .flags = HS_PT_VISIT_ALL};
	ck_assert_int_eq(hs_pt_walk(&P, &r, 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(t.pages, 2);
	ck_assert_uint_eq(t.blocks, 1);
	ck_assert_uint_eq(t.malformed, 0);
	/* Table entries: down to level 2 once (shared), then two level-3 tables. */
	ck_assert_uint_eq(t.tables, (unsigned)(2 - r.start_level) + 2);
}
END_TEST

START_TEST(s2_concatenated_root_per_granule)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = s2_regime(g);
	ck_assert_int_eq(r.start_level, g->s2_level);
	ck_assert_uint_eq(r.nr_concat, g->s2_concat);
	uint64_t per_table = 1ULL << (g->shift - 3);
	ck_assert_uint_eq(hs_pt_root_entries(&r), per_table * g->s2_concat);
	/* An IPA in the last concatenated table, mapped by a page. */
	uint64_t page = 1ULL << g->shift;
	uint64_t ipa = (1ULL << g->s2_ia) - 3 * page;
	uint64_t pa = RAM_BASE + 100 * page;
	ck_assert_uint_lt(pa, RAM_BASE + RAM_SIZE);
	install(g, &r, ipa, 3, s2_leaf(pa, 3));
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, ipa + 4, &t), 0);
	ck_assert_uint_eq(t.out_pa, pa + 4);
	ck_assert_uint_ge(t.steps[0].index, per_table * (g->s2_concat - 1));
	/* One byte past the IPA size is out of range: a level-0-style fault, never a read. */
	ck_assert_int_eq(hs_pt_translate(&P, &r, 1ULL << g->s2_ia, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
}
END_TEST

START_TEST(dump_merges_pages_of_any_granule)
{
	const struct granule *g = &granules[_i];
	struct hs_pt_regime r = el2_regime(g);
	uint64_t page = 1ULL << g->shift, va = 0x0000200000000000ULL;
	for (int i = 0; i < 4; i++)
		install(g, &r, va + i * page, 3, s1_leaf(RAM_BASE + i * page, 3));
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	ck_assert_int_eq(hs_pt_dump_text(&P, &r, NULL, &sb), 0);
	const char *s = hs_sb_str(&sb);
	/* Four contiguous pages with the same attributes are one line. */
	char want[64];
	snprintf(want, sizeof(want), "0x%016llx - 0x%016llx", (unsigned long long)va,
		 (unsigned long long)(va + 4 * page - 1));
	ck_assert_msg(strstr(s, want) != NULL, "%s: no line '%s' in:\n%s", g->name, want, s);
	hs_sb_free(&sb);
}
END_TEST

static Suite *granule_suite(void)
{
	Suite *s = suite_create("pt_granules");
	TCase *tc = tcase_create("granules");
	int n = (int)(sizeof(granules) / sizeof(granules[0]));
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, el2_geometry_per_granule, 0, n);
	tcase_add_loop_test(tc, el2_page_translates_through_every_level, 0, n);
	tcase_add_loop_test(tc, el2_level2_block_adds_offset, 0, n);
	tcase_add_loop_test(tc, el2_level1_block_only_where_allowed, 0, n);
	tcase_add_loop_test(tc, walk_counts_leaves_and_tables, 0, n);
	tcase_add_loop_test(tc, s2_concatenated_root_per_granule, 0, n);
	tcase_add_loop_test(tc, dump_merges_pages_of_any_granule, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(granule_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

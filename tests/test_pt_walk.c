/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of emu/'s architectural page-table walker, decoder, translate
 * and dump, on synthetic tables built in a host buffer standing for RAM.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "pt_dump.h"
#include "profile.h"
#include "pt_translate.h"
#include "pt_walk.h"

#define BIT(n) (1ULL << (n))
#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (32ULL << 20)
#define PG 4096ULL
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)
#define OA_MASK 0x0000fffffffff000ULL

/* ------------------------------------------------------------------------ */
/* Fake physical memory                                                      */
/* ------------------------------------------------------------------------ */

struct fake {
	uint8_t *mem;
	uint64_t next; /* bump allocator for table pages */
	unsigned reads;
};

static struct fake F;
static struct hs_phys P;

static int fake_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	struct fake *f = ud;
	f->reads++;
	if (pa < RAM_BASE || pa + len > RAM_BASE + RAM_SIZE || pa + len < pa)
		return -1;
	memcpy(buf, f->mem + (pa - RAM_BASE), len);
	return 0;
}

static void setup(void)
{
	F.mem = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(F.mem);
	F.next = RAM_BASE;
	F.reads = 0;
	P.read = fake_read;
	P.ud = &F;
}

static void teardown(void)
{
	free(F.mem);
	F.mem = NULL;
}

static uint64_t alloc_pages(unsigned n)
{
	uint64_t pa = F.next;
	F.next += n * PG;
	ck_assert_uint_le(F.next, RAM_BASE + RAM_SIZE);
	return pa;
}

static uint64_t *ent(uint64_t pa)
{
	ck_assert(pa >= RAM_BASE && pa + 8 <= RAM_BASE + RAM_SIZE);
	return (uint64_t *)(F.mem + (pa - RAM_BASE));
}

/* Write desc at the entry for va at level, creating tables on the way. Returns its PA. */
static uint64_t map(const struct hs_pt_regime *r, uint64_t va, int level, uint64_t desc)
{
	uint64_t table = r->root_pa;
	uint64_t entries = hs_pt_root_entries(r);
	for (int l = r->start_level;; l++) {
		uint64_t ea = table + ((va >> hs_pt_level_shift(r, l)) & (entries - 1)) * 8;
		if (l == level) {
			*ent(ea) = desc;
			return ea;
		}
		if (!(*ent(ea) & 1))
			*ent(ea) = alloc_pages(1) | 3;
		table = *ent(ea) & OA_MASK;
		entries = 512;
	}
}

/* EL2 stage 1 leaf: AttrIndx, AP[2] = ro, ISH, AF, XN. */
static uint64_t s1(uint64_t pa, unsigned idx, int ro, int xn, int level)
{
	return pa | (idx << 2) | (ro ? 3ULL << 6 : 1ULL << 6) | (3ULL << 8) | BIT(10) |
	       (xn ? BIT(54) : 0) | (level == 3 ? 3 : 1);
}

/* Stage 2 leaf: MemAttr, S2AP, ISH, AF, XN. */
static uint64_t s2(uint64_t pa, unsigned prot, unsigned memattr, int level)
{
	return pa | (memattr << 2) | ((prot & HS_PT_PERM_R) ? BIT(6) : 0) |
	       ((prot & HS_PT_PERM_W) ? BIT(7) : 0) | (3ULL << 8) | BIT(10) |
	       ((prot & HS_PT_PERM_X) ? 0 : BIT(54)) | (level == 3 ? 3 : 1);
}

#define MAIR (0xffULL | (0x04ULL << 8) | (0x44ULL << 16))
#define TCR_EL2_48 (16ULL | (4ULL << 16) | BIT(23) | BIT(31)) /* T0SZ 16, 4K, PS 44 */
#define VTCR_40 (24ULL | (1ULL << 6) | (2ULL << 16))	      /* T0SZ 24, SL0 1, PS 40 */

static struct hs_pt_regime el2_regime(void)
{
	struct hs_pt_regime r;
	char err[128];
	uint64_t root = alloc_pages(1);
	ck_assert_int_eq(hs_pt_regime_el2(TCR_EL2_48, root, MAIR, &r, err, sizeof(err)), 0);
	r.swenc = &hs_hypscope_swenc; /* page states in the software bits */
	return r;
}

static struct hs_pt_regime s2_regime(uint16_t vmid)
{
	struct hs_pt_regime r;
	char err[128];
	uint64_t root = alloc_pages(2); /* RAM_BASE-aligned bump: 8 KiB aligned at start */
	ck_assert_uint_eq(root & (2 * PG - 1), 0);
	ck_assert_int_eq(
	    hs_pt_regime_s2(VTCR_40 | BIT(19), root | ((uint64_t)vmid << 48), &r, err, sizeof(err)),
	    0);
	r.swenc = &hs_hypscope_swenc; /* the bundled hypervisor's owner annotations */
	return r;
}

/* Counting visitor */
struct counts {
	unsigned leaf, block, page, pre, post, invalid, annot, malformed;
	uint64_t invalid_entries;
	enum hs_pt_malformed last_why;
	int last_mal_level;
};

static int count_walker(const struct hs_pt_visit_ctx *ctx)
{
	struct counts *c = ctx->arg;
	switch (ctx->visit) {
	case HS_PT_VISIT_LEAF:
		c->leaf++;
		if (ctx->kind == HS_PT_K_BLOCK)
			c->block++;
		else
			c->page++;
		break;
	case HS_PT_VISIT_TABLE_PRE:
		c->pre++;
		break;
	case HS_PT_VISIT_TABLE_POST:
		c->post++;
		break;
	case HS_PT_VISIT_INVALID:
		c->invalid++;
		c->invalid_entries += ctx->nr_entries;
		if (ctx->kind == HS_PT_K_ANNOTATION)
			c->annot++;
		break;
	case HS_PT_VISIT_MALFORMED:
		c->malformed++;
		c->last_why = ctx->why;
		c->last_mal_level = ctx->level;
		break;
	}
	return 0;
}

static struct counts walk_all(const struct hs_pt_regime *r)
{
	struct counts c = {0};
	struct hs_pt_visitor v = {.cb = count_walker, .arg = &c, .flags = HS_PT_VISIT_ALL};
	ck_assert_int_eq(hs_pt_walk(&P, r, 0, UINT64_MAX, &v), 0);
	return c;
}

/* A typical EL2 stage 1: 1 GiB block, 2 MiB block, 4 pages (page 2 read-only). */
#define VA_1G 0x0000000040000000ULL
#define VA_2M 0x0000000080000000ULL
#define VA_PG 0x0000800000010000ULL
static void build_el2(const struct hs_pt_regime *r)
{
	map(r, VA_1G, 1, s1(0x40000000, 0, 0, 1, 1));
	map(r, VA_2M, 2, s1(0x09000000 & ~(SZ_2M - 1), 1, 0, 1, 2));
	for (int i = 0; i < 4; i++)
		map(r, VA_PG + i * PG, 3, s1(0x41000000 + i * PG, 0, i == 2, 1, 3));
}

/* ------------------------------------------------------------------------ */
/* Regimes                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(regime_el2_decodes_tcr)
{
	struct hs_pt_regime r;
	char err[128] = "";
	ck_assert_int_eq(hs_pt_regime_el2(TCR_EL2_48, 0x40001000, MAIR, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.ia_bits, 48);
	ck_assert_int_eq(r.start_level, 0);
	ck_assert_uint_eq(r.pa_bits, 44);
	ck_assert_uint_eq(r.granule_shift, 12);
	ck_assert_uint_eq(r.nr_concat, 1);
	ck_assert_uint_eq(r.root_pa, 0x40001000);
	/* 39-bit VA starts at level 1, 30-bit at level 2. */
	ck_assert_int_eq(hs_pt_regime_el2(25 | (4ULL << 16), 0x40001000, MAIR, &r, err, 128), 0);
	ck_assert_int_eq(r.start_level, 1);
	ck_assert_int_eq(hs_pt_regime_el2(34 | (4ULL << 16), 0x40001000, MAIR, &r, err, 128), 0);
	ck_assert_int_eq(r.start_level, 2);
	/* 64K granule, 48-bit: level 1 with 64 entries. */
	ck_assert_int_eq(
	    hs_pt_regime_el2(16 | (1ULL << 14) | (5ULL << 16), 0x40010000, MAIR, &r, err, 128), 0);
	ck_assert_int_eq(r.start_level, 1);
	ck_assert_uint_eq(hs_pt_root_entries(&r), 64);
}
END_TEST

START_TEST(regime_el2_rejects_reserved)
{
	struct hs_pt_regime r;
	char err[128] = "";
	ck_assert_int_eq(hs_pt_regime_el2(16 | (3ULL << 14), 0x40001000, 0, &r, err, 128), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "TG0"));
	ck_assert_int_eq(hs_pt_regime_el2(16 | (7ULL << 16), 0x40001000, 0, &r, err, 128), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "PS"));
	ck_assert_int_eq(hs_pt_regime_el2(8, 0x40001000, 0, &r, err, 128), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "T0SZ"));
	ck_assert_int_eq(hs_pt_regime_el2(TCR_EL2_48, 0x40001008, 0, &r, err, 128), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "aligned"));
}
END_TEST

START_TEST(regime_s2_concatenated_root)
{
	struct hs_pt_regime r;
	char err[128] = "";
	uint64_t vttbr = 0x40002000 | (5ULL << 48);
	ck_assert_int_eq(hs_pt_regime_s2(VTCR_40 | BIT(19), vttbr, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.start_level, 1);
	ck_assert_uint_eq(r.ia_bits, 40);
	ck_assert_uint_eq(r.nr_concat, 2);
	ck_assert_uint_eq(hs_pt_root_entries(&r), 1024);
	ck_assert_uint_eq(r.vmid, 5);
	ck_assert_uint_eq(r.root_pa, 0x40002000);
	/* 44-bit IPA at level 0 (SL0 = 2): one table of 32 entries. */
	ck_assert_int_eq(hs_pt_regime_s2(20 | (2ULL << 6) | (4ULL << 16), 0x40002000, &r, err, 128),
			 0);
	ck_assert_int_eq(r.start_level, 0);
	ck_assert_uint_eq(r.nr_concat, 1);
	ck_assert_uint_eq(hs_pt_root_entries(&r), 32);
	/* 34-bit IPA at level 2: 16 concatenated tables. */
	ck_assert_int_eq(hs_pt_regime_s2(30 | (0ULL << 6) | (2ULL << 16), 0x40010000, &r, err, 128),
			 0);
	ck_assert_int_eq(r.start_level, 2);
	ck_assert_uint_eq(r.nr_concat, 16);
}
END_TEST

START_TEST(regime_s2_rejects_inconsistent_sl0)
{
	struct hs_pt_regime r;
	char err[160] = "";
	/* 40-bit IPA cannot start at level 2 (max 34 bits). */
	ck_assert_int_eq(hs_pt_regime_s2(24 | (2ULL << 16), 0x40002000, &r, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "inconsistent"));
	/* 32-bit IPA cannot start at level 0 (min 40 bits). */
	ck_assert_int_eq(hs_pt_regime_s2(32 | (2ULL << 6), 0x40002000, &r, err, sizeof(err)),
			 -EINVAL);
	/* SL0 = 3 with 4K. */
	ck_assert_int_eq(hs_pt_regime_s2(24 | (3ULL << 6), 0x40002000, &r, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "SL0"));
	/* Concatenated root must be aligned to 8 KiB. */
	ck_assert_int_eq(hs_pt_regime_s2(VTCR_40, 0x40001000, &r, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "concatenated"));
}
END_TEST

START_TEST(regime_el1_mmu_off_is_flat)
{
	struct hs_pt_regime r;
	struct hs_pt_trace t;
	char err[128];
	ck_assert_int_eq(hs_pt_regime_el1(0, 0, 0, 0, &r, err, sizeof(err)), 0);
	ck_assert(r.mmu_off);
	ck_assert_int_eq(hs_pt_translate(&P, &r, 0x12345678, &t), 0);
	ck_assert_uint_eq(t.out_pa, 0x12345678);
	ck_assert_uint_eq(t.nr_steps, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Walk                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(walk_el2_pages_and_blocks)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.leaf, 6);
	ck_assert_uint_eq(c.block, 2);
	ck_assert_uint_eq(c.page, 4);
	/* tables: L1 for VA_1G/VA_2M, L2 for VA_2M, L1+L2+L3 for VA_PG */
	ck_assert_uint_eq(c.pre, 5);
	ck_assert_uint_eq(c.post, 5);
	ck_assert_uint_eq(c.malformed, 0);
}
END_TEST

START_TEST(walk_reads_each_table_once)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	F.reads = 0;
	walk_all(&r);
	ck_assert_uint_eq(F.reads, 6); /* root + 5 tables, one read each */
}
END_TEST

START_TEST(walk_coalesces_zero_runs)
{
	struct hs_pt_regime r = el2_regime();
	map(&r, VA_PG, 3, s1(0x41000000, 0, 0, 1, 3));
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.leaf, 1);
	/* each of the 4 tables has one run before and one after its single entry */
	ck_assert_uint_le(c.invalid, 8);
	ck_assert_uint_eq(c.invalid_entries, 4 * 511);
}
END_TEST

START_TEST(walk_limited_range)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct counts c = {0};
	struct hs_pt_visitor v = {.cb = count_walker, .arg = &c, .flags = HS_PT_VISIT_LEAF};
	ck_assert_int_eq(hs_pt_walk(&P, &r, VA_PG + PG, VA_PG + 3 * PG, &v), 0);
	ck_assert_uint_eq(c.leaf, 2);
}
END_TEST

START_TEST(walk_loop_is_malformed)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	/* L1 table of VA_PG: entry 1 points back at the root, entry 2 at itself. */
	uint64_t l1 = *ent(r.root_pa + 256 * 8) & OA_MASK;
	*ent(l1 + 8) = r.root_pa | 3;
	*ent(l1 + 16) = l1 | 3;
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 2);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_LOOP);
	ck_assert_uint_eq(c.leaf, 6);
}
END_TEST

START_TEST(walk_shared_table_is_malformed)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	uint64_t l1 = *ent(r.root_pa + 256 * 8) & OA_MASK;
	uint64_t l2 = *ent(l1) & OA_MASK;
	*ent(l1 + 8) = l2 | 3; /* two L1 entries share one L2 table */
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 1);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_SHARED);
}
END_TEST

START_TEST(walk_pointer_outside_ram_is_malformed)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	*ent(r.root_pa + 8) = 0x10000000ULL | 3; /* below RAM */
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 1);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_UNREADABLE);
	ck_assert_int_eq(c.last_mal_level, 0);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, 1ULL << 39, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_EXTERNAL);
	ck_assert_int_eq(t.fault.level, 1);
}
END_TEST

START_TEST(walk_root_outside_ram_is_malformed)
{
	struct hs_pt_regime r = el2_regime();
	r.root_pa = 0x1000;
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 1);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_UNREADABLE);
}
END_TEST

START_TEST(walk_reserved_encodings_are_malformed)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	*ent(r.root_pa + 8) = 0x40000000ULL | 1; /* block at level 0 */
	uint64_t l1 = *ent(r.root_pa + 256 * 8) & OA_MASK;
	uint64_t l2 = *ent(l1) & OA_MASK;
	uint64_t l3 = *ent(l2) & OA_MASK;
	*ent(l3 + 100 * 8) = 0x41100000ULL | 1; /* 0b01 at level 3 */
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 2);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_RESERVED);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, 1ULL << 39, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
	ck_assert_int_eq(t.fault.level, 0);
	ck_assert_int_eq(t.steps[0].attrs.kind, HS_PT_K_RESERVED);
}
END_TEST

START_TEST(walk_oa_above_pa_size_is_malformed)
{
	struct hs_pt_regime r = el2_regime();
	map(&r, VA_PG, 3, s1(1ULL << 45, 0, 0, 1, 3)); /* PA size is 44 bits */
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.malformed, 1);
	ck_assert_int_eq(c.last_why, HS_PT_MAL_OA_RANGE);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_ADDR_SIZE);
	ck_assert_int_eq(t.fault.level, 3);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Decode                                                                    */
/* ------------------------------------------------------------------------ */

static const struct {
	uint8_t attr;
	const char *str;
} mair_cases[] = {
    {0xff, "Normal WB RA WA"},
    {0x04, "Device-nGnRE"},
    {0x00, "Device-nGnRnE"},
    {0x0c, "Device-GRE"},
    {0x44, "Normal NC"},
    {0xbb, "Normal WT RA WA"},
    {0x4f, "Normal i:WB RA WA o:NC"},
    {0xf0, "Normal Tagged WB RA WA"},
};

START_TEST(decode_mair_types)
{
	char buf[40];
	hs_pt_mair_str(mair_cases[_i].attr, buf, sizeof(buf));
	ck_assert_str_eq(buf, mair_cases[_i].str);
}
END_TEST

START_TEST(decode_s2_memattr)
{
	char buf[40];
	hs_pt_s2_memattr_str(0xf, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Normal WB");
	hs_pt_s2_memattr_str(0x1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Device-nGnRE");
	hs_pt_s2_memattr_str(0x5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Normal NC");
}
END_TEST

START_TEST(decode_s1_leaf_fields)
{
	struct hs_pt_regime r = el2_regime();
	struct hs_pt_attrs a;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_decode(&r, 3, s1(0x41000000, 0, 0, 1, 3) | (1ULL << 55), 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_PAGE);
	ck_assert_uint_eq(a.oa, 0x41000000);
	ck_assert_str_eq(a.memtype, "Normal WB RA WA");
	ck_assert_uint_eq(a.perm, HS_PT_PERM_R | HS_PT_PERM_W);
	ck_assert_uint_eq(a.state, HS_PAGE_SHARED_OWNED);
	ck_assert(a.af);
	ck_assert_uint_eq(a.sh, 3);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "MEM-RW-XN");
	hs_sb_reset(&sb);
	hs_pt_decode(&r, 2, s1(0x09000000 & ~(SZ_2M - 1), 1, 0, 1, 2), 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_BLOCK);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "DEV-RW-XN");
	hs_sb_reset(&sb);
	/* RO + executable; APTable[1] from the table above also forces RO. */
	hs_pt_decode(&r, 3, s1(0x41000000, 0, 1, 0, 3), 0, &a);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "MEM-RO-EXEC");
	hs_pt_decode(&r, 3, s1(0x41000000, 0, 0, 0, 3), HS_PT_HIER_NO_WRITE, &a);
	ck_assert_uint_eq(a.perm, HS_PT_PERM_R | HS_PT_PERM_X);
	hs_sb_free(&sb);
}
END_TEST

START_TEST(decode_s2_leaf_fields)
{
	struct hs_pt_regime r = s2_regime(0);
	struct hs_pt_attrs a;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_decode(&r, 3, s2(0x41000000, HS_PT_PERM_R | HS_PT_PERM_W | HS_PT_PERM_X, 0xf, 3), 0,
		     &a);
	ck_assert_uint_eq(a.s2ap, 3);
	ck_assert_uint_eq(a.memattr, 0xf);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "S2 RWX NORMAL");
	hs_sb_reset(&sb);
	hs_pt_decode(&r, 2, s2(0x09000000 & ~(SZ_2M - 1), HS_PT_PERM_R | HS_PT_PERM_W, 0x1, 2), 0,
		     &a);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "S2 RW- DEVICE");
	hs_sb_free(&sb);
}
END_TEST

START_TEST(decode_annotations)
{
	struct hs_pt_regime r = s2_regime(0);
	struct hs_pt_attrs a;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	uint64_t guest = hs_annotation(HS_OWNER_GUEST, 0x1003 | (0x12345ULL << 16));
	hs_pt_decode(&r, 3, guest, 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_ANNOTATION);
	ck_assert(a.annotated);
	ck_assert_uint_eq(a.owner, HS_OWNER_GUEST);
	ck_assert_uint_eq(a.handle, 0x1003);
	ck_assert_uint_eq(a.gfn, 0x12345);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "OWNER guest h=0x1003 gfn=0x12345");
	hs_sb_reset(&sb);
	hs_pt_decode(&r, 3, hs_annotation(HS_OWNER_HYP, 0), 0, &a);
	ck_assert_uint_eq(a.owner, HS_OWNER_HYP);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "OWNER hyp");
	/* Zero entry: plain invalid, not an annotation. */
	hs_pt_decode(&r, 3, 0, 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_INVALID);
	hs_sb_free(&sb);
}
END_TEST

/* The walker knows no hypervisor: without an encoding an annotation is plain invalid. */
START_TEST(decode_without_encoding)
{
	struct hs_pt_regime r = s2_regime(0);
	r.swenc = NULL;
	struct hs_pt_attrs a;
	hs_pt_decode(&r, 3, hs_annotation(HS_OWNER_HYP, 0), 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_INVALID);
	ck_assert(!a.annotated);
	hs_pt_decode(&r, 3, 0x40001000 | 0x4c3 | (1ULL << 55), 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_PAGE);
	ck_assert_uint_eq(a.state, 0);
}
END_TEST

/* Another hypervisor's layout: Linux 6.12 keeps the owner id in [9:2], with no type field. */
START_TEST(decode_other_encoding)
{
	static const char *const owners[] = {"host", "hyp", "ffa"};
	const struct hs_pt_swenc linux612 = {
	    .name = "linux-6.12",
	    .owner_shift = 2,
	    .owner_bits = 8,
	    .host_owner = 0,
	    .hyp_owner = 1,
	    .guest_owner = -1,
	    .state_shift = 55,
	    .state_bits = 2,
	    .owner_names = owners,
	    .nr_owner_names = 3,
	};
	struct hs_pt_regime r = s2_regime(0);
	r.swenc = &linux612;
	struct hs_pt_attrs a;
	hs_pt_decode(&r, 3, 1ULL << 2, 0, &a);
	ck_assert_int_eq(a.kind, HS_PT_K_ANNOTATION);
	ck_assert_uint_eq(a.owner, 1);
	ck_assert(!a.guest);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "OWNER hyp");
	hs_pt_decode(&r, 3, 2ULL << 2, 0, &a);
	hs_sb_reset(&sb);
	hs_pt_attrs_token(&sb, &a);
	ck_assert_str_eq(hs_sb_str(&sb), "OWNER ffa");
	ck_assert_int_eq(hs_swenc_owner_parse(&linux612, "ffa"), 2);
	ck_assert_int_eq(hs_swenc_owner_parse(&linux612, "255"), 255);
	ck_assert_int_eq(hs_swenc_owner_parse(&linux612, "256"), -1);
	hs_sb_free(&sb);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Translate                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(translate_page_reports_every_level)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG + PG + 0x123, &t), 0);
	ck_assert(t.ok);
	ck_assert_uint_eq(t.out_pa, 0x41001123);
	ck_assert_uint_eq(t.nr_steps, 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(t.steps[i].level, (int)i);
	ck_assert_int_eq(t.steps[0].attrs.kind, HS_PT_K_TABLE);
	ck_assert_int_eq(t.steps[3].attrs.kind, HS_PT_K_PAGE);
	ck_assert_uint_eq(t.steps[0].index, 256);
	ck_assert_uint_eq(t.steps[0].desc_addr, r.root_pa + 256 * 8);

	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_trace_text(&sb, &t);
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "[LV0]"));
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "[LV3]"));
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "0x0000000041001123"));
	hs_sb_free(&sb);
}
END_TEST

START_TEST(translate_blocks_add_offset)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_1G + 0x2345678, &t), 0);
	ck_assert_uint_eq(t.out_pa, 0x42345678);
	ck_assert_uint_eq(t.nr_steps, 2);
	ck_assert_int_eq(t.attrs.kind, HS_PT_K_BLOCK);
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_2M + 0x1234, &t), 0);
	ck_assert_uint_eq(t.out_pa, 0x09001234);
	ck_assert_uint_eq(t.nr_steps, 3);
	ck_assert(t.attrs.device);
}
END_TEST

START_TEST(translate_unmapped_fault_level)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct hs_pt_trace t;
	/* next page after the 4 mapped ones: L3 entry invalid */
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG + 4 * PG, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
	ck_assert_int_eq(t.fault.level, 3);
	ck_assert_uint_eq(t.nr_steps, 4);
	/* 2 MiB further: L2 entry invalid */
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG + SZ_2M, &t), 1);
	ck_assert_int_eq(t.fault.level, 2);
	/* nothing under root entry 5 */
	ck_assert_int_eq(hs_pt_translate(&P, &r, 5ULL << 39, &t), 1);
	ck_assert_int_eq(t.fault.level, 0);
	ck_assert_uint_eq(t.nr_steps, 1);
	/* above the 48-bit input range */
	ck_assert_int_eq(hs_pt_translate(&P, &r, 1ULL << 48, &t), 1);
	ck_assert_int_eq(t.fault.level, 0);
	ck_assert_uint_eq(t.nr_steps, 0);
}
END_TEST

START_TEST(translate_access_flag_fault)
{
	struct hs_pt_regime r = el2_regime();
	map(&r, VA_PG, 3, s1(0x41000000, 0, 0, 1, 3) & ~BIT(10));
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_ACCESS_FLAG);
	ck_assert_int_eq(t.fault.level, 3);
	r.ha = true; /* hardware AF update: no fault */
	ck_assert_int_eq(hs_pt_translate(&P, &r, VA_PG, &t), 0);
}
END_TEST

START_TEST(translate_permission_fault)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate_access(&P, &r, VA_PG + 2 * PG, HS_PT_ACC_W, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_PERMISSION);
	ck_assert_int_eq(hs_pt_translate_access(&P, &r, VA_PG + 2 * PG, HS_PT_ACC_R, &t), 0);
	ck_assert_int_eq(hs_pt_translate_access(&P, &r, VA_PG, HS_PT_ACC_X, &t), 1);
}
END_TEST

START_TEST(translate_s2_concatenated_second_root)
{
	struct hs_pt_regime r = s2_regime(0);
	uint64_t ipa = (1ULL << 39) + 0x40000000ULL + 5 * PG; /* lands in the second root page */
	map(&r, ipa, 3, s2(0x41005000, HS_PT_PERM_R | HS_PT_PERM_W, 0xf, 3));
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, ipa + 8, &t), 0);
	ck_assert_uint_eq(t.out_pa, 0x41005008);
	ck_assert_uint_eq(t.nr_steps, 3);
	ck_assert_int_eq(t.steps[0].level, 1);
	ck_assert_uint_eq(t.steps[0].index, 513);
	ck_assert_uint_eq(t.steps[0].desc_addr, r.root_pa + 513 * 8);
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.page, 1);
	ck_assert_uint_eq(c.pre, 2);
}
END_TEST

START_TEST(translate_s2_reports_owner_annotation)
{
	struct hs_pt_regime r = s2_regime(0);
	map(&r, 0x41000000, 3, hs_annotation(HS_OWNER_HYP, 0));
	map(&r, 0x41001000, 3, hs_annotation(HS_OWNER_GUEST, 0x1000 | (0x80ULL << 16)));
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&P, &r, 0x41000010, &t), 1);
	ck_assert_int_eq(t.fault.type, HS_PT_FAULT_TRANSLATION);
	ck_assert_int_eq(t.fault.level, 3);
	ck_assert_int_eq(t.attrs.kind, HS_PT_K_ANNOTATION);
	ck_assert_uint_eq(t.attrs.owner, HS_OWNER_HYP);
	ck_assert_ptr_nonnull(strstr(t.fault.reason, "hyp"));
	ck_assert_int_eq(hs_pt_translate(&P, &r, 0x41001000, &t), 1);
	ck_assert_uint_eq(t.attrs.handle, 0x1000);
	ck_assert_uint_eq(t.attrs.gfn, 0x80);
	struct counts c = walk_all(&r);
	ck_assert_uint_eq(c.annot, 2);
}
END_TEST

/* Guest: stage 1 at IPAs 0x80000000.. mapped by stage 2 to PAs in RAM. */
START_TEST(translate_2d_guest_va)
{
	struct hs_pt_regime st2 = s2_regime(1);
	const uint64_t ipa_base = 0x80000000ULL;
	/* Stage 1 tables, built at PAs, then exposed at IPA = PA - RAM_BASE + ipa_base. */
	struct hs_pt_regime st1 = el2_regime();
	map(&st1, 0x400000, 3, s1(ipa_base + 0x100000, 0, 0, 1, 3)); /* VA 4M -> IPA */
	uint64_t tables_end = F.next;
	st1.stage = HS_PT_S1_EL1;
	st1.pa_bits = 40;
	/* Stage 2: identity-shift every stage 1 table page and the data page. */
	uint64_t first = st1.root_pa;
	for (uint64_t pa = first; pa < tables_end; pa += PG)
		map(&st2, pa - RAM_BASE + ipa_base, 3, s2(pa, HS_PT_PERM_R | HS_PT_PERM_W, 0xf, 3));
	map(&st2, ipa_base + 0x100000, 3,
	    s2(RAM_BASE + 0x100000, HS_PT_PERM_R | HS_PT_PERM_W, 0xf, 3));
	/* Rewrite stage 1 table pointers and the root as IPAs. */
	for (uint64_t pa = first; pa < tables_end; pa += PG)
		for (int i = 0; i < 512; i++) {
			uint64_t *e = ent(pa + i * 8);
			if ((*e & 3) == 3 && (*e & OA_MASK) >= RAM_BASE &&
			    (*e & OA_MASK) < tables_end && pa != tables_end - PG)
				*e = (*e - RAM_BASE) + ipa_base;
		}
	st1.root_pa = st1.root_pa - RAM_BASE + ipa_base;

	struct hs_pt_trace_2d t;
	ck_assert_int_eq(hs_pt_translate_2d(&P, &st1, &st2, 0x400010, 0, &t), 0);
	ck_assert_uint_eq(t.ipa, ipa_base + 0x100010);
	ck_assert_uint_eq(t.pa, RAM_BASE + 0x100010);
	ck_assert_uint_eq(t.nr_fetch, 4);

	/* Unmap the stage 1 level 2 table at stage 2: stage 2 fault on the s1 walk. */
	uint64_t l2_ipa = t.s1.steps[2].table_addr;
	struct hs_pt_trace tr;
	ck_assert_int_eq(hs_pt_translate(&P, &st2, l2_ipa, &tr), 0);
	*ent(tr.steps[tr.nr_steps - 1].desc_pa) = 0;
	ck_assert_int_eq(hs_pt_translate_2d(&P, &st1, &st2, 0x400010, 0, &t), 1);
	ck_assert(t.fault.s1ptw);
	ck_assert_int_eq(t.fault.stage, HS_PT_S2);
	ck_assert_int_eq(t.fault.level, 3);
	ck_assert_int_eq(t.fault.s1_level, 2);

	/* MMU off: flat VA == IPA, then stage 2. */
	struct hs_pt_regime off;
	ck_assert_int_eq(hs_pt_regime_el1(0, 0, 0, 0, &off, NULL, 0), 0);
	ck_assert_int_eq(hs_pt_translate_2d(&P, &off, &st2, ipa_base + 0x100004, 0, &t), 0);
	ck_assert_uint_eq(t.pa, RAM_BASE + 0x100004);
	ck_assert_int_eq(hs_pt_translate_2d(&P, &off, &st2, 0x20000000, 0, &t), 1);
	ck_assert_int_eq(t.fault.stage, HS_PT_S2);
	ck_assert(!t.fault.s1ptw);

	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_trace_2d_text(&sb, &t);
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "stage 2 translation fault"));
	hs_sb_free(&sb);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dump                                                                      */
/* ------------------------------------------------------------------------ */

struct collect {
	struct hs_pt_range r[64];
	unsigned n;
};

static int collect_cb(const struct hs_pt_range *g, void *arg)
{
	struct collect *c = arg;
	ck_assert_uint_lt(c->n, 64);
	c->r[c->n++] = *g;
	return 0;
}

static struct collect *mapped_ranges(const struct hs_pt_regime *r, struct hs_pt_filter *f)
{
	static struct collect c;
	c.n = 0;
	struct hs_pt_filter def;
	if (!f) {
		hs_pt_filter_init(&def);
		def.flags = HS_PT_F_NO_INVALID;
		f = &def;
	}
	ck_assert_int_eq(hs_pt_dump_ranges(&P, r, f, collect_cb, &c), 0);
	return &c;
}

START_TEST(dump_merges_identical_pages)
{
	struct hs_pt_regime r = el2_regime();
	for (int i = 0; i < 8; i++)
		map(&r, VA_PG + i * PG, 3, s1(0x41000000 + i * PG, 0, 0, 1, 3));
	struct collect *c = mapped_ranges(&r, NULL);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->r[0].va_start, VA_PG);
	ck_assert_uint_eq(c->r[0].va_end, VA_PG + 8 * PG);
	ck_assert_uint_eq(c->r[0].pa_start, 0x41000000);
	ck_assert_uint_eq(c->r[0].nr_entries, 8);
}
END_TEST

START_TEST(dump_splits_on_attribute_change)
{
	struct hs_pt_regime r = el2_regime();
	for (int i = 0; i < 8; i++)
		map(&r, VA_PG + i * PG, 3, s1(0x41000000 + i * PG, 0, i == 4, 1, 3));
	struct collect *c = mapped_ranges(&r, NULL);
	ck_assert_uint_eq(c->n, 3);
	ck_assert_uint_eq(c->r[1].va_start, VA_PG + 4 * PG);
	ck_assert_uint_eq(c->r[1].nr_entries, 1);
	ck_assert_uint_eq(c->r[2].pa_start, 0x41005000);
}
END_TEST

START_TEST(dump_splits_on_pa_discontinuity)
{
	struct hs_pt_regime r = el2_regime();
	for (int i = 0; i < 4; i++)
		map(&r, VA_PG + i * PG, 3,
		    s1(0x41000000 + (i == 2 ? 0x100000 : 0) + i * PG, 0, 0, 1, 3));
	struct collect *c = mapped_ranges(&r, NULL);
	ck_assert_uint_eq(c->n, 3);
}
END_TEST

START_TEST(dump_merges_across_levels)
{
	struct hs_pt_regime r = el2_regime();
	/* 2 MiB block followed by pages continuing the same PA run */
	map(&r, 0x40000000, 2, s1(0x40000000, 0, 0, 1, 2));
	for (int i = 0; i < 4; i++)
		map(&r, 0x40200000 + i * PG, 3, s1(0x40200000 + i * PG, 0, 0, 1, 3));
	struct collect *c = mapped_ranges(&r, NULL);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_int_eq(c->r[0].level_min, 2);
	ck_assert_int_eq(c->r[0].level_max, 3);
	ck_assert_uint_eq(c->r[0].va_end, 0x40204000);
}
END_TEST

START_TEST(dump_filters)
{
	struct hs_pt_regime r = s2_regime(0);
	for (int i = 0; i < 4; i++)
		map(&r, 0x41000000 + i * PG, 3,
		    s2(0x41000000 + i * PG,
		       HS_PT_PERM_R | HS_PT_PERM_W | (i < 2 ? HS_PT_PERM_X : 0), 0xf, 3) |
			(i == 3 ? (uint64_t)HS_PAGE_SHARED_OWNED << HS_PTE_STATE_SHIFT : 0));
	for (int i = 4; i < 8; i++)
		map(&r, 0x41000000 + i * PG, 3, hs_annotation(HS_OWNER_HYP, 0));
	for (int i = 8; i < 12; i++)
		map(&r, 0x41000000 + i * PG, 3,
		    hs_annotation(HS_OWNER_GUEST, 0x1000 | ((uint64_t)(0x100 + i) << 16)));
	struct hs_pt_filter f;

	hs_pt_filter_init(&f);
	f.owner = HS_OWNER_HYP;
	struct collect *c = mapped_ranges(&r, &f);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->r[0].nr_entries, 4);
	ck_assert_uint_eq(c->r[0].va_start, 0x41004000);

	hs_pt_filter_init(&f);
	f.owner = HS_OWNER_GUEST; /* contiguous gfns merge */
	c = mapped_ranges(&r, &f);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->r[0].attrs.gfn, 0x108);
	ck_assert_uint_eq(c->r[0].nr_entries, 4);

	hs_pt_filter_init(&f);
	f.perm_mask = HS_PT_PERM_X;
	f.perm_want = HS_PT_PERM_X;
	c = mapped_ranges(&r, &f);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->r[0].va_end, 0x41002000);

	hs_pt_filter_init(&f);
	f.state = HS_PAGE_SHARED_OWNED;
	c = mapped_ranges(&r, &f);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->r[0].va_start, 0x41003000);

	/* VA window clips ranges: the hyp run cut in half, gfn adjusted */
	hs_pt_filter_init(&f);
	f.va_start = 0x41006000;
	f.va_end = 0x4100a000;
	f.flags = HS_PT_F_NO_INVALID;
	c = mapped_ranges(&r, &f);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_uint_eq(c->r[0].va_start, 0x41006000);
	ck_assert_uint_eq(c->r[1].va_end, 0x4100a000);
	ck_assert_uint_eq(c->r[1].attrs.gfn, 0x108);
}
END_TEST

START_TEST(dump_text_tf_a_style)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	ck_assert_int_eq(hs_pt_dump_text(&P, &r, NULL, &sb), 0);
	const char *s = hs_sb_str(&sb);
	ck_assert_ptr_nonnull(strstr(s, "[LV1] 0x0000000040000000 - 0x000000007fffffff \u2192 PA "
					"0x0000000040000000 MEM-RW-XN"));
	ck_assert_ptr_nonnull(strstr(s, "DEV-RW-XN"));
	ck_assert_ptr_nonnull(strstr(s, "MEM-RO-XN"));
	ck_assert_ptr_nonnull(strstr(s, "INVALID"));
	ck_assert_ptr_nonnull(strstr(s, "malformed"));
	hs_sb_free(&sb);
}
END_TEST

/* Balanced {} [] outside strings, and no trailing garbage. */
static int json_balanced(const char *s)
{
	int depth = 0;
	bool str = false;
	for (; *s; s++) {
		if (str) {
			if (*s == '\\')
				s++;
			else if (*s == '"')
				str = false;
			continue;
		}
		if (*s == '"')
			str = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']') {
			if (--depth < 0)
				return 0;
		}
	}
	return depth == 0 && !str;
}

START_TEST(dump_json_shape)
{
	struct hs_pt_regime r = s2_regime(0);
	map(&r, 0x41000000, 3, s2(0x41000000, HS_PT_PERM_R, 0xf, 3));
	map(&r, 0x41001000, 3, hs_annotation(HS_OWNER_GUEST, 0x1000 | (7ULL << 16)));
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	ck_assert_int_eq(hs_pt_dump_json(&P, &r, NULL, &sb), 0);
	const char *s = hs_sb_str(&sb);
	ck_assert(json_balanced(s));
	ck_assert_int_eq(s[0], '{');
	ck_assert_ptr_nonnull(strstr(s, "\"regime\":"));
	ck_assert_ptr_nonnull(strstr(s, "\"ranges\":["));
	ck_assert_ptr_nonnull(strstr(s, "\"summary\":"));
	ck_assert_ptr_nonnull(strstr(s, "\"pa\":\"0x41000000\""));
	ck_assert_ptr_nonnull(strstr(s, "\"owner\":\"guest\""));
	ck_assert_ptr_nonnull(strstr(s, "\"gfn\":\"0x7\""));
	hs_sb_reset(&sb);
	struct hs_pt_trace t;
	hs_pt_translate(&P, &r, 0x41001000, &t);
	hs_pt_trace_json(&sb, &t);
	ck_assert(json_balanced(hs_sb_str(&sb)));
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "\"fault\":"));
	hs_sb_free(&sb);
}
END_TEST

START_TEST(dump_dot_tree)
{
	struct hs_pt_regime r = el2_regime();
	build_el2(&r);
	uint64_t l1 = *ent(r.root_pa + 256 * 8) & OA_MASK;
	*ent(l1 + 8) = r.root_pa | 3; /* a loop shows as a red edge */
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	ck_assert_int_eq(hs_pt_dump_dot(&P, &r, NULL, &sb), 0);
	const char *s = hs_sb_str(&sb);
	ck_assert_int_eq(strncmp(s, "digraph", 7), 0);
	ck_assert_ptr_nonnull(strstr(s, "LOOP"));
	ck_assert_ptr_nonnull(strstr(s, "MEM-RW-XN"));
	ck_assert(json_balanced(s)); /* braces balanced too */
	hs_sb_free(&sb);
}
END_TEST

static Suite *pt_suite(void)
{
	Suite *s = suite_create("pt_walk");
	TCase *tc = tcase_create("regime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, regime_el2_decodes_tcr);
	tcase_add_test(tc, regime_el2_rejects_reserved);
	tcase_add_test(tc, regime_s2_concatenated_root);
	tcase_add_test(tc, regime_s2_rejects_inconsistent_sl0);
	tcase_add_test(tc, regime_el1_mmu_off_is_flat);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, walk_el2_pages_and_blocks);
	tcase_add_test(tc, walk_reads_each_table_once);
	tcase_add_test(tc, walk_coalesces_zero_runs);
	tcase_add_test(tc, walk_limited_range);
	tcase_add_test(tc, walk_loop_is_malformed);
	tcase_add_test(tc, walk_shared_table_is_malformed);
	tcase_add_test(tc, walk_pointer_outside_ram_is_malformed);
	tcase_add_test(tc, walk_root_outside_ram_is_malformed);
	tcase_add_test(tc, walk_reserved_encodings_are_malformed);
	tcase_add_test(tc, walk_oa_above_pa_size_is_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, decode_mair_types, 0,
			    (int)(sizeof(mair_cases) / sizeof(mair_cases[0])));
	tcase_add_test(tc, decode_s2_memattr);
	tcase_add_test(tc, decode_s1_leaf_fields);
	tcase_add_test(tc, decode_s2_leaf_fields);
	tcase_add_test(tc, decode_annotations);
	tcase_add_test(tc, decode_without_encoding);
	tcase_add_test(tc, decode_other_encoding);
	suite_add_tcase(s, tc);

	tc = tcase_create("translate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, translate_page_reports_every_level);
	tcase_add_test(tc, translate_blocks_add_offset);
	tcase_add_test(tc, translate_unmapped_fault_level);
	tcase_add_test(tc, translate_access_flag_fault);
	tcase_add_test(tc, translate_permission_fault);
	tcase_add_test(tc, translate_s2_concatenated_second_root);
	tcase_add_test(tc, translate_s2_reports_owner_annotation);
	tcase_add_test(tc, translate_2d_guest_va);
	suite_add_tcase(s, tc);

	tc = tcase_create("dump");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dump_merges_identical_pages);
	tcase_add_test(tc, dump_splits_on_attribute_change);
	tcase_add_test(tc, dump_splits_on_pa_discontinuity);
	tcase_add_test(tc, dump_merges_across_levels);
	tcase_add_test(tc, dump_filters);
	tcase_add_test(tc, dump_text_tf_a_style);
	tcase_add_test(tc, dump_json_shape);
	tcase_add_test(tc, dump_dot_tree);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pt_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the expression evaluator (cli/expr*.c), compiled in directly
 * and run against a fake machine: a few registers, two small memories (EL2 VA
 * and PA), symbols and one struct type as the DWARF reader would make it.
 * Then, on the real hypervisor image, the DWARF reader's view of its types.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/breakpoints.c"
#include "../cli/dwarf_types.c"
#include "../cli/expr.c"
#include "../cli/expr_format.c"
#include "../cli/expr_types.c"
#include "../cli/sysreg_fields.c"
#include "../cli/util.c"

#include "testutil.h"

/* ---- the fake machine ------------------------------------------------------------ */

struct fake {
	uint64_t x[4], pc;
	uint8_t va[0x200]; /* EL2 VA 0x1000.. */
	uint8_t pa[0x20];  /* PA 0x0.. */
	unsigned writes;
	struct cli_type_arena arena;
};

static const struct cli_type *demo_ptr; /* struct demo * (made in setup) */
static struct cli_member demo_members[5];
static struct cli_type demo = {.kind = CLI_T_STRUCT, .name = "demo", .size = 24};
static const struct cli_type u16_t = {.kind = CLI_T_INT, .name = "u16", .size = 2};
static const struct cli_type u8_t = {.kind = CLI_T_INT, .name = "u8", .size = 1, .is_char = true};
static const struct cli_type u32_t = {.kind = CLI_T_INT, .name = "u32", .size = 4};
static const struct cli_type arr_t = {
    .kind = CLI_T_ARRAY, .size = 16, .count = 4, .target = &u32_t};

static int f_var(void *ud, const char *name, struct cli_value *out)
{
	struct fake *f = ud;
	if (!strcmp(name, "pc")) {
		*out = (struct cli_value){.type = cli_type_pointer_to(&f->arena, &cli_t_void),
					  .v = f->pc};
		return 0;
	}
	if (name[0] == 'x' && name[1] >= '0' && name[1] <= '3' && !name[2]) {
		*out = (struct cli_value){.type = &cli_t_long, .v = f->x[name[1] - '0']};
		return 0;
	}
	return -1;
}

static int f_var_set(void *ud, const char *name, const struct cli_value *v, char *err, size_t len)
{
	struct fake *f = ud;
	if (name[0] == 'x' && name[1] >= '0' && name[1] <= '3' && !name[2]) {
		f->x[name[1] - '0'] = v->v;
		return 0;
	}
	snprintf(err, len, "no register $%s", name);
	return -1;
}

static int f_sym(void *ud, const char *name, uint64_t *addr, const struct cli_type **type)
{
	(void)ud;
	if (!strcmp(name, "table")) {
		*addr = 0x1000;
		*type = &demo;
		return 0;
	}
	if (!strcmp(name, "nodebug")) {
		*addr = 0x1100;
		*type = NULL;
		return 0;
	}
	return -1;
}

static uint8_t *f_mem(struct fake *f, enum cli_xspace sp, uint64_t addr, size_t len)
{
	if (sp == CLI_XS_PA)
		return addr < sizeof(f->pa) && len <= sizeof(f->pa) - addr ? f->pa + addr : NULL;
	if (addr < 0x1000 || addr - 0x1000 >= sizeof(f->va) ||
	    len > sizeof(f->va) - (addr - 0x1000))
		return NULL;
	return f->va + (addr - 0x1000);
}

static int f_read(void *ud, enum cli_xspace sp, uint64_t addr, void *buf, size_t len, char *err,
		  size_t elen)
{
	uint8_t *p = f_mem(ud, sp, addr, len);
	if (!p) {
		snprintf(err, elen, "not mapped");
		return -1;
	}
	memcpy(buf, p, len);
	return 0;
}

static int f_write(void *ud, enum cli_xspace sp, uint64_t addr, const void *buf, size_t len,
		   char *err, size_t elen)
{
	struct fake *f = ud;
	uint8_t *p = f_mem(f, sp, addr, len);
	if (!p) {
		snprintf(err, elen, "not mapped");
		return -1;
	}
	memcpy(p, buf, len);
	f->writes++;
	return 0;
}

static const struct cli_type *f_type(void *ud, const char *tag, const char *name)
{
	(void)ud;
	if (tag && !strcmp(tag, "struct") && !strcmp(name, "demo"))
		return &demo;
	return NULL;
}

static struct fake F;
static struct cli_expr_ops ops;

static void setup(void)
{
	memset(&F, 0, sizeof(F));
	F.x[1] = 0x48000;
	F.pc = 0x400;
	/* table: a = 0x1234, b:4 = 5, c:4 = 0xa, p = &table, arr = {1, 2, 3, 4} */
	F.va[0] = 0x34;
	F.va[1] = 0x12;
	F.va[2] = 0xa5;
	uint64_t self = 0x1000;
	memcpy(F.va + 8, &self, 8);
	for (uint32_t i = 0; i < 4; i++)
		memcpy(F.va + 16 + 4 * i, &(uint32_t){i + 1}, 4);
	/* 0x1100: a u64 without debug information */
	memcpy(F.va + 0x100, &(uint64_t){0xfeedf00d}, 8);
	F.pa[0x10] = 0x42;
	demo_ptr = cli_type_pointer_to(&F.arena, &demo);
	demo_members[0] = (struct cli_member){"a", &u16_t, 0, 0, 0};
	demo_members[1] = (struct cli_member){"b", &u8_t, 2, 0, 4};
	demo_members[2] = (struct cli_member){"c", &u8_t, 2, 4, 4};
	demo_members[3] = (struct cli_member){"p", demo_ptr, 8, 0, 0};
	demo_members[4] = (struct cli_member){"arr", &arr_t, 16, 0, 0};
	demo.members = demo_members;
	demo.nmembers = 5;
	demo.size = 32;
	ops = (struct cli_expr_ops){.ud = &F,
				    .arena = &F.arena,
				    .var = f_var,
				    .var_set = f_var_set,
				    .sym = f_sym,
				    .read = f_read,
				    .write = f_write,
				    .type = f_type};
}

static void teardown(void)
{
	cli_type_arena_free(&F.arena);
}

/* Evaluate and print ("ERR:" + message on failure). */
static const char *show(const char *expr, char fmt)
{
	static char out[1024];
	struct cli_value v;
	char err[512];
	int col = 0;
	if (cli_expr_eval(&ops, expr, &v, err, sizeof(err), &col)) {
		snprintf(out, sizeof(out), "ERR@%d:%s", col, err);
		return out;
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (cli_value_format(&ops, &v, fmt, &sb, err, sizeof(err)))
		snprintf(out, sizeof(out), "ERR:%s", err);
	else
		snprintf(out, sizeof(out), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return out;
}

static const struct {
	const char *expr;
	char fmt;
	const char *want; /* exact, or "ERR...substring" */
} cases[] = {
    /* C precedence and associativity */
    {"1 + 2 * 3", 0, "7"},
    {"(1 + 2) * 3", 0, "9"},
    {"10 - 4 - 3", 0, "3"},
    {"1 | 2 ^ 3 & 4", 0, "3"},
    {"1 << 2 + 1", 0, "8"},
    {"2 + 3 == 5", 0, "1"},
    {"!0 + ~0", 0, "0"},
    {"-3 / 2", 0, "-1"},
    {"-7 % 3", 0, "-1"},
    /* int vs long vs unsigned, as C on LP64 */
    {"1 - 2", 0, "-1"},
    {"-1", 'x', "0xffffffff"},
    {"-1L", 'x', "0xffffffffffffffff"},
    {"0xffffffff + 1", 0, "0"},
    {"4294967295 + 1", 0, "4294967296"},
    {"(u32)-1 > 0", 0, "1"},
    {"-1 < 0u", 0, "0"},
    {"(unsigned char)0x1ff", 'x', "0xff"},
    {"(s8)0x80", 0, "-128"},
    /* no undefined behaviour at the edges */
    {"-9223372036854775807 - 1", 0, "-9223372036854775808"},
    {"(-9223372036854775807 - 1) / -1", 0, "-9223372036854775808"},
    {"(-9223372036854775807 - 1) % -1", 0, "0"},
    {"-(-9223372036854775807 - 1)", 0, "-9223372036854775808"},
    {"9223372036854775807 + 1", 0, "-9223372036854775808"},
    {"0x7fffffffffffffff * 2", 0, "-2"},
    {"1 << 64", 0, "0"},
    {"1L << 63", 'x', "0x8000000000000000"},
    {"-8 >> 1", 0, "-4"},
    {"-1 >> 70", 0, "-1"},
    {"1 << -1", 0, "0"},
    {"1 / 0", 0, "ERR@3:division by zero"},
    {"5 % (2 - 2)", 0, "ERR@3:division by zero"},
    {"99999999999999999999", 0, "ERR@1:numeric constant"},
    /* short-circuit: the side not taken never reads memory or divides */
    {"1 || *(u64 *)0", 0, "1"},
    {"0 && 1 / 0", 0, "0"},
    {"0 ? *(u64 *)0 : 5", 0, "5"},
    {"1 ? 6 : 1 / 0", 0, "6"},
    {"0 || *(u64 *)0", 0, "ERR@6:cannot access memory at address 0"},
    /* registers */
    {"$x1 == 0x48000", 0, "1"},
    {"$x1", 'x', "0x48000"},
    {"$pc", 0, "(void *) 0x400"},
    {"$pc + 4", 'x', "0x404"},
    {"$nosuch", 0, "void"},
    /* memory, casts, dereference, spaces */
    {"*(u64 *)0x1008", 'x', "0x1000"},
    {"*(u16 *)0x1000", 'x', "0x1234"},
    {"*(u8 *)pa:0x10", 'x', "0x42"},
    {"{u64} 0x1008", 'x', "0x1000"},
    {"*(u64 *)0x9000", 0, "ERR@1:cannot access memory at address 0x9000"},
    {"*0x1000", 0, "ERR@1:attempt to take contents of a non-pointer value"},
    {"*(void *)0x1000", 0, "ERR@1:void pointer"},
    /* struct members, bit fields, pointers, arrays */
    {"table.a", 'x', "0x1234"},
    {"table.b", 0, "5 '\\005'"},
    {"table.c", 'x', "0xa"},
    {"table.p->p->a", 'x', "0x1234"},
    {"table.arr[2]", 0, "3"},
    {"table.arr", 0, "{1, 2, 3, 4}"},
    {"*table.p", 'x', "{a = 0x1234, b = 0x5, c = 0xa, p = 0x1000, arr = {0x1, 0x2, 0x3, 0x4}}"},
    {"&table.arr[1]", 0, "(u32 *) 0x1014"},
    {"&table.arr[3] - &table.arr[1]", 0, "2"},
    {"(struct demo *)0x1000 + 1", 0, "(struct demo *) 0x1020"},
    {"sizeof(struct demo)", 0, "32"},
    {"sizeof table.arr", 0, "16"},
    {"sizeof(u16)", 0, "2"},
    {"table.zz", 0, "ERR@6:there is no member named zz in struct demo"},
    {"table.a.b", 0, "ERR@8:not a struct"},
    {"&table.b", 0, "ERR@1:bit field"},
    /* symbols without debug information (gdb's rule) */
    {"nodebug", 0, "ERR@1:'nodebug' has unknown type; cast it to its declared type"},
    {"(u64)nodebug", 'x', "0xfeedf00d"},
    {"&nodebug", 0, "(<data variable, no debug info> *) 0x1100"},
    /* literals and names */
    {"'A'", 0, "65"},
    {"'\\n'", 0, "10"},
    {"-EINVAL", 0, "-22"},
    {"0b101", 0, "5"},
    {"010", 0, "8"},
    {"255", 't', "11111111"},
    {"8", 'o', "010"},
    {"65", 'c', "65 'A'"},
    {"0x10", 'z', "0x00000010"},
    {"nosuch + 1", 0, "ERR@1:no symbol \"nosuch\" in the hypervisor image"},
    {"struct demo", 0, "ERR@1:"},
    /* syntax errors name the column */
    {"1 +", 0, "ERR@4:expected an expression at the end"},
    {"(1 + 2", 0, "ERR@7:expected ')'"},
    {"1 2", 0, "ERR@3:junk at the end"},
    {"3 # 4", 0, "ERR@3:unexpected character '#'"},
    {"", 0, "ERR@1:expected an expression"},
    {"(struct nosuch *)0", 0, "ERR@2:no struct nosuch"},
};

START_TEST(expr_table)
{
	const char *got = show(cases[_i].expr, cases[_i].fmt);
	const char *want = cases[_i].want;
	if (!strncmp(want, "ERR", 3)) {
		/* the same column, and the message contains the wanted words */
		const char *colon = strchr(want, ':');
		size_t head = (size_t)(colon - want) + 1;
		ck_assert_msg(!strncmp(got, want, head) && strstr(got + head, colon + 1),
			      "'%s': got '%s', want '%s'", cases[_i].expr, got, want);
	} else
		ck_assert_msg(!strcmp(got, want), "'%s' /%c: got '%s', want '%s'", cases[_i].expr,
			      cases[_i].fmt ? cases[_i].fmt : '-', got, want);
}
END_TEST

START_TEST(assignment_writes_through_ops)
{
	ck_assert_str_eq(show("$x0 = 5", 0), "5");
	ck_assert_uint_eq(F.x[0], 5);
	ck_assert_str_eq(show("$x2 = $x0 * 2 + 1", 0), "11");
	ck_assert_uint_eq(F.x[2], 11);
	/* memory: exactly the bytes of the member */
	ck_assert_str_eq(show("table.a = 0x77", 'x'), "0x77");
	ck_assert_uint_eq(F.va[0], 0x77);
	ck_assert_uint_eq(F.va[1], 0);
	ck_assert_uint_eq(F.va[2], 0xa5);
	/* a bit field keeps its neighbours */
	ck_assert_str_eq(show("table.c = 3", 0), "3 '\\003'");
	ck_assert_uint_eq(F.va[2], 0x35);
	ck_assert_str_eq(show("table.b = 0x1f", 'x'), "0xf"); /* truncated to 4 bits */
	ck_assert_uint_eq(F.va[2], 0x3f);
	ck_assert_str_eq(show("{u64} pa:0x8 = 0x1122334455667788", 'x'), "0x1122334455667788");
	ck_assert_uint_eq(F.pa[8], 0x88);
	ck_assert_uint_eq(F.pa[15], 0x11);
	unsigned before = F.writes;
	ck_assert_str_eq(show("0 && (table.a = 1)", 0), "0");
	ck_assert_uint_eq(F.writes, before); /* not taken: not written */
	ck_assert(
	    !strncmp(show("3 = 4", 0), "ERR@3:left operand of assignment is not an lvalue", 40));
	ck_assert(!strncmp(show("*(u64 *)0x9000 = 1", 0), "ERR@16:cannot write memory", 26));
}
END_TEST

START_TEST(ptype_prints_members)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	cli_type_print(&demo, &sb);
	ck_assert_str_eq(hs_sb_str(&sb), "struct demo {\n"
					 "    u16 a;\n"
					 "    u8 b : 4;\n"
					 "    u8 c : 4;\n"
					 "    struct demo *p;\n"
					 "    u32 arr[4];\n"
					 "}");
	hs_sb_reset(&sb);
	cli_type_name(cli_type_pointer_to(&F.arena, &arr_t), &sb);
	ck_assert_str_eq(hs_sb_str(&sb), "u32 (*)[4]");
	hs_sb_free(&sb);
}
END_TEST

/* ---- the real image ------------------------------------------------------------------ */

static struct hs_image *img;
static struct cli_dwarf *dw;

static void dwarf_setup(void)
{
	struct hs_error err = {0};
	ck_assert_msg(!hs_image_load(hs_test_hyp_elf(), &img, &err), "%s", err.msg);
	char msg[256];
	ck_assert_msg(!cli_dwarf_open(img->file, img->file_size, &dw, msg, sizeof(msg)), "%s", msg);
}

static void dwarf_teardown(void)
{
	cli_dwarf_close(dw);
	hs_image_free(img);
}

START_TEST(dwarf_struct_matches_the_source)
{
	const struct cli_type *t = cli_dwarf_type(dw, "struct", "hyp_page");
	ck_assert_ptr_nonnull(t);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	cli_type_print(t, &sb);
	/* hyp/include/hyp/page_alloc.h */
	ck_assert_str_eq(hs_sb_str(&sb), "struct hyp_page {\n"
					 "    u16 refcount;\n"
					 "    u8 order;\n"
					 "    u8 host_state : 4;\n"
					 "    u8 __hyp_state_comp : 4;\n"
					 "    u32 guest_shares;\n"
					 "}");
	ck_assert_uint_eq(t->size, 8);
	const struct cli_member *m = &t->members[3];
	ck_assert_uint_eq(m->offset, 3);
	ck_assert_uint_eq(m->bit_off, 4);
	hs_sb_free(&sb);
}
END_TEST

START_TEST(dwarf_globals_have_their_declared_types)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	cli_type_name(cli_dwarf_var_type(dw, "hyp_vmemmap"), &sb);
	ck_assert_str_eq(hs_sb_str(&sb), "struct hyp_page *");
	const struct cli_type *u64 = cli_dwarf_type(dw, NULL, "u64");
	ck_assert_ptr_nonnull(u64);
	ck_assert_uint_eq(cli_type_resolve(u64)->size, 8);
	ck_assert(!cli_type_resolve(u64)->is_signed);
	ck_assert_ptr_null(cli_dwarf_type(dw, "struct", "no_such_struct"));
	ck_assert_str_eq(cli_dwarf_section(dw, hs_image_symbol(img, "handle_host_trap")->addr),
			 ".text");
	hs_sb_free(&sb);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_expr");
	TCase *tc = tcase_create("eval");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, expr_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, assignment_writes_through_ops);
	tcase_add_test(tc, ptype_prints_members);
	suite_add_tcase(s, tc);
	TCase *td = tcase_create("dwarf");
	tcase_add_checked_fixture(td, dwarf_setup, dwarf_teardown);
	tcase_add_test(td, dwarf_struct_matches_the_source);
	tcase_add_test(td, dwarf_globals_have_their_declared_types);
	suite_add_tcase(s, td);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

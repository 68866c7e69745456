/* SPDX-License-Identifier: MIT */
/*
 * Hostile images: the real hypervisor ELF damaged one way at a time (a second
 * symbol table, overlapping segments, a symbol or a relocation outside the
 * image, ...) and files that are not images at all (FIFO, directory, device,
 * huge). The loader must refuse each with a sentence naming the problem: no
 * overflow (ASan), no blocking (a FIFO has no writer), nothing half-loaded.
 */
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_image.h"
#include "regular_file.h"
#include "testutil.h"

static unsigned char *real;
static size_t real_len;

static void read_real(void)
{
	void *buf;
	struct hs_error err = {0};
	ck_assert_msg(!hs_read_regular(hs_test_hyp_elf(), HS_IMAGE_MAX_SIZE, &buf, &real_len, &err),
		      "%s", err.msg);
	real = buf;
}

static Elf64_Ehdr *eh(unsigned char *b)
{
	return (Elf64_Ehdr *)b;
}
static Elf64_Shdr *shdr(unsigned char *b, size_t i)
{
	return (Elf64_Shdr *)(b + eh(b)->e_shoff) + i;
}
static Elf64_Phdr *phdr(unsigned char *b, size_t i)
{
	return (Elf64_Phdr *)(b + eh(b)->e_phoff) + i;
}
static size_t find_section(unsigned char *b, uint32_t type, bool alloc_target)
{
	for (size_t i = 1; i < eh(b)->e_shnum; i++) {
		Elf64_Shdr *s = shdr(b, i);
		if (s->sh_type != type)
			continue;
		if (alloc_target && !(shdr(b, s->sh_info)->sh_flags & SHF_ALLOC))
			continue;
		return i;
	}
	ck_abort_msg("no section of type %u", type);
	return 0;
}

/* ---- one mutation each, all of the same class: the file says something impossible ---- */

static void second_symtab(unsigned char *b)
{
	Elf64_Shdr *st = shdr(b, find_section(b, SHT_SYMTAB, false));
	/* Any non-allocated section becomes a copy of the symbol table. */
	for (size_t i = 1; i < eh(b)->e_shnum; i++) {
		Elf64_Shdr *s = shdr(b, i);
		if (s != st && s->sh_type == SHT_PROGBITS && !(s->sh_flags & SHF_ALLOC)) {
			*s = *st;
			return;
		}
	}
	ck_abort_msg("no section to turn into a symbol table");
}
static void overlapping_loads(unsigned char *b)
{
	phdr(b, 1)->p_paddr = phdr(b, 0)->p_paddr + 0x1000;
}
static void symbol_outside_image(unsigned char *b)
{
	Elf64_Shdr *st = shdr(b, find_section(b, SHT_SYMTAB, false));
	Elf64_Sym *syms = (Elf64_Sym *)(b + st->sh_offset);
	for (size_t i = 0; i < st->sh_size / sizeof(*syms); i++) {
		if (ELF64_ST_TYPE(syms[i].st_info) == STT_FUNC && syms[i].st_shndx != SHN_UNDEF) {
			syms[i].st_value = 0xdead00000000ULL;
			return;
		}
	}
	ck_abort_msg("no function symbol");
}
static void symbol_size_wraps(unsigned char *b)
{
	Elf64_Shdr *st = shdr(b, find_section(b, SHT_SYMTAB, false));
	Elf64_Sym *syms = (Elf64_Sym *)(b + st->sh_offset);
	for (size_t i = 0; i < st->sh_size / sizeof(*syms); i++) {
		if (ELF64_ST_TYPE(syms[i].st_info) == STT_OBJECT && syms[i].st_shndx != SHN_UNDEF) {
			syms[i].st_size = UINT64_MAX;
			return;
		}
	}
	ck_abort_msg("no object symbol");
}
static void relocation_outside_image(unsigned char *b)
{
	Elf64_Shdr *rs = shdr(b, find_section(b, SHT_RELA, true));
	Elf64_Rela *r = (Elf64_Rela *)(b + rs->sh_offset);
	r->r_info = ELF64_R_INFO(0, 257 /* R_AARCH64_ABS64 */);
	r->r_offset = 0x10;
}
static void symtab_entry_size(unsigned char *b)
{
	shdr(b, find_section(b, SHT_SYMTAB, false))->sh_entsize = 1;
}
static void entry_outside_code(unsigned char *b)
{
	eh(b)->e_entry = phdr(b, 2)->p_paddr; /* the data segment */
}
static void program_header_count_absurd(unsigned char *b)
{
	eh(b)->e_phnum = PN_XNUM; /* the real count is then section 0's sh_info */
	shdr(b, 0)->sh_info = 0xfffffff0u;
}

static const struct {
	const char *name;
	void (*mutate)(unsigned char *b);
	const char *expect;
} mutations[] = {
    {"second symbol table", second_symtab, "more than one symbol table"},
    {"overlapping PT_LOAD", overlapping_loads, "overlap"},
    {"symbol outside the image", symbol_outside_image, "outside the loadable segments"},
    {"symbol size wraps", symbol_size_wraps, "outside the loadable segments"},
    {"relocation outside the image", relocation_outside_image, "outside the loadable"},
    {"symbol entry size", symtab_entry_size, "entry size"},
    {"entry point in data", entry_outside_code, "entry point"},
    {"PN_XNUM count", program_header_count_absurd, "program header"},
};

START_TEST(impossible_images_are_refused_with_the_reason)
{
	read_real();
	unsigned char *b = malloc(real_len);
	memcpy(b, real, real_len);
	mutations[_i].mutate(b);
	struct hs_image *img = (void *)1;
	struct hs_error err = {0};
	int rc = hs_image_load_mem(b, real_len, "mutant", &img, &err);
	ck_assert_msg(rc < 0, "%s: accepted", mutations[_i].name);
	ck_assert_ptr_null(img);
	ck_assert_msg(strstr(err.msg, mutations[_i].expect), "%s: '%s'", mutations[_i].name,
		      err.msg);
	free(b);
	free(real);
}
END_TEST

START_TEST(the_real_image_still_loads)
{
	struct hs_image *img;
	struct hs_error err = {0};
	ck_assert_msg(!hs_image_load(hs_test_hyp_elf(), &img, &err), "%s", err.msg);
	ck_assert_ptr_nonnull(hs_image_symbol(img, "__hyp_idmap_text_start"));
	ck_assert_uint_gt(img->nabs_relocs, 0);
	hs_image_free(img);
}
END_TEST

/* ---- files that are not images: each refused at once, for the right reason ---- */

START_TEST(non_regular_files_are_refused_without_blocking)
{
	char dir[] = "/tmp/hs-elf-kinds-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char fifo[64], huge[64];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(huge, sizeof(huge), "%s/huge", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	int fd = open(huge, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)HS_IMAGE_MAX_SIZE + 1), 0); /* sparse */
	close(fd);
	const struct {
		const char *path, *expect;
	} kinds[] = {
	    {fifo, "not a regular file (a FIFO)"},
	    {dir, "is a directory"},
	    {"/dev/zero", "not a regular file (a character device)"},
	    {huge, "larger than 1 GiB"},
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct hs_image *img;
		struct hs_error err = {0};
		ck_assert_int_lt(hs_image_load(kinds[i].path, &img, &err), 0);
		ck_assert_msg(strstr(err.msg, kinds[i].expect), "%s: '%s'", kinds[i].path, err.msg);
	}
	unlink(fifo);
	unlink(huge);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf_hostile");
	TCase *tc = tcase_create("elf_hostile");
	tcase_add_loop_test(tc, impossible_images_are_refused_with_the_reason, 0,
			    sizeof(mutations) / sizeof(mutations[0]));
	tcase_add_test(tc, the_real_image_still_loads);
	tcase_add_test(tc, non_regular_files_are_refused_without_blocking);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}

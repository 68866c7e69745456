/* SPDX-License-Identifier: MIT */
#include "elf_image.h"
#include "regular_file.h"

#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef R_AARCH64_ABS64
#define R_AARCH64_ABS64 257
#endif

void hs_image_free(struct hs_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->nsyms; i++)
		free((char *)img->syms[i].name);
	for (size_t i = 0; i < img->nfiles; i++)
		free(img->files[i]);
	free(img->files);
	free(img->syms);
	free(img->syms_by_name);
	free(img->lines);
	free(img->segs);
	free(img->abs_relocs);
	free(img->file);
	free(img->path);
	free(img);
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct hs_symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer functions and sized symbols at the same address. */
	if (x->is_func != y->is_func)
		return y->is_func - x->is_func;
	return strcmp(x->name, y->name);
}

/* By name; local symbols of one name (several units' statics) by address, as gdb sorts them. */
static int cmp_sym_name(const void *a, const void *b)
{
	const struct hs_symbol *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);
	if (c)
		return c;
	return (*x)->addr < (*y)->addr ? -1 : (*x)->addr > (*y)->addr;
}

/*
 * Rows by address, stable (the line program's order is kept at one address,
 * as gdb keeps it), an end of sequence before the rows that start the next.
 */
static int cmp_line(const void *a, const void *b)
{
	const struct hs_line *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if ((x->line == 0) != (y->line == 0))
		return x->line == 0 ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const char *intern_file(struct hs_image *img, const char *name)
{
	for (size_t i = 0; i < img->nfiles; i++)
		if (!strcmp(img->files[i], name))
			return img->files[i];
	char **f = realloc(img->files, (img->nfiles + 1) * sizeof(*f));
	if (!f)
		return NULL;
	img->files = f;
	img->files[img->nfiles] = strdup(name);
	if (!img->files[img->nfiles])
		return NULL;
	return img->files[img->nfiles++];
}

static int cmp_seg_addr(const void *a, const void *b)
{
	const struct hs_segment *x = *(const struct hs_segment *const *)a;
	const struct hs_segment *y = *(const struct hs_segment *const *)b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Index of the segment holding [addr, addr + len), or -1. */
static long segment_of(const struct hs_image *img, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct hs_segment *s = &img->segs[i];
		if (addr >= s->paddr && len <= s->memsz && addr - s->paddr <= s->memsz - len)
			return (long)i;
	}
	return -1;
}

/*
 * Loadable segments must not overlap (one would silently overwrite the other
 * at load time) and the entry point must be in an executable one.
 */
static int check_segments_err(struct hs_image *img, struct hs_error *err)
{
	const struct hs_segment **by_addr = calloc(img->nsegs, sizeof(*by_addr));
	if (!by_addr)
		return hs_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < img->nsegs; i++)
		by_addr[i] = &img->segs[i];
	qsort(by_addr, img->nsegs, sizeof(*by_addr), cmp_seg_addr);
	int rc = 0;
	for (size_t i = 1; i < img->nsegs && !rc; i++) {
		const struct hs_segment *a = by_addr[i - 1], *b = by_addr[i];
		if (b->paddr < a->paddr + a->memsz)
			rc = hs_err(err, -EINVAL,
				    "loadable segments overlap: [%#lx, +%#lx) and [%#lx, +%#lx)",
				    (unsigned long)a->paddr, (unsigned long)a->memsz,
				    (unsigned long)b->paddr, (unsigned long)b->memsz);
	}
	free(by_addr);
	if (rc)
		return rc;
	long e = segment_of(img, img->entry, 4);
	if (e < 0 || !(img->segs[e].flags & PF_X))
		return hs_err(err, -EINVAL, "entry point %#lx is not in an executable segment",
			      (unsigned long)img->entry);
	return 0;
}

static int load_segments(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum))
		return hs_err(err, -EINVAL, "cannot read program headers: %s", elf_errmsg(-1));
	/* PN_XNUM lets section 0 claim any count: the headers must still fit the file. */
	if (phnum > img->file_size / sizeof(Elf64_Phdr))
		return hs_err(err, -EINVAL, "%zu program headers cannot fit in %zu bytes", phnum,
			      img->file_size);
	img->segs = calloc(phnum ? phnum : 1, sizeof(*img->segs));
	if (!img->segs)
		return hs_err(err, -ENOMEM, "out of memory");
	img->link_base = UINT64_MAX;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return hs_err(err, -EINVAL, "program header %zu unreadable: %s", i,
				      elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return hs_err(err, -EINVAL,
				      "segment %zu: file size %#lx larger than memory size %#lx", i,
				      (unsigned long)ph.p_filesz, (unsigned long)ph.p_memsz);
		if (ph.p_offset > img->file_size || ph.p_filesz > img->file_size - ph.p_offset)
			return hs_err(err, -EINVAL,
				      "segment %zu: file data [%#lx, +%#lx) beyond the end of the "
				      "file (%zu bytes): truncated ELF?",
				      i, (unsigned long)ph.p_offset, (unsigned long)ph.p_filesz,
				      img->file_size);
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr || ph.p_memsz > (1ULL << 32))
			return hs_err(err, -EINVAL, "segment %zu: absurd address or size", i);
		struct hs_segment *s = &img->segs[img->nsegs++];
		s->paddr = ph.p_paddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->offset = ph.p_offset;
		s->flags = ph.p_flags;
		if (s->paddr < img->link_base)
			img->link_base = s->paddr;
		if (s->paddr + s->memsz > img->link_end)
			img->link_end = s->paddr + s->memsz;
	}
	if (!img->nsegs)
		return hs_err(err, -EINVAL, "no loadable segment");
	return check_segments_err(img, err);
}

/*
 * The symbol table. There is exactly one (a second SHT_SYMTAB is malformed: which
 * would be the truth?). Symbols of loaded sections must lie inside the loaded
 * image: the host writes boot parameters through them and the machine runs
 * from them, so one pointing elsewhere would fail later as an EL2 fault.
 */
static int load_symtab(struct hs_image *img, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       struct hs_error *err)
{
	if (img->syms)
		return hs_err(err, -EINVAL, "more than one symbol table (second one: section %zu)",
			      elf_ndxscn(scn));
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || sh->sh_entsize != sizeof(Elf64_Sym))
		return hs_err(err, -EINVAL, "symbol table unreadable (entry size %#lx): %s",
			      (unsigned long)sh->sh_entsize, elf_errmsg(-1));
	size_t n = sh->sh_size / sh->sh_entsize;
	img->syms = calloc(n ? n : 1, sizeof(*img->syms));
	if (!img->syms)
		return hs_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(d, (int)i, &sym))
			return hs_err(err, -EINVAL, "symbol %zu unreadable", i);
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
			continue;
		Elf_Scn *home = elf_getscn(elf, sym.st_shndx);
		GElf_Shdr hsh;
		if (!home || !gelf_getshdr(home, &hsh) || !(hsh.sh_flags & SHF_ALLOC))
			continue; /* not part of the loaded image */
		const char *nm = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!nm || !*nm || nm[0] == '$' || !strncmp(nm, ".L", 2))
			continue;
		/* End markers (_end, __hyp_bss_end) sit just past the last byte. */
		if (sym.st_value < img->link_base || sym.st_value > img->link_end ||
		    sym.st_size > img->link_end - sym.st_value)
			return hs_err(err, -EINVAL,
				      "symbol '%.64s' [%#lx, +%#lx) lies outside the loadable "
				      "segments [%#lx, %#lx)",
				      nm, (unsigned long)sym.st_value, (unsigned long)sym.st_size,
				      (unsigned long)img->link_base, (unsigned long)img->link_end);
		struct hs_symbol *s = &img->syms[img->nsyms];
		s->name = strdup(nm);
		if (!s->name)
			return hs_err(err, -ENOMEM, "out of memory");
		s->addr = sym.st_value;
		s->size = sym.st_size;
		s->is_func = type == STT_FUNC;
		img->nsyms++;
	}
	return 0;
}

/*
 * 64-bit absolute relocations of loaded sections (the host patches them to HYP
 * VAs). Each must patch 8 bytes inside one loaded segment.
 */
static int load_relocs(struct hs_image *img, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       size_t *cap, struct hs_error *err)
{
	Elf_Scn *target = elf_getscn(elf, sh->sh_info);
	GElf_Shdr tsh;
	if (!target || !gelf_getshdr(target, &tsh) || !(tsh.sh_flags & SHF_ALLOC))
		return 0;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || sh->sh_entsize != sizeof(Elf64_Rela))
		return hs_err(err, -EINVAL, "relocation section %zu unreadable", elf_ndxscn(scn));
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Rela r;
		if (!gelf_getrela(d, (int)i, &r))
			return hs_err(err, -EINVAL, "relocation %zu unreadable", i);
		if (GELF_R_TYPE(r.r_info) != R_AARCH64_ABS64)
			continue;
		if (segment_of(img, r.r_offset, 8) < 0)
			return hs_err(err, -EINVAL,
				      "relocation %zu of section %zu patches %#lx, outside the "
				      "loadable segments",
				      i, elf_ndxscn(scn), (unsigned long)r.r_offset);
		if (img->nabs_relocs == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			uint64_t *nr = realloc(img->abs_relocs, *cap * sizeof(*nr));
			if (!nr)
				return hs_err(err, -ENOMEM, "out of memory");
			img->abs_relocs = nr;
		}
		img->abs_relocs[img->nabs_relocs++] = r.r_offset;
	}
	return 0;
}

static int load_symbols_and_relocs(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	Elf_Scn *scn = NULL;
	size_t reloc_cap = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		int rc = 0;
		if (!gelf_getshdr(scn, &sh))
			return hs_err(err, -EINVAL, "bad section header: %s", elf_errmsg(-1));
		if (sh.sh_type == SHT_SYMTAB)
			rc = load_symtab(img, elf, scn, &sh, err);
		else if (sh.sh_type == SHT_RELA)
			rc = load_relocs(img, elf, scn, &sh, &reloc_cap, err);
		if (rc)
			return rc;
	}
	if (img->nsyms)
		qsort(img->syms, img->nsyms, sizeof(*img->syms), cmp_sym_addr);
	img->syms_by_name = calloc(img->nsyms ? img->nsyms : 1, sizeof(*img->syms_by_name));
	if (!img->syms_by_name)
		return hs_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < img->nsyms; i++)
		img->syms_by_name[i] = &img->syms[i];
	if (img->nsyms)
		qsort(img->syms_by_name, img->nsyms, sizeof(*img->syms_by_name), cmp_sym_name);
	if (img->nabs_relocs)
		qsort(img->abs_relocs, img->nabs_relocs, sizeof(uint64_t), cmp_u64);
	return 0;
}

/*
 * gdb's buildsym drops the rows just before an end of sequence at its own
 * address (a line left with no code, e.g. before alignment padding). libdw
 * hands rows over sorted, an end of sequence before the rows at its address,
 * so those are the non-statement rows sharing an end's address (the next
 * sequence starts with a statement).
 */
static void drop_empty_rows(struct hs_image *img)
{
	size_t out = 0;
	for (size_t i = 0; i < img->nlines; i++) {
		const struct hs_line *l = &img->lines[i];
		bool at_end = false;
		for (size_t j = i; j-- > 0 && img->lines[j].addr == l->addr;)
			at_end |= img->lines[j].line == 0;
		if (l->line && !l->is_stmt && at_end)
			continue;
		img->lines[out++] = *l;
	}
	img->nlines = out;
}

/* DWARF line tables are optional: an image without them simply has no lines. */
static int load_lines(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	size_t cap = 0;
	int rc = 0;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (!dwarf_offdie(dw, off + hsize, &cu)) {
			off = next;
			continue;
		}
		off = next;
		Dwarf_Lines *lines;
		size_t n;
		if (dwarf_getsrclines(&cu, &lines, &n))
			continue;
		for (size_t i = 0; i < n; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			Dwarf_Addr a;
			int ln;
			bool stmt = false, end = false;
			if (!l || dwarf_lineaddr(l, &a) || dwarf_lineno(l, &ln))
				continue;
			dwarf_lineendsequence(l, &end);
			dwarf_linebeginstatement(l, &stmt);
			const char *src = dwarf_linesrc(l, NULL, NULL);
			if (!src)
				continue;
			if (img->nlines == cap) {
				cap = cap ? cap * 2 : 1024;
				struct hs_line *nl = realloc(img->lines, cap * sizeof(*nl));
				if (!nl) {
					rc = hs_err(err, -ENOMEM, "out of memory");
					goto out;
				}
				img->lines = nl;
			}
			const char *f = intern_file(img, src);
			if (!f) {
				rc = hs_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			img->lines[img->nlines] = (struct hs_line){.addr = a,
								   .file = f,
								   .line = end ? 0 : ln,
								   .is_stmt = stmt && !end,
								   .order = img->nlines};
			img->nlines++;
		}
	}
	if (img->nlines)
		qsort(img->lines, img->nlines, sizeof(*img->lines), cmp_line);
	drop_empty_rows(img);
out:
	dwarf_end(dw);
	return rc;
}

/*
 * The NT_GNU_BUILD_ID note of owner "GNU", from any SHT_NOTE section: bug
 * reports name the exact hypervisor build (`hypscope --version`). An image
 * without one is fine (build_id stays ""); a malformed note is not.
 */
static int load_build_id(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			return hs_err(err, -EINVAL, "note section %zu unreadable: %s",
				      elf_ndxscn(scn), elf_errmsg(-1));
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while (off < d->d_size && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off))) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4))
				continue;
			if (nh.n_descsz == 0 || nh.n_descsz > HS_BUILD_ID_MAX)
				return hs_err(err, -EINVAL, "build-id note of %u bytes (1..%d)",
					      nh.n_descsz, HS_BUILD_ID_MAX);
			const uint8_t *id = (const uint8_t *)d->d_buf + desc_off;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(img->build_id + 2 * i, 3, "%02x", id[i]);
			return 0;
		}
	}
	return 0;
}

int hs_image_load_mem(const void *buf, size_t len, const char *name, struct hs_image **out,
		      struct hs_error *err)
{
	*out = NULL;
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return hs_err(err, -EINVAL, "%s: not an ELF file (bad magic)", name);
	const unsigned char *id = buf;
	if (id[EI_CLASS] != ELFCLASS64)
		return hs_err(err, -EINVAL, "%s: not a 64-bit ELF (class %u)", name, id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return hs_err(err, -EINVAL, "%s: not little-endian", name);
	if (len < sizeof(Elf64_Ehdr))
		return hs_err(err, -EINVAL, "%s: truncated ELF header (%zu bytes)", name, len);
	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_machine != EM_AARCH64)
		return hs_err(err, -EINVAL, "%s: not an AArch64 ELF (e_machine %u)", name,
			      eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return hs_err(err, -EINVAL, "%s: not an executable (e_type %u)", name, eh.e_type);
	if (eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return hs_err(err, -EINVAL, "%s: program headers beyond the end of the file", name);
	if (eh.e_shoff > len || (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > len - eh.e_shoff)
		return hs_err(err, -EINVAL,
			      "%s: section headers beyond the end of the file: truncated?", name);

	struct hs_image *img = calloc(1, sizeof(*img));
	if (!img)
		return hs_err(err, -ENOMEM, "out of memory");
	img->path = strdup(name);
	img->file = malloc(len);
	if (!img->path || !img->file) {
		hs_image_free(img);
		return hs_err(err, -ENOMEM, "out of memory");
	}
	memcpy(img->file, buf, len);
	img->file_size = len;
	img->entry = eh.e_entry;

	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)img->file, len);
	int rc;
	if (!elf) {
		rc = hs_err(err, -EINVAL, "libelf: %s", elf_errmsg(-1));
		goto fail;
	}
	/* Every section's data must lie inside the file before libelf touches it. */
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh)) {
			rc = hs_err(err, -EINVAL, "bad section header: %s", elf_errmsg(-1));
			goto fail_elf;
		}
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)) {
			rc = hs_err(err, -EINVAL,
				    "section %zu data [%#lx, +%#lx) beyond the end of the file: "
				    "truncated ELF?",
				    elf_ndxscn(scn), (unsigned long)sh.sh_offset,
				    (unsigned long)sh.sh_size);
			goto fail_elf;
		}
	}
	if ((rc = load_segments(img, elf, err)) || (rc = load_symbols_and_relocs(img, elf, err)) ||
	    (rc = load_lines(img, elf, err)))
		goto fail_elf;
	if ((rc = load_build_id(img, elf, err)))
		goto fail_elf;
	elf_end(elf);
	*out = img;
	return 0;
fail_elf:
	elf_end(elf);
fail:
	hs_err_prefix(err, "%s", name);
	hs_image_free(img);
	return rc;
}

int hs_image_load(const char *path, struct hs_image **out, struct hs_error *err)
{
	*out = NULL;
	void *buf;
	size_t n;
	int rc = hs_read_regular(path, HS_IMAGE_MAX_SIZE, &buf, &n, err);
	if (rc)
		return rc;
	rc = hs_image_load_mem(buf, n, path, out, err);
	free(buf);
	return rc;
}

const struct hs_symbol *hs_image_symbolize(const struct hs_image *img, uint64_t addr,
					   uint64_t *offset)
{
	if (!img || !img->nsyms || addr < img->link_base || addr >= img->link_end + 0x1000)
		return NULL;
	size_t lo = 0, hi = img->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (img->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	size_t i = lo - 1;
	/* Walk back to the preferred symbol at this address. */
	while (i > 0 && img->syms[i - 1].addr == img->syms[i].addr)
		i--;
	const struct hs_symbol *s = &img->syms[i];
	if (offset)
		*offset = addr - s->addr;
	return s;
}

/* The first symbol called name in the name index (the lowest address of equal names). */
static size_t name_lower_bound(const struct hs_image *img, const char *name)
{
	size_t lo = 0, hi = img->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(img->syms_by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct hs_symbol *symbol_exact(const struct hs_image *img, const char *name)
{
	size_t i = name_lower_bound(img, name);
	return i < img->nsyms && !strcmp(img->syms_by_name[i]->name, name) ? img->syms_by_name[i]
									   : NULL;
}

#define LINUX_HYP_PREFIX "__kvm_nvhe_"

const struct hs_symbol *hs_image_symbol(const struct hs_image *img, const char *name)
{
	if (!img)
		return NULL;
	const struct hs_symbol *s = symbol_exact(img, name);
	if (s || !strncmp(name, LINUX_HYP_PREFIX, strlen(LINUX_HYP_PREFIX)) || strlen(name) > 200)
		return s;
	char buf[256];
	snprintf(buf, sizeof(buf), LINUX_HYP_PREFIX "%s", name);
	return symbol_exact(img, buf);
}

size_t hs_image_symbols_named(const struct hs_image *img, const char *name,
			      const struct hs_symbol **out, size_t max)
{
	const struct hs_symbol *s = hs_image_symbol(img, name);
	if (!s)
		return 0;
	size_t lo = name_lower_bound(img, s->name), n = 0;
	for (; lo < img->nsyms && !strcmp(img->syms_by_name[lo]->name, s->name); lo++)
		if (n < max)
			out[n++] = img->syms_by_name[lo];
	return n;
}

const char *hs_image_source_name(const char *sym)
{
	size_t n = strlen(LINUX_HYP_PREFIX);
	return strncmp(sym, LINUX_HYP_PREFIX, n) ? sym : sym + n;
}

const void *hs_image_section(const struct hs_image *img, const char *name, size_t *len)
{
	/* The headers were checked to lie inside the file when the image was loaded. */
	Elf64_Ehdr eh;
	memcpy(&eh, img->file, sizeof(eh));
	if (eh.e_shstrndx >= eh.e_shnum)
		return NULL;
	Elf64_Shdr strs;
	memcpy(&strs, img->file + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(Elf64_Shdr),
	       sizeof(strs));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img->file + eh.e_shoff + (uint64_t)i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_type == SHT_NOBITS || !sh.sh_size || sh.sh_name >= strs.sh_size)
			continue;
		const char *n = (const char *)img->file + strs.sh_offset + sh.sh_name;
		size_t room = strs.sh_size - sh.sh_name;
		if (strnlen(n, room) == room || strcmp(n, name))
			continue;
		*len = sh.sh_size;
		return img->file + sh.sh_offset;
	}
	return NULL;
}

const struct hs_line *hs_image_line(const struct hs_image *img, uint64_t addr)
{
	if (!img || !img->nlines)
		return NULL;
	size_t lo = 0, hi = img->nlines;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (img->lines[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/*
	 * gdb's rule: the last row at or before addr; if that is not a statement,
	 * a statement row at the same address wins (GCC's location views put
	 * several rows at one address, the statement first).
	 */
	const struct hs_line *l = &img->lines[lo - 1];
	for (const struct hs_line *t = l; !l->is_stmt && t > img->lines; t--) {
		if (t->is_stmt) {
			l = t;
			break;
		}
		if ((t - 1)->addr != t->addr || (t - 1)->line == 0)
			break;
		if ((t - 1)->is_stmt)
			l = t - 1;
	}
	return l->line ? l : NULL;
}

bool hs_image_names_file(const char *path, const char *name)
{
	size_t n = strlen(path), flen = strlen(name);
	return flen && n >= flen && !strcmp(path + n - flen, name) &&
	       (n == flen || path[n - flen - 1] == '/');
}

const char *hs_image_source_file(const struct hs_image *img, const char *name)
{
	for (size_t i = 0; img && i < img->nfiles; i++)
		if (hs_image_names_file(img->files[i], name))
			return img->files[i];
	return NULL;
}

uint64_t hs_image_line_addr_next(const struct hs_image *img, const char *file, int line, int *got)
{
	int best = 0;
	for (size_t i = 0; img && i < img->nlines; i++) {
		const struct hs_line *l = &img->lines[i];
		if (l->line >= line && l->is_stmt && (!best || l->line < best) &&
		    hs_image_names_file(l->file, file))
			best = l->line;
	}
	if (got)
		*got = best;
	return best ? hs_image_line_addr(img, file, best) : 0;
}

uint64_t hs_image_line_addr(const struct hs_image *img, const char *file, int line)
{
	uint64_t best = 0;
	for (size_t i = 0; img && i < img->nlines; i++) {
		const struct hs_line *l = &img->lines[i];
		if (l->line != line || !l->is_stmt || !hs_image_names_file(l->file, file))
			continue;
		if (!best || l->addr < best)
			best = l->addr;
	}
	return best;
}

void hs_image_kernel(const struct hs_image *img, char *buf, size_t len)
{
	size_t n = 0;
	const char *v = hs_image_section(img, ".hypscope.kernel", &n);
	const char *sp = v ? memchr(v, ' ', n) : NULL;
	if (len)
		*buf = 0;
	if (!sp)
		return;
	size_t vl = 0;
	while (sp + 1 + vl < v + n && sp[1 + vl] > ' ')
		vl++;
	snprintf(buf, len, "Linux %.*s", (int)vl, sp + 1);
}

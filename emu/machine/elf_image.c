/* SPDX-License-Identifier: MIT */
#include "elf_image.h"

#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
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

static int cmp_sym_name(const void *a, const void *b)
{
	const struct hs_symbol *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static int cmp_line(const void *a, const void *b)
{
	const struct hs_line *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
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

static int load_segments(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum))
		return hs_err(err, -EINVAL, "cannot read program headers: %s", elf_errmsg(-1));
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
	return 0;
}

static int load_symbols_and_relocs(struct hs_image *img, Elf *elf, struct hs_error *err)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return hs_err(err, -EINVAL, "cannot read section names: %s", elf_errmsg(-1));
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return hs_err(err, -EINVAL, "bad section header: %s", elf_errmsg(-1));
		if (sh.sh_type == SHT_SYMTAB) {
			Elf_Data *d = elf_getdata(scn, NULL);
			if (!d || !sh.sh_entsize)
				return hs_err(err, -EINVAL, "symbol table unreadable: %s",
					      elf_errmsg(-1));
			size_t n = sh.sh_size / sh.sh_entsize;
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
				if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS)
					continue;
				const char *nm = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (!nm || !*nm || nm[0] == '$' || !strncmp(nm, ".L", 2))
					continue;
				struct hs_symbol *s = &img->syms[img->nsyms];
				s->name = strdup(nm);
				if (!s->name)
					return hs_err(err, -ENOMEM, "out of memory");
				s->addr = sym.st_value;
				s->size = sym.st_size;
				s->is_func = type == STT_FUNC;
				img->nsyms++;
			}
		} else if (sh.sh_type == SHT_RELA) {
			/* Only relocations against allocated (loaded) sections matter. */
			Elf_Scn *target = elf_getscn(elf, sh.sh_info);
			GElf_Shdr tsh;
			if (!target || !gelf_getshdr(target, &tsh) || !(tsh.sh_flags & SHF_ALLOC))
				continue;
			Elf_Data *d = elf_getdata(scn, NULL);
			if (!d || !sh.sh_entsize)
				return hs_err(err, -EINVAL, "relocation section unreadable");
			size_t n = sh.sh_size / sh.sh_entsize;
			for (size_t i = 0; i < n; i++) {
				GElf_Rela r;
				if (!gelf_getrela(d, (int)i, &r))
					return hs_err(err, -EINVAL, "relocation %zu unreadable", i);
				if (GELF_R_TYPE(r.r_info) != R_AARCH64_ABS64)
					continue;
				uint64_t *nr =
				    realloc(img->abs_relocs, (img->nabs_relocs + 1) * sizeof(*nr));
				if (!nr)
					return hs_err(err, -ENOMEM, "out of memory");
				img->abs_relocs = nr;
				img->abs_relocs[img->nabs_relocs++] = r.r_offset;
			}
		}
	}
	(void)shstrndx;
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
			img->lines[img->nlines++] = (struct hs_line){
			    .addr = a, .file = f, .line = end ? 0 : ln, .is_stmt = stmt && !end};
		}
	}
	if (img->nlines)
		qsort(img->lines, img->nlines, sizeof(*img->lines), cmp_line);
out:
	dwarf_end(dw);
	return rc;
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
	FILE *f = fopen(path, "rb");
	if (!f)
		return hs_err(err, -errno, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END)) {
		fclose(f);
		return hs_err(err, -EIO, "%s: cannot seek", path);
	}
	long sz = ftell(f);
	rewind(f);
	if (sz < 0 || sz > (1L << 30)) {
		fclose(f);
		return hs_err(err, -EINVAL, "%s: unusable size", path);
	}
	void *buf = malloc(sz ? (size_t)sz : 1);
	if (!buf) {
		fclose(f);
		return hs_err(err, -ENOMEM, "out of memory");
	}
	size_t n = fread(buf, 1, (size_t)sz, f);
	fclose(f);
	int rc = hs_image_load_mem(buf, n, path, out, err);
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

const struct hs_symbol *hs_image_symbol(const struct hs_image *img, const char *name)
{
	if (!img)
		return NULL;
	size_t lo = 0, hi = img->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(img->syms_by_name[mid]->name, name);
		if (!c)
			return img->syms_by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
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
	const struct hs_line *l = &img->lines[lo - 1];
	return l->line ? l : NULL;
}

uint64_t hs_image_line_addr(const struct hs_image *img, const char *file, int line)
{
	size_t flen = strlen(file);
	uint64_t best = 0;
	for (size_t i = 0; img && i < img->nlines; i++) {
		const struct hs_line *l = &img->lines[i];
		if (l->line != line || !l->is_stmt)
			continue;
		size_t n = strlen(l->file);
		if (n < flen || strcmp(l->file + n - flen, file) ||
		    (n > flen && l->file[n - flen - 1] != '/'))
			continue;
		if (!best || l->addr < best)
			best = l->addr;
	}
	return best;
}

/* SPDX-License-Identifier: MIT */
#include "machine_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "checkpoint_priv.h"
#include "machine_priv.h"
#include "ram_scan.h"
#include "write_log.h"

#define MAGIC "HSMACHIN"
#define ZSTD_LEVEL 3
#define MAX_SYSREGS 256
#define MAX_PART_BYTES (64u << 20) /* a part's section: the session's console is the largest */

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "saved machines are little-endian");

/* The header, at offset 0, uncompressed (docs/time-travel.md). */
struct file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t ram_base, ram_size;
	uint32_t nr_cpus, hyp_va_bits;
	uint64_t image_hash; /* FNV-1a 64 of the hypervisor's ELF file */
	char build_id[136];
	uint64_t icount;
	uint64_t nr_pages;
	uint64_t payload_size; /* bytes of the zstd frame after the header */
	uint64_t payload_hash; /* FNV-1a 64 of those bytes */
	uint64_t raw_size;     /* bytes of the records once decompressed */
	char image_name[64];   /* version 2: "linux-7.elf (Linux 7.2.13-1)", for messages */
	uint64_t header_hash;  /* FNV-1a 64 of every byte before this field */
};
_Static_assert(sizeof(struct file_header) == 296, "the documented header is 296 bytes");

/* Records in the payload: u32 tag, u32 zero, u64 length, then length bytes. */
#define TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_MACHINE TAG('M', 'A', 'C', 'H')
#define TAG_CPU TAG('C', 'P', 'U', ' ')
#define TAG_PART TAG('P', 'A', 'R', 'T')
#define TAG_PAGE TAG('P', 'A', 'G', 'E')
#define TAG_END TAG('E', 'N', 'D', ' ')

struct rec_head {
	uint32_t tag, zero;
	uint64_t len;
};

struct mach_rec {
	uint32_t cur, flags; /* bit 0: an operation is pending, bit 1: it was refused */
	uint32_t op_cpu, uart_len;
	uint64_t op_ret_pc, op_esr_el1, op_far_el1;
	uint32_t stop_reason, stop_cpu;
	uint64_t stop_pc;
	int64_t stop_bp;
	char uart_line[512];
};

/* One CPU: the documented registers, then Unicorn's context. */
struct cpu_rec {
	uint32_t idx, flags; /* bit 0 online, 1 powered off, 2 power-on pending */
	uint64_t icount, power_on_entry, power_on_ctx;
	uint64_t x[31], sp_el0, sp_el1, sp_el2, pc, pstate, fpsr, fpcr;
	uint64_t v[32][2];
	uint32_t nr_sysregs, ctx_size;
};
struct sysreg_rec {
	uint8_t op0, op1, crn, crm, op2, pad[3];
	uint64_t value;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

static uint64_t header_hash(const struct file_header *h)
{
	return fnv(FNV_INIT, h, offsetof(struct file_header, header_hash));
}

static uint64_t image_hash(const struct hs_machine *m)
{
	return fnv(FNV_INIT, m->img->file, m->img->file_size);
}

/* The image's file name, and the kernel whose hypervisor it is (Linux's object). */
static void image_name(const struct hs_image *img, char *buf, size_t len)
{
	const char *base = strrchr(img->path, '/');
	char kernel[48];
	hs_image_kernel(img, kernel, sizeof(kernel));
	snprintf(buf, len, *kernel ? "%s (%s)" : "%s", base ? base + 1 : img->path, kernel);
}

/* ---- writing ---------------------------------------------------------------- */

struct zout {
	ZSTD_CCtx *cc;
	FILE *f;
	uint8_t buf[1 << 16];
	uint64_t hash, written, raw;
	int err; /* errno of the first failure */
};

static void zout_emit(struct zout *z, ZSTD_EndDirective mode, const void *p, size_t n)
{
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {z->buf, sizeof(z->buf), 0};
		size_t left = ZSTD_compressStream2(z->cc, &out, &in, mode);
		if (ZSTD_isError(left)) {
			z->err = z->err ? z->err : EIO;
			return;
		}
		if (out.pos) {
			z->hash = fnv(z->hash, z->buf, out.pos);
			z->written += out.pos;
			if (fwrite(z->buf, 1, out.pos, z->f) != out.pos)
				z->err = z->err ? z->err : errno ? errno : EIO;
		}
		if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
			return;
	}
}

static void zout_write(struct zout *z, const void *p, size_t n)
{
	z->raw += n;
	if (!z->err)
		zout_emit(z, ZSTD_e_continue, p, n);
}

static void put_rec(struct zout *z, uint32_t tag, const void *p, size_t n)
{
	struct rec_head h = {tag, 0, n};
	zout_write(z, &h, sizeof(h));
	zout_write(z, p, n);
}

static void write_machine(struct zout *z, struct hs_machine *m)
{
	struct mach_rec r = {.cur = m->cur,
			     .flags = (m->op.pending ? 1u : 0) | (m->op.refused ? 2u : 0),
			     .op_cpu = m->op.cpu,
			     .uart_len = (uint32_t)m->uart_len,
			     .op_ret_pc = m->op.ret_pc,
			     .op_esr_el1 = m->op.esr_el1,
			     .op_far_el1 = m->op.far_el1,
			     .stop_reason = m->last_stop.reason,
			     .stop_cpu = m->last_stop.cpu,
			     .stop_pc = m->last_stop.pc,
			     .stop_bp = m->last_stop.bp_id};
	memcpy(r.uart_line, m->uart_line, sizeof(r.uart_line));
	put_rec(z, TAG_MACHINE, &r, sizeof(r));
}

static int write_cpu(struct zout *z, struct hs_cpu *c, struct hs_error *err)
{
	size_t ctx_size = uc_context_size(c->uc);
	uc_context *ctx;
	uc_err e = uc_context_alloc(c->uc, &ctx);
	if (!e && (e = uc_context_save(c->uc, ctx)))
		uc_context_free(ctx);
	if (e)
		return hs_err(err, -EIO, "cpu%u: cannot save its context: %s", c->idx,
			      uc_strerror(e));
	struct cpu_rec r = {.idx = c->idx,
			    .flags = (c->online ? 1u : 0) | (c->powered_off ? 2u : 0) |
				     (c->power_on_pending ? 4u : 0),
			    .icount = c->icount,
			    .power_on_entry = c->power_on_entry,
			    .power_on_ctx = c->power_on_ctx,
			    .pc = hs_cpu_reg(c, UC_ARM64_REG_PC),
			    .pstate = hs_cpu_reg(c, UC_ARM64_REG_PSTATE),
			    .sp_el0 = hs_cpu_reg(c, UC_ARM64_REG_SP_EL0),
			    .sp_el1 = hs_cpu_reg(c, UC_ARM64_REG_SP_EL1),
			    .sp_el2 = hs_cpu_reg(c, UC_ARM64_REG_SP_EL2),
			    .nr_sysregs = HS_SR_COUNT,
			    .ctx_size = (uint32_t)ctx_size};
	for (int i = 0; i < 31; i++)
		r.x[i] = hs_cpu_reg(c, i < 29	 ? UC_ARM64_REG_X0 + i
				       : i == 29 ? UC_ARM64_REG_X29
						 : UC_ARM64_REG_X30);
	uint64_t v[2];
	hs_cpu_reg_read(c->m, c->idx, HS_CPU_REG_FPSR, v);
	r.fpsr = v[0];
	hs_cpu_reg_read(c->m, c->idx, HS_CPU_REG_FPCR, v);
	r.fpcr = v[0];
	for (unsigned i = 0; i < 32; i++)
		hs_cpu_reg_read(c->m, c->idx, HS_CPU_REG_V0 + i, r.v[i]);
	struct sysreg_rec sr[HS_SR_COUNT];
	for (unsigned i = 0; i < HS_SR_COUNT; i++) {
		const struct hs_sysreg_desc *d = hs_sysreg_desc((enum hs_sysreg)i);
		sr[i] = (struct sysreg_rec){.op0 = d->op0,
					    .op1 = d->op1,
					    .crn = d->crn,
					    .crm = d->crm,
					    .op2 = d->op2,
					    .value = hs_cpu_sr(c, (enum hs_sysreg)i)};
	}
	struct rec_head h = {TAG_CPU, 0, sizeof(r) + sizeof(sr) + ctx_size};
	zout_write(z, &h, sizeof(h));
	zout_write(z, &r, sizeof(r));
	zout_write(z, sr, sizeof(sr));
	zout_write(z, ctx, ctx_size);
	uc_context_free(ctx);
	return 0;
}

static int write_parts(struct zout *z, struct hs_machine *m, struct hs_error *err)
{
	struct hs_ckpt_store *s = m->ckpt;
	for (unsigned i = 0; s && i < s->nparts; i++) {
		const struct hs_ckpt_part *p = s->parts[i].p;
		if (!p->encode)
			continue;
		struct hs_bytes b = {0};
		char name[16] = {0};
		uint64_t len = 0;
		snprintf(name, sizeof(name), "%s", p->name);
		hs_bytes_put(&b, name, sizeof(name));
		hs_bytes_put(&b, &len, sizeof(len)); /* filled below */
		int rc = p->encode(s->parts[i].ud, &b, err);
		static const uint8_t pad[8];
		if (!b.oom) {
			len = b.len - 24;
			memcpy(b.p + 16, &len, sizeof(len));
			hs_bytes_put(&b, pad, (8 - b.len % 8) % 8);
		}
		if (!rc && b.oom)
			rc = hs_err(err, -ENOMEM, "out of memory saving the %s", p->name);
		if (!rc && b.len > MAX_PART_BYTES)
			rc = hs_err(err, -EFBIG, "the %s's state is too large to save", p->name);
		if (!rc)
			put_rec(z, TAG_PART, b.p, b.len);
		hs_bytes_free(&b);
		if (rc)
			return rc;
	}
	return 0;
}

static int write_ram(struct zout *z, struct hs_machine *m, uint64_t *nr_pages, struct hs_error *err)
{
	uint64_t *pa;
	size_t nr;
	if (hs_ram_scan(m, true, &pa, &nr))
		return hs_err(err, -ENOMEM, "out of memory listing RAM pages");
	for (size_t i = 0; i < nr && !z->err; i++) {
		struct rec_head h = {TAG_PAGE, 0, 8 + HS_PAGE_SIZE};
		zout_write(z, &h, sizeof(h));
		zout_write(z, &pa[i], 8);
		zout_write(z, m->ram + (pa[i] - m->opts.ram_base), HS_PAGE_SIZE);
	}
	*nr_pages = nr;
	free(pa);
	return 0;
}

static void fill_info(const struct file_header *h, uint64_t bytes, struct hs_machine_file_info *o)
{
	if (!o)
		return;
	*o = (struct hs_machine_file_info){.version = h->version,
					   .ram_base = h->ram_base,
					   .ram_size = h->ram_size,
					   .nr_cpus = h->nr_cpus,
					   .hyp_va_bits = h->hyp_va_bits,
					   .icount = h->icount,
					   .pages = h->nr_pages,
					   .bytes = bytes};
	memcpy(o->build_id, h->build_id, sizeof(o->build_id));
	o->build_id[sizeof(o->build_id) - 1] = 0;
}

static int save_body(struct hs_machine *m, struct zout *z, struct file_header *h,
		     struct hs_error *err)
{
	write_machine(z, m);
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		int rc = write_cpu(z, &m->cpus[i], err);
		if (rc)
			return rc;
	}
	int rc = write_parts(z, m, err);
	if (!rc)
		rc = write_ram(z, m, &h->nr_pages, err);
	if (rc)
		return rc;
	put_rec(z, TAG_END, NULL, 0);
	if (!z->err)
		zout_emit(z, ZSTD_e_end, NULL, 0);
	return 0;
}

int hs_machine_save(struct hs_machine *m, const char *path, struct hs_machine_file_info *info,
		    struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM,
			      "this machine is a memory dump: `dump ram` already is its file");
	if (m->dead)
		return hs_err(err, -EPERM,
			      "the machine cannot run any more (a fault at EL2, or killed): there "
			      "is nothing to continue from; `dump ram` and `dump sysregs` keep it "
			      "for inspection");
	struct file_header h = {.version = HS_MACHINE_FILE_VERSION,
				.header_size = sizeof(h),
				.ram_base = m->opts.ram_base,
				.ram_size = m->opts.ram_size,
				.nr_cpus = m->nr_cpus,
				.hyp_va_bits = m->opts.hyp_va_bits,
				.image_hash = image_hash(m),
				.icount = hs_machine_icount(m)};
	memcpy(h.magic, MAGIC, 8);
	snprintf(h.build_id, sizeof(h.build_id), "%s", m->img->build_id);
	image_name(m->img, h.image_name, sizeof(h.image_name));
	size_t tlen = strlen(path) + 16;
	char *tmp = malloc(tlen);
	if (!tmp)
		return hs_err(err, -ENOMEM, "out of memory");
	snprintf(tmp, tlen, "%s.tmp%d", path, (int)getpid());
	struct zout *z = calloc(1, sizeof(*z));
	FILE *f = fopen(tmp, "wbx");
	int rc = 0;
	if (!z || !f) {
		rc = z ? hs_err(err, -errno, "%s: %s", tmp, strerror(errno))
		       : hs_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	z->f = f;
	z->hash = FNV_INIT;
	z->cc = ZSTD_createCCtx();
	if (!z->cc ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1))) {
		rc = hs_err(err, -ENOMEM, "cannot set up zstd compression");
		goto out;
	}
	if (fwrite(&h, sizeof(h), 1, f) != 1) { /* a placeholder, written again at the end */
		rc = hs_err(err, -EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((rc = save_body(m, z, &h, err)))
		goto out;
	h.payload_size = z->written;
	h.payload_hash = z->hash;
	h.raw_size = z->raw;
	h.header_hash = header_hash(&h);
	if (z->err || fseek(f, 0, SEEK_SET) || fwrite(&h, sizeof(h), 1, f) != 1 || fflush(f) ||
	    fsync(fileno(f))) {
		rc = hs_err(err, -EIO, "%s: %s", tmp, strerror(z->err ? z->err : errno));
		goto out;
	}
	if (fclose(f)) {
		f = NULL;
		rc = hs_err(err, -EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		rc = hs_err(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	fill_info(&h, sizeof(h) + h.payload_size, info);
out:
	if (f)
		fclose(f);
	if (rc)
		unlink(tmp);
	if (z)
		ZSTD_freeCCtx(z->cc);
	free(z);
	free(tmp);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static int read_header(int fd, const char *path, struct file_header *h, uint64_t *size,
		       struct hs_error *err)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return hs_err(err, -EINVAL, "%s: not a regular file", path);
	*size = (uint64_t)st.st_size;
	memset(h, 0, sizeof(*h));
	ssize_t n = pread(fd, h, sizeof(*h), 0);
	if (n >= 8 && memcmp(h->magic, MAGIC, 8))
		return hs_err(err, -EINVAL, "%s: not a saved hypscope machine (no %s magic)", path,
			      MAGIC);
	if (n < (ssize_t)sizeof(*h))
		return hs_err(err, -EINVAL,
			      "%s: truncated: %zd bytes, a saved machine's header alone is %zu",
			      path, n < 0 ? 0 : n, sizeof(*h));
	if (h->version > HS_MACHINE_FILE_VERSION)
		return hs_err(err, -EINVAL,
			      "%s: format version %u is newer than this hypscope reads (up to "
			      "%u): load it with a newer hypscope",
			      path, h->version, HS_MACHINE_FILE_VERSION);
	if (h->version && h->version < HS_MACHINE_FILE_VERSION)
		return hs_err(err, -EINVAL,
			      "%s: format version %u is older than the one this hypscope reads "
			      "(%u, docs/time-travel.md): run its scenario again and save anew",
			      path, h->version, HS_MACHINE_FILE_VERSION);
	if (h->version == 0 || h->header_size != sizeof(*h) || h->header_hash != header_hash(h))
		return hs_err(err, -EINVAL, "%s: corrupted: the header's checksum does not match",
			      path);
	if (h->nr_cpus < 1 || h->nr_cpus > HS_MAX_CPUS || h->ram_size % HS_PAGE_SIZE ||
	    h->nr_pages > h->ram_size / HS_PAGE_SIZE)
		return hs_err(err, -EINVAL, "%s: corrupted: impossible machine options", path);
	if (*size < sizeof(*h) + h->payload_size)
		return hs_err(err, -EINVAL,
			      "%s: truncated: %" PRIu64 " bytes, the header says %" PRIu64, path,
			      *size, (uint64_t)sizeof(*h) + h->payload_size);
	if (*size > sizeof(*h) + h->payload_size)
		return hs_err(err, -EINVAL,
			      "%s: corrupted: %" PRIu64 " bytes, the header says %" PRIu64, path,
			      *size, (uint64_t)sizeof(*h) + h->payload_size);
	return 0;
}

int hs_machine_file_peek(const char *path, struct hs_machine_file_info *info, struct hs_error *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hs_err(err, -errno, "%s: %s", path, strerror(errno));
	struct file_header h;
	uint64_t size;
	int rc = read_header(fd, path, &h, &size, err);
	close(fd);
	if (!rc)
		fill_info(&h, size, info);
	return rc;
}

/* The records, checked once before anything is applied. */
struct loaded {
	const struct mach_rec *mach;
	const struct cpu_rec *cpu[HS_MAX_CPUS];
	const uint8_t *ctx[HS_MAX_CPUS];
	const uint8_t *part[HS_CKPT_MAX_PARTS * 2];
	size_t part_len[HS_CKPT_MAX_PARTS * 2], nparts;
	const uint8_t **page; /* each: u64 pa, then the page */
	size_t npages;
};

static int corrupt(struct hs_error *err, const char *path, const char *what)
{
	return hs_err(err, -EINVAL, "%s: corrupted: %s", path, what);
}

static int check_cpu(struct hs_machine *m, struct loaded *L, const uint8_t *p, uint64_t len,
		     const char *path, struct hs_error *err)
{
	if (len < sizeof(struct cpu_rec))
		return corrupt(err, path, "a CPU record is cut short");
	const struct cpu_rec *r = (const void *)p;
	if (r->idx >= m->nr_cpus || L->cpu[r->idx])
		return corrupt(err, path, "a CPU record names no CPU of the machine, or one twice");
	if (r->nr_sysregs > MAX_SYSREGS ||
	    len != sizeof(*r) + r->nr_sysregs * sizeof(struct sysreg_rec) + r->ctx_size)
		return corrupt(err, path, "a CPU record's size does not add up");
	size_t want = uc_context_size(m->cpus[r->idx].uc);
	if (r->ctx_size != want)
		return hs_err(err, -EINVAL,
			      "%s: its CPU state was saved by a libunicorn whose context is %u "
			      "bytes; this one's is %zu (load it with the hypscope build that "
			      "saved it)",
			      path, r->ctx_size, want);
	L->cpu[r->idx] = r;
	L->ctx[r->idx] = p + sizeof(*r) + r->nr_sysregs * sizeof(struct sysreg_rec);
	return 0;
}

static int check_records(struct hs_machine *m, const struct file_header *h, const uint8_t *p,
			 size_t len, struct loaded *L, const char *path, struct hs_error *err)
{
	L->page = calloc(h->nr_pages ? h->nr_pages : 1, sizeof(*L->page));
	if (!L->page)
		return hs_err(err, -ENOMEM, "out of memory");
	size_t off = 0;
	uint64_t last_pa = 0;
	bool end = false;
	while (!end) {
		struct rec_head rh;
		if (len - off < sizeof(rh))
			return corrupt(err, path, "the records end without an END record");
		memcpy(&rh, p + off, sizeof(rh));
		off += sizeof(rh);
		if (rh.zero || rh.len > len - off || rh.len % 8)
			return corrupt(err, path, "a record's length runs past the data");
		const uint8_t *d = p + off;
		off += rh.len;
		switch (rh.tag) {
		case TAG_MACHINE:
			if (rh.len != sizeof(struct mach_rec) || L->mach)
				return corrupt(err, path, "bad machine record");
			L->mach = (const void *)d;
			if (L->mach->cur >= m->nr_cpus || L->mach->op_cpu >= m->nr_cpus ||
			    L->mach->uart_len >= sizeof(L->mach->uart_line))
				return corrupt(err, path, "the machine record names no CPU");
			break;
		case TAG_CPU: {
			int rc = check_cpu(m, L, d, rh.len, path, err);
			if (rc)
				return rc;
			break;
		}
		case TAG_PART: {
			uint64_t plen;
			if (rh.len < 24 || L->nparts == sizeof(L->part) / sizeof(L->part[0]) ||
			    memchr(d, 0, 16) == NULL)
				return corrupt(err, path, "bad part record");
			memcpy(&plen, d + 16, 8);
			if (plen > rh.len - 24 || rh.len - 24 - plen >= 8)
				return corrupt(err, path, "a part record's length does not add up");
			L->part[L->nparts] = d;
			L->part_len[L->nparts++] = plen;
			break;
		}
		case TAG_PAGE: {
			uint64_t pa;
			if (rh.len != 8 + HS_PAGE_SIZE || L->npages == h->nr_pages)
				return corrupt(err, path, "more RAM pages than the header says");
			memcpy(&pa, d, 8);
			if (pa % HS_PAGE_SIZE || pa < m->opts.ram_base ||
			    pa - m->opts.ram_base >= m->opts.ram_size ||
			    (L->npages && pa <= last_pa))
				return corrupt(err, path, "a RAM page outside RAM or out of order");
			last_pa = pa;
			L->page[L->npages++] = d;
			break;
		}
		case TAG_END:
			end = true;
			break;
		default:
			return corrupt(err, path, "a record of an unknown kind");
		}
	}
	if (off != len || !L->mach || L->npages != h->nr_pages)
		return corrupt(err, path, "records missing or left over");
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (!L->cpu[i])
			return corrupt(err, path, "a CPU's record is missing");
	return 0;
}

/* The whole payload, its hash checked, decompressed. */
static int read_payload(int fd, const struct file_header *h, const char *path,
			const struct hs_machine *m, uint8_t **raw, struct hs_error *err)
{
	/* Bound the decompressed size by what the header's machine can hold. */
	uint64_t bound = h->nr_pages * (sizeof(struct rec_head) + 8 + HS_PAGE_SIZE) +
			 m->nr_cpus * (1u << 20) + HS_CKPT_MAX_PARTS * 2ULL * MAX_PART_BYTES;
	if (h->raw_size > bound || h->payload_size > bound)
		return corrupt(err, path, "the header's sizes are impossible");
	uint8_t *z = malloc(h->payload_size ? h->payload_size : 1);
	uint8_t *r = malloc(h->raw_size ? h->raw_size : 1);
	int rc = 0;
	if (!z || !r) {
		rc = hs_err(err, -ENOMEM, "%s: out of memory for %" PRIu64 " bytes", path,
			    h->raw_size);
		goto out;
	}
	ssize_t n = pread(fd, z, h->payload_size, sizeof(*h));
	if (n != (ssize_t)h->payload_size) {
		rc = hs_err(err, -EIO, "%s: truncated while reading", path);
		goto out;
	}
	if (fnv(FNV_INIT, z, h->payload_size) != h->payload_hash) {
		rc = corrupt(err, path, "the payload's checksum does not match");
		goto out;
	}
	size_t got = ZSTD_decompress(r, h->raw_size, z, h->payload_size);
	if (ZSTD_isError(got) || got != h->raw_size) {
		rc = corrupt(err, path,
			     "the payload does not decompress to the size the header says");
		goto out;
	}
out:
	free(z);
	if (rc)
		free(r);
	else
		*raw = r;
	return rc;
}

static int find_part(const struct hs_ckpt_store *s, const char *name)
{
	for (unsigned i = 0; s && i < s->nparts; i++)
		if (s->parts[i].p->decode && !strcmp(s->parts[i].p->name, name))
			return (int)i;
	return -1;
}

static void apply_ram(struct hs_machine *m, const struct loaded *L)
{
	uint64_t *pa;
	size_t nr;
	/* Pages the fresh machine wrote (image, host code) that the file does not have: zero. */
	if (!hs_ram_scan(m, true, &pa, &nr)) {
		size_t j = 0;
		for (size_t i = 0; i < nr; i++) {
			uint64_t fpa = 0;
			while (j < L->npages && (memcpy(&fpa, L->page[j], 8), fpa < pa[i]))
				j++;
			if (j < L->npages && fpa == pa[i])
				continue;
			memset(m->ram + (pa[i] - m->opts.ram_base), 0, HS_PAGE_SIZE);
			hs_write_log_mark(m, pa[i], HS_PAGE_SIZE);
		}
		free(pa);
	}
	for (size_t i = 0; i < L->npages; i++) {
		uint64_t p;
		memcpy(&p, L->page[i], 8);
		memcpy(m->ram + (p - m->opts.ram_base), L->page[i] + 8, HS_PAGE_SIZE);
		hs_write_log_mark(m, p, HS_PAGE_SIZE);
	}
	for (unsigned i = 0; i < m->nr_cpus; i++)
		hs_quirk_drop_code(m->cpus[i].uc, 0, m->opts.ram_size);
}

static int apply_cpus(struct hs_machine *m, const struct loaded *L, struct hs_error *err)
{
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		const struct cpu_rec *r = L->cpu[i];
		uc_context *ctx;
		uc_err e = uc_context_alloc(c->uc, &ctx);
		if (e)
			return hs_err(err, -ENOMEM, "cpu%u: %s", i, uc_strerror(e));
		memcpy(ctx, L->ctx[i], r->ctx_size);
		e = uc_context_restore(c->uc, ctx);
		uc_context_free(ctx);
		if (e)
			return hs_err(err, -EIO, "cpu%u: cannot restore its context: %s", i,
				      uc_strerror(e));
		hs_quirk_tlbi_all(c->uc);
		hs_cpu_set_sr(c, HS_SR_HCR_EL2, hs_cpu_sr(c, HS_SR_HCR_EL2));
		c->icount = r->icount;
		c->online = r->flags & 1;
		c->powered_off = r->flags & 2;
		c->power_on_pending = r->flags & 4;
		c->power_on_entry = r->power_on_entry;
		c->power_on_ctx = r->power_on_ctx;
		c->stop = HS_STOP_NONE;
		hs_dbg_note_stopped(c); /* as stopped where it was: resuming steps over */
	}
	return 0;
}

static void apply_machine(struct hs_machine *m, const struct mach_rec *r)
{
	m->cur = r->cur;
	m->op = (struct hs_machine_op){.pending = r->flags & 1,
				       .cpu = r->op_cpu,
				       .ret_pc = r->op_ret_pc,
				       .refused = r->flags & 2,
				       .esr_el1 = r->op_esr_el1,
				       .far_el1 = r->op_far_el1};
	m->last_stop = (struct hs_stop){.reason = r->stop_reason <= HS_STOP_INTERRUPTED
						      ? (enum hs_stop_reason)r->stop_reason
						      : HS_STOP_NONE,
					.cpu = r->stop_cpu < m->nr_cpus ? r->stop_cpu : 0,
					.pc = r->stop_pc,
					.bp_id = (int)r->stop_bp};
	memcpy(m->uart_line, r->uart_line, sizeof(m->uart_line));
	m->uart_len = r->uart_len;
}

static int check_image(const struct hs_machine *m, const struct file_header *h, const char *path,
		       struct hs_error *err)
{
	if (h->image_hash != image_hash(m)) {
		char bid[sizeof(h->build_id)], name[sizeof(h->image_name)], mine[64];
		memcpy(bid, h->build_id, sizeof(bid));
		bid[sizeof(bid) - 1] = 0;
		memcpy(name, h->image_name, sizeof(name));
		name[sizeof(name) - 1] = 0;
		image_name(m->img, mine, sizeof(mine));
		return hs_err(err, -EINVAL,
			      "%s: saved from another hypervisor image, %s (build-id %s); this "
			      "one is %s (build-id %s, %s): give its --hyp",
			      path, *name ? name : "unnamed", *bid ? bid : "none", mine,
			      *m->img->build_id ? m->img->build_id : "none", m->img->path);
	}
	if (h->ram_base != m->opts.ram_base || h->ram_size != m->opts.ram_size ||
	    h->nr_cpus != m->nr_cpus || h->hyp_va_bits != m->opts.hyp_va_bits)
		return hs_err(err, -EINVAL,
			      "%s: a machine of %u CPUs, RAM %#" PRIx64 "+%#" PRIx64
			      ", %u-bit HYP VAs; this one differs (--load takes the file's)",
			      path, h->nr_cpus, h->ram_base, h->ram_size, h->hyp_va_bits);
	return 0;
}

static int load(struct hs_machine *m, const char *path, bool parts_only, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM, "a memory dump cannot be loaded into");
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hs_err(err, -errno, "%s: %s", path, strerror(errno));
	struct file_header h;
	uint64_t size;
	uint8_t *raw = NULL;
	struct loaded L = {0};
	int rc = read_header(fd, path, &h, &size, err);
	if (!rc)
		rc = check_image(m, &h, path, err);
	if (!rc)
		rc = read_payload(fd, &h, path, m, &raw, err);
	close(fd);
	if (!rc)
		rc = check_records(m, &h, raw, h.raw_size, &L, path, err);
	if (rc)
		goto out;
	/* Checked: from here on only the parts' own checks can refuse. */
	struct hs_ckpt_store *s = m->ckpt;
	for (size_t i = 0; i < L.nparts && !rc; i++) {
		int k = find_part(s, (const char *)L.part[i]);
		if (k >= 0)
			rc = s->parts[k].p->decode(s->parts[k].ud, L.part[i] + 24, L.part_len[i],
						   err);
	}
	if (rc || parts_only)
		goto out;
	apply_ram(m, &L);
	if ((rc = apply_cpus(m, &L, err)))
		goto out;
	hs_write_log_forget_translations(m);
	apply_machine(m, L.mach);
out:
	free(L.page);
	free(raw);
	return rc;
}

int hs_machine_load(struct hs_machine *m, const char *path, struct hs_error *err)
{
	return load(m, path, false, err);
}

int hs_machine_load_parts(struct hs_machine *m, const char *path, struct hs_error *err)
{
	return load(m, path, true, err);
}

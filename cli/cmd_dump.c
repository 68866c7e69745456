/* SPDX-License-Identifier: MIT */
/*
 * `dump ram FILE` and `dump sysregs FILE`: a machine's physical memory and
 * its CPUs' registers as files, and reading them back for
 * `hypscope inspect --hyp IMAGE --ram FILE[@BASE] --sysregs FILE.json`, which
 * inspects the machine they describe without running anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json_read.h"
#include "machine.h"

#define CPUS_FORMAT "hypscope-cpus"
#define CPUS_VERSION 1
#define DUMP_CHUNK (64 * 1024)
#define MAX_SYSREGS_FILE (1 << 20)

/* RAM as a sparse file: chunks of zeros become holes. */
static int dump_ram(struct cli *c, const char *path)
{
	const struct hs_machine_opts *o = hs_machine_opts(c->m);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_error(c, "dump ram: %s: %s", path, strerror(errno));
	static const uint8_t zero[DUMP_CHUNK];
	int rc = ftruncate(fd, (off_t)o->ram_size);
	uint64_t written = 0;
	for (uint64_t off = 0; !rc && off < o->ram_size; off += DUMP_CHUNK) {
		const uint8_t *p = hs_phys_ptr(c->m, o->ram_base + off, DUMP_CHUNK);
		if (!p || !memcmp(p, zero, DUMP_CHUNK))
			continue;
		if (pwrite(fd, p, DUMP_CHUNK, (off_t)off) != DUMP_CHUNK)
			rc = -1;
		written += DUMP_CHUNK;
	}
	if (rc || close(fd))
		return cli_error(c, "dump ram: %s: %s", path, strerror(errno));
	if (!c->json)
		printf("dump ram: %s: %#" PRIx64 " bytes from PA %#" PRIx64 " (%" PRIu64
		       " KiB not zero); inspect it with\n  hypscope inspect --hyp %s --ram "
		       "%s@%#" PRIx64 " --sysregs FILE.json\n",
		       path, o->ram_size, o->ram_base, written / 1024, o->hyp_elf, path,
		       o->ram_base);
	return 0;
}

static void cpu_json(struct hs_strbuf *sb, struct hs_machine *m, unsigned cpu)
{
	struct hs_cpu_state st;
	hs_cpu_state(m, cpu, &st);
	hs_sb_printf(sb,
		     "{\"cpu\":%u,\"online\":%s,\"pc\":\"0x%" PRIx64 "\",\"sp\":\"0x%" PRIx64
		     "\",\"pstate\":\"0x%" PRIx64 "\",\"icount\":%" PRIu64 ",\"x\":[",
		     cpu, st.online ? "true" : "false", st.pc, st.sp, st.pstate, st.icount);
	for (int i = 0; i < 31; i++)
		hs_sb_printf(sb, "%s\"0x%" PRIx64 "\"", i ? "," : "", st.x[i]);
	hs_sb_puts(sb, "],\"sysregs\":{");
	for (int r = 0; r < HS_SR_COUNT; r++) {
		uint64_t v = 0;
		hs_cpu_sysreg(m, cpu, r, &v);
		hs_sb_printf(sb, "%s\"%s\":\"0x%" PRIx64 "\"", r ? "," : "",
			     hs_sysreg_desc(r)->name, v);
	}
	hs_sb_puts(sb, "}}");
}

static int dump_sysregs(struct cli *c, const char *path)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_sb_printf(&sb, "{\"format\":\"%s\",\"version\":%d,\"current\":%u,\"cpus\":[\n",
		     CPUS_FORMAT, CPUS_VERSION, hs_current_cpu(c->m));
	for (unsigned i = 0; i < hs_nr_cpus(c->m); i++) {
		hs_sb_puts(&sb, i ? ",\n" : "");
		cpu_json(&sb, c->m, i);
	}
	hs_sb_puts(&sb, "\n]}\n");
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(hs_sb_str(&sb), f) >= 0;
	if (f && fclose(f))
		ok = false;
	hs_sb_free(&sb);
	if (!ok)
		return cli_error(c, "dump sysregs: %s: %s", path, strerror(errno));
	if (!c->json)
		printf("dump sysregs: %s: %u CPU(s)\n", path, hs_nr_cpus(c->m));
	return 0;
}

int cmd_dump(struct cli *c, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "ram"))
		return dump_ram(c, argv[2]);
	if (!strcmp(argv[1], "sysregs"))
		return dump_sysregs(c, argv[2]);
	return cli_error(c, "dump: unknown '%s': give ram FILE or sysregs FILE", argv[1]);
}

/* ---- reading them back ---------------------------------------------------- */

static char *read_text(const char *path, char *err, size_t len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_SYSREGS_FILE) {
		snprintf(err, len, "%s: %s", path,
			 S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file");
		close(fd);
		return NULL;
	}
	char *text = malloc((size_t)st.st_size + 1);
	ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(text);
		snprintf(err, len, "%s: cannot read it", path);
		return NULL;
	}
	text[n] = '\0';
	if (memchr(text, '\0', (size_t)n)) {
		free(text);
		snprintf(err, len, "%s: not a text file", path);
		return NULL;
	}
	return text;
}

static bool reg_field(const struct json_val *cpu, const char *name, uint64_t *out, const char *path,
		      char *err, size_t len)
{
	const struct json_val *v = json_get(cpu, name);
	if (!v)
		return true;
	if (json_u64(v, out))
		return true;
	snprintf(err, len, "%s: \"%s\" is not a non-negative integer", path, name);
	return false;
}

/* One CPU: a {"NAME": value} object of system registers, or a "cpus" entry. */
static bool load_cpu(const struct json_val *cpu, struct hs_dump_cpu *d, const char *path, char *err,
		     size_t len)
{
	const struct json_val *regs = json_get(cpu, "sysregs");
	const struct json_val *flat = regs ? regs : cpu;
	bool any = false;
	for (size_t i = 0; i < flat->n; i++) {
		int r = hs_sysreg_by_name(flat->items[i].key);
		if (r < 0) {
			if (regs) {
				snprintf(err, len, "%s: unknown system register \"%s\"", path,
					 flat->items[i].key);
				return false;
			}
			continue; /* a flat object may carry other keys */
		}
		if (!json_u64(flat->items[i].val, &d->sr[r])) {
			snprintf(err, len, "%s: %s is not a non-negative integer", path,
				 flat->items[i].key);
			return false;
		}
		any = true;
	}
	if (!any) {
		snprintf(err, len, "%s: no system registers in it", path);
		return false;
	}
	const struct json_val *online = json_get(cpu, "online");
	d->online = !online || online->boolean;
	if (!reg_field(cpu, "pc", &d->pc, path, err, len) ||
	    !reg_field(cpu, "sp", &d->sp, path, err, len) ||
	    !reg_field(cpu, "pstate", &d->pstate, path, err, len) ||
	    !reg_field(cpu, "icount", &d->icount, path, err, len))
		return false;
	const struct json_val *x = json_get(cpu, "x");
	for (size_t i = 0; x && x->type == JSON_ARRAY && i < x->n && i < 31; i++)
		if (!json_u64(x->items[i].val, &d->x[i])) {
			snprintf(err, len, "%s: x%zu is not a non-negative integer", path, i);
			return false;
		}
	return true;
}

/* The dump's next CPU slot; NULL with a message when every slot is taken. */
static struct hs_dump_cpu *next_cpu(struct hs_dump *d, const char *path, char *err, size_t len)
{
	if (d->nr_cpus < HS_MAX_CPUS)
		return &d->cpu[d->nr_cpus++];
	snprintf(err, len, "%s: more than %d CPUs", path, HS_MAX_CPUS);
	return NULL;
}

static bool load_sysregs_file(const char *path, struct hs_dump *d, char *err, size_t len)
{
	char *text = read_text(path, err, len);
	if (!text)
		return false;
	char perr[200];
	struct json_val *root = json_parse(text, perr, sizeof(perr));
	free(text);
	if (!root) {
		snprintf(err, len, "%s:%s", path, perr);
		return false;
	}
	bool ok = true;
	const struct json_val *cpus = json_get(root, "cpus");
	if (root->type != JSON_OBJECT) {
		snprintf(err, len, "%s: expected a JSON object", path);
		ok = false;
	} else if (cpus) {
		const struct json_val *ver = json_get(root, "version");
		uint64_t v = 0, cur = 0;
		if (json_u64(json_get(root, "current"), &cur) && cur < HS_MAX_CPUS)
			d->current = (unsigned)(d->nr_cpus + cur);
		if (cpus->type != JSON_ARRAY || !json_u64(ver, &v) || v != CPUS_VERSION) {
			snprintf(err, len, "%s: a \"cpus\" file of format version %d is expected",
				 path, CPUS_VERSION);
			ok = false;
		}
		for (size_t i = 0; ok && i < cpus->n; i++) {
			struct hs_dump_cpu *cpu = next_cpu(d, path, err, len);
			ok = cpu && load_cpu(cpus->items[i].val, cpu, path, err, len);
		}
	} else {
		/* `info sysregs --json` of one CPU: it ran at EL2 when it was taken. */
		struct hs_dump_cpu *cpu = next_cpu(d, path, err, len);
		ok = cpu && load_cpu(root, cpu, path, err, len);
		if (ok && !json_get(root, "pstate"))
			cpu->pstate = 0x3c9; /* EL2h, DAIF masked */
	}
	json_free(root);
	return ok;
}

int cli_dump_load(const char *ram_spec, char *const *sysreg_files, int nr_files, struct hs_dump *d,
		  struct hs_machine_opts *o, char **path_out, char *err, size_t len)
{
	memset(d, 0, sizeof(*d));
	*path_out = NULL;
	const char *at = strrchr(ram_spec, '@');
	size_t plen = at ? (size_t)(at - ram_spec) : strlen(ram_spec);
	if (!plen) {
		snprintf(err, len, "--ram '%s': give FILE or FILE@BASE", ram_spec);
		return -EINVAL;
	}
	char *path = strndup(ram_spec, plen);
	if (!path) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	*path_out = path; /* the caller frees it when the machine is gone */
	o->ram_base = 0x40000000;
	if (at && !cli_parse_size(at + 1, &o->ram_base)) {
		snprintf(err, len, "--ram '%s': '%s' is not an address", ram_spec, at + 1);
		return -EINVAL;
	}
	struct stat st;
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "--ram %s: %s", path,
			 stat(path, &st) ? strerror(errno) : "not a regular file");
		return -EINVAL;
	}
	o->ram_size = (uint64_t)st.st_size;
	if (!nr_files) {
		snprintf(err, len,
			 "inspect: give the CPUs' registers with --sysregs FILE.json "
			 "(`dump sysregs FILE` or `info sysregs --json`)");
		return -EINVAL;
	}
	for (int i = 0; i < nr_files; i++)
		if (!load_sysregs_file(sysreg_files[i], d, err, len))
			return -EINVAL;
	d->ram_path = path;
	o->nr_cpus = d->nr_cpus;
	o->dump = d;
	return 0;
}

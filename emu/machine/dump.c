/* SPDX-License-Identifier: MIT */
/*
 * A machine opened from a dump: its RAM is the dump file, mapped privately
 * (inspection may scribble, the file never changes), and its CPUs are the
 * registers saved with it. No Unicorn engine exists: every register read is
 * answered from the saved values and every run is refused (machine.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine_priv.h"

uint64_t hs_dump_reg(const struct hs_dump_cpu *d, int uc_reg)
{
	if (uc_reg >= UC_ARM64_REG_X0 && uc_reg <= UC_ARM64_REG_X28)
		return d->x[uc_reg - UC_ARM64_REG_X0];
	switch (uc_reg) {
	case UC_ARM64_REG_X29:
		return d->x[29];
	case UC_ARM64_REG_X30:
		return d->x[30];
	case UC_ARM64_REG_PC:
		return d->pc;
	case UC_ARM64_REG_SP:
		return d->sp;
	case UC_ARM64_REG_PSTATE:
		return d->pstate;
	default:
		return 0;
	}
}

int hs_dump_open(struct hs_machine *m, const struct hs_dump *d, struct hs_error *err)
{
	if (!d->ram_path)
		return hs_err(err, -EINVAL, "a dump needs its RAM file");
	if (d->nr_cpus < 1 || d->nr_cpus > HS_MAX_CPUS)
		return hs_err(err, -EINVAL, "a dump of %u CPUs: give between 1 and %d", d->nr_cpus,
			      HS_MAX_CPUS);
	int fd = open(d->ram_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hs_err(err, -errno, "%s: %s", d->ram_path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return hs_err(err, -EINVAL, "%s: not a regular file", d->ram_path);
	}
	if ((uint64_t)st.st_size != m->opts.ram_size) {
		close(fd);
		return hs_err(err, -EINVAL,
			      "%s: %" PRIu64 " bytes, but the machine's RAM is %#" PRIx64
			      " bytes (the file must hold all of RAM from its base)",
			      d->ram_path, (uint64_t)st.st_size, m->opts.ram_size);
	}
	m->ram = mmap(NULL, m->opts.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		return hs_err(err, -errno, "%s: cannot map: %s", d->ram_path, strerror(errno));
	}
	m->dump = malloc(sizeof(*m->dump));
	if (!m->dump)
		return hs_err(err, -ENOMEM, "out of memory");
	*m->dump = *d;
	m->dump->ram_path = NULL; /* the caller's string: not kept */
	m->nr_cpus = d->nr_cpus;
	for (unsigned i = 0; i < d->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		c->m = m;
		c->idx = i;
		c->saved = &m->dump->cpu[i];
		c->online = c->saved->online;
		c->icount = c->saved->icount;
	}
	m->cur = d->current < d->nr_cpus ? d->current : 0;
	return 0;
}

void hs_dump_close(struct hs_machine *m)
{
	if (m->ram)
		munmap(m->ram, m->opts.ram_size);
	m->ram = NULL;
	free(m->dump);
	m->dump = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * The host model's part of a checkpoint: its records (memblock, boot flow,
 * the operation in progress with its continuation, the VMs it created, with
 * Linux's: what the host gave each and got back; and what Linux's boot flow
 * changed in its own state), so a restored machine's host knows what it knew then.
 */
#include "host_checkpoint.h"

#include <errno.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "linux_boot.h"

struct host_state {
	struct hs_host h;
	struct hs_linux_state *lx; /* what Linux's boot flow changed (its own records) */
};

static void *host_save(void *ud, struct hs_error *err)
{
	const struct hs_host *h = hs_host_of(ud);
	struct host_state *s = malloc(sizeof(*s));
	if (!s) {
		hs_err(err, -ENOMEM, "out of memory for the host's checkpoint");
		return NULL;
	}
	s->h = *h;
	s->h.vms = hs_vm_records_copy(h->vms);
	s->lx = hs_linux_state_save(h->lx);
	if ((h->vms && !s->h.vms) || !s->lx) {
		hs_vm_records_release(s->h.vms);
		hs_linux_state_free(s->lx);
		free(s);
		hs_err(err, -ENOMEM, "out of memory for the host's checkpoint");
		return NULL;
	}
	return s;
}

static int host_restore(void *ud, const void *state, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(ud);
	const struct host_state *s = state;
	struct hs_vm_records *vms = hs_vm_records_copy(s->h.vms);
	if ((s->h.vms && !vms) || hs_linux_state_restore(h->lx, s->lx)) {
		hs_vm_records_release(vms);
		return hs_err(err, -ENOMEM, "out of memory restoring the host's records");
	}
	hs_vm_records_release(h->vms);
	struct hs_linux *lx = h->lx; /* the rest of it is made from the image */
	*h = s->h;
	h->vms = vms;
	h->lx = lx;
	return 0;
}

static void host_free(void *state)
{
	struct host_state *s = state;
	hs_vm_records_release(s->h.vms);
	hs_linux_state_free(s->lx);
	free(s);
}

/* ---- saved machines ---------------------------------------------------------- */

/* A continuation by kind: the bundled boot flow's or Linux's (their operations' next step). */
enum { DONE_NONE, DONE_BOOT_FLOW, DONE_LINUX_BOOT_FLOW };

static uint32_t done_kind(hs_host_done_fn done)
{
	if (done == hs_boot_continuation())
		return DONE_BOOT_FLOW;
	if (done == hs_linux_continuation())
		return DONE_LINUX_BOOT_FLOW;
	return DONE_NONE; /* NULL: the host model has no other continuations */
}

static hs_host_done_fn done_fn(uint32_t kind)
{
	return kind == DONE_BOOT_FLOW	      ? hs_boot_continuation()
	       : kind == DONE_LINUX_BOOT_FLOW ? hs_linux_continuation()
					      : NULL;
}

/*
 * The struct as it is, its pointers named by kind (the file carries this build's
 * layout), the VM records, then Linux's host state. ud is the machine: decoding Linux's
 * state derives again from the image what the file does not carry.
 */
static int host_encode(void *ud, struct hs_bytes *b, struct hs_error *err)
{
	const struct hs_host *h = hs_host_of(ud);
	struct hs_host copy = *h;
	uint32_t head[4] = {sizeof(copy), done_kind(h->op.done), done_kind(h->smc_result.done),
			    h->vms != NULL};
	if ((h->op.done && !head[1]) || (h->smc_result.done && !head[2]))
		return hs_err(err, -EOPNOTSUPP,
			      "the host is inside an operation whose continuation a saved "
			      "machine cannot name (finish it first)");
	copy.profile = NULL;
	copy.vms = NULL;
	copy.lx = NULL;
	copy.lx_dwarf = NULL;
	copy.op.done = copy.smc_result.done = NULL;
	hs_bytes_put(b, head, sizeof(head));
	hs_bytes_put(b, &copy, sizeof(copy));
	if (h->vms)
		hs_vm_records_encode(h->vms, b);
	if (hs_linux_state_encode(h->lx, b))
		return hs_err(err, -ENOMEM, "out of memory saving the host's records");
	return 0;
}

static int host_decode(void *ud, const uint8_t *p, size_t len, struct hs_error *err)
{
	struct hs_machine *m = ud;
	struct hs_host *h = hs_host_of(m);
	struct hs_bytes_in in = {.p = p, .len = len};
	uint32_t head[4];
	struct hs_host copy;
	hs_bytes_get(&in, head, sizeof(head));
	if (head[0] != sizeof(copy))
		return hs_err(err, -EINVAL, "the host model's record is of another hypscope build");
	if (head[1] > DONE_LINUX_BOOT_FLOW || head[2] > DONE_LINUX_BOOT_FLOW || head[3] > 1)
		return hs_err(err, -EINVAL, "the host model's record is corrupt");
	hs_bytes_get(&in, &copy, sizeof(copy));
	struct hs_vm_records *vms = NULL;
	if (!in.short_read && head[3] && !(vms = hs_vm_records_decode(&in, err)))
		return err && err->code ? err->code : -EINVAL;
	struct hs_linux_state *lx = NULL;
	int rc = 0;
	if (!in.short_read && !(lx = hs_linux_state_decode(m, &in, err)))
		rc = err && err->code ? err->code : -EINVAL;
	/* A Linux continuation needs Linux's host state, and the bundled flow's the other. */
	bool linux = hs_linux_image(m);
	if (!rc && (in.short_read || in.off != in.len || copy.nr_boot_table_pages > 4096 ||
		    copy.op.cpu >= HS_MAX_CPUS || copy.smc_result.cpu >= HS_MAX_CPUS ||
		    (head[1] && (head[1] == DONE_LINUX_BOOT_FLOW) != linux) ||
		    (head[2] && (head[2] == DONE_LINUX_BOOT_FLOW) != linux)))
		rc = hs_err(err, -EINVAL, "the host model's record is corrupt");
	if (!rc)
		rc = hs_linux_state_apply(m, lx, err);
	hs_linux_state_free(lx);
	if (rc) {
		hs_vm_records_release(vms);
		return rc;
	}
	copy.profile = h->profile;
	copy.lx = h->lx;
	copy.lx_dwarf = h->lx_dwarf;
	copy.op.done = done_fn(head[1]);
	copy.smc_result.done = done_fn(head[2]);
	copy.vms = vms;
	hs_vm_records_release(h->vms);
	*h = copy;
	return 0;
}

static const struct hs_ckpt_part host_part = {
    .name = "host",
    .save = host_save,
    .restore = host_restore,
    .free = host_free,
    .encode = host_encode,
    .decode = host_decode,
};

int hs_host_checkpoint_register(struct hs_machine *m, struct hs_error *err)
{
	return hs_checkpoint_add_part(m, &host_part, m, err);
}

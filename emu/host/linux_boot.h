/* SPDX-License-Identifier: MIT */
/*
 * The host's part of booting Linux's own nVHE hypervisor in protected mode, as Linux's
 * arch/arm64/kvm (arm.c init_hyp_mode, cpu_prepare_hyp_mode, kvm_hyp_init_protection,
 * do_pkvm_init; pkvm.c kvm_hyp_reserve, finalize_pkvm; va_layout.c) does it, as the same
 * chain of steps as the bundled flow (host_boot.h) so `boot --until STEP` works alike.
 */
#ifndef HS_LINUX_BOOT_H
#define HS_LINUX_BOOT_H

#include <stdbool.h>

#include "linux_patch.h"
#include "machine.h"
#include "strbuf.h"

/* Whether the machine runs Linux's hypervisor object (its symbols say so). */
bool hs_linux_image(const struct hs_machine *m);
/* The next boot step(s) of the Linux flow; like hs_boot(). */
int hs_linux_boot_advance(struct hs_machine *m, struct hs_error *err);
/* Free the Linux host state (machine teardown). */
void hs_linux_free(struct hs_machine *m);
/* Every patch decision so far (NULL before the firmware step). */
const struct hs_patch_log *hs_linux_patches(const struct hs_machine *m);
/* `info patches`: one line per site, or a summary per kind with `all` false. */
void hs_linux_patches_print(const struct hs_machine *m, bool all, struct hs_strbuf *sb);
/* The name Linux gives a host hypercall id (from the image's enum), or NULL. */
const char *hs_linux_hypercall_name(const struct hs_machine *m, uint64_t fn);
/* The id of a hypercall name (without the __KVM_HOST_SMCCC_FUNC_ prefix); -1 if none. */
int64_t hs_linux_hypercall_by_name(const struct hs_machine *m, const char *name);
/* Arguments of a hypercall: the parameters of the C function of that name; -1 if unknown. */
int hs_linux_hypercall_nargs(const struct hs_machine *m, uint64_t fn);
/* The host's view of the image and the machine, for the VM model (linux_vm.c). */
struct hs_dwarf *hs_linux_dwarf(const struct hs_machine *m, struct hs_error *err);
const struct hs_lx_layout *hs_linux_layout(const struct hs_machine *m);
const struct hs_lx_cpu *hs_linux_cpu(const struct hs_machine *m);
/* "Linux 7.2.13-1" from the image's .hypscope.kernel note ("Linux" without one). */
void hs_linux_kernel_name(const struct hs_machine *m, char *buf, size_t len);
/*
 * Checkpoints (host_checkpoint.c): a copy of what the boot flow changed in the
 * Linux host state (its CPU view, layout, patch log, VA allocator, per-CPU
 * areas), NULL when out of memory; put back into lx (NULL: not made yet).
 */
struct hs_linux;
struct hs_linux_state;
struct hs_linux_state *hs_linux_state_save(const struct hs_linux *lx);
int hs_linux_state_restore(struct hs_linux *lx, const struct hs_linux_state *s);
void hs_linux_state_free(struct hs_linux_state *s);
/*
 * Saved machines: the Linux host state in the file (NULL lx: not made), and back; decode
 * checks it against this image and machine, and derives again what they give (the CPU
 * view, Spectre decisions, layout, DWARF, hypercall table); apply makes it the machine's.
 */
struct hs_bytes;
struct hs_bytes_in;
int hs_linux_state_encode(const struct hs_linux *lx, struct hs_bytes *b);
struct hs_linux_state *hs_linux_state_decode(struct hs_machine *m, struct hs_bytes_in *in,
					     struct hs_error *err);
int hs_linux_state_apply(struct hs_machine *m, const struct hs_linux_state *s,
			 struct hs_error *err);
/* The continuation of the Linux boot flow's host operations (named by kind in a file). */
struct hs_host_op;
typedef int (*hs_linux_done_fn)(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err);
hs_linux_done_fn hs_linux_continuation(void);
/* The Linux boot flow, with the bundled flow's steps (host_boot.h). */
struct hs_stop;
int hs_linux_boot(struct hs_machine *m, const char *until, struct hs_stop *stop,
		  struct hs_error *err);

#endif

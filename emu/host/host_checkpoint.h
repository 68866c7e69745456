/* SPDX-License-Identifier: MIT */
/* The host model as a part of every checkpoint (checkpoint.h). */
#ifndef HS_HOST_CHECKPOINT_H
#define HS_HOST_CHECKPOINT_H

#include "hs_error.h"

struct hs_machine;

/* Register the host's records with the machine's checkpoints (hs_machine_create does it). */
int hs_host_checkpoint_register(struct hs_machine *m, struct hs_error *err);

#endif

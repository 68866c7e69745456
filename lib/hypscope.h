/* SPDX-License-Identifier: MIT */
/*
 * libhypscope: the hypscope machine as a library (docs/api.md).
 *
 *   #include <hypscope/hypscope.h>
 *   cc prog.c $(pkg-config --cflags --libs hypscope)
 *
 * One header for the whole public API: the machine and its events, the host
 * model's operations and boot flow, the architectural page-table walker and
 * the inspection engine. HYPSCOPE_VERSION is the version compiled against;
 * hs_version() the library's at run time.
 */
#ifndef HYPSCOPE_HYPSCOPE_H
#define HYPSCOPE_HYPSCOPE_H

#include <hypscope/abi.h>
#include <hypscope/version.h>

/* The machine: RAM, CPUs, the hypervisor image, events, run control. */
#include <hypscope/debug.h>
#include <hypscope/events.h>
#include <hypscope/hs_version.h>
#include <hypscope/machine.h>

/* The host: hypercalls, loads and stores from EL1, the boot flow, VMs; the profile. */
#include <hypscope/host.h>
#include <hypscope/host_boot.h>
#include <hypscope/host_vm.h>
#include <hypscope/hyp_state.h>
#include <hypscope/profile.h>

/* The architecture: regimes, the walker and its visitors, translation, dumps. */
#include <hypscope/pt_dump.h>
#include <hypscope/pt_swenc.h>
#include <hypscope/pt_translate.h>
#include <hypscope/pt_walk.h>

/* Inspection: snapshots and diffs, owners, the checker, the hypercall trace. */
#include <hypscope/inspect_check.h>
#include <hypscope/inspect_check_incr.h>
#include <hypscope/inspect_owner.h>
#include <hypscope/inspect_snapshot.h>
#include <hypscope/inspect_snapshot_live.h>
#include <hypscope/inspect_trace.h>

#endif

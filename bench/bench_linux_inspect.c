/* SPDX-License-Identifier: MIT */
/*
 * Inspection on Linux's own hypervisor (docs/linux-pkvm.md, "Inspection per kernel"):
 * a booted 1 GiB machine of a linked Linux image (scripts/linux-hyp), then, best of
 * RUNS each:
 *  1. what a query of the image's DWARF facts costs now (hs_machine_vmemmap_layout:
 *     struct hyp_page, read once per machine by linux_dwarf.c) and what the same query
 *     cost when each one opened the DWARF, looked struct hyp_page up and closed it
 *     again (the code before the cache, replayed here);
 *  2. a snapshot, the ownership map (`map`), the checker (`check`) and the pool layout
 *     query the pool rules make, as the commands run them.
 * Usage: bench_linux_inspect IMAGE.elf   (e.g. build/linux/linux-7.elf)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host_boot.h"
#include "image_dwarf.h"
#include "inspect_check.h"
#include "inspect_owner.h"
#include "inspect_snapshot.h"
#include "profile.h"

#define RUNS 7
#include "bench_best.h"

/* One query as it was: open the DWARF, struct hyp_page and its five members, close. */
static int query_uncached(struct hs_machine *m)
{
	static const char *const members[] = {"refcount", "order", "__host_state",
					      "__hyp_state_comp", "host_share_guest_count"};
	struct hs_dwarf *dw = NULL;
	uint64_t size, off;
	unsigned bits;
	if (hs_dwarf_open(hs_machine_image(m), &dw, NULL))
		return -1;
	int rc = hs_dwarf_struct_size(dw, "hyp_page", &size, NULL);
	for (unsigned i = 0; i < 5 && !rc; i++)
		hs_dwarf_member_bits(dw, "hyp_page", members[i], &off, &bits, NULL);
	hs_dwarf_close(dw);
	return rc;
}

static void loop(struct hs_machine *m, int n, int (*q)(struct hs_machine *))
{
	for (int i = 0; i < n; i++)
		q(m);
}

static int query_cached(struct hs_machine *m)
{
	struct hs_vmemmap_layout l;
	return hs_machine_vmemmap_layout(m, &l, NULL);
}

static int query_pool(struct hs_machine *m)
{
	struct hs_pool_layout l;
	return hs_machine_pool_layout(m, &l, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_linux_inspect IMAGE.elf (scripts/linux-hyp 7)\n");
		return 2;
	}
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = argv[1];
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_profile_of(m)->boot(m, NULL, &stop, &err)) {
		fprintf(stderr, "boot: %s\n", err.msg);
		return 1;
	}
	printf("%s, profile %s, 1 GiB, 1 CPU, booted\n", argv[1], hs_profile_of(m)->name);
	double t_old, t_new, t_pool;
	BEST(t_old, loop(m, 20, query_uncached));
	BEST(t_new, loop(m, 20000, query_cached));
	BEST(t_pool, loop(m, 20000, query_pool));
	printf("struct hyp_page query, DWARF opened per query (before): %10.3f us\n",
	       t_old * 1e3 / 20);
	printf("struct hyp_page query, read once per machine (now):     %10.3f us\n",
	       t_new * 1e3 / 20000);
	printf("struct hyp_pool query (now):                             %10.3f us\n",
	       t_pool * 1e3 / 20000);

	struct hs_snapshot s;
	hs_snapshot_init(&s);
	struct hs_owner_map map = {0};
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	double t_snap, t_map, t_check;
	int nviol = 0;
	BEST(t_snap, hs_snapshot_take(m, 0, &s, &err));
	BEST(t_map, hs_owner_map_free(&map); hs_owner_map_build(m, &map, &err));
	BEST(t_check, hs_check_report_free(&rep); hs_check_report_init(&rep);
	     nviol = hs_check(m, &rep));
	printf("snapshot %.2f ms, ownership map %.2f ms, check %.2f ms (%d violations, %u free "
	       "blocks checked)\n",
	       t_snap, t_map, t_check, nviol, (unsigned)rep.free_blocks_checked);
	hs_check_report_free(&rep);
	hs_owner_map_free(&map);
	hs_snapshot_free(&s);
	hs_machine_destroy(m);
	return 0;
}

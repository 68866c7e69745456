/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <check.h>
#include <stdlib.h>

#include "host_boot.h"

const char *hs_test_hyp_elf(void)
{
	const char *p = getenv("HS_HYP_ELF");
	return p ? p : "hyp/hyp.elf";
}

struct hs_machine *hs_test_machine(unsigned cpus, uint64_t ram)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	if (cpus)
		o.nr_cpus = cpus;
	if (ram)
		o.ram_size = ram;
	struct hs_machine *m = NULL;
	struct hs_error err = {0};
	int rc = hs_machine_create(&o, &m, &err);
	ck_assert_msg(rc == 0, "machine: %s", err.msg);
	return m;
}

struct hs_machine *hs_test_booted(unsigned cpus, uint64_t ram)
{
	struct hs_machine *m = hs_test_machine(cpus, ram);
	struct hs_error err = {0};
	struct hs_stop stop;
	int rc = hs_boot(m, NULL, &stop, &err);
	ck_assert_msg(rc == 0, "boot: %s", err.msg);
	ck_assert_msg(stop.reason == HS_STOP_DONE, "boot stopped: %s",
		      hs_stop_reason_name(stop.reason));
	return m;
}

int hs_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

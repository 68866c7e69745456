/* SPDX-License-Identifier: MIT */
/*
 * Scenario files (.hss): one CLI command per line, `#` comments, `expect`
 * assertions. Every line runs even after a failure so a file reports all of
 * its failures; `hypscope run` replays files on fresh machines and can write
 * JUnit XML (one testcase per file).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hypscope/version.h>

#include "cli.h"
#include "regular_file.h"

int cli_source_file(struct cli *c, const char *path, int *nfail, struct hs_strbuf *failures)
{
	struct hs_error err = {0};
	/* Not a directory, FIFO or device, and of a bounded size: a script ends. */
	FILE *f = hs_open_regular(path, CLI_MAX_SCRIPT_SIZE, NULL, &err);
	int fails = 0;
	if (!f) {
		cli_error(c, "cannot read %s", err.msg);
		if (failures)
			hs_sb_printf(failures, "cannot read %s\n", err.msg);
		if (nfail)
			(*nfail)++;
		return -1;
	}
	struct hs_strbuf *saved_log = cli_failure_log;
	if (failures)
		cli_failure_log = failures;
	const char *saved_file = c->src_file;
	int saved_line = c->src_line;
	c->src_file = path;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	/* the last line failed only by stopping at a hypervisor fault */
	bool prev_fault_failed = false;
	while (!c->quit && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		c->src_line = lineno;
		if (memchr(line, '\0', (size_t)n)) {
			cli_error(c, "binary data (NUL byte) in the line");
			fails++;
			prev_fault_failed = false;
			continue;
		}
		c->line_hyp_fault = c->hyp_fault_expected = false;
		int rc = cli_exec_line(c, line);
		/* `expect stop == hyp-fault` right after: that stop was the point */
		if (c->hyp_fault_expected && prev_fault_failed)
			fails--;
		prev_fault_failed = rc && c->line_hyp_fault;
		if (rc)
			fails++;
	}
	free(line);
	fclose(f);
	c->src_file = saved_file;
	c->src_line = saved_line;
	cli_failure_log = saved_log;
	if (nfail)
		*nfail += fails;
	return fails ? -1 : 0;
}

static void xml_escape(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", o);
			break;
		case '>':
			fputs("&gt;", o);
			break;
		case '&':
			fputs("&amp;", o);
			break;
		case '"':
			fputs("&quot;", o);
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', o);
			else
				fputc(*s, o);
		}
	}
}

struct result {
	const char *file;
	int nfail;
	double secs;
	struct hs_strbuf failures;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_run_scenarios(struct cli *proto, char **files, int nfiles, const char *junit)
{
	struct result *res = calloc((size_t)nfiles, sizeof(*res));
	if (!res)
		return 2;
	int failed_files = 0;
	double total = 0;
	for (int i = 0; i < nfiles; i++) {
		struct result *r = &res[i];
		r->file = files[i];
		hs_sb_init(&r->failures);
		double t0 = now();
		struct cli c;
		cli_init(&c);
		c.interp = proto->interp;
		c.mopts = proto->mopts;
		c.color = proto->color;
		c.live = false;
		printf("%s=== %s%s\n", cli_col(&c, COL_BOLD), files[i], cli_col(&c, COL_RESET));
		fflush(stdout);
		if (cli_machine_create(&c)) {
			c.src_file = files[i];
			c.src_line = 0;
			cli_failure_log = &r->failures;
			cli_error(&c, "cannot create the machine: %s", c.machine_err);
			cli_failure_log = NULL;
			r->nfail = 1;
		} else {
			cli_source_file(&c, files[i], &r->nfail, &r->failures);
		}
		cli_fini(&c);
		r->secs = now() - t0;
		total += r->secs;
		if (r->nfail)
			failed_files++;
		printf("%s%s%s %s (%d failure%s, %.2fs)\n",
		       r->nfail ? cli_col(proto, COL_RED) : cli_col(proto, COL_GREEN),
		       r->nfail ? "FAIL" : "PASS", cli_col(proto, COL_RESET), files[i], r->nfail,
		       r->nfail == 1 ? "" : "s", r->secs);
		fflush(stdout);
	}
	printf("%d scenario%s, %d passed, %d failed\n", nfiles, nfiles == 1 ? "" : "s",
	       nfiles - failed_files, failed_files);
	int status = failed_files ? 1 : 0;
	if (junit) {
		FILE *o = fopen(junit, "w");
		if (!o) {
			fprintf(stderr, "error: cannot write %s: %s\n", junit, strerror(errno));
			status = 2;
		} else {
			fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
			fprintf(
			    o,
			    "<testsuites tests=\"%d\" failures=\"%d\" time=\"%.3f\">\n"
			    "  <testsuite name=\"hypscope scenarios\" tests=\"%d\" failures=\"%d\" "
			    "errors=\"0\" time=\"%.3f\">\n"
			    "    <properties><property name=\"hypscope.version\" value=\"%s\"/>"
			    "</properties>\n",
			    nfiles, failed_files, total, nfiles, failed_files, total,
			    HYPSCOPE_VERSION);
			for (int i = 0; i < nfiles; i++) {
				const char *base = strrchr(res[i].file, '/');
				base = base ? base + 1 : res[i].file;
				fprintf(o, "    <testcase classname=\"scenarios\" name=\"");
				xml_escape(o, base);
				fprintf(o, "\" file=\"");
				xml_escape(o, res[i].file);
				fprintf(o, "\" time=\"%.3f\"", res[i].secs);
				if (!res[i].nfail) {
					fprintf(o, "/>\n");
					continue;
				}
				fprintf(o, ">\n      <failure message=\"%d failure%s\">",
					res[i].nfail, res[i].nfail == 1 ? "" : "s");
				xml_escape(o, hs_sb_str(&res[i].failures));
				fprintf(o, "</failure>\n    </testcase>\n");
			}
			fprintf(o, "  </testsuite>\n</testsuites>\n");
			fclose(o);
		}
	}
	for (int i = 0; i < nfiles; i++)
		hs_sb_free(&res[i].failures);
	free(res);
	return status;
}

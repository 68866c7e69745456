/* SPDX-License-Identifier: MIT */
/* Timing for the benchmarks: a monotonic clock in ms and best-of-RUNS of a statement. */
#ifndef HS_BENCH_BEST_H
#define HS_BENCH_BEST_H

#include <time.h>

#ifndef RUNS
#define RUNS 7
#endif

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* var = the shortest of RUNS runs of expr, in ms */
#define BEST(var, expr)                                   \
	do {                                              \
		var = 1e9;                                \
		for (int run_ = 0; run_ < RUNS; run_++) { \
			double t0_ = now_ms();            \
			expr;                             \
			double t1_ = now_ms() - t0_;      \
			if (t1_ < var)                    \
				var = t1_;                \
		}                                         \
	} while (0)

#endif

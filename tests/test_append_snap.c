/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints of an append-mostly list sharing their common entries
 * (append_snap.h): every snapshot restores exactly the list it was taken of,
 * whatever happened since (entries completed in flight, the oldest dropped,
 * a restore to the past and a different future, snapshots let go of in any
 * order), and a snapshot copies only what changed since the one before.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "append_snap.h"
#include "testutil.h"

/* Entries own heap memory, so ASan sees a double free or a leak of a shared one. */
struct ent {
	unsigned id, state;
	unsigned *heap;
};
static unsigned copies;

static bool ent_copy(void *to, const void *from)
{
	const struct ent *f = from;
	struct ent *t = to;
	*t = *f;
	copies++;
	return (t->heap = malloc(sizeof(*t->heap))) && (*t->heap = *f->heap, true);
}

static void ent_free(void *e)
{
	free(((struct ent *)e)->heap);
}

static const struct hs_append_ops ops = {
    .size = sizeof(struct ent), .copy = ent_copy, .free = ent_free};

/* A list as its owner keeps it: entries [first, first + n). */
struct list {
	struct ent v[64];
	size_t first, n;
	struct hs_append_track tr;
};

static void push(struct list *l, unsigned id)
{
	struct ent *e = &l->v[l->n++];
	e->id = id;
	e->state = 0;
	e->heap = malloc(sizeof(*e->heap));
	*e->heap = id * 10;
}

static void change(struct list *l, size_t abs, unsigned state)
{
	hs_append_dirty(&l->tr, abs);
	l->v[abs - l->first].state = state;
	*l->v[abs - l->first].heap = state;
}

static void drop_oldest(struct list *l, size_t k)
{
	for (size_t i = 0; i < k; i++)
		ent_free(&l->v[i]);
	memmove(l->v, l->v + k, (l->n - k) * sizeof(l->v[0]));
	l->n -= k;
	l->first += k;
}

static void clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ent_free(&l->v[i]);
	l->n = 0;
}

/* What a snapshot must give back: the list's values at that time. */
struct want {
	unsigned id[64], state[64], value[64];
	size_t first, n;
};

static void expect_now(const struct list *l, struct want *w)
{
	w->first = l->first;
	w->n = l->n;
	for (size_t i = 0; i < l->n; i++) {
		w->id[i] = l->v[i].id;
		w->state[i] = l->v[i].state;
		w->value[i] = *l->v[i].heap;
	}
}

static void restore(struct list *l, struct hs_append_snap *s, const struct want *w)
{
	size_t first, n;
	struct ent *v = hs_append_restore(&l->tr, s, &first, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(first, w->first);
	ck_assert_uint_eq(n, w->n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(v[i].id, w->id[i]);
		ck_assert_uint_eq(v[i].state, w->state[i]);
		ck_assert_uint_eq(*v[i].heap, w->value[i]);
	}
	clear(l);
	memcpy(l->v, v, n * sizeof(*v));
	l->first = first;
	l->n = n;
	free(v);
}

START_TEST(snapshots_restore_what_they_saw)
{
	struct list l = {.tr.ops = &ops};
	struct hs_append_snap *s[8];
	struct want w[8];
	unsigned id = 0;
	for (int i = 0; i < 5; i++)
		push(&l, id++);
	s[0] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[0]);
	copies = 0;
	push(&l, id++); /* an entry in flight ... */
	s[1] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[1]);
	ck_assert_uint_eq(copies, 1); /* only what is new */
	change(&l, 5, 7);	      /* ... completes */
	change(&l, 2, 9);	      /* an older one changes too */
	push(&l, id++);
	copies = 0;
	s[2] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[2]);
	ck_assert_uint_eq(copies, 5); /* from the lowest change on: 2..6 */
	drop_oldest(&l, 3);	      /* the bound */
	push(&l, id++);
	s[3] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[3]);
	/* Back to the past, then a different future. */
	restore(&l, s[1], &w[1]);
	push(&l, 100);
	change(&l, 5, 3);
	s[4] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[4]);
	/* Every snapshot still holds its own list, the undone future's too. */
	restore(&l, s[3], &w[3]);
	restore(&l, s[0], &w[0]);
	restore(&l, s[4], &w[4]);
	restore(&l, s[2], &w[2]);
	/* Checkpoints let go in any order; the rest still restore. */
	hs_append_put(s[2]);
	hs_append_put(s[0]);
	restore(&l, s[3], &w[3]);
	hs_append_put(s[3]);
	restore(&l, s[1], &w[1]);
	restore(&l, s[4], &w[4]);
	/* Cleared: the list starts over and the next snapshot copies it whole. */
	clear(&l);
	l.first = 0;
	hs_append_forget(&l.tr);
	push(&l, 200);
	s[5] = hs_append_take(&l.tr, l.v, l.first, l.n);
	expect_now(&l, &w[5]);
	restore(&l, s[5], &w[5]);
	restore(&l, s[1], &w[1]);
	hs_append_put(s[1]);
	hs_append_put(s[4]);
	hs_append_put(s[5]);
	clear(&l);
	hs_append_forget(&l.tr); /* ASan: nothing left */
}
END_TEST

START_TEST(plain_records_and_empty_lists)
{
	static const struct hs_append_ops plain = {.size = sizeof(unsigned)};
	struct hs_append_track tr = {.ops = &plain};
	unsigned v[4] = {1, 2, 3, 4};
	struct hs_append_snap *empty = hs_append_take(&tr, v, 0, 0);
	struct hs_append_snap *all = hs_append_take(&tr, v, 0, 4);
	size_t first, n;
	unsigned *r = hs_append_restore(&tr, empty, &first, &n);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(n, 0);
	free(r);
	r = hs_append_restore(&tr, all, &first, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(r, v, sizeof(v)), 0);
	free(r);
	hs_append_put(empty);
	hs_append_put(all);
	hs_append_forget(&tr);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("append_snap");
	TCase *tc = tcase_create("append_snap");
	tcase_add_test(tc, snapshots_restore_what_they_saw);
	tcase_add_test(tc, plain_records_and_empty_lists);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}

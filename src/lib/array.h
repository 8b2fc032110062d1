/* Type-safe dynamic arrays allocated from a pool.
 *   ARRAY(int) a; array_init(&a, pool, 8); array_push(&a, 5);
 *   for (unsigned i = 0; i < a.count; i++) use(a.v[i]);
 * Elements move when the array grows: do not keep pointers into it. */
#ifndef TERN_ARRAY_H
#define TERN_ARRAY_H

#include "pool.h"

#define ARRAY(type) struct { type *v; unsigned int count, alloc; pool_t pool; }

/* Named array types, for arrays passed between functions (two ARRAY(T)
   spellings are different anonymous types in C). */
typedef ARRAY(uint32_t) array_uint32_t;

/* qsort()/bsearch() comparison of uint32_t values (or of elements that
   start with one). */
int uint32_cmp(const void *p1, const void *p2);
typedef ARRAY(const char *) array_str_t;

void array_grow_raw(void **v, unsigned int *alloc, pool_t pool, size_t elem_size,
		    unsigned int need);

#define array_init(a, p, n)                                                   \
	do {                                                                  \
		(a)->pool = (p);                                              \
		(a)->count = 0;                                               \
		(a)->alloc = 0;                                               \
		(a)->v = NULL;                                                \
		array_grow_raw((void **)&(a)->v, &(a)->alloc, (a)->pool,      \
			       sizeof(*(a)->v), (n) == 0 ? 4 : (n));          \
	} while (0)

#define array_is_created(a) ((a)->v != NULL)

#define array_reserve(a, n)                                                   \
	array_grow_raw((void **)&(a)->v, &(a)->alloc, (a)->pool,              \
		       sizeof(*(a)->v), (n))

#define array_push(a, val)                                                    \
	do {                                                                  \
		array_reserve(a, (a)->count + 1);                             \
		(a)->v[(a)->count++] = (val);                                 \
	} while (0)

/* Returns a pointer to a new zeroed element at the end. */
#define array_append_space(a)                                                 \
	(array_reserve(a, (a)->count + 1),                                    \
	 memset(&(a)->v[(a)->count], 0, sizeof(*(a)->v)),                     \
	 &(a)->v[(a)->count++])

#define array_delete(a, idx, n)                                               \
	do {                                                                  \
		unsigned int array_d_idx_ = (idx), array_d_n_ = (n);          \
		i_assert(array_d_idx_ + array_d_n_ <= (a)->count);            \
		memmove(&(a)->v[array_d_idx_], &(a)->v[array_d_idx_ + array_d_n_], \
			sizeof(*(a)->v) * ((a)->count - array_d_idx_ - array_d_n_)); \
		(a)->count -= array_d_n_;                                     \
	} while (0)

#define array_clear(a) ((a)->count = 0)

/* Frees the element storage (meaningful for system_pool arrays). */
#define array_free(a)                                                         \
	do {                                                                  \
		if ((a)->v != NULL)                                           \
			p_free((a)->pool, (a)->v);                            \
		(a)->v = NULL;                                                \
		(a)->count = (a)->alloc = 0;                                  \
	} while (0)

#endif

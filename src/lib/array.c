/* Growth of pool-allocated dynamic arrays. */
#include "array.h"

void array_grow_raw(void **v, unsigned int *alloc, pool_t pool, size_t elem_size,
		    unsigned int need)
{
	if (need <= *alloc && *v != NULL)
		return;
	unsigned int new_alloc = *alloc < 4 ? 4 : *alloc;
	while (new_alloc < need) {
		if (new_alloc > UINT32_MAX / 2)
			i_panic("array too large");
		new_alloc *= 2;
	}
	*v = p_realloc(pool, *v, size_mul(*alloc, elem_size), size_mul(new_alloc, elem_size));
	*alloc = new_alloc;
}

int uint32_cmp(const void *p1, const void *p2)
{
	uint32_t a = *(const uint32_t *)p1, b = *(const uint32_t *)p2;
	return a < b ? -1 : a > b;
}

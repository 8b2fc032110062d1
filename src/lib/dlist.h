/* Doubly-linked lists threaded through the elements' own `prev` and `next`
 * fields, with head and tail pointers kept by the owner: for LRU orders and
 * other lists whose elements move or leave in O(1). Type-generic, so
 * macros; each argument is evaluated more than once (pass plain lvalues). */
#ifndef TERN_DLIST_H
#define TERN_DLIST_H

/* Puts item (not in the list) first. */
#define DLIST_PREPEND(head, tail, item)                                       \
	do {                                                                  \
		(item)->prev = NULL;                                          \
		(item)->next = (head);                                        \
		if ((head) != NULL)                                           \
			(head)->prev = (item);                                \
		(head) = (item);                                              \
		if ((tail) == NULL)                                           \
			(tail) = (item);                                      \
	} while (0)

/* Takes item out of the list; its links become NULL. */
#define DLIST_REMOVE(head, tail, item)                                        \
	do {                                                                  \
		if ((item)->prev != NULL)                                     \
			(item)->prev->next = (item)->next;                    \
		else                                                          \
			(head) = (item)->next;                                \
		if ((item)->next != NULL)                                     \
			(item)->next->prev = (item)->prev;                    \
		else                                                          \
			(tail) = (item)->prev;                                \
		(item)->prev = (item)->next = NULL;                           \
	} while (0)

#endif

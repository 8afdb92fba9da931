/* Range-list registration, removal and lookup shared by the port and MMIO buses. */
#include "bus_range.h"

bool bus_range_add(struct bus_range **head, struct bus_range *node, u64 base, u64 len, u64 limit,
		   bus_fn fn, void *dev, const char *name)
{
	if (node->linked || len == 0 || base > limit || len > limit - base)
		return false;
	struct bus_range **at = head;
	for (struct bus_range *r = *head; r; r = r->next) {
		if (base < r->base + r->len && r->base < base + len)
			return false;
		if (r->base < base)
			at = &r->next;
	}
	*node = (struct bus_range){base, len, fn, dev, name, *at, true, NULL};
	*at = node;
	return true;
}

bool bus_range_remove(struct bus_range **head, struct bus_range *node)
{
	for (struct bus_range **at = head; *at; at = &(*at)->next) {
		if (*at == node) {
			*at = node->next;
			node->next = NULL;
			node->linked = false;
			return true;
		}
	}
	return false;
}

const struct bus_range *bus_range_find(const struct bus_range *head, u64 addr)
{
	for (const struct bus_range *r = head; r && r->base <= addr; r = r->next)
		if (addr - r->base < r->len)
			return r;
	return NULL;
}

unsigned bus_range_count(const struct bus_range *head)
{
	unsigned n = 0;
	for (; head; head = head->next)
		n++;
	return n;
}

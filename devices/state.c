/* Bounded state streams used by every device's save/load. */
#include "state.h"
#include "../hypervisor/lib.h"

void state_put(struct state_writer *w, const void *p, size_t n)
{
	if (w->overflow || n > w->size - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

bool state_get(struct state_reader *r, void *p, size_t n)
{
	if (r->error || n > r->size - r->pos) {
		r->error = true;
		return false;
	}
	memcpy(p, r->buf + r->pos, n);
	r->pos += n;
	return true;
}

void state_put_tag(struct state_writer *w, const char tag[4], u32 version)
{
	state_put(w, tag, 4);
	state_put(w, &version, sizeof(version));
}

bool state_get_tag(struct state_reader *r, const char tag[4], u32 version)
{
	char t[4];
	u32 v;
	if (!state_get(r, t, 4) || !state_get(r, &v, sizeof(v)))
		return false;
	if (memcmp(t, tag, 4) || v != version) {
		r->error = true;
		return false;
	}
	return true;
}

/* A VM's printer input: where the bytes a guest prints go (the emulated LPT port, the
 * virtio-console `printer` port) and how a job's end is told (the port was closed). The
 * spool implements it, one per VM; the models never know what is behind it. */
#ifndef KEEL_PRINTER_H
#define KEEL_PRINTER_H

#include "../hypervisor/types.h"

struct printer_sink {
	/* n bytes the guest printed, in order */
	void (*bytes)(void *ctx, const u8 *buf, size_t n);
	/* the job so far is whole (port closed, idle timeout); no-op when none is open */
	void (*end_job)(void *ctx);
	void *ctx;
};

static inline void printer_bytes(const struct printer_sink *s, const u8 *buf, size_t n)
{
	if (s && s->bytes && n)
		s->bytes(s->ctx, buf, n);
}

static inline void printer_end_job(const struct printer_sink *s)
{
	if (s && s->end_job)
		s->end_job(s->ctx);
}

#endif

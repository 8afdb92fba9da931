/* Multiboot2 information parser: turns GRUB's tag list into struct boot_info, checking
 * every tag's size against the total so that a malformed structure is reported, not
 * followed off into memory. */
#include "bootinfo.h"
#include "lib.h"

enum {
	TAG_END = 0,
	TAG_CMDLINE = 1,
	TAG_LOADER = 2,
	TAG_MODULE = 3,
	TAG_MMAP = 6,
};

struct tag {
	u32 type;
	u32 size;
};

static bool string_ok(const char *s, size_t max)
{
	return strnlen(s, max) < max;
}

const char *mb2_parse(const void *mbi, struct boot_info *out)
{
	const u8 *base = mbi;
	u32 total;
	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader = "";
	memcpy(&total, base, 4);
	if (total < 16 || total > (16u << 20))
		return "multiboot2 info has an implausible total size";
	out->mbi_start = virt_to_phys(mbi);
	out->mbi_end = out->mbi_start + total;
	u32 off = 8;
	for (;;) {
		struct tag t;
		if (off + sizeof(t) > total)
			return "multiboot2 info ends without an end tag";
		memcpy(&t, base + off, sizeof(t));
		if (t.size < 8 || t.size > total - off)
			return "multiboot2 tag overruns the info structure";
		const u8 *body = base + off + 8;
		u32 blen = t.size - 8;
		switch (t.type) {
		case TAG_END:
			return NULL;
		case TAG_CMDLINE:
			if (!string_ok((const char *)body, blen))
				return "multiboot2 command line is not terminated";
			out->cmdline = (const char *)body;
			break;
		case TAG_LOADER:
			if (string_ok((const char *)body, blen))
				out->loader = (const char *)body;
			break;
		case TAG_MODULE: {
			u32 ms, me;
			if (blen < 9)
				return "multiboot2 module tag too short";
			memcpy(&ms, body, 4);
			memcpy(&me, body + 4, 4);
			if (!string_ok((const char *)body + 8, blen - 8))
				return "multiboot2 module string is not terminated";
			if (me < ms)
				return "multiboot2 module ends before it starts";
			if (out->nmodules == BOOT_MAX_MODULES) {
				/* boot on without it: the VMs that name it say so */
				if (out->nrefused < BOOT_MAX_REFUSED)
					out->refused[out->nrefused] = (const char *)body + 8;
				out->nrefused++;
				break;
			}
			out->modules[out->nmodules++] =
			    (struct boot_module){ms, me, (const char *)body + 8};
			break;
		}
		case TAG_MMAP: {
			u32 esize;
			if (blen < 8)
				return "multiboot2 memory map tag too short";
			memcpy(&esize, body, 4);
			if (esize < 24 || esize % 8)
				return "multiboot2 memory map entry size is invalid";
			for (u32 e = 8; e + esize <= blen; e += esize) {
				struct mem_region r;
				memcpy(&r.base, body + e, 8);
				memcpy(&r.len, body + e + 8, 8);
				memcpy(&r.type, body + e + 16, 4);
				if (out->nregions == BOOT_MAX_REGIONS)
					return "too many memory map entries";
				out->regions[out->nregions++] = r;
			}
			break;
		}
		default:
			break;
		}
		off += (t.size + 7) & ~7u;
	}
}

bool boot_refused_line(const struct boot_info *bi, char *buf, size_t size)
{
	if (!bi->nrefused)
		return false;
	int n =
	    ksnprintf(buf, size, "%u boot module%s over the limit of %u left out:", bi->nrefused,
		      bi->nrefused == 1 ? "" : "s", BOOT_MAX_MODULES);
	unsigned named = MIN(bi->nrefused, (unsigned)BOOT_MAX_REFUSED);
	for (unsigned i = 0; i < named && n >= 0 && (size_t)n < size; i++)
		n += ksnprintf(buf + n, size - n, " '%s'", bi->refused[i]);
	if (bi->nrefused > named && n >= 0 && (size_t)n < size)
		ksnprintf(buf + n, size - n, " and %u more", bi->nrefused - named);
	return true;
}

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
	size_t n = strlen(name);
	for (unsigned i = 0; i < bi->nmodules; i++) {
		const char *s = bi->modules[i].string;
		if (!strncmp(s, name, n) && (s[n] == 0 || s[n] == ' '))
			return &bi->modules[i];
	}
	return NULL;
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t wlen = (size_t)(p - w);
		if (wlen >= klen && !strncmp(w, key, klen) && (wlen == klen || w[klen] == '=')) {
			const char *v = wlen == klen ? w + klen : w + klen + 1;
			size_t vlen = (size_t)(p - v);
			if (size) {
				size_t c = vlen < size - 1 ? vlen : size - 1;
				memcpy(buf, v, c);
				buf[c] = 0;
			}
			return true;
		}
	}
	return false;
}

/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the control channel's message
 * authentication; streaming, no allocation. */
#ifndef KEEL_SHA256_H
#define KEEL_SHA256_H

#include "../hypervisor/types.h"

#define SHA256_LEN   32
#define SHA256_BLOCK 64

struct sha256 {
	u32 h[8];
	u64 bytes; /* message length so far */
	u8 buf[SHA256_BLOCK];
	size_t n; /* bytes waiting in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, u8 out[SHA256_LEN]);
void sha256(const void *data, size_t len, u8 out[SHA256_LEN]);

struct hmac_sha256 {
	struct sha256 inner, outer;
};

void hmac_sha256_init(struct hmac_sha256 *c, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *c, const void *data, size_t len);
void hmac_sha256_final(struct hmac_sha256 *c, u8 out[SHA256_LEN]);
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, u8 out[SHA256_LEN]);
/* Compares two MACs in time independent of where they differ. */
bool mac_equal(const u8 *a, const u8 *b, size_t len);

#endif

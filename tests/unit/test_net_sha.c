/* SHA-256 against FIPS 180-4's examples and HMAC-SHA256 against RFC 4231's test cases. */
#include <stdio.h>

#include "test.h"
#include "../../net/sha256.h"

static void hex(const u8 *d, char *out)
{
	for (int i = 0; i < SHA256_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha(const void *msg, size_t len, const char *want)
{
	u8 d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	sha256(msg, len, d);
	hex(d, h);
	CHECK_STR(h, want);
}

TEST(sha256_fips_180_4_examples)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_sha(m2, strlen(m2),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m3 =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
	    "nopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	check_sha(m3, strlen(m3),
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a_streamed_in_odd_pieces)
{
	static u8 chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	struct sha256 c;
	sha256_init(&c);
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		sha256_update(&c, chunk, n);
		left -= n;
	}
	u8 d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	sha256_final(&c, d);
	hex(d, h);
	CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void check_hmac(const void *key, size_t klen, const void *msg, size_t len, const char *want)
{
	u8 d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	hmac_sha256(key, klen, msg, len, d);
	hex(d, h);
	CHECK_STR(h, want);
}

TEST(hmac_sha256_rfc_4231_cases)
{
	u8 key[131], data[50];
	memset(key, 0x0b, 20);
	check_hmac(key, 20, "Hi There", 8,
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	const char *m2 = "what do ya want for nothing?";
	check_hmac("Jefe", 4, m2, strlen(m2),
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	check_hmac(key, 20, data, 50,
		   "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (int i = 0; i < 25; i++)
		key[i] = (u8)(i + 1);
	memset(data, 0xcd, 50);
	check_hmac(key, 25, data, 50,
		   "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(key, 0xaa, 131); /* cases 6 and 7: a key longer than a block is hashed first */
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	check_hmac(key, 131, m6, strlen(m6),
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	const char *m7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";
	check_hmac(key, 131, m7, strlen(m7),
		   "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(mac_equal_sees_a_difference_in_any_byte)
{
	u8 a[SHA256_LEN], b[SHA256_LEN];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(mac_equal(a, b, sizeof(a)));
	for (int i = 0; i < SHA256_LEN; i++) {
		b[i] ^= 1;
		CHECK(!mac_equal(a, b, sizeof(a)));
		b[i] ^= 1;
	}
}

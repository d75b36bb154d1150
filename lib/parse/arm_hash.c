/* The hashes behind uniqueString() and guid(), as Azure computes them.
 *
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string#uniquestring
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string#guid
 * The documents say only "a hash of the arguments".  What Azure does, as
 * reproduced by tools that match deployed names (and checked here against
 * outputs of real deployments, tests/test_arm_expr.c):
 *  - uniqueString: the arguments joined with '-', UTF-8; a 64-bit
 *    MurmurHash built from the two 32-bit lanes of MurmurHash3 x86_128
 *    (seed 0); its bits from the top, 5 at a time, as 13 characters of
 *    "abcdefghijklmnopqrstuvwxyz234567".
 *  - guid: an RFC 4122 version-5 (SHA-1, name-based) UUID of the arguments
 *    joined with '-', UTF-8, in the namespace
 *    11fb06fb-712d-4ddd-98c7-e71bbd588830. */
#include "nsgsim.h"
#include "parse/arm_expr_int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t le32(const unsigned char *p, size_t n)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint32_t mix_k1(uint32_t k)
{
	return rotl32(k * 0x239b961bu, 15) * 0xab0e9789u;
}

static uint32_t mix_k2(uint32_t k)
{
	return rotl32(k * 0xab0e9789u, 17) * 0x239b961bu;
}

static uint64_t murmur64(const unsigned char *d, size_t n)
{
	uint32_t h1 = 0, h2 = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		h1 ^= mix_k1(le32(d + i, 4));
		h1 = (rotl32(h1, 19) + h2) * 5 + 0x561ccd1bu;
		h2 ^= mix_k2(le32(d + i + 4, 4));
		h2 = (rotl32(h2, 13) + h1) * 5 + 0x0bcaa747u;
	}
	size_t tail = n - i;
	if (tail > 0)
		h1 ^= mix_k1(le32(d + i, tail));
	if (tail > 4)
		h2 ^= mix_k2(le32(d + i + 4, tail - 4));
	h1 ^= (uint32_t)n;
	h2 ^= (uint32_t)n;
	h1 += h2;
	h2 += h1;
	h1 = fmix32(h1);
	h2 = fmix32(h2);
	h1 += h2;
	h2 += h1;
	return ((uint64_t)h2 << 32) | h1;
}

/* args joined with '-' (NULL when out of memory). */
static unsigned char *join_dash(const char *const *args, size_t n, size_t *len)
{
	size_t total = n ? n - 1 : 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(args[i]);
	unsigned char *s = malloc(total + 1), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(args[i]);
		if (i)
			*p++ = '-';
		memcpy(p, args[i], l);
		p += l;
	}
	*len = total;
	return s;
}

int ns_arm_unique_string(const char *const *args, size_t n, char out[14])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t len = 0;
	unsigned char *s = join_dash(args, n, &len);
	if (!s)
		return NSGSIM_E_NOMEM; /* never a hash of something else */
	uint64_t h = murmur64(s, len);
	free(s);
	for (int i = 0; i < 13; i++) {
		out[i] = alphabet[h >> 59];
		h <<= 5;
	}
	out[13] = '\0';
	return 0;
}

/* ---- SHA-1 (FIPS 180-4), for the version-5 UUID ---- */

typedef struct sha1_ctx {
	uint32_t h[5];
	unsigned char block[64];
	size_t used;
	uint64_t total;
} sha1_ctx;

static void sha1_block(sha1_ctx *s, const unsigned char *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999u;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1u;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdcu;
		else
			f = b ^ c ^ d, k = 0xca62c1d6u;
		uint32_t t = rotl32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rotl32(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_put(sha1_ctx *s, const unsigned char *p, size_t n)
{
	s->total += n;
	while (n--) {
		s->block[s->used++] = *p++;
		if (s->used == 64) {
			sha1_block(s, s->block);
			s->used = 0;
		}
	}
}

static void sha1_init(sha1_ctx *s)
{
	static const uint32_t iv[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u,
	                               0xc3d2e1f0u};
	memset(s, 0, sizeof *s);
	memcpy(s->h, iv, sizeof iv);
}

static void sha1_end(sha1_ctx *s, unsigned char out[20])
{
	uint64_t bits = s->total * 8;
	unsigned char pad = 0x80, zero = 0, len[8];
	sha1_put(s, &pad, 1);
	while (s->used != 56)
		sha1_put(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_put(s, len, 8);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void ns_arm_sha1(const unsigned char *data, size_t n, unsigned char out[20])
{
	sha1_ctx s;
	sha1_init(&s);
	sha1_put(&s, data, n);
	sha1_end(&s, out);
}

void ns_arm_guid(const char *const *args, size_t n, char out[37])
{
	static const unsigned char ns[16] = {0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd,
	                                     0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30};
	static const char hex[] = "0123456789abcdef";
	unsigned char d[20];
	sha1_ctx s;
	sha1_init(&s);
	sha1_put(&s, ns, sizeof ns);
	for (size_t i = 0; i < n; i++) { /* the '-'-joined name, streamed: nothing to allocate */
		if (i)
			sha1_put(&s, (const unsigned char *)"-", 1);
		sha1_put(&s, (const unsigned char *)args[i], strlen(args[i]));
	}
	sha1_end(&s, d);
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[d[i] >> 4];
		*p++ = hex[d[i] & 15];
	}
	*p = '\0';
}

/* Parsing of addresses, prefixes and ports as Azure writes them.
 *
 * Syntax is checked strictly with inet_pton (which rejects "10.1" and other
 * shorthand that libcidr accepts).  libcidr is used for what it is good at
 * here: naming the network a prefix with host bits was probably meant to be,
 * so the error can say "did you mean 10.0.0.0/16?".  It stays out of every
 * hot path (one allocation per call). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <ctype.h>
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"

static ns_u128 u128_from_bytes(const unsigned char *b, int n)
{
	ns_u128 v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

int ns_parse_ip(const char *text, int *family, ns_u128 *addr)
{
	unsigned char buf[16];
	if (!text || !*text)
		return -1;
	/* Zone ids ("fe80::1%eth0") have no meaning in Azure rules. */
	if (strchr(text, '%'))
		return -1;
	if (inet_pton(AF_INET, text, buf) == 1) {
		*family = 4;
		*addr = u128_from_bytes(buf, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, buf) == 1) {
		*family = 6;
		*addr = u128_from_bytes(buf, 16);
		return 0;
	}
	return -1;
}

bool ns_parse_decimal(const char *s, size_t n, unsigned max, unsigned *out)
{
	if (n == 0 || n > 5) /* no sign, no blanks, nothing above 65535 needs more */
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* The network of text with its host bits cleared, as libcidr renders it;
 * "" when libcidr cannot parse it either. */
static void network_hint(const char *text, char *out, size_t cap)
{
	out[0] = '\0';
	/* cidr_from_str reads before the start of a short string (ASan saw it
	 * read 2 bytes before a stack buffer holding a prefix of about ten
	 * characters): give it a copy with room in front. */
	char room[32 + 128];
	memset(room, ' ', 32);
	snprintf(room + 32, sizeof room - 32, "%s", text);
	CIDR *c = cidr_from_str(room + 32);
	if (!c)
		return;
	CIDR *net = cidr_addr_network(c);
	if (net) {
		char *s = cidr_to_str(net, CIDR_NOFLAGS);
		if (s) {
			snprintf(out, cap, "%s", s);
			free(s);
		}
		cidr_free(net);
	}
	cidr_free(c);
}

/* The common case, a canonical IPv4 prefix ("20.38.64.0/19"; 55,000 of them
 * in the service-tags download), read without copies.  It accepts only what
 * inet_pton and ns_parse_decimal below accept, with the same value;
 * anything else returns false and the general path decides. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9'; /* isdigit() is a call and a table here */
}

static bool fast_ipv4_prefix(const char *s, uint32_t *addr, int *plen)
{
	uint32_t a = 0;
	for (int part = 0; part < 4; part++) {
		if (!is_digit(*s))
			return false;
		unsigned v = (unsigned)(*s++ - '0');
		if (v == 0 && is_digit(*s)) /* a leading zero */
			return false;
		while (is_digit(*s) && v <= 255)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (v > 255 || (part < 3 && *s++ != '.'))
			return false;
		a = a << 8 | v;
	}
	*plen = 32;
	if (*s == '/') {
		s++;
		if (!is_digit(s[0]))
			return false;
		unsigned len = (unsigned)(*s++ - '0');
		if (is_digit(*s))
			len = len * 10 + (unsigned)(*s++ - '0');
		if (len > 32)
			return false;
		*plen = (int)len;
	}
	*addr = a;
	return *s == '\0';
}

static int check_host_bits(const char *text, int family, ns_u128 addr, int plen, const char *file,
                           const char *ptr, const char *resource, nsgsim_error *err)
{
	int max = family == 4 ? 32 : 128;
	ns_u128 host_mask =
	        plen == max ? 0 : ((plen == 0) ? ~(ns_u128)0 : (((ns_u128)1 << (max - plen)) - 1));
	if (family == 4)
		host_mask &= 0xFFFFFFFFu;
	if (!(addr & host_mask))
		return 0;
	char hint[128];
	network_hint(text, hint, sizeof hint);
	return ns_fail(err, NSGSIM_E_HOST_BITS, file, ptr, resource,
	               "'%s' has host bits set; the network address is %s", text,
	               hint[0] ? hint : "different");
}

int ns_parse_prefix(const char *text, int *family, ns_u128 *addr, int *plen, const ns_loc *loc,
                    const char *resource, nsgsim_error *err)
{
	const char *file = loc ? loc->file : NULL;
	const char *ptr = loc ? loc->pointer : NULL;
	uint32_t a4;
	if (fast_ipv4_prefix(text, &a4, plen)) {
		*family = 4;
		*addr = a4;
		return check_host_bits(text, *family, *addr, *plen, file, ptr, resource, err);
	}
	char tmp[128];
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof tmp)
		return ns_fail(err, NSGSIM_E_BAD_PREFIX, file, ptr, resource,
		               "'%s' is not an IP address or CIDR prefix", text);
	memcpy(tmp, text, n + 1);
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	if (ns_parse_ip(tmp, family, addr) != 0)
		return ns_fail(
		        err, NSGSIM_E_BAD_PREFIX, file, ptr, resource,
		        "'%s' is not an IP address or CIDR prefix (expected e.g. 10.0.0.0/16, "
		        "10.0.0.4 or 2001:db8::/32)",
		        text);
	int max = *family == 4 ? 32 : 128;
	*plen = max;
	unsigned len = (unsigned)max;
	if (slash && (strlen(slash + 1) > 3 ||
	              !ns_parse_decimal(slash + 1, strlen(slash + 1), (unsigned)max, &len)))
		return ns_fail(err, NSGSIM_E_BAD_PREFIX, file, ptr, resource,
		               "'%s' has an invalid prefix length (expected 0-%d)", text, max);
	*plen = (int)len;
	return check_host_bits(text, *family, *addr, *plen, file, ptr, resource, err);
}

static bool parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v;
	if (!ns_parse_decimal(s, n, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* SPEC networkSecurityGroup.json: "Integer or range between 0 and 65535.
 * Asterisk '*' can also be used to match all ports." */
int ns_parse_port_range(const char *text, ns_port_range *out, const ns_loc *loc,
                        const char *resource, nsgsim_error *err)
{
	const char *file = loc ? loc->file : NULL;
	const char *ptr = loc ? loc->pointer : NULL;
	/* Azure accepts surrounding blanks ("65503-65534 " in a quickstart
	 * template that deploys); nothing else is lenient. */
	char trimmed[32];
	size_t start = 0, end = strlen(text);
	while (text[start] == ' ')
		start++;
	while (end > start && text[end - 1] == ' ')
		end--;
	if (end - start < sizeof trimmed && (start > 0 || end < strlen(text))) {
		memcpy(trimmed, text + start, end - start);
		trimmed[end - start] = '\0';
		text = trimmed;
	}
	if (strcmp(text, "*") == 0) {
		out->lo = 0;
		out->hi = 65535;
		return 0;
	}
	const char *dash = strchr(text, '-');
	bool ok;
	if (dash) {
		ok = parse_port(text, (size_t)(dash - text), &out->lo) &&
		     parse_port(dash + 1, strlen(dash + 1), &out->hi);
	} else {
		ok = parse_port(text, strlen(text), &out->lo);
		out->hi = out->lo;
	}
	if (!ok)
		return ns_fail(err, NSGSIM_E_BAD_PORT, file, ptr, resource,
		               "'%s' is not a port range (expected '*', an integer 0-65535 or "
		               "a range like 1000-2000)",
		               text);
	if (out->lo > out->hi)
		return ns_fail(err, NSGSIM_E_BAD_PORT, file, ptr, resource,
		               "port range '%s' is reversed (did you mean %u-%u?)", text, out->hi,
		               out->lo);
	return 0;
}

bool ns_looks_like_tag(const char *text)
{
	if (!text[0] || strcmp(text, "*") == 0)
		return false;
	/* Tags are words such as "Storage.WestEurope"; anything with a digit
	 * first, a ':' or a '/' was meant as an address. */
	if (isdigit((unsigned char)text[0]))
		return false;
	return strchr(text, ':') == NULL && strchr(text, '/') == NULL;
}

/* Flow text: "PROTO SRC[:PORT] DST[:PORT]" (IPv6 with a port in brackets). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse/parse.h"

static int flow_fail(nsgsim_error *err, const char *text, const char *fmt, const char *arg)
{
	return ns_fail(err, NSGSIM_E_BAD_FLOW, "", "", text, fmt, arg);
}

static bool parse_port_text(const char *s, int *out)
{
	unsigned v;
	if (!ns_parse_decimal(s, strlen(s), 65535, &v))
		return false;
	*out = (int)v;
	return true;
}

void ns_ip_from_u128(nsgsim_ip *ip, int family, ns_u128 v)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	int n = family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--) {
		ip->bytes[i] = (uint8_t)(v & 0xFF);
		v >>= 8;
	}
}

ns_u128 ns_ip_to_u128(const nsgsim_ip *ip)
{
	ns_u128 v = 0;
	int n = ip->family == 4 ? 4 : 16;
	for (int i = 0; i < n; i++)
		v = (v << 8) | ip->bytes[i];
	return v;
}

/* "10.0.0.4", "10.0.0.4:443", "2001:db8::1", "[2001:db8::1]:443" */
static int parse_endpoint(const char *tok, nsgsim_ip *ip, int *port, const char *text,
                          nsgsim_error *err)
{
	char addr[128];
	const char *port_text = NULL;
	*port = NSGSIM_PORT_ANY;
	if (tok[0] == '[') {
		const char *close = strchr(tok, ']');
		if (!close || (size_t)(close - tok - 1) >= sizeof addr)
			return flow_fail(err, text, "'%s': a bracketed IPv6 address needs ']'",
			                 tok);
		snprintf(addr, sizeof addr, "%.*s", (int)(close - tok - 1), tok + 1);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return flow_fail(err, text, "'%s': expected ':PORT' after ']'", tok);
	} else {
		const char *colon = strchr(tok, ':');
		bool one_colon = colon && !strchr(colon + 1, ':');
		if (strlen(tok) >= sizeof addr)
			return flow_fail(err, text, "'%s' is too long for an address", tok);
		if (one_colon) {
			snprintf(addr, sizeof addr, "%.*s", (int)(colon - tok), tok);
			port_text = colon + 1;
		} else {
			snprintf(addr, sizeof addr, "%s", tok);
		}
	}
	int family;
	ns_u128 v;
	if (ns_parse_ip(addr, &family, &v) != 0)
		return flow_fail(err, text,
		                 "'%s' is not an IP address (IPv6 with a port is written "
		                 "[2001:db8::1]:443)",
		                 addr);
	if (port_text && !parse_port_text(port_text, port))
		return flow_fail(err, text, "'%s' is not a port (0-65535)", port_text);
	if (tok[0] == '[' && family != 6)
		return flow_fail(err, text, "'%s': brackets are for IPv6 addresses", tok);
	ns_ip_from_u128(ip, family, v);
	return 0;
}

static const struct {
	const char *name;
	int proto;
} protocols[] = {{"tcp", NSGSIM_PROTO_TCP},
                 {"udp", NSGSIM_PROTO_UDP},
                 {"icmp", NSGSIM_PROTO_ICMP},
                 {"esp", NSGSIM_PROTO_ESP},
                 {"ah", NSGSIM_PROTO_AH}};

/* ---- the common case without copies: tcp 10.0.0.4:50000 10.0.1.5:443 ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One octet of a canonical dotted quad: 1-3 digits, no leading zero,
 * <= 255 (what inet_pton accepts).  The position after it, or NULL.  A
 * byte is read only when the one before it is a digit: never past the
 * string's NUL. */
static inline const unsigned char *fast_octet(const unsigned char *s, unsigned *out)
{
	unsigned v = (unsigned)s[0] - '0', d;
	if (v > 9)
		return NULL;
	if ((d = (unsigned)s[1] - '0') > 9) {
		*out = v;
		return s + 1;
	}
	if (v == 0)
		return NULL;
	v = v * 10 + d;
	if ((d = (unsigned)s[2] - '0') > 9) {
		*out = v;
		return s + 2;
	}
	v = v * 10 + d;
	if (v > 255 || (unsigned)s[3] - '0' <= 9)
		return NULL;
	*out = v;
	return s + 3;
}

/* A port: 1-5 digits, <= 65535 (leading zeros allowed, as
 * ns_parse_decimal allows them).  The position after it, or NULL; unrolled,
 * as fast_octet, one byte past each digit. */
static inline const unsigned char *fast_port(const unsigned char *s, int *out)
{
	unsigned v = (unsigned)s[0] - '0', d;
	if (v > 9)
		return NULL;
	int k = 1;
	for (; k < 5 && (d = (unsigned)s[k] - '0') <= 9; k++)
		v = v * 10 + d;
	if ((k == 5 && (unsigned)s[5] - '0' <= 9) || v > 65535)
		return NULL;
	*out = (int)v;
	return s + k;
}

/* A canonical dotted quad, then an optional :PORT, then a blank or the
 * end; the position after it, or NULL.  *ip is zero already (fast_flow
 * clears the flow). */
static const unsigned char *fast_endpoint(const unsigned char *s, nsgsim_ip *ip, int *port)
{
	unsigned o[4];
	if (!(s = fast_octet(s, &o[0])) || *s != '.' || !(s = fast_octet(s + 1, &o[1])) ||
	    *s != '.' || !(s = fast_octet(s + 1, &o[2])) || *s != '.' ||
	    !(s = fast_octet(s + 1, &o[3])))
		return NULL;
	ip->family = 4;
	uint8_t bytes[4] = {(uint8_t)o[0], (uint8_t)o[1], (uint8_t)o[2], (uint8_t)o[3]};
	memcpy(ip->bytes, bytes, 4);
	*port = NSGSIM_PORT_ANY;
	if (*s == ':' && !(s = fast_port(s + 1, port)))
		return NULL;
	return *s && !is_blank((char)*s) ? NULL : s;
}

/* Past the blanks at s: the common single space first. */
static inline const unsigned char *skip_blanks(const unsigned char *s)
{
	if (*s == ' ' && !is_blank((char)s[1]))
		return s + 1;
	while (is_blank((char)*s))
		s++;
	return s;
}

#define WORD3(a, b, c)    ((unsigned)(a) << 16 | (unsigned)(b) << 8 | (unsigned)(c))
#define WORD4(a, b, c, d) (WORD3(a, b, c) << 8 | (unsigned)(d))

/* The protocol word at *p, in any case (c | 0x20 is a letter's lower case,
 * and no other byte maps to a letter), *p moved past it; 0 when it is
 * none of the names of protocols[] above, packed here as words (the
 * grammar test, tests/test_flow_text.c, holds the two to the same). */
static int fast_protocol(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned w = 0, n = 0;
	if (s[0] && s[1] && s[2] && is_blank((char)s[3])) { /* tcp, udp, esp */
		w = WORD3(s[0] | 0x20, s[1] | 0x20, s[2] | 0x20);
		n = 3;
	}
	for (; n < 5 && s[n] && !is_blank((char)s[n]); n++)
		w = w << 8 | (unsigned)(s[n] | 0x20);
	*p = s + n;
	switch (n == 5 ? 0 : w) {
	case WORD3('t', 'c', 'p'):
		return NSGSIM_PROTO_TCP;
	case WORD3('u', 'd', 'p'):
		return NSGSIM_PROTO_UDP;
	case WORD4('i', 'c', 'm', 'p'):
		return NSGSIM_PROTO_ICMP;
	case WORD3('e', 's', 'p'):
		return NSGSIM_PROTO_ESP;
	case WORD3(0, 'a', 'h'):
		return NSGSIM_PROTO_AH;
	default:
		return 0;
	}
}

/* The flows batch files are made of, parsed in place: true when text is one
 * of them, with *out exactly what the general path gives; false sends every
 * other text (IPv6, odd spellings, errors) to the general path. */
static bool fast_flow(const char *text, nsgsim_flow *out)
{
	const unsigned char *s = skip_blanks((const unsigned char *)text);
	memset(out, 0, sizeof *out);
	out->protocol = fast_protocol(&s);
	if (!out->protocol || !is_blank((char)*s))
		return false;
	if (!(s = fast_endpoint(skip_blanks(s), &out->src, &out->src_port)) ||
	    !(s = fast_endpoint(skip_blanks(s), &out->dst, &out->dst_port)))
		return false;
	s = skip_blanks(s);
	if (*s || (size_t)((const char *)s - text) >= 512)
		return false;
	bool ports = out->protocol == NSGSIM_PROTO_TCP || out->protocol == NSGSIM_PROTO_UDP;
	return ports ? out->dst_port != NSGSIM_PORT_ANY
	             : out->dst_port == NSGSIM_PORT_ANY && out->src_port == NSGSIM_PORT_ANY;
}

NSGSIM_EXPORT int nsgsim_flow_parse(const char *text, nsgsim_flow *out, nsgsim_error *err)
{
	if (!text || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "", "text and out are required");
	if (fast_flow(text, out))
		return 0;
	char buf[512], *tok[4] = {0};
	int n = 0;
	if (strlen(text) >= sizeof buf)
		return flow_fail(err, "", "a flow is at most %s characters", "511");
	snprintf(buf, sizeof buf, "%s", text);
	for (char *save = NULL, *t = strtok_r(buf, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 4)
			break;
		tok[n++] = t;
	}
	if (n != 3)
		return flow_fail(err, text, "expected 'PROTO SRC[:PORT] DST[:PORT]', got '%s'",
		                 text);
	memset(out, 0, sizeof *out);
	out->protocol = 0;
	for (size_t i = 0; i < NS_ARRAY_LEN(protocols); i++)
		if (strcasecmp(tok[0], protocols[i].name) == 0)
			out->protocol = protocols[i].proto;
	if (!out->protocol)
		return flow_fail(err, text, "'%s' is not a protocol (tcp, udp, icmp, esp or ah)",
		                 tok[0]);
	int rc = parse_endpoint(tok[1], &out->src, &out->src_port, text, err);
	if (rc == 0)
		rc = parse_endpoint(tok[2], &out->dst, &out->dst_port, text, err);
	if (rc != 0)
		return rc;
	if (out->src.family != out->dst.family)
		return flow_fail(err, text,
		                 "source and destination must both be IPv4 or both IPv6%s", "");
	bool ports = out->protocol == NSGSIM_PROTO_TCP || out->protocol == NSGSIM_PROTO_UDP;
	if (ports && out->dst_port == NSGSIM_PORT_ANY)
		return flow_fail(err, text, "%s needs a destination port (DST:PORT)", tok[0]);
	if (!ports && (out->dst_port != NSGSIM_PORT_ANY || out->src_port != NSGSIM_PORT_ANY))
		return flow_fail(err, text, "%s has no ports", tok[0]);
	return 0;
}

/* What the parse stage offers the stages above it: the model a loader
 * collected, service-tags snapshots, and the address and port parsers that
 * need no JSON (lib/parse/load_addr.c).
 *
 * May touch: lib/base and the model.  No cJSON or libcidr type appears
 * here (lib/parse/load.h is the parse stage's own, cJSON included). */
#ifndef NSGSIM_PARSE_H
#define NSGSIM_PARSE_H

#include "parse/model.h"

/* The model a loader holds (nsgsim_compile moves it into the policy). */
ns_model *ns_loader_model(nsgsim_loader *l);

/* ---- service-tags snapshots (lib/parse/tags_snapshot.c) ----------------------- */

#define NS_SNAPSHOT_MAGIC       "NSGSIMT" /* and a NUL: 8 bytes */
#define NS_SNAPSHOT_MAGIC_LEN   8
#define NS_SNAPSHOT_VERSION     1u
#define NS_SNAPSHOT_HEADER_SIZE 24

/* Whether data starts like a snapshot: the magic, or (a truncated file) a
 * non-empty beginning of it.  JSON never starts with 'N'. */
bool ns_tags_snapshot_detect(const void *data, size_t len);
/* Reads a snapshot into m's tags (m has none yet), treating data as
 * untrusted.  On failure err says where (pointer /tags/N/..., the byte
 * offset in the message) and the caller drops the partial tags. */
int ns_tags_snapshot_read(ns_model *m, const char *name, const void *data, size_t len,
                          nsgsim_error *err);
/* The same for a snapshot inside a file whose own checksum covers it (a
 * compiled policy file): its CRC-32 is not computed again; every structural
 * check still is. */
int ns_tags_snapshot_read_embedded(ns_model *m, const char *name, const void *data, size_t len,
                                   nsgsim_error *err);
/* Serializes m's tags into a malloc'd buffer. */
int ns_tags_snapshot_write(const ns_model *m, void **buf, size_t *len, nsgsim_error *err);
/* CRC-32 (IEEE 802.3, zlib's crc32) of data, continuing from crc (0 to
 * start). */
uint32_t ns_crc32(uint32_t crc, const void *data, size_t len);

/* ---- parse helpers that do not need cJSON (lib/parse/load_addr.c) ------------- */

/* Parses an IPv4/IPv6 address or CIDR prefix strictly: "10.1/16" and host bits
 * are errors (the host-bits message names the network the user meant).
 * Returns 0 or a negative code with err filled. */
int ns_parse_prefix(const char *text, int *family, ns_u128 *addr, int *plen, const ns_loc *loc,
                    const char *resource, nsgsim_error *err);
/* Parses a bare IP address (no prefix length).  Returns 0 or -1. */
int ns_parse_ip(const char *text, int *family, ns_u128 *addr);
/* An address as the public API holds it, and back (lib/parse/flow.c). */
void ns_ip_from_u128(nsgsim_ip *ip, int family, ns_u128 v);
ns_u128 ns_ip_to_u128(const nsgsim_ip *ip);
/* "*", "80", "1000-2000"; 0 or a negative code. */
int ns_parse_port_range(const char *text, ns_port_range *out, const ns_loc *loc,
                        const char *resource, nsgsim_error *err);
/* n (1-5) decimal digits, no sign or blanks, at most max. */
bool ns_parse_decimal(const char *s, size_t n, unsigned max, unsigned *out);
/* Tag-like: not an address, not '*'. */
bool ns_looks_like_tag(const char *text);

#endif

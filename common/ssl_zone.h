/*
 * ssl_zone.h: the TLS state every worker shares, kept across reloads
 * and binary upgrades in file-backed zones (shm.h) beside the pid file:
 *
 *   portico.tls		the session ticket keys: a ring of
 *				SSL_ZONE_NKEYS, the newest encrypts, all
 *				of them decrypt; rotated lazily, by the
 *				first process that finds the newest older
 *				than the rotation period
 *   portico.tls.NAME		the session cache of
 *				"ssl_session_cache shared:NAME:SIZE"
 *
 * ssl_zone_attach() runs in the master after each configuration load,
 * before the generation's children are forked: it maps the zones (or
 * reuses the mappings it has), reads the ssl_session_ticket_key files,
 * and sets up every server's SSL_CTX: its ticket key callback, session
 * cache mode and callbacks, session timeout and session ID context.
 * The callbacks run in the workers and find their state through the
 * SSL_CTX's ex_data; the mappings are inherited through fork().
 *
 * With SNI, OpenSSL runs the callbacks of the initial SSL_CTX and lets
 * it decide whether anything is cached at all.  So that a ticket or a
 * session ID made under one server name is good under another: every
 * context has the same session ID context; a ticket is encrypted with
 * the keys of the server the handshake ended on and decrypted with any
 * key the generation knows (the zone's or a file's); a session is
 * stored in the cache of the server the handshake ended on and looked
 * up in every cache of the generation.
 */
#ifndef PORTICO_SSL_ZONE_H
#define PORTICO_SSL_ZONE_H

#include "core.h"

#define SSL_ZONE_KEYS_FILE	"portico.tls"	/* beside the pid file */
#define SSL_ZONE_CACHE_FILE	"portico.tls."	/* + the cache's name */
#define SSL_ZONE_NKEYS		3	/* the current key and two before */
#define SSL_ZONE_ROTATE_SEC	3600	/* at least; see ssl_zone.c */
#define SSL_ZONE_SESSION_MAX	4096	/* a larger session is not cached */
#define SSL_ZONE_CACHE_MIN	(64 * 1024)

struct gen;

int	 ssl_zone_attach(struct gen *);

#endif

/*
 * upstream.h: upstream {} blocks of a generation, as the config reader
 * builds them.  Like the rest of the config they live in the
 * generation's arena and are read-only once the master has built them;
 * what changes at run time (connections, failures, weights) is kept by
 * the balancer in per-peer state (balance.h), shared through the health
 * zone (shm.h).
 */
#ifndef PORTICO_UPSTREAM_H
#define PORTICO_UPSTREAM_H

#include "core.h"

#include <sys/socket.h>

#include "regex.h"
#include "var.h"

/* balancing methods */
enum ups_method {
	UPS_RR = 0,		/* smooth weighted round-robin (default) */
	UPS_LEAST_CONN,
	UPS_IP_HASH,
	UPS_HASH,
	UPS_CHASH,		/* hash ... consistent */
	UPS_RANDOM,
};

/* server parameters a balancing method allows (nginx's flags) */
#define UPS_F_WEIGHT		0x01
#define UPS_F_MAX_CONNS		0x02
#define UPS_F_MAX_FAILS		0x04
#define UPS_F_FAIL_TIMEOUT	0x08
#define UPS_F_DOWN		0x10
#define UPS_F_BACKUP		0x20
#define UPS_F_ALL		0x3f

#define UPS_ADDR_TEXT	128	/* "[v6]:port", or "unix:/path" (108) */

/*
 * One peer: one address of a server line.  A name that resolves to
 * several addresses gives several peers with the same parameters and
 * the same p_server.
 */
struct conf_peer {
	struct sockaddr_storage	 p_addr;
	socklen_t		 p_addrlen;
	char			 p_name[UPS_ADDR_TEXT];	/* the address */
	const char		*p_server;	/* the server line's text */
	int			 p_server_idx;	/* its server line, from 0 */
	int			 p_weight;
	int			 p_max_fails;	/* 0: never marked failed */
	msec_t			 p_fail_timeout;
	int			 p_max_conns;	/* 0: no limit */
	int			 p_backup;
	int			 p_down;
	int			 p_slot;	/* in the health zone; -1: none */
	const char		*p_file;
	int			 p_line;
};

/* portico's health_check: status ranges and a body regex to match */
#define UPS_HC_MAX_RANGES	8

struct conf_hc {
	msec_t			 hc_interval;
	int64_t			 hc_fails;
	int64_t			 hc_passes;
	char			*hc_uri;
	int			 hc_port;	/* 0: the peer's */
	int			 hc_nranges;
	int			 hc_lo[UPS_HC_MAX_RANGES];
	int			 hc_hi[UPS_HC_MAX_RANGES];
	struct regex		*hc_body;	/* NULL: any body */
	const char		*hc_body_src;
	const char		*hc_file;
	int			 hc_line;
};

/* a consistent-hash ring: sorted points, each naming a server line */
struct ups_point {
	uint32_t		 pt_hash;
	int			 pt_server;
};

struct ups_ring {
	struct ups_point	*r_points;
	int			 r_n;
};

struct conf_upstream {
	char			*u_name;
	const char		*u_file;
	int			 u_line;
	int			 u_method;
	int			 u_flags;	/* UPS_F_*: allowed parameters */
	struct var_tpl		*u_hash_key;	/* UPS_HASH, UPS_CHASH */
	int			 u_random_two;	/* random two [least_conn] */
	/* primaries first, in the order of the file, then the backups */
	struct conf_peer	*u_peers;
	int			 u_npeers;
	int			 u_nprimary;
	int			 u_nservers;	/* server lines */
	int64_t			 u_total_weight;	/* of the primaries */
	struct ups_ring		*u_ring;	/* UPS_CHASH */
	int64_t			 u_keepalive;	/* idle connections; 0: none */
	msec_t			 u_keepalive_timeout;
	int64_t			 u_keepalive_requests;
	char			*u_zone;
	int64_t			 u_zone_size;	/* 0: given by another */
	struct conf_hc		*u_hc;		/* NULL: no active checks */
	struct ssl_ctx_st	*u_ssl_ctx;	/* the checks speak TLS with it:
						   the context of the first
						   proxy_pass https:// to it,
						   or with variables */
	struct conf_upstream	*u_next;
	int			 u_implicit;	/* made for a proxy_pass host */
	int			 u_named;	/* by a proxy_pass as written */
	int			 u_index;	/* in hc_upstreams, from 0 */
	/* while parsing */
	struct ups_server	*u_servers;
	int			 u_method_line;
};

struct gen;

struct conf_upstream *conf_upstream_find(const struct gen *, const char *name);

#endif

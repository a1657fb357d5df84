/*
 * conf.h: the configuration of one generation.  Everything here lives in
 * the generation's arena and is read-only after the master has built it.
 */
#ifndef PORTICO_CONF_H
#define PORTICO_CONF_H

#include "core.h"

#include <sys/socket.h>

#include "arena.h"
#include "log.h"
#include "regex.h"
#include "upstream.h"
#include "var.h"

/* contexts a directive may appear in */
#define CTX_MAIN	0x01
#define CTX_EVENTS	0x02
#define CTX_HTTP	0x04
#define CTX_SERVER	0x08
#define CTX_LOCATION	0x10
#define CTX_TYPES	0x20
#define CTX_UPSTREAM	0x40
#define CTX_ANY		0x7f
#define CTX_MAP		0x80	/* inside map { }: entries, not directives */
#define CTX_IF		0x100	/* inside if ( ) { } */

struct conf_main {
	int		 mc_daemon;
	int		 mc_master;
	int64_t		 mc_workers;		/* 0: auto */
	int64_t		 mc_rlimit_nofile;
	msec_t		 mc_shutdown_timeout;
	char		*mc_pid;		/* absolute */
	char		*mc_user;
	char		*mc_group;
	char		*mc_error_log[LOG_MAX_TARGETS]; /* absolute, or "stderr" */
	int		 mc_error_level[LOG_MAX_TARGETS];
	int		 mc_nerror_logs;
	int64_t		 mc_worker_connections;
	int		 mc_multi_accept;
	int		 mc_events_seen;
};

struct conf_type {
	const char	*t_ext;
	const char	*t_type;
};

struct conf_types {
	struct conf_type *ty_list;
	int		 ty_n;
	int		 ty_cap;
};

enum loc_match {
	LOC_PREFIX = 0,
	LOC_EXACT,		/* = */
	LOC_NOREGEX,		/* ^~ */
	LOC_NAMED,		/* @name */
	LOC_REGEX,		/* ~ and ~* */
};

/* log_format */
struct conf_logfmt {
	const char		*lf_name;
	struct var_tpl		*lf_tpl;
	int			 lf_escape;
	struct conf_logfmt	*lf_next;
};

/* a directory the workers write temporary files in (proxy_temp_path) */
struct conf_tempdir {
	char			*td_path;
	struct conf_tempdir	*td_next;
};

/* a log file of the generation, opened by the master */
struct conf_logfile {
	char			*lf_path;
	int			 lf_fd;
	/* the worker's buffer (access_log buffer=, flush=) */
	int64_t			 lf_bufsize;
	msec_t			 lf_flush;
	char			*lf_buf;
	size_t			 lf_buflen;
	msec_t			 lf_since;	/* when the buffer filled up */
	struct conf_logfile	*lf_next;
};

/* one access_log line of a context */
struct conf_access {
	struct conf_logfile	*al_file;
	struct conf_logfmt	*al_fmt;
	struct var_tpl		*al_if;
	struct conf_access	*al_next;
};

struct conf_upstream;
struct shm_zone;
typedef struct ssl_ctx_st SSL_CTX;	/* OpenSSL's, so conf.h needs no ssl.h */

/* the session id context of servers without client certificates */
#define SSL_SID_SHARED	"portico"

/* ssl_protocols */
#define SSLP_TLSv1	0x01
#define SSLP_TLSv1_1	0x02
#define SSLP_TLSv1_2	0x04
#define SSLP_TLSv1_3	0x08

/* ssl_verify_client */
enum {
	SSLV_OFF = 0,
	SSLV_ON,
	SSLV_OPTIONAL,
	SSLV_OPTIONAL_NO_CA,
};

/* ssl_session_cache */
enum {
	SSLC_NONE = 0,		/* "none" (the default): no server-side cache,
				   clients told nothing is cached */
	SSLC_OFF,		/* "off": no cache at all */
	SSLC_SHARED,		/* "shared:name:size": the shared zone, and
				   OpenSSL's own per-worker cache too when
				   ss_cache_builtin > 0 */
	SSLC_BUILTIN,		/* "builtin[:size]" alone: OpenSSL's cache */
};

/* where a directive was given, for the errors found when it is used */
struct conf_at {
	const char		*at_file;	/* NULL: not given (default) */
	int			 at_line;
};

/* the directives of ss_at[] and px_ssl_at[] */
enum {
	SSLA_PASSWORD = 0,
	SSLA_CIPHERS,
	SSLA_ECDH_CURVE,
	SSLA_DHPARAM,
	SSLA_VERIFY,		/* ssl_verify_client, proxy_ssl_verify */
	SSLA_CLIENT_CERT,
	SSLA_TRUSTED,
	SSLA_CRL,
	SSLA_STAPLING,
	SSLA_STAPLING_FILE,
	SSLA_CACHE,
	SSLA_CERT,		/* proxy_ssl_certificate */
	SSLA_KEY,		/* proxy_ssl_certificate_key */
	SSLA_N
};

/* one ssl_session_ticket_key file, read at load */
struct conf_ssl_ticket {
	unsigned char		 tk_key[80];	/* as nginx: the key name (16),
						   the HMAC secret, the AES key
						   (16 each, or 32 each) */
	size_t			 tk_len;	/* 48 or 80 */
};

/* one ssl_certificate and the ssl_certificate_key given after it */
struct conf_ssl_cert {
	char			*sk_cert;	/* absolute */
	char			*sk_key;	/* absolute; NULL: not given */
	const char		*sk_file;	/* of the ssl_certificate line */
	int			 sk_line;
	struct conf_ssl_cert	*sk_next;	/* in config order */
};

/* ssl_conf_command name value */
struct conf_ssl_cmd {
	char			*sm_name;
	char			*sm_value;
	const char		*sm_file;	/* where it was given */
	int			 sm_line;
	struct conf_ssl_cmd	*sm_next;
};

/*
 * The ssl_* directives of a server (http level: the defaults), and the
 * SSL_CTX built from them by the master at load (conf_ssl_ctx.c).  A level
 * that gives any ssl_certificate replaces the inherited list, as nginx.
 */
struct conf_ssl {
	struct conf_ssl_cert	*ss_certs;	/* merged: each with its key */
	struct conf_ssl_cert	*ss_keys;	/* while reading: this level's
						   ssl_certificate_key lines
						   (sk_key), paired with the
						   certificates by order */
	char			*ss_password_file;	/* absolute, or NULL */
	int			 ss_protocols;		/* SSLP_* */
	char			*ss_ciphers;		/* "HIGH:!aNULL:!MD5" */
	struct conf_ssl_cmd	*ss_commands;
	int			 ss_prefer_server;	/* off */
	char			*ss_ecdh_curve;		/* "auto" */
	char			*ss_dhparam;		/* NULL: none */
	int			 ss_tickets;		/* on */
	char			**ss_ticket_keys;	/* files; first encrypts */
	struct conf_ssl_ticket	*ss_ticket_data;	/* their bytes, same order */
	int			 ss_nticket_keys;
	int			 ss_cache;		/* SSLC_* */
	char			*ss_cache_name;		/* SSLC_SHARED */
	int64_t			 ss_cache_size;		/* bytes */
	int64_t			 ss_cache_builtin;	/* sessions; 0: none */
	msec_t			 ss_session_timeout;	/* 5m */
	int			 ss_verify;		/* SSLV_* */
	int64_t			 ss_verify_depth;	/* 1 */
	char			*ss_client_cert;	/* CAs sent and trusted */
	char			*ss_trusted;		/* trusted, not sent */
	char			*ss_crl;
	int			 ss_stapling;		/* off */
	char			*ss_stapling_file;	/* DER OCSP response */
	int			 ss_stapling_verify;	/* off */
	unsigned char		*ss_staple;		/* the DER of
						   ss_stapling_file, stapled
						   when ss_stapling */
	size_t			 ss_staple_len;
	msec_t			 ss_handshake_timeout;	/* portico; unset or 0:
						   the server's
						   client_header_timeout
						   (resolved at merge) */
	struct conf_at		 ss_at[SSLA_N];
	SSL_CTX			*ss_ctx;	/* NULL: no certificate */
	unsigned char		 ss_sid[32];	/* its session id context */
	unsigned		 ss_sidlen;
};

/* proxy_next_upstream */
#define PXN_ERROR		0x001
#define PXN_TIMEOUT		0x002
#define PXN_INVALID_HEADER	0x004
#define PXN_HTTP_500		0x008
#define PXN_HTTP_502		0x010
#define PXN_HTTP_503		0x020
#define PXN_HTTP_504		0x040
#define PXN_HTTP_403		0x080
#define PXN_HTTP_404		0x100
#define PXN_HTTP_429		0x200
#define PXN_NON_IDEMPOTENT	0x400

/* proxy_set_header name value */
struct conf_proxy_header {
	const char			*ph_name;
	size_t				 ph_namelen;
	struct var_tpl			*ph_value;
	struct conf_proxy_header	*ph_next;
};

/* proxy_hide_header, proxy_pass_header */
struct conf_proxy_name {
	const char		*pn_name;
	size_t			 pn_len;
	struct conf_proxy_name	*pn_next;
};

/* proxy_redirect from to */
struct conf_proxy_redirect {
	const char			*pr_from;	/* NULL: "default" */
	size_t				 pr_fromlen;
	struct var_tpl			*pr_to;
	struct conf_proxy_redirect	*pr_next;
};

/* the proxy_* directives of a location (conf_proxy.c) */
struct conf_proxy {
	/* proxy_pass: not inherited */
	int			 px_pass;
	struct conf_upstream	*px_ups;	/* named, or made for the host */
	char			*px_hostname;	/* as written, without port */
	char			*px_unix;	/* "http://unix:/path:": path */
	int			 px_port_given;
	const char		*px_file;	/* of the proxy_pass line */
	int			 px_line;
	char			*px_host;		/* $proxy_host */
	size_t			 px_hostlen;
	int			 px_port;
	char			*px_uri;		/* NULL: none */
	size_t			 px_urilen;
	struct var_tpl		*px_pass_tpl;	/* the URL, variables in its host */
	struct var_tpl		*px_uri_tpl;	/* the URI part, with variables */
	struct conf_proxy	*px_pre;	/* an address before the variables */
	/* inherited */
	int			 px_http_version;	/* 10, 11 */
	msec_t			 px_connect_timeout;
	msec_t			 px_send_timeout;
	msec_t			 px_read_timeout;
	int64_t			 px_buffer_size;
	int			 px_pass_headers;
	int			 px_pass_body;
	int			 px_intercept_errors;
	struct conf_proxy_header *px_headers;	/* this level's lines */
	int			 px_headers_set;
	struct conf_proxy_header *px_headers_final; /* with defaults */
	struct conf_proxy_name	*px_hide;
	int			 px_hide_set;
	struct conf_proxy_name	*px_pass_hdrs;
	int			 px_pass_hdrs_set;
	struct conf_proxy_redirect *px_redirects; /* NULL: off */
	int			 px_redirect_set;
	struct conf_proxy_redirect *px_redirect_default; /* of proxy_pass */
	int			 px_buffering;
	int64_t			 px_buffers_num;	/* proxy_buffers */
	int64_t			 px_buffers_size;
	int64_t			 px_busy_size;
	int64_t			 px_max_temp;		/* 0: no spooling */
	char			*px_temp_path;		/* absolute */
	int			 px_request_buffering;
	int			 px_next;		/* PXN_* */
	int64_t			 px_next_tries;		/* 0: no limit */
	msec_t			 px_next_timeout;	/* 0: no limit */
	int64_t			 px_body_buffer;	/* client_body_buffer_size */
	char			*px_body_temp;		/* client_body_temp_path */
	/* proxy_pass https://, proxy_ssl_*: inherited except px_ssl */
	int			 px_ssl;		/* https:// */
	int			 px_ssl_server_name;	/* off: no SNI */
	struct var_tpl		*px_ssl_name;		/* NULL: $proxy_host */
	int			 px_ssl_verify;		/* off */
	int64_t			 px_ssl_verify_depth;	/* 1 */
	char			*px_ssl_trusted;	/* CA file */
	char			*px_ssl_crl;
	int			 px_ssl_protocols;	/* SSLP_* */
	char			*px_ssl_ciphers;	/* "DEFAULT" */
	char			*px_ssl_cert;		/* client certificate */
	char			*px_ssl_key;
	char			*px_ssl_password_file;
	struct conf_ssl_cmd	*px_ssl_commands;	/* proxy_ssl_conf_command */
	int			 px_ssl_session_reuse;	/* on */
	struct conf_at		 px_ssl_at[SSLA_N];
	SSL_CTX			*px_ssl_ctx;		/* px_ssl: built at load,
						   shared by the locations
						   inheriting the same
						   settings */
};

enum linger_mode {
	LINGER_OFF = 0,
	LINGER_ON,		/* when the client may still be sending */
	LINGER_ALWAYS,
};

/* add_header name value [always] */
struct conf_header {
	const char		*hd_name;
	struct var_tpl		*hd_value;
	int			 hd_always;
	struct conf_header	*hd_next;
};

/* try_files: each file to test, then the fallback (the last argument) */
struct conf_try {
	struct var_tpl	**tf_files;
	int		*tf_dirs;	/* "name/": tests a directory "name" */
	int		 tf_nfiles;
	struct var_tpl	*tf_uri;	/* a URI or "@name"; NULL with a code */
	int		 tf_code;	/* "=404": 404; 0 otherwise */
};

enum {
	EXPIRES_OFF = 0,
	EXPIRES_EPOCH,
	EXPIRES_MAX,
	EXPIRES_TIME,		/* now + lc_expires_time */
	EXPIRES_MODIFIED,	/* the file's mtime + lc_expires_time */
};

enum {
	IMS_OFF = 0,
	IMS_EXACT,
	IMS_BEFORE,
};

/* rewrite module, map, error_page */

enum rw_op {
	RW_RETURN = 0,
	RW_REWRITE,
	RW_SET,
	RW_BREAK,
	RW_IF,
};

/* the condition of an if */
enum rw_cond {
	RW_IF_VAR = 0,		/* ($v): true unless empty or "0" */
	RW_IF_EQ,		/* ($v = text), != with rw_negate */
	RW_IF_REGEX,		/* ($v ~ re), ~* !~ !~* */
};

enum rw_flag {
	RW_FLAG_NONE = 0,
	RW_FLAG_LAST,
	RW_FLAG_BREAK,
	RW_FLAG_REDIRECT,	/* 302 */
	RW_FLAG_PERMANENT,	/* 301 */
};

/* one directive of a level's rewrite-phase program, in config order */
struct conf_rw {
	int		 rw_op;
	int		 rw_code;	/* return */
	struct var_tpl	*rw_text;	/* return text or URL; set value */
	struct regex	*rw_regex;	/* rewrite */
	struct var_tpl	*rw_uri;	/* rewrite: replacement up to '?' */
	struct var_tpl	*rw_args;	/* after '?', or NULL */
	int		 rw_flag;
	int		 rw_redirect;	/* an absolute URL: answered 301/302 */
	int		 rw_add_args;	/* no trailing '?': keep the args */
	int		 rw_slot;	/* set: the user variable */
	int		 rw_set_args;	/* set $args */
	int		 rw_cond;	/* if: RW_IF_* */
	int		 rw_negate;	/* if: != !~ !~* */
	struct var_tpl	*rw_lhs;	/* if: the variable */
	struct conf_loc	*rw_if;		/* if: the block, its program */
	struct conf_rw	*rw_next;
};

/* error_page codes ... [=[code]] target */
struct conf_errpage {
	int		 ep_code;
	int		 ep_overwrite;	/* -1: none; 0: "="; else the code */
	struct var_tpl	*ep_target;	/* "/uri", "@named" or a URL */
	int		 ep_named;
	int		 ep_url;	/* neither '/' nor '@': a redirect */
	struct conf_errpage *ep_next;
};

struct conf_map_key {
	const char	*mk_key;	/* lowercased; wildcards without '*' */
	size_t		 mk_len;
	struct var_tpl	*mk_value;
};

struct conf_map_re {
	struct regex	*mr_regex;
	struct var_tpl	*mr_value;
};

/* map $src $dst { ... } */
struct conf_map {
	struct var_tpl	*mp_src;
	int		 mp_slot;	/* of $dst */
	int		 mp_hostnames;
	int		 mp_volatile;
	struct var_tpl	*mp_default;	/* NULL: empty */
	struct conf_map_key *mp_exact;	/* sorted by key */
	int		 mp_nexact;
	struct conf_map_key *mp_head;	/* "*.a.com", ".a.com": ".a.com" */
	int		 mp_nhead;
	struct conf_map_key *mp_tail;	/* "www.a.*": "www.a." */
	int		 mp_ntail;
	struct conf_map_re *mp_re;	/* in config order */
	int		 mp_nre;
	int		 mp_cap;	/* allocated entries, while parsing */
	int		 mp_hcap, mp_tcap, mp_rcap;
	const char	*mp_file;
	int		 mp_line;
	struct conf_map	*mp_next;
};

struct conf_loc {
	char		*lc_name;
	int		 lc_match;
	size_t		 lc_namelen;
	struct conf_loc	*lc_parent;
	struct conf_loc	*lc_children;		/* nested locations */
	struct conf_loc	*lc_next;		/* sibling */
	struct regex	*lc_regex;		/* LOC_REGEX */
	const char	*lc_file;
	int		 lc_line;

	/* rewrite phase: not inherited, as in nginx */
	struct conf_rw	*lc_rw;			/* return, rewrite, set, break */
	int		 lc_internal;
	int		 lc_if;			/* an if block, not a location */
	struct conf_loc	*lc_ifs;		/* its if blocks, for merging */

	/* rewrite module, error_page: inherited */
	int		 lc_rewrite_log;
	int		 lc_recursive_error_pages;
	struct conf_errpage *lc_error_pages;	/* a level's own replace */

	/* inherited */
	msec_t		 lc_keepalive_timeout;
	msec_t		 lc_keepalive_header;
	int64_t		 lc_keepalive_requests;
	msec_t		 lc_send_timeout;
	int64_t		 lc_client_max_body_size;	/* 0: no limit */
	msec_t		 lc_client_body_timeout;
	int		 lc_lingering_close;	/* LINGER_OFF, _ON, _ALWAYS */
	msec_t		 lc_lingering_time;
	msec_t		 lc_lingering_timeout;
	int		 lc_reset_timedout;	/* reset_timedout_connection */
	int		 lc_server_tokens;
	char		*lc_default_type;
	struct conf_types *lc_types;
	struct conf_access *lc_access;		/* NULL with lc_access_set: off */
	int		 lc_access_set;

	/* static files (worker/http_static.c) */
	struct var_tpl	*lc_root;		/* root, or alias */
	size_t		 lc_alias;		/* 0: root; else the URI prefix
						   alias replaces, SIZE_MAX: all */
	struct var_tpl	**lc_index;
	int		 lc_nindex;
	int		 lc_autoindex;
	int		 lc_sendfile;
	int		 lc_tcp_nopush;
	int		 lc_tcp_nodelay;
	int		 lc_etag;
	int		 lc_if_modified_since;	/* IMS_ */
	int		 lc_absolute_redirect;
	int		 lc_port_in_redirect;
	int		 lc_server_name_in_redirect;
	int		 lc_expires;		/* EXPIRES_ */
	msec_t		 lc_expires_time;
	struct conf_header *lc_headers;		/* a level with any replaces
						   the inherited ones */
	int		 lc_headers_set;
	struct conf_try	*lc_try;		/* not inherited, as nginx */

	struct conf_proxy lc_px;		/* proxy_* */
};

/* socket options of a listening address, given once for it (as nginx) */
struct listen_opts {
	int			 lo_reuseport;	/* a socket per worker */
	int			 lo_deferred;	/* TCP_DEFER_ACCEPT */
	int			 lo_rcvbuf;	/* -1: the system's */
	int			 lo_sndbuf;
	int			 lo_fastopen;	/* queue length; -1: not set */
	int			 lo_keepalive;	/* -1: the system's; 0, 1 */
	int			 lo_keepidle;	/* seconds; 0: the system's */
	int			 lo_keepintvl;
	int			 lo_keepcnt;
};

struct conf_listen {
	struct sockaddr_storage	 li_addr;
	socklen_t		 li_addrlen;
	char			 li_text[80];	/* "127.0.0.1:8080" */
	int			 li_default;
	int64_t			 li_backlog;
	int			 li_ipv6only;
	int			 li_ssl;	/* "ssl" */
	struct listen_opts	 li_opt;
	int			 li_opt_set;	/* any socket option given */
	const char		*li_file;
	int			 li_line;
	struct conf_listen	*li_next;
};

struct conf_srv {
	struct conf_listen	*sc_listens;
	char			**sc_names;
	int			 sc_nnames;
	struct regex		**sc_regexes;	/* ~ names, in order */
	int			 sc_nregexes;
	msec_t			 sc_client_header_timeout;
	int64_t			 sc_header_buffer;	/* first buffer */
	int64_t			 sc_large_num;		/* then up to */
	int64_t			 sc_large_size;		/* num x size */
	struct conf_loc		*sc_loc;	/* server level; root of tree */
	struct conf_ssl		 sc_ssl;	/* ssl_* */
	struct conf_srv		*sc_next;
	const char		*sc_file;
	int			 sc_line;
};

struct conf_http {
	struct conf_srv		*hc_srv;	/* http-level defaults */
	struct conf_loc		*hc_loc;	/* http-level defaults */
	struct conf_srv		*hc_servers;
	struct conf_logfmt	*hc_formats;
	struct conf_upstream	*hc_upstreams;	/* in the order of the file */
	struct conf_map		*hc_maps;
};

/* one listening address of the generation, and the servers on it */
struct gen_listen {
	struct sockaddr_storage	 gl_addr;
	socklen_t		 gl_addrlen;
	char			 gl_text[80];
	int64_t			 gl_backlog;
	int			 gl_ipv6only;
	int			 gl_ssl;	/* any listen of it said "ssl" */
	struct listen_opts	 gl_opt;
	int			 gl_opt_set;
	int			 gl_fd;		/* set by the master */
	int			*gl_fds;	/* reuseport: one per worker */
	int			 gl_nfds;
	struct conf_srv		*gl_default;
	struct conf_srv		**gl_servers;
	int			 gl_nservers;
};

struct conf_file {
	char			*cf_path;
	char			*cf_data;
	size_t			 cf_len;
	struct conf_file	*cf_next;
};

struct shm_zone;

struct gen {
	struct arena		*g_arena;
	unsigned		 g_id;
	char			*g_prefix;	/* ends with '/' */
	char			*g_conf_path;
	char			*g_conf_dir;	/* ends with '/' */
	struct conf_main	*g_main;
	struct conf_http	*g_http;	/* NULL without http {} */
	struct gen_listen	*g_listens;
	int			 g_nlistens;
	struct conf_file	*g_files;	/* in reading order, for -T */
	struct regex		*g_regexes;	/* freed with the generation */
	struct conf_logfile	*g_logfiles;	/* access logs */
	struct conf_tempdir	*g_tempdirs;	/* made by the master */
	struct shm_zone		*g_health;	/* upstream state, the master's;
						   NULL: not shared */
	struct shm_zone		*g_tls;		/* ticket keys and the session
						   caches (ssl_zone.c); NULL:
						   none mapped */
	int			 g_nuvars;	/* user variables: set, map */
	struct conf_map		**g_uvar_map;	/* by slot, or NULL */
	const char		**g_uvar_names;	/* by slot */
	int			 g_errors;
};

/* conf.c */
struct gen	*conf_load(const char *prefix, const char *path,
		    const char *params, int is_root);
void		 conf_free(struct gen *);
void		 conf_print_directives(FILE *);
int		 conf_is_documented_ctx(int ctx);
const char	*conf_ctx_names(int ctx, char *buf, size_t len);

/* conf_log.c: the access log files, in the master */
int		 conf_logs_open(struct gen *);
void		 conf_logs_close(struct gen *);
int		 conf_logs_reopen(struct gen *);
int		 conf_logs_chown(struct gen *, uid_t, gid_t);

/* conf_proxy.c: the temporary directories, made in the master */
int		 conf_tempdirs_make(struct gen *, int chown_to, uid_t, gid_t);

/*
 * conf_ssl.c reads the ssl_* and proxy_ssl_* directives; conf_ssl_ctx.c
 * builds the SSL_CTXs of servers and of proxy_pass https:// in
 * conf_load() (certificates and keys are read there, in the master,
 * before privileges are dropped), freed by conf_free().
 */
int		 conf_ssl_build(struct gen *);
void		 conf_ssl_free(struct gen *);

/* lookups used by the data path */
struct conf_srv	*conf_find_server(const struct gen_listen *, const char *host,
		    size_t len, struct regex_captures *);
struct conf_loc	*conf_find_location(struct conf_loc *srvloc, const char *uri,
		    size_t len, struct regex_captures *);
struct conf_loc	*conf_find_named(struct conf_loc *srvloc, const char *name);
const struct var_tpl *conf_map_find(const struct conf_map *, const char *v,
		    size_t len, struct regex_captures *);
const char	*conf_mime_type(const struct conf_loc *, const char *ext,
		    size_t len);

#endif

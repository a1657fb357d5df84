/*
 * conf_ssl.c: the ssl_* directives of http and server, the proxy_ssl_*
 * directives of http, server and location, their defaults and
 * inheritance (nginx's), and the SSL_CTXs built from them when a
 * configuration has been read.
 *
 * Files named by these directives are read by the master at load, before
 * it drops privileges, so a key readable by root alone works, and a bad
 * file fails "portico -t" and a reload (which then keeps the running
 * generation).  Errors found while building carry the file:line of the
 * directive that named the file (struct conf_at), or of the server or
 * proxy_pass when the value is a default.
 */
#include "core.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

#define SSLP_DEFAULT	(SSLP_TLSv1_2 | SSLP_TLSv1_3)
#define CIPHERS_DEFAULT	"HIGH:!aNULL:!MD5"
#define PASSWORDS_MAX	(64 * 1024)	/* the largest ssl_password_file */
#define STAPLE_MAX	(1024 * 1024)	/* the largest ssl_stapling_file */
#define BUILTIN_DEFAULT	20480		/* "builtin": sessions, as nginx */

/* directives setting one value: how conf_ssl_set() reads it */
enum { K_FLAG, K_NUM, K_MSEC, K_STR, K_PATH, K_CERTPATH };

static const struct ssl_dir {
	const char	*name;
	int		 kind;
	int		 at;		/* SSLA_*, or -1: no errors later */
} ssl_dirs[] = {
	{ "ssl_password_file", K_PATH, SSLA_PASSWORD },
	{ "ssl_ciphers", K_STR, SSLA_CIPHERS },
	{ "ssl_prefer_server_ciphers", K_FLAG, -1 },
	{ "ssl_ecdh_curve", K_STR, SSLA_ECDH_CURVE },
	{ "ssl_dhparam", K_PATH, SSLA_DHPARAM },
	{ "ssl_session_tickets", K_FLAG, -1 },
	{ "ssl_session_timeout", K_MSEC, -1 },
	{ "ssl_client_certificate", K_PATH, SSLA_CLIENT_CERT },
	{ "ssl_trusted_certificate", K_PATH, SSLA_TRUSTED },
	{ "ssl_verify_depth", K_NUM, -1 },
	{ "ssl_crl", K_PATH, SSLA_CRL },
	{ "ssl_stapling", K_FLAG, SSLA_STAPLING },
	{ "ssl_stapling_file", K_PATH, SSLA_STAPLING_FILE },
	{ "ssl_stapling_verify", K_FLAG, -1 },
	{ "ssl_handshake_timeout", K_MSEC, -1 },
	{ "proxy_ssl_server_name", K_FLAG, -1 },
	{ "proxy_ssl_verify", K_FLAG, SSLA_VERIFY },
	{ "proxy_ssl_verify_depth", K_NUM, -1 },
	{ "proxy_ssl_trusted_certificate", K_PATH, SSLA_TRUSTED },
	{ "proxy_ssl_crl", K_PATH, SSLA_CRL },
	{ "proxy_ssl_ciphers", K_STR, SSLA_CIPHERS },
	{ "proxy_ssl_certificate", K_CERTPATH, SSLA_CERT },
	{ "proxy_ssl_certificate_key", K_CERTPATH, SSLA_KEY },
	{ "proxy_ssl_password_file", K_PATH, SSLA_PASSWORD },
	{ "proxy_ssl_session_reuse", K_FLAG, -1 },
};

void
conf_ssl_init(struct conf_ssl *c)
{
	c->ss_protocols = c->ss_prefer_server = c->ss_tickets = UNSET;
	c->ss_cache = c->ss_verify = c->ss_stapling = UNSET;
	c->ss_stapling_verify = UNSET;
	c->ss_session_timeout = c->ss_handshake_timeout = UNSET;
	c->ss_verify_depth = UNSET;
}

void
conf_ssl_proxy_init(struct conf_proxy *px)
{
	px->px_ssl_server_name = px->px_ssl_verify = UNSET;
	px->px_ssl_verify_depth = UNSET;
	px->px_ssl_protocols = px->px_ssl_session_reuse = UNSET;
}

static int
ssl_dup(struct conf_parser *cp, char **argv)
{
	conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
	return -1;
}

static int
ssl_bad(struct conf_parser *cp, char **argv, const char *v)
{
	conf_error(cp, "invalid value \"%s\" in \"%s\" directive", v, argv[0]);
	return -1;
}

/* the conf_at table of the level a directive is read into */
static struct conf_at *
ats_of(const struct conf_cmd *c, void *conf)
{
	if (c->c_which == CONF_SRV)
		return ((struct conf_srv *)conf)->sc_ssl.ss_at;
	return ((struct conf_loc *)conf)->lc_px.px_ssl_at;
}

static void
note_at(struct conf_parser *cp, struct conf_at *ats, int at)
{
	if (at < 0)
		return;
	ats[at].at_file = cp->cp_in->in_path;
	ats[at].at_line = cp->cp_line;
}

/* the directives of ssl_dirs[]: the field is at c_offset */
int
conf_ssl_set(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	const struct ssl_dir *d = NULL;
	void *p = (char *)conf + c->c_offset;
	long long v;
	size_t i;

	for (i = 0; i < nitems(ssl_dirs); i++)
		if (strcmp(ssl_dirs[i].name, argv[0]) == 0)
			d = &ssl_dirs[i];
	if (d == NULL) {
		conf_error(cp, "\"%s\": no setter (a bug)", argv[0]);
		return -1;
	}
	switch (d->kind) {
	case K_FLAG:
		if (*(int *)p != UNSET)
			return ssl_dup(cp, argv);
		if (strcasecmp(argv[1], "on") == 0)
			*(int *)p = 1;
		else if (strcasecmp(argv[1], "off") == 0)
			*(int *)p = 0;
		else {
			conf_error(cp, "invalid value \"%s\" in \"%s\" "
			    "directive, it must be \"on\" or \"off\"", argv[1],
			    argv[0]);
			return -1;
		}
		break;
	case K_NUM:
		if (*(int64_t *)p != UNSET)
			return ssl_dup(cp, argv);
		if (str_parse_int(argv[1], INT_MAX, &v) == -1)
			return ssl_bad(cp, argv, argv[1]);
		*(int64_t *)p = v;
		break;
	case K_MSEC:
		if (*(msec_t *)p != UNSET)
			return ssl_dup(cp, argv);
		if (str_parse_time(argv[1], (msec_t *)p) == -1) {
			*(msec_t *)p = UNSET;
			return ssl_bad(cp, argv, argv[1]);
		}
		break;
	case K_STR:
		if (*(char **)p != NULL)
			return ssl_dup(cp, argv);
		*(char **)p = arena_strdup(cp->cp_arena, argv[1]);
		break;
	case K_CERTPATH:
		if (strchr(argv[1], '$') != NULL) {
			conf_error(cp, "variables in \"%s\" are not supported",
			    argv[0]);
			return -1;
		}
		/* FALLTHROUGH */
	case K_PATH:
		if (*(char **)p != NULL)
			return ssl_dup(cp, argv);
		/* as nginx: relative to the configuration's folder */
		*(char **)p = conf_full_path(cp, argv[1], 1);
		break;
	}
	note_at(cp, ats_of(c, conf), d->at);
	return 0;
}

/* ssl_certificate, ssl_certificate_key: several pairs, in order */
int
conf_ssl_set_cert(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_ssl *ss = &((struct conf_srv *)conf)->sc_ssl;
	int is_key = strcmp(argv[0], "ssl_certificate_key") == 0;
	struct conf_ssl_cert *k, **kp;

	if (strchr(argv[1], '$') != NULL) {
		conf_error(cp, "variables in \"%s\" are not supported",
		    argv[0]);
		return -1;
	}
	k = arena_alloc(cp->cp_arena, sizeof(*k));
	if (is_key)
		k->sk_key = conf_full_path(cp, argv[1], 1);
	else
		k->sk_cert = conf_full_path(cp, argv[1], 1);
	k->sk_file = cp->cp_in->in_path;
	k->sk_line = cp->cp_line;
	for (kp = is_key ? &ss->ss_keys : &ss->ss_certs; *kp != NULL;
	    kp = &(*kp)->sk_next)
		;
	*kp = k;
	return 0;
}

/* ssl_protocols, proxy_ssl_protocols: the int at c_offset */
int
conf_ssl_set_protocols(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	static const struct {
		const char	*name;
		int		 bit;
	} words[] = {
		{ "TLSv1", SSLP_TLSv1 }, { "TLSv1.1", SSLP_TLSv1_1 },
		{ "TLSv1.2", SSLP_TLSv1_2 }, { "TLSv1.3", SSLP_TLSv1_3 },
		{ "SSLv2", 0 }, { "SSLv3", 0 },
	};
	int *p = (int *)((char *)conf + c->c_offset), mask = 0, i;
	size_t j;

	if (*p != UNSET)
		return ssl_dup(cp, argv);
	for (i = 1; i < argc; i++) {
		for (j = 0; j < nitems(words); j++)
			if (strcmp(argv[i], words[j].name) == 0)
				break;
		if (j == nitems(words))
			return ssl_bad(cp, argv, argv[i]);
		/* nginx takes them; OpenSSL 3 cannot speak them */
		if (words[j].bit == 0)
			log_warnx("%s:%d: \"%s\" in \"%s\" is not supported by "
			    "OpenSSL 3 and is ignored", cp->cp_in->in_path,
			    cp->cp_line, argv[i], argv[0]);
		mask |= words[j].bit;
	}
	if (mask == 0) {
		conf_error(cp, "\"%s\" enables no protocol that OpenSSL 3 "
		    "supports", argv[0]);
		return -1;
	}
	*p = mask;
	return 0;
}

/* ssl_conf_command, proxy_ssl_conf_command: the list at c_offset */
int
conf_ssl_set_command(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_ssl_cmd **pp = (struct conf_ssl_cmd **)((char *)conf +
	    c->c_offset), *m;

	m = arena_alloc(cp->cp_arena, sizeof(*m));
	m->sm_name = arena_strdup(cp->cp_arena, argv[1]);
	m->sm_value = arena_strdup(cp->cp_arena, argv[2]);
	m->sm_file = cp->cp_in->in_path;
	m->sm_line = cp->cp_line;
	while (*pp != NULL)
		pp = &(*pp)->sm_next;
	*pp = m;
	return 0;
}

/* ssl_session_ticket_key file: read here, so its error has its line */
int
conf_ssl_set_ticket_key(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_ssl *ss = &((struct conf_srv *)conf)->sc_ssl;
	struct conf_ssl_ticket *td;
	char *path = conf_full_path(cp, argv[1], 1), **files;
	unsigned char buf[81];
	ssize_t n;
	size_t got = 0;
	int fd, k = ss->ss_nticket_keys;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_error(cp, "open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return -1;
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got,
	    sizeof(buf) - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_error(cp, "read() \"%s\" failed (%d: %s)", path,
			    errno, strerror(errno));
			close(fd);
			return -1;
		}
		got += n;
	}
	close(fd);
	if (got != 48 && got != 80) {
		OPENSSL_cleanse(buf, sizeof(buf));
		conf_error(cp, "\"%s\" must be 48 or 80 bytes", path);
		return -1;
	}
	files = arena_alloc(cp->cp_arena, (k + 1) * sizeof(*files));
	td = arena_alloc(cp->cp_arena, (k + 1) * sizeof(*td));
	if (k > 0) {
		memcpy(files, ss->ss_ticket_keys, k * sizeof(*files));
		memcpy(td, ss->ss_ticket_data, k * sizeof(*td));
	}
	files[k] = path;
	memcpy(td[k].tk_key, buf, got);
	td[k].tk_len = got;
	OPENSSL_cleanse(buf, sizeof(buf));
	ss->ss_ticket_keys = files;
	ss->ss_ticket_data = td;
	ss->ss_nticket_keys = k + 1;
	return 0;
}

/*
 * ssl_session_cache off | none | [builtin[:size]] [shared:name:size], read
 * as nginx does: "off" or "none" anywhere wins, the last one of them.
 */
int
conf_ssl_set_cache(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_ssl *ss = &((struct conf_srv *)conf)->sc_ssl;
	int mode = UNSET, i;
	int64_t builtin = 0, size = 0;
	char *name = NULL;
	long long v;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "off") == 0) {
			mode = SSLC_OFF;
		} else if (strcmp(a, "none") == 0) {
			mode = SSLC_NONE;
		} else if (strcmp(a, "builtin") == 0) {
			builtin = BUILTIN_DEFAULT;
		} else if (str_has_prefix(a, "builtin:")) {
			if (str_parse_int(a + 8, INT_MAX, &v) == -1 || v == 0)
				goto bad;
			builtin = v;
		} else if (str_has_prefix(a, "shared:")) {
			const char *n = a + 7, *colon = strchr(n, ':');

			if (colon == NULL || colon == n ||
			    str_parse_size(colon + 1, &v) == -1)
				goto bad;
			if (v < 8 * sysconf(_SC_PAGESIZE)) {
				conf_error(cp, "session cache \"%s\" is too "
				    "small", a);
				return -1;
			}
			name = arena_strndup(cp->cp_arena, n, colon - n);
			size = v;
		} else
			goto bad;
	}
	if (mode == UNSET)
		mode = name != NULL ? SSLC_SHARED : SSLC_BUILTIN;
	/* as nginx, a second line replaces the first */
	ss->ss_cache = mode;
	ss->ss_cache_name = mode == SSLC_SHARED ? name : NULL;
	ss->ss_cache_size = mode == SSLC_SHARED ? size : 0;
	ss->ss_cache_builtin = mode == SSLC_SHARED || mode == SSLC_BUILTIN ?
	    builtin : 0;
	note_at(cp, ss->ss_at, SSLA_CACHE);
	return 0;
bad:
	conf_error(cp, "invalid session cache \"%s\"", argv[i]);
	return -1;
}

int
conf_ssl_set_verify(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	static const char *const words[] = {
		[SSLV_OFF] = "off", [SSLV_ON] = "on",
		[SSLV_OPTIONAL] = "optional",
		[SSLV_OPTIONAL_NO_CA] = "optional_no_ca",
	};
	struct conf_ssl *ss = &((struct conf_srv *)conf)->sc_ssl;
	size_t i;

	if (ss->ss_verify != UNSET)
		return ssl_dup(cp, argv);
	for (i = 0; i < nitems(words); i++)
		if (strcmp(argv[1], words[i]) == 0)
			break;
	if (i == nitems(words))
		return ssl_bad(cp, argv, argv[1]);
	ss->ss_verify = i;
	note_at(cp, ss->ss_at, SSLA_VERIFY);
	return 0;
}

/* proxy_ssl_name: the name sent and checked, with variables */
int
conf_ssl_set_name(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	char err[256];

	if (px->px_ssl_name != NULL)
		return ssl_dup(cp, argv);
	if ((px->px_ssl_name = var_compile(cp->cp_arena, argv[1], err,
	    sizeof(err))) == NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	return 0;
}

/* merging */

/* an error at a place other than the current directive */
static void
error_at(struct conf_parser *cp, const char *file, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
error_at(struct conf_parser *cp, const char *file, int line, const char *fmt,
    ...)
{
	struct conf_input in, *save = cp->cp_in;
	int save_line = cp->cp_line;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&in, 0, sizeof(in));
	in.in_path = file;
	cp->cp_in = &in;
	cp->cp_line = line;
	conf_error(cp, "%s", msg);
	cp->cp_in = save;
	cp->cp_line = save_line;
}

/*
 * The i-th ssl_certificate goes with the i-th ssl_certificate_key; as in
 * nginx each list is inherited on its own, so a key given in http may
 * serve certificates given in each server.  A fresh list of pairs, since
 * an inherited certificate list is shared.
 */
static struct conf_ssl_cert *
pair_certs(struct conf_parser *cp, const struct conf_ssl_cert *certs,
    const struct conf_ssl_cert *keys, int report)
{
	struct conf_ssl_cert *head = NULL, **tail = &head, *k;

	for (; certs != NULL; certs = certs->sk_next) {
		if (keys == NULL) {
			if (report)
				error_at(cp, certs->sk_file, certs->sk_line,
				    "no \"ssl_certificate_key\" is defined for "
				    "certificate \"%s\"", certs->sk_cert);
			continue;
		}
		k = arena_alloc(cp->cp_arena, sizeof(*k));
		*k = *certs;
		k->sk_key = keys->sk_key;
		k->sk_next = NULL;
		*tail = k;
		tail = &k->sk_next;
		keys = keys->sk_next;
	}
	return head;
}

#define SSL_INHERIT(c, p, f, def) do {					\
	if ((c)->f == UNSET)						\
		(c)->f = (p)->f != UNSET ? (p)->f : (def);		\
} while (0)

#define SSL_INHERIT_PTR(c, p, f, def) do {				\
	if ((c)->f == NULL)						\
		(c)->f = (p)->f != NULL ? (p)->f : (def);		\
} while (0)

/* with the place it was given, for the errors of conf_ssl_build() */
#define SSL_INHERIT_AT(c, p, f, ats, at) do {				\
	if ((c)->f == NULL) {						\
		(c)->f = (p)->f;					\
		(c)->ats[at] = (p)->ats[at];				\
	}								\
} while (0)

/*
 * A server's ssl_* from the http level (which is not merged itself: it
 * is read raw by each server).  With http NULL, the http level alone:
 * its certificate pairs are checked once, for the servers that take
 * both lists from it.
 */
void
conf_ssl_merge(struct conf_parser *cp, struct conf_srv *s,
    const struct conf_srv *http)
{
	struct conf_ssl *c = &s->sc_ssl;
	const struct conf_ssl *p;
	int own;

	if (http == NULL) {
		pair_certs(cp, c->ss_certs, c->ss_keys, 1);
		return;
	}
	p = &http->sc_ssl;
	own = c->ss_certs != NULL || c->ss_keys != NULL;
	c->ss_certs = pair_certs(cp, c->ss_certs ? c->ss_certs : p->ss_certs,
	    c->ss_keys ? c->ss_keys : p->ss_keys, own);
	c->ss_keys = NULL;
	SSL_INHERIT_AT(c, p, ss_password_file, ss_at, SSLA_PASSWORD);
	SSL_INHERIT(c, p, ss_protocols, SSLP_DEFAULT);
	SSL_INHERIT_AT(c, p, ss_ciphers, ss_at, SSLA_CIPHERS);
	if (c->ss_ciphers == NULL)
		c->ss_ciphers = CIPHERS_DEFAULT;
	SSL_INHERIT_PTR(c, p, ss_commands, NULL);
	SSL_INHERIT(c, p, ss_prefer_server, 0);
	SSL_INHERIT_AT(c, p, ss_ecdh_curve, ss_at, SSLA_ECDH_CURVE);
	if (c->ss_ecdh_curve == NULL)
		c->ss_ecdh_curve = "auto";
	SSL_INHERIT_AT(c, p, ss_dhparam, ss_at, SSLA_DHPARAM);
	SSL_INHERIT(c, p, ss_tickets, 1);
	if (c->ss_nticket_keys == 0) {
		c->ss_ticket_keys = p->ss_ticket_keys;
		c->ss_ticket_data = p->ss_ticket_data;
		c->ss_nticket_keys = p->ss_nticket_keys;
	}
	if (c->ss_cache == UNSET) {
		c->ss_cache = p->ss_cache != UNSET ? p->ss_cache : SSLC_NONE;
		c->ss_cache_name = p->ss_cache_name;
		c->ss_cache_size = p->ss_cache_size;
		c->ss_cache_builtin = p->ss_cache_builtin;
		c->ss_at[SSLA_CACHE] = p->ss_at[SSLA_CACHE];
	}
	SSL_INHERIT(c, p, ss_session_timeout, 300000);
	if (c->ss_verify == UNSET) {
		c->ss_verify = p->ss_verify != UNSET ? p->ss_verify : SSLV_OFF;
		c->ss_at[SSLA_VERIFY] = p->ss_at[SSLA_VERIFY];
	}
	SSL_INHERIT(c, p, ss_verify_depth, 1);
	SSL_INHERIT_AT(c, p, ss_client_cert, ss_at, SSLA_CLIENT_CERT);
	SSL_INHERIT_AT(c, p, ss_trusted, ss_at, SSLA_TRUSTED);
	SSL_INHERIT_AT(c, p, ss_crl, ss_at, SSLA_CRL);
	if (c->ss_stapling == UNSET) {
		c->ss_stapling = p->ss_stapling != UNSET ? p->ss_stapling : 0;
		c->ss_at[SSLA_STAPLING] = p->ss_at[SSLA_STAPLING];
	}
	SSL_INHERIT_AT(c, p, ss_stapling_file, ss_at, SSLA_STAPLING_FILE);
	SSL_INHERIT(c, p, ss_stapling_verify, 0);
	SSL_INHERIT(c, p, ss_handshake_timeout, 0);
	if (c->ss_handshake_timeout == 0)
		c->ss_handshake_timeout = s->sc_client_header_timeout;
}

/* proxy_ssl_*: the whole chain http -> server -> location */
void
conf_ssl_proxy_merge(struct conf_parser *cp, struct conf_loc *l,
    const struct conf_proxy *pp)
{
	static const struct conf_proxy none = {
		.px_ssl_server_name = UNSET, .px_ssl_verify = UNSET,
		.px_ssl_verify_depth = UNSET, .px_ssl_protocols = UNSET,
		.px_ssl_session_reuse = UNSET,
	};
	struct conf_proxy *px = &l->lc_px;

	if (pp == NULL)
		pp = &none;
	SSL_INHERIT(px, pp, px_ssl_server_name, 0);
	SSL_INHERIT_PTR(px, pp, px_ssl_name, NULL);
	if (px->px_ssl_verify == UNSET) {
		px->px_ssl_verify = pp->px_ssl_verify != UNSET ?
		    pp->px_ssl_verify : 0;
		px->px_ssl_at[SSLA_VERIFY] = pp->px_ssl_at[SSLA_VERIFY];
	}
	SSL_INHERIT(px, pp, px_ssl_verify_depth, 1);
	SSL_INHERIT_AT(px, pp, px_ssl_trusted, px_ssl_at, SSLA_TRUSTED);
	SSL_INHERIT_AT(px, pp, px_ssl_crl, px_ssl_at, SSLA_CRL);
	SSL_INHERIT(px, pp, px_ssl_protocols, SSLP_DEFAULT);
	SSL_INHERIT_AT(px, pp, px_ssl_ciphers, px_ssl_at, SSLA_CIPHERS);
	if (px->px_ssl_ciphers == NULL)
		px->px_ssl_ciphers = "DEFAULT";
	SSL_INHERIT_AT(px, pp, px_ssl_cert, px_ssl_at, SSLA_CERT);
	SSL_INHERIT_AT(px, pp, px_ssl_key, px_ssl_at, SSLA_KEY);
	SSL_INHERIT_AT(px, pp, px_ssl_password_file, px_ssl_at,
	    SSLA_PASSWORD);
	SSL_INHERIT_PTR(px, pp, px_ssl_commands, NULL);
	SSL_INHERIT(px, pp, px_ssl_session_reuse, 1);
	(void)cp;
}

/* building the SSL_CTXs, once the whole configuration is merged */

/* the place of an error: the directive's, else the fallback's */
struct where {
	const char	*w_file;
	int		 w_line;
};

static struct where
where_of(const struct conf_at *at, const char *file, int line)
{
	struct where w = { file, line };

	if (at != NULL && at->at_file != NULL) {
		w.w_file = at->at_file;
		w.w_line = at->at_line;
	}
	return w;
}

/*
 * "file:line: message (SSL: error:...:reason:data ...)": OpenSSL's queue
 * is emptied into the message, as nginx words it.
 */
static void
build_error(struct gen *g, struct where w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
build_error(struct gen *g, struct where w, const char *fmt, ...)
{
	char msg[1024], q[2048], e[256];
	const char *data;
	unsigned long err;
	size_t n = 0;
	va_list ap;
	int flags;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	q[0] = '\0';
	while ((err = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) !=
	    0) {
		if (n >= sizeof(q))
			continue;
		ERR_error_string_n(err, e, sizeof(e));
		n += snprintf(q + n, sizeof(q) - n, "%s%s%s%s",
		    n == 0 ? " (SSL: " : " ", e,
		    data != NULL && (flags & ERR_TXT_STRING) && *data ? ":" :
		    "", data != NULL && (flags & ERR_TXT_STRING) ? data : "");
	}
	if (n > 0 && n < sizeof(q) - 1) {
		q[n++] = ')';
		q[n] = '\0';
	}
	g->g_errors++;
	if (g->g_errors > CONF_MAX_ERRORS)
		return;
	log_emerg("%s:%d: %s%s", w.w_file, w.w_line, msg, q);
	if (g->g_errors == CONF_MAX_ERRORS)
		log_emerg("too many errors, not reporting the rest");
}

/* ssl_password_file: each line a passphrase, tried in turn */
struct passwords {
	char	*pw_buf;
	size_t	 pw_len;
	char	*pw_list[64];
	int	 pw_n;
};

static int
passwords_read(struct gen *g, const char *path, struct where w,
    struct passwords *pw)
{
	char *p, *e, *end;
	ssize_t r;
	int fd;

	memset(pw, 0, sizeof(*pw));
	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		build_error(g, w, "open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return -1;
	}
	pw->pw_buf = malloc(PASSWORDS_MAX + 1);
	while (pw->pw_buf != NULL && pw->pw_len < PASSWORDS_MAX) {
		r = read(fd, pw->pw_buf + pw->pw_len, PASSWORDS_MAX -
		    pw->pw_len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		pw->pw_len += r;
	}
	close(fd);
	if (pw->pw_buf == NULL)
		return -1;
	pw->pw_buf[pw->pw_len] = '\0';
	end = pw->pw_buf + pw->pw_len;
	for (p = pw->pw_buf; p < end && pw->pw_n < (int)nitems(pw->pw_list);
	    p = e + 1) {
		if ((e = memchr(p, '\n', end - p)) == NULL)
			e = end;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		if (*p != '\0')
			pw->pw_list[pw->pw_n++] = p;
	}
	if (pw->pw_n == 0) {
		build_error(g, w, "no passphrases in \"%s\"", path);
		return -1;
	}
	return 0;
}

static void
passwords_free(struct passwords *pw)
{
	if (pw->pw_buf != NULL) {
		OPENSSL_cleanse(pw->pw_buf, pw->pw_len);
		free(pw->pw_buf);
	}
	memset(pw, 0, sizeof(*pw));
}

/* one passphrase, or none: an encrypted key never prompts on a tty */
static int
password_cb(char *buf, int size, int rwflag, void *u)
{
	size_t len;

	if (u == NULL || size <= 0)
		return 0;
	len = strlen(u);
	if (len > (size_t)size)
		len = size;
	memcpy(buf, u, len);
	return (int)len;
}

static EVP_PKEY *
key_read(struct gen *g, const char *path, const struct passwords *pw,
    struct where w)
{
	EVP_PKEY *pk = NULL;
	BIO *b;
	int i, tries = pw->pw_n > 0 ? pw->pw_n : 1;

	ERR_clear_error();
	if ((b = BIO_new_file(path, "r")) == NULL) {
		build_error(g, w, "cannot load certificate key \"%s\": "
		    "BIO_new_file() failed", path);
		return NULL;
	}
	for (i = 0; i < tries && pk == NULL; i++) {
		if (i > 0 && BIO_reset(b) != 0)
			break;
		/* only the last attempt's reasons are reported */
		ERR_clear_error();
		pk = PEM_read_bio_PrivateKey(b, NULL, password_cb,
		    pw->pw_n > 0 ? pw->pw_list[i] : NULL);
	}
	BIO_free(b);
	if (pk == NULL)
		build_error(g, w, "cannot load certificate key \"%s\": "
		    "PEM_read_bio_PrivateKey() failed", path);
	return pk;
}

/* a certificate chain file and its key, into ctx */
static int
pair_load(struct gen *g, SSL_CTX *ctx, const char *cert, const char *key,
    const struct passwords *pw, struct where w)
{
	EVP_PKEY *pk;

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		build_error(g, w, "cannot load certificate \"%s\"", cert);
		return -1;
	}
	if ((pk = key_read(g, key, pw, w)) == NULL)
		return -1;
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		EVP_PKEY_free(pk);
		build_error(g, w, "certificate key \"%s\" does not match "
		    "certificate \"%s\"", key, cert);
		return -1;
	}
	EVP_PKEY_free(pk);
	return 0;
}

/* min and max versions, and SSL_OP_NO_* for a hole ("TLSv1 TLSv1.2") */
static void
protocols_set(SSL_CTX *ctx, int mask)
{
	static const struct {
		int		 bit;
		int		 version;
		uint64_t	 op;
	} v[] = {
		{ SSLP_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ SSLP_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ SSLP_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ SSLP_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	int i, lo = -1, hi = -1;

	for (i = 0; i < (int)nitems(v); i++) {
		if (!(mask & v[i].bit))
			continue;
		if (lo == -1)
			lo = i;
		hi = i;
	}
	if (lo == -1)
		return;		/* the setter refuses an empty set */
	SSL_CTX_set_min_proto_version(ctx, v[lo].version);
	SSL_CTX_set_max_proto_version(ctx, v[hi].version);
	for (i = lo; i <= hi; i++)
		if (!(mask & v[i].bit))
			SSL_CTX_set_options(ctx, v[i].op);
}

/* what every context of portico's has, server or client */
static void
common_set(SSL_CTX *ctx)
{
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
	SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
	/* the worker writes from buffers that move between retries */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* ssl_conf_command lines, applied last so that they override the rest */
static int
commands_apply(struct gen *g, SSL_CTX *ctx, const struct conf_ssl_cmd *m,
    unsigned flags, struct where w)
{
	SSL_CONF_CTX *cc;
	int rc = 0;

	if (m == NULL)
		return 0;
	if ((cc = SSL_CONF_CTX_new()) == NULL) {
		build_error(g, w, "SSL_CONF_CTX_new() failed");
		return -1;
	}
	SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | flags |
	    SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
	SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
	for (; m != NULL; m = m->sm_next) {
		struct where mw = { m->sm_file, m->sm_line };

		ERR_clear_error();
		if (SSL_CONF_cmd(cc, m->sm_name, m->sm_value) <= 0) {
			build_error(g, mw, "SSL_CONF_cmd(\"%s\", \"%s\") "
			    "failed", m->sm_name, m->sm_value);
			rc = -1;
		}
	}
	ERR_clear_error();
	if (rc == 0 && SSL_CONF_CTX_finish(cc) != 1) {
		build_error(g, w, "SSL_CONF_CTX_finish() failed");
		rc = -1;
	}
	SSL_CONF_CTX_free(cc);
	return rc;
}

static int
crl_load(struct gen *g, SSL_CTX *ctx, const char *path, struct where w)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lk;

	ERR_clear_error();
	if ((lk = X509_STORE_add_lookup(st, X509_LOOKUP_file())) == NULL ||
	    X509_load_crl_file(lk, path, X509_FILETYPE_PEM) <= 0) {
		build_error(g, w, "X509_LOOKUP_load_file(\"%s\") failed", path);
		return -1;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

static int
verify_locations(struct gen *g, SSL_CTX *ctx, const char *path,
    struct where w)
{
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		build_error(g, w, "SSL_CTX_load_verify_locations(\"%s\") failed",
		    path);
		return -1;
	}
	return 0;
}

/*
 * Client certificates never fail the handshake, as in nginx: the error
 * stays in SSL_get_verify_result(), and the worker answers the request
 * with 400 (nginx's 495 "The SSL certificate error" or 496 "No required
 * SSL certificate was sent") when ssl_verify_client asks for it, or
 * tells the application through $ssl_client_verify.
 */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	return 1;
}

/* ssl_verify_client, ssl_client_certificate, ssl_trusted_certificate */
static int
verify_set(struct gen *g, SSL_CTX *ctx, const struct conf_srv *s)
{
	const struct conf_ssl *c = &s->sc_ssl;
	struct where w;
	STACK_OF(X509_NAME) *names;
	int rc = 0;

	if (c->ss_verify != SSLV_OFF) {
		w = where_of(&c->ss_at[SSLA_VERIFY], s->sc_file, s->sc_line);
		if (c->ss_client_cert == NULL &&
		    c->ss_verify != SSLV_OPTIONAL_NO_CA) {
			build_error(g, w, "no ssl_client_certificate for "
			    "ssl_verify_client");
			return -1;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
		SSL_CTX_set_verify_depth(ctx, (int)c->ss_verify_depth);
	}
	if (c->ss_verify != SSLV_OFF && c->ss_client_cert != NULL) {
		w = where_of(&c->ss_at[SSLA_CLIENT_CERT], s->sc_file,
		    s->sc_line);
		if (verify_locations(g, ctx, c->ss_client_cert, w) == -1)
			return -1;
		ERR_clear_error();
		/* only these CAs are named to the client */
		if ((names = SSL_load_client_CA_file(c->ss_client_cert)) ==
		    NULL) {
			build_error(g, w, "SSL_load_client_CA_file(\"%s\") "
			    "failed", c->ss_client_cert);
			return -1;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (c->ss_trusted != NULL)
		rc |= verify_locations(g, ctx, c->ss_trusted,
		    where_of(&c->ss_at[SSLA_TRUSTED], s->sc_file, s->sc_line));
	if (c->ss_crl != NULL)
		rc |= crl_load(g, ctx, c->ss_crl, where_of(&c->ss_at[SSLA_CRL],
		    s->sc_file, s->sc_line));
	return rc;
}

/* the DER of ssl_stapling_file, sent to each client asking for it */
static int
staple_cb(SSL *ssl, void *arg)
{
	const struct conf_ssl *c = arg;
	unsigned char *p;

	if (c == NULL || c->ss_staple == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	/* OpenSSL frees it with the connection */
	if ((p = OPENSSL_malloc(c->ss_staple_len)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	memcpy(p, c->ss_staple, c->ss_staple_len);
	if (SSL_set_tlsext_status_ocsp_resp(ssl, p, c->ss_staple_len) != 1) {
		OPENSSL_free(p);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* the issuer of x among the chain or the trusted store */
static X509 *
issuer_find(X509 *x, STACK_OF(X509) *chain, X509_STORE *st)
{
	X509_STORE_CTX *xs;
	X509 *is = NULL;
	int i;

	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), x) ==
		    X509_V_OK) {
			is = sk_X509_value(chain, i);
			X509_up_ref(is);
			return is;
		}
	if ((xs = X509_STORE_CTX_new()) == NULL)
		return NULL;
	if (X509_STORE_CTX_init(xs, st, x, chain) == 1 &&
	    X509_STORE_CTX_get1_issuer(&is, xs, x) != 1)
		is = NULL;
	X509_STORE_CTX_free(xs);
	return is;
}

/* ssl_stapling_verify: signed for the first certificate, by its issuer */
static int
staple_verify(struct gen *g, SSL_CTX *ctx, OCSP_RESPONSE *rsp,
    const char *path, struct where w)
{
	STACK_OF(X509) *chain = NULL;
	OCSP_BASICRESP *basic;
	OCSP_CERTID *id = NULL;
	X509 *x, *is = NULL;
	int rc = -1, status;

	ERR_clear_error();
	SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	x = SSL_CTX_get0_certificate(ctx);
	SSL_CTX_get0_chain_certs(ctx, &chain);
	if ((basic = OCSP_response_get1_basic(rsp)) == NULL) {
		build_error(g, w, "OCSP_response_get1_basic(\"%s\") failed",
		    path);
		return -1;
	}
	if (OCSP_basic_verify(basic, chain, SSL_CTX_get_cert_store(ctx),
	    OCSP_TRUSTOTHER) != 1) {
		build_error(g, w, "OCSP_basic_verify(\"%s\") failed", path);
		goto done;
	}
	if (x == NULL || (is = issuer_find(x, chain,
	    SSL_CTX_get_cert_store(ctx))) == NULL) {
		build_error(g, w, "no issuer certificate to verify the OCSP "
		    "response \"%s\" with", path);
		goto done;
	}
	if ((id = OCSP_cert_to_id(NULL, x, is)) == NULL ||
	    OCSP_resp_find_status(basic, id, &status, NULL, NULL, NULL,
	    NULL) != 1) {
		build_error(g, w, "the OCSP response \"%s\" is not for the "
		    "certificate", path);
		goto done;
	}
	rc = 0;
done:
	OCSP_CERTID_free(id);
	X509_free(is);
	OCSP_BASICRESP_free(basic);
	return rc;
}

static int
stapling_set(struct gen *g, SSL_CTX *ctx, struct conf_srv *s)
{
	struct conf_ssl *c = &s->sc_ssl;
	struct where w = where_of(&c->ss_at[SSLA_STAPLING_FILE], s->sc_file,
	    s->sc_line);
	OCSP_RESPONSE *rsp;
	const unsigned char *p;
	unsigned char *buf;
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd, rc = 0;

	if (!c->ss_stapling)
		return 0;
	if (c->ss_stapling_file == NULL) {
		/* portico does not ask responders itself */
		w = where_of(&c->ss_at[SSLA_STAPLING], s->sc_file, s->sc_line);
		log_warnx("%s:%d: \"ssl_stapling\" ignored, no "
		    "\"ssl_stapling_file\" is given", w.w_file, w.w_line);
		return 0;
	}
	if ((fd = open(c->ss_stapling_file, O_RDONLY | O_CLOEXEC)) == -1) {
		build_error(g, w, "open() \"%s\" failed (%d: %s)",
		    c->ss_stapling_file, errno, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size > STAPLE_MAX) {
		build_error(g, w, "\"%s\" is too large", c->ss_stapling_file);
		close(fd);
		return -1;
	}
	buf = arena_alloc(g->g_arena, st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	ERR_clear_error();
	p = buf;
	if ((rsp = d2i_OCSP_RESPONSE(NULL, &p, got)) == NULL) {
		build_error(g, w, "cannot read the OCSP response in \"%s\"",
		    c->ss_stapling_file);
		return -1;
	}
	if (c->ss_stapling_verify)
		rc = staple_verify(g, ctx, rsp, c->ss_stapling_file, w);
	OCSP_RESPONSE_free(rsp);
	if (rc == -1)
		return -1;
	c->ss_staple = buf;
	c->ss_staple_len = got;
	SSL_CTX_set_tlsext_status_cb(ctx, staple_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, c);
	return 0;
}

/*
 * ALPN: HTTP/1.1 (or 1.0) when the client offers it; a client offering
 * only others (h2) is refused with no_application_protocol, as nginx
 * does, and one offering none never gets here.
 */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const char *const ours[] = { "http/1.1", "http/1.0" };
	unsigned int i, len;
	size_t k;

	for (k = 0; k < nitems(ours); k++) {
		for (i = 0; i < inlen; i += 1 + len) {
			len = in[i];
			if (i + 1 + len > inlen)
				break;
			if (len == strlen(ours[k]) &&
			    memcmp(in + i + 1, ours[k], len) == 0) {
				*out = in + i + 1;
				*outlen = len;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/*
 * The session id context: resumption only within the same server
 * settings; stable across reloads and workers, so that the shared cache
 * serves them all.
 */
static void
sid_set(SSL_CTX *ctx, const struct conf_srv *s)
{
	const struct conf_ssl *c = &s->sc_ssl;
	const struct conf_ssl_cert *k;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m;
	int i;

	if ((m = EVP_MD_CTX_new()) == NULL)
		return;
	EVP_DigestInit_ex(m, EVP_sha256(), NULL);
	for (k = c->ss_certs; k != NULL; k = k->sk_next)
		EVP_DigestUpdate(m, k->sk_cert, strlen(k->sk_cert) + 1);
	for (i = 0; i < s->sc_nnames; i++)
		EVP_DigestUpdate(m, s->sc_names[i], strlen(s->sc_names[i]) + 1);
	if (c->ss_client_cert != NULL)
		EVP_DigestUpdate(m, c->ss_client_cert,
		    strlen(c->ss_client_cert) + 1);
	EVP_DigestUpdate(m, &c->ss_verify, sizeof(c->ss_verify));
	EVP_DigestFinal_ex(m, md, &mdlen);
	EVP_MD_CTX_free(m);
	SSL_CTX_set_session_id_context(ctx, md,
	    MIN(mdlen, SSL_MAX_SID_CTX_LENGTH));
}

/*
 * ssl_session_cache and ssl_session_tickets.  The shared cache's
 * callbacks and the ticket keys are installed later, by ssl_zone.c.
 */
static void
sessions_set(SSL_CTX *ctx, const struct conf_ssl *c)
{
	long mode = SSL_SESS_CACHE_SERVER;

	if (!c->ss_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_timeout(ctx, (long)MAX(c->ss_session_timeout / 1000, 1));
	switch (c->ss_cache) {
	case SSLC_OFF:
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		return;
	case SSLC_NONE:
		/*
		 * As nginx: a server cache of one, so that clients are not
		 * told outright that nothing is cached (some fail on it).
		 */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, 1);
		return;
	}
	if (c->ss_cache_builtin == 0)
		mode |= SSL_SESS_CACHE_NO_INTERNAL;
	SSL_CTX_set_session_cache_mode(ctx, mode);
	if (c->ss_cache_builtin > 0)
		SSL_CTX_sess_set_cache_size(ctx, c->ss_cache_builtin);
}

static int
dhparam_set(struct gen *g, SSL_CTX *ctx, const char *path, struct where w)
{
	EVP_PKEY *dh = NULL;
	BIO *b;

	ERR_clear_error();
	if ((b = BIO_new_file(path, "r")) != NULL) {
		dh = PEM_read_bio_Parameters(b, NULL);
		BIO_free(b);
	}
	if (dh == NULL || !EVP_PKEY_is_a(dh, "DH")) {
		EVP_PKEY_free(dh);
		build_error(g, w, "cannot read DH parameters from \"%s\"", path);
		return -1;
	}
	if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		build_error(g, w, "SSL_CTX_set0_tmp_dh_pkey(\"%s\") failed",
		    path);
		return -1;
	}
	return 0;
}

/* a server's context; a failed one is kept in ss_ctx, for freeing */
static int
server_build(struct gen *g, struct conf_srv *s)
{
	struct conf_ssl *c = &s->sc_ssl;
	const struct conf_ssl_cert *k;
	struct passwords pw;
	struct where w;
	SSL_CTX *ctx;
	int rc = 0;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		build_error(g, where_of(NULL, s->sc_file, s->sc_line),
		    "SSL_CTX_new() failed");
		return -1;
	}
	c->ss_ctx = ctx;
	SSL_CTX_set_app_data(ctx, s);
	common_set(ctx);
	protocols_set(ctx, c->ss_protocols);
	if (passwords_read(g, c->ss_password_file,
	    where_of(&c->ss_at[SSLA_PASSWORD], s->sc_file, s->sc_line),
	    &pw) == -1)
		return -1;
	for (k = c->ss_certs; k != NULL; k = k->sk_next) {
		w = where_of(NULL, k->sk_file, k->sk_line);
		if (pair_load(g, ctx, k->sk_cert, k->sk_key, &pw, w) == -1)
			rc = -1;
	}
	passwords_free(&pw);
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(ctx, c->ss_ciphers) != 1) {
		build_error(g, where_of(&c->ss_at[SSLA_CIPHERS], s->sc_file,
		    s->sc_line), "SSL_CTX_set_cipher_list(\"%s\") failed",
		    c->ss_ciphers);
		rc = -1;
	}
	if (c->ss_prefer_server)
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	ERR_clear_error();
	if (strcmp(c->ss_ecdh_curve, "auto") != 0 &&
	    SSL_CTX_set1_groups_list(ctx, c->ss_ecdh_curve) != 1) {
		build_error(g, where_of(&c->ss_at[SSLA_ECDH_CURVE], s->sc_file,
		    s->sc_line), "SSL_CTX_set1_groups_list(\"%s\") failed",
		    c->ss_ecdh_curve);
		rc = -1;
	}
	if (c->ss_dhparam != NULL && dhparam_set(g, ctx, c->ss_dhparam,
	    where_of(&c->ss_at[SSLA_DHPARAM], s->sc_file, s->sc_line)) == -1)
		rc = -1;
	if (verify_set(g, ctx, s) == -1)
		rc = -1;
	/* after the certificates and the trusted ones: it may check them */
	if (rc == 0 && stapling_set(g, ctx, s) == -1)
		rc = -1;
	sessions_set(ctx, c);
	sid_set(ctx, s);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	if (commands_apply(g, ctx, c->ss_commands, SSL_CONF_FLAG_SERVER,
	    where_of(NULL, s->sc_file, s->sc_line)) == -1)
		rc = -1;
	return rc;
}

/* the client side of proxy_pass https:// */
static int
client_build(struct gen *g, struct conf_proxy *px)
{
	struct where w, at = where_of(NULL, px->px_file, px->px_line);
	struct passwords pw;
	SSL_CTX *ctx;
	int rc = 0;

	if (px->px_ssl_cert != NULL && px->px_ssl_key == NULL) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_CERT], at.w_file,
		    at.w_line), "no \"proxy_ssl_certificate_key\" is defined "
		    "for certificate \"%s\"", px->px_ssl_cert);
		return -1;
	}
	if (px->px_ssl_verify && px->px_ssl_trusted == NULL) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_VERIFY], at.w_file,
		    at.w_line), "no proxy_ssl_trusted_certificate for "
		    "proxy_ssl_verify");
		return -1;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		build_error(g, at, "SSL_CTX_new() failed");
		return -1;
	}
	px->px_ssl_ctx = ctx;
	common_set(ctx);
	protocols_set(ctx, px->px_ssl_protocols);
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(ctx, px->px_ssl_ciphers) != 1) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_CIPHERS], at.w_file,
		    at.w_line), "SSL_CTX_set_cipher_list(\"%s\") failed",
		    px->px_ssl_ciphers);
		rc = -1;
	}
	/* the name is checked per connection, against proxy_ssl_name */
	SSL_CTX_set_verify(ctx, px->px_ssl_verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_verify_depth(ctx, (int)px->px_ssl_verify_depth);
	if (px->px_ssl_trusted != NULL && verify_locations(g, ctx,
	    px->px_ssl_trusted, where_of(&px->px_ssl_at[SSLA_TRUSTED],
	    at.w_file, at.w_line)) == -1)
		rc = -1;
	if (px->px_ssl_crl != NULL && crl_load(g, ctx, px->px_ssl_crl,
	    where_of(&px->px_ssl_at[SSLA_CRL], at.w_file, at.w_line)) == -1)
		rc = -1;
	if (px->px_ssl_cert != NULL) {
		w = where_of(&px->px_ssl_at[SSLA_CERT], at.w_file, at.w_line);
		if (passwords_read(g, px->px_ssl_password_file,
		    where_of(&px->px_ssl_at[SSLA_PASSWORD], at.w_file,
		    at.w_line), &pw) == -1)
			return -1;
		if (pair_load(g, ctx, px->px_ssl_cert, px->px_ssl_key, &pw,
		    w) == -1)
			rc = -1;
		passwords_free(&pw);
	}
	/* the worker keeps the sessions, per upstream peer */
	SSL_CTX_set_session_cache_mode(ctx, px->px_ssl_session_reuse ?
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE :
	    SSL_SESS_CACHE_OFF);
	if (commands_apply(g, ctx, px->px_ssl_commands, SSL_CONF_FLAG_CLIENT,
	    at) == -1)
		rc = -1;
	return rc;
}

static int
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* two locations whose client contexts would be the same */
static int
px_same(const struct conf_proxy *a, const struct conf_proxy *b)
{
	return a->px_ssl_verify == b->px_ssl_verify &&
	    a->px_ssl_verify_depth == b->px_ssl_verify_depth &&
	    a->px_ssl_protocols == b->px_ssl_protocols &&
	    a->px_ssl_session_reuse == b->px_ssl_session_reuse &&
	    a->px_ssl_commands == b->px_ssl_commands &&
	    str_same(a->px_ssl_trusted, b->px_ssl_trusted) &&
	    str_same(a->px_ssl_crl, b->px_ssl_crl) &&
	    str_same(a->px_ssl_ciphers, b->px_ssl_ciphers) &&
	    str_same(a->px_ssl_cert, b->px_ssl_cert) &&
	    str_same(a->px_ssl_key, b->px_ssl_key) &&
	    str_same(a->px_ssl_password_file, b->px_ssl_password_file);
}

struct px_built {
	const struct conf_proxy	*pb_px;
	SSL_CTX			*pb_ctx;	/* NULL: it failed */
	struct px_built		*pb_next;
};

/* each proxy_pass https:// location of a tree */
static void
locs_build(struct gen *g, struct conf_loc *l, struct px_built **built)
{
	struct conf_proxy *px = &l->lc_px;
	struct px_built *b;
	struct conf_loc *ch;

	if (px->px_pass && px->px_ssl && px->px_ssl_ctx == NULL) {
		for (b = *built; b != NULL; b = b->pb_next)
			if (px_same(b->pb_px, px))
				break;
		if (b != NULL) {
			/* one reference per location, for conf_ssl_free() */
			if (b->pb_ctx != NULL && SSL_CTX_up_ref(b->pb_ctx))
				px->px_ssl_ctx = b->pb_ctx;
		} else {
			int rc = client_build(g, px);

			if ((b = calloc(1, sizeof(*b))) != NULL) {
				b->pb_px = px;
				b->pb_ctx = rc == 0 ? px->px_ssl_ctx : NULL;
				b->pb_next = *built;
				*built = b;
			}
		}
	}
	/* the keeper's health checks of an upstream go the same way */
	if (px->px_pass && px->px_ssl && px->px_ups != NULL &&
	    px->px_ups->u_ssl_ctx == NULL)
		px->px_ups->u_ssl_ctx = px->px_ssl_ctx;
	for (ch = l->lc_children; ch != NULL; ch = ch->lc_next)
		locs_build(g, ch, built);
	for (ch = l->lc_ifs; ch != NULL; ch = ch->lc_next)
		locs_build(g, ch, built);
}

/* shared:name:size given twice with two sizes */
static void
caches_check(struct gen *g)
{
	struct conf_srv *s, *t;

	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		const struct conf_ssl *c = &s->sc_ssl;

		if (c->ss_ctx == NULL || c->ss_cache != SSLC_SHARED)
			continue;
		for (t = g->g_http->hc_servers; t != s; t = t->sc_next) {
			const struct conf_ssl *d = &t->sc_ssl;

			if (d->ss_ctx == NULL || d->ss_cache != SSLC_SHARED ||
			    strcmp(d->ss_cache_name, c->ss_cache_name) != 0)
				continue;
			if (d->ss_cache_size != c->ss_cache_size)
				build_error(g, where_of(&c->ss_at[SSLA_CACHE],
				    s->sc_file, s->sc_line), "the size %lld of "
				    "shared memory zone \"%s\" conflicts with "
				    "already declared size %lld",
				    (long long)c->ss_cache_size,
				    c->ss_cache_name,
				    (long long)d->ss_cache_size);
			break;
		}
	}
}

int
conf_ssl_build(struct gen *g)
{
	struct px_built *built = NULL, *b;
	struct conf_srv *s;
	int errors = g->g_errors, i;

	if (g->g_http == NULL)
		return 0;
	/* as nginx: the default server of a "listen ... ssl" address */
	for (i = 0; i < g->g_nlistens; i++) {
		s = g->g_listens[i].gl_default;
		if (g->g_listens[i].gl_ssl && s->sc_ssl.ss_certs == NULL)
			build_error(g, where_of(NULL, s->sc_file, s->sc_line),
			    "no \"ssl_certificate\" is defined for the "
			    "\"listen ... ssl\" directive");
	}
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next)
		if (s->sc_ssl.ss_certs != NULL)
			server_build(g, s);
	caches_check(g);
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next)
		locs_build(g, s->sc_loc, &built);
	while ((b = built) != NULL) {
		built = b->pb_next;
		free(b);
	}
	ERR_clear_error();
	if (g->g_errors > errors) {
		conf_ssl_free(g);
		return -1;
	}
	return 0;
}

static void
locs_free(struct conf_loc *l)
{
	struct conf_loc *ch;

	SSL_CTX_free(l->lc_px.px_ssl_ctx);
	l->lc_px.px_ssl_ctx = NULL;
	for (ch = l->lc_children; ch != NULL; ch = ch->lc_next)
		locs_free(ch);
	for (ch = l->lc_ifs; ch != NULL; ch = ch->lc_next)
		locs_free(ch);
}

void
conf_ssl_free(struct gen *g)
{
	struct conf_srv *s;

	if (g == NULL || g->g_http == NULL)
		return;
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		SSL_CTX_free(s->sc_ssl.ss_ctx);
		s->sc_ssl.ss_ctx = NULL;
		locs_free(s->sc_loc);
	}
}

/*
 * conf_ssl.c: the ssl_* directives of http and server, the proxy_ssl_*
 * directives of http, server and location, and their defaults and
 * inheritance (nginx's).  The SSL_CTXs are built from the merged values
 * by conf_ssl_ctx.c.
 *
 * A directive naming a file notes where it was given (struct conf_at),
 * and merging carries that place down with the value, so that an error
 * found in the file when the contexts are built has the directive's
 * file:line.  The files are read then, except ssl_session_ticket_key,
 * read here.
 */
#include "core.h"

#include <fcntl.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

#define SSLP_DEFAULT	(SSLP_TLSv1_2 | SSLP_TLSv1_3)
#define CIPHERS_DEFAULT	"HIGH:!aNULL:!MD5"
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

/*
 * http_static.c: files from root or alias as nginx serves them: index
 * files by internal redirect, directories redirected to "uri/",
 * try_files, validators and conditional requests, byte ranges (several
 * as multipart/byteranges), and the body streamed from the file with
 * sendfile() or pread() through the output buffer, so that memory stays
 * bounded whatever the file size.
 */
#include "core.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "clock.h"
#include "conn.h"
#include "http_cond.h"
#include "http_static.h"
#include "http_var.h"
#include "log.h"

/* the request's path buffer, in regions */
#define RG_ROOT		0		/* $document_root */
#define RG_ROOT_LEN	4096
#define RG_NAME		(RG_ROOT + RG_ROOT_LEN)	/* $request_filename */
#define RG_NAME_LEN	8192
#define RG_LOC		(RG_NAME + RG_NAME_LEN)	/* Location, redirect URIs */
#define RG_LOC_LEN	8192
#define RG_URI		(RG_LOC + RG_LOC_LEN)	/* $uri set by try_files */
#define RG_URI_LEN	4096
#define RG_TMP		(RG_URI + RG_URI_LEN)	/* names being rendered */
#define RG_TMP_LEN	4096
#define STATIC_BUF	(RG_TMP + RG_TMP_LEN)

/* one sendfile() call at most: the loop goes on until EAGAIN */
#define SENDFILE_CHUNK	(1024 * 1024)

static int
is_get_head_post(const struct http_req *r)
{
	const struct http_head *h = &r->r_head;

	return http_token_eq(h->hh_method, h->hh_methodlen, "GET") ||
	    http_token_eq(h->hh_method, h->hh_methodlen, "HEAD") ||
	    http_token_eq(h->hh_method, h->hh_methodlen, "POST");
}

static const struct http_header *
find_header(const struct http_req *r, const char *name)
{
	int i;

	for (i = 0; i < r->r_head.hh_nheaders; i++) {
		const struct http_header *h = &r->r_head.hh_headers[i];

		if (http_token_eq(h->h_name, h->h_namelen, name))
			return h;
	}
	return NULL;
}

static char *
region(struct http_file *f, size_t off)
{
	return f->f_buf->b_start + off;
}

/* render t into a region; NUL-terminated; -1 when it does not fit */
static int
render(struct conn *c, const struct var_tpl *t, char *dst, size_t size,
    size_t *len)
{
	struct buf b;

	b.b_start = b.b_pos = b.b_last = dst;
	b.b_end = dst + size - 1;
	if (http_var_render(c, t, &b, VAR_ESC_NONE, 0) == -1)
		return -1;
	*b.b_last = '\0';
	*len = b.b_last - b.b_start;
	return 0;
}

/* $document_root: root or alias, relative ones from the prefix */
static int
map_root(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const char *prefix = c->c_gen->g_prefix;
	size_t len, plen = strlen(prefix);
	char *root;

	if (f->f_buf == NULL && (f->f_buf = buf_get(STATIC_BUF)) == NULL)
		return -1;
	root = region(f, RG_ROOT);
	if (render(c, r->r_loc->lc_root, root, RG_ROOT_LEN, &len) == -1)
		return -1;
	if (root[0] != '/') {
		if (len + plen >= RG_ROOT_LEN)
			return -1;
		memmove(root + plen, root, len + 1);
		memcpy(root, prefix, plen);
		len += plen;
	}
	f->f_root = root;
	f->f_rootlen = len;
	return 0;
}

/*
 * $request_filename for uri: the root and the URI, or the alias and
 * what follows the location's prefix (nothing for a regex location,
 * unless try_files or index appends a name).  The URI is normalized,
 * yet an alias without the location's trailing slash would let "..",
 * as in "/img../", climb out of it: that is refused (-2).
 */
static int
map_name(struct conn *c, const char *uri, size_t len, int appended)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct conf_loc *l = r->r_loc;
	size_t skip = 0, i;
	char *name;

	f->f_mapped = 0;
	if (map_root(c) == -1)
		return -1;
	if (l->lc_alias == SIZE_MAX)
		skip = appended ? 0 : len;
	else if (l->lc_alias > 0) {
		skip = MIN(l->lc_alias, len);
		/* a tried name keeps what does not repeat the URI's prefix */
		if (appended && (r->r_pathlen < skip ||
		    memcmp(uri, r->r_path, skip) != 0))
			skip = 0;
	}
	uri += skip;
	len -= skip;
	if (f->f_rootlen + len >= RG_NAME_LEN)
		return -1;
	name = region(f, RG_NAME);
	memcpy(name, f->f_root, f->f_rootlen);
	memcpy(name + f->f_rootlen, uri, len);
	f->f_namelen = f->f_rootlen + len;
	name[f->f_namelen] = '\0';
	f->f_name = name;
	for (i = f->f_rootlen > 0 ? f->f_rootlen - 1 : 0; i + 2 < f->f_namelen;
	    i++)
		if (name[i] == '/' && name[i + 1] == '.' && name[i + 2] == '.' &&
		    (i + 3 == f->f_namelen || name[i + 3] == '/'))
			return -2;
	f->f_mapped = 1;
	return 0;
}

/* the answer for a failed open() or stat() of path */
static int
file_error(struct conn *c, const char *what, const char *path, int err)
{
	int status;

	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		status = 404;
		break;
	case EACCES:
	case ELOOP:
	case EMLINK:
		status = 403;
		break;
	default:
		status = 500;
		break;
	}
	conn_log(c, LOG_ERR, "%s \"%s\" failed (%d: %s)", what, path, err,
	    strerror(err));
	return http_special(c, status);
}

static int
map_failed(struct conn *c, int rc)
{
	if (rc == -2) {
		conn_log(c, LOG_ERR, "\"%s\" climbs out of the alias",
		    c->c_req.r_file.f_name);
		return http_special(c, 404);
	}
	conn_log(c, LOG_ERR, "the file name of \"%.*s\" is too long",
	    (int)MIN(c->c_req.r_pathlen, 256), c->c_req.r_path);
	return http_special(c, 404);
}

/* percent-encode what may not stand in a Location header as is */
static size_t
put_uri(char *dst, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#' ||
		    ch == '%' || ch == '"') {
			if (n + 3 > size)
				return SIZE_MAX;
			dst[n++] = '%';
			dst[n++] = hex[ch >> 4];
			dst[n++] = hex[ch & 15];
		} else {
			if (n + 1 > size)
				return SIZE_MAX;
			dst[n++] = ch;
		}
	}
	return n;
}

/* "http[s]://host[:port]" of a redirect, as nginx's absolute_redirect */
size_t
http_static_origin(struct conn *c, char *dst, size_t size)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN + 2];
	const char *h = NULL;
	size_t hl = 0;
	int port = 0, n;

	if (getsockname(c->c_fd, (struct sockaddr *)&ss, &sl) == -1)
		memcpy(&ss, &c->c_listen->gl_addr, c->c_listen->gl_addrlen);
	if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (l->lc_server_name_in_redirect && r->r_srv->sc_nnames > 0 &&
	    r->r_srv->sc_names[0][0] != '\0') {
		h = r->r_srv->sc_names[0];
		hl = strlen(h);
	} else if (r->r_hostlen > 0) {
		h = r->r_host;
		hl = r->r_hostlen;
	} else {
		if (ss.ss_family == AF_INET6) {
			host[0] = '[';
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, host + 1,
			    sizeof(host) - 2);
			memcpy(host + strlen(host), "]", 2);
		} else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			    host, sizeof(host));
		h = host;
		hl = strlen(host);
	}
	if (!l->lc_port_in_redirect || port == (c->c_ssl != NULL ? 443 : 80))
		n = snprintf(dst, size, "%s://%.*s", c->c_ssl != NULL ?
		    "https" : "http", (int)hl, h);
	else
		n = snprintf(dst, size, "%s://%.*s:%d", c->c_ssl != NULL ?
		    "https" : "http", (int)hl, h, port);
	return n < 0 || (size_t)n >= size ? SIZE_MAX : (size_t)n;
}

/* a directory asked for without the slash: 301 to "uri/[?args]" */
static int
dir_redirect(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	char *loc = region(f, RG_LOC);
	size_t n = 0, m;

	if (r->r_loc->lc_absolute_redirect &&
	    (n = http_static_origin(c, loc, RG_LOC_LEN)) == SIZE_MAX)
		return http_special(c, 500);
	if ((m = put_uri(loc + n, RG_LOC_LEN - n - 2, r->r_path,
	    r->r_pathlen)) == SIZE_MAX)
		return http_special(c, 500);
	n += m;
	loc[n++] = '/';
	if (r->r_args != NULL) {
		if (n + 1 + r->r_argslen >= RG_LOC_LEN)
			return http_special(c, 500);
		loc[n++] = '?';
		memcpy(loc + n, r->r_args, r->r_argslen);
		n += r->r_argslen;
	}
	f->f_location = loc;
	f->f_locationlen = n;
	return http_special(c, 301);
}

/* "uri[?args]" in the LOC region, for an internal redirect */
static int
redirect_with_args(struct conn *c, const char *a, size_t al, const char *b,
    size_t bl)
{
	struct http_req *r = &c->c_req;
	char *p = region(&r->r_file, RG_LOC);
	size_t n;

	n = al + bl + (r->r_args != NULL ? 1 + r->r_argslen : 0);
	if (n >= RG_LOC_LEN)
		return http_special(c, 500);
	memcpy(p, a, al);
	memcpy(p + al, b, bl);
	if (r->r_args != NULL) {
		p[al + bl] = '?';
		memcpy(p + al + bl + 1, r->r_args, r->r_argslen);
	}
	return http_internal_redirect(c, p, n);
}

static int
index_error(struct conn *c, const char *path, int err)
{
	if (err == EACCES) {
		conn_log(c, LOG_ERR, "\"%s\" is forbidden (%d: %s)", path, err,
		    strerror(err));
		return http_special(c, 403);
	}
	if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
		conn_log(c, LOG_ERR, "\"%s\" is not found (%d: %s)", path, err,
		    strerror(err));
		return http_special(c, 404);
	}
	conn_log(c, LOG_ERR, "stat() \"%s\" failed (%d: %s)", path, err,
	    strerror(err));
	return http_special(c, 500);
}

/* a URI ending in "/": the first index file that exists, else 403 */
static int
index_handler(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct conf_loc *l = r->r_loc;
	struct stat st;
	size_t dirlen, nlen;
	char *name;
	int i, rc;

	/* as nginx: other methods are not allowed here either */
	if (!is_get_head_post(r))
		return http_special(c, 405);
	if ((rc = map_name(c, r->r_path, r->r_pathlen, 0)) != 0)
		return map_failed(c, rc);
	dirlen = f->f_namelen;
	name = region(f, RG_TMP);
	for (i = 0; i < l->lc_nindex; i++) {
		if (render(c, l->lc_index[i], name, RG_TMP_LEN, &nlen) == -1 ||
		    nlen == 0)
			continue;
		if (name[0] == '/')
			return redirect_with_args(c, name, nlen, "", 0);
		if (dirlen + nlen >= RG_NAME_LEN)
			return index_error(c, name, ENAMETOOLONG);
		memcpy(f->f_name + dirlen, name, nlen + 1);
		if (stat(f->f_name, &st) == 0)
			return redirect_with_args(c, r->r_path, r->r_pathlen,
			    name, nlen);
		if (errno != ENOENT)
			return index_error(c, f->f_name, errno);
	}
	f->f_name[dirlen] = '\0';
	f->f_namelen = dirlen;
	if (stat(f->f_name, &st) == -1)
		return index_error(c, f->f_name, errno);
	if (!S_ISDIR(st.st_mode)) {
		conn_log(c, LOG_ERR, "\"%s\" is not a directory", f->f_name);
		return http_special(c, 500);
	}
	conn_log(c, LOG_ERR, "directory index of \"%s\" is forbidden",
	    f->f_name);
	return http_special(c, 403);
}

static void
file_close(struct http_file *f)
{
	if (f->f_active) {
		close(f->f_fd);
		f->f_active = 0;
	}
}

static void
sock_opt(struct conn *c, int opt, int on)
{
	setsockopt(c->c_fd, IPPROTO_TCP, opt, &on, sizeof(on));
}

/* the file is sent: close it, and let a corked tail go */
static void
file_done(struct conn *c)
{
	struct http_file *f = &c->c_req.r_file;

	file_close(f);
	if (f->f_corked) {
		sock_opt(c, TCP_CORK, 0);
		f->f_corked = 0;
	}
}

/* 0: answer 200; 304; 412 (nginx's not_modified filter) */
static int
conditions(struct conn *c, const char *etag)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct conf_loc *l = r->r_loc;
	const struct http_header *ius, *im, *ims, *inm;
	time_t t;

	ius = find_header(r, "if-unmodified-since");
	im = find_header(r, "if-match");
	ims = find_header(r, "if-modified-since");
	inm = find_header(r, "if-none-match");
	if (ius != NULL && http_cond_parse_date(ius->h_value, ius->h_valuelen) <
	    f->f_mtime)
		return 412;
	if (im != NULL && !http_cond_etag_match(im->h_value, im->h_valuelen,
	    etag, 0))
		return 412;
	if (ims == NULL && inm == NULL)
		return 0;
	if (ims != NULL) {
		if (l->lc_if_modified_since == IMS_OFF)
			return 0;
		t = http_cond_parse_date(ims->h_value, ims->h_valuelen);
		if (t != f->f_mtime && (l->lc_if_modified_since == IMS_EXACT ||
		    t < f->f_mtime))
			return 0;
	}
	if (inm != NULL && !http_cond_etag_match(inm->h_value, inm->h_valuelen,
	    etag, 1))
		return 0;
	return 304;
}

/* 200 (whole), 206 with f_ranges and f_pos/f_end set, 416 */
static int
range(struct conn *c, const char *etag)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct http_header *rg, *ir;
	int rc;

	if ((rg = find_header(r, "range")) == NULL ||
	    r->r_head.hh_version < 10)
		return 200;
	if ((ir = find_header(r, "if-range")) != NULL) {
		if (ir->h_valuelen >= 2 && ir->h_value[ir->h_valuelen - 1] ==
		    '"') {
			if (etag[0] == '\0' || strlen(etag) != ir->h_valuelen ||
			    memcmp(etag, ir->h_value, ir->h_valuelen) != 0)
				return 200;
		} else if (http_cond_parse_date(ir->h_value, ir->h_valuelen) !=
		    f->f_mtime)
			return 200;
	}
	rc = http_cond_parse_ranges(rg->h_value, rg->h_valuelen, f->f_size,
	    f->f_ranges, HTTP_STATIC_RANGES, &f->f_nranges);
	if (rc == 206) {
		f->f_range = 0;
		f->f_pos = f->f_ranges[0].hr_start;
		f->f_end = f->f_ranges[0].hr_end;
	}
	return rc;
}

/* are there parts of a multipart body after the current one? */
static int
more_parts(const struct http_file *f)
{
	return f->f_range + 1 < f->f_nranges || f->f_tail;
}

/* the boundary and headers of part i, or the closing one (i == n) */
static int
part_header(struct http_file *f, int i, char *dst, size_t size)
{
	if (i == f->f_nranges)
		return snprintf(dst, size, "\r\n--%s--\r\n", f->f_boundary);
	return snprintf(dst, size, "\r\n--%s\r\nContent-Type: %s\r\n"
	    "Content-Range: bytes %lld-%lld/%lld\r\n\r\n", f->f_boundary,
	    f->f_ctype, (long long)f->f_ranges[i].hr_start,
	    (long long)f->f_ranges[i].hr_end - 1, (long long)f->f_size);
}

/* the Content-Length of a multipart body */
static int64_t
multipart_length(struct http_file *f)
{
	int64_t len = part_header(f, f->f_nranges, NULL, 0);
	int i;

	for (i = 0; i < f->f_nranges; i++)
		len += part_header(f, i, NULL, 0) + f->f_ranges[i].hr_end -
		    f->f_ranges[i].hr_start;
	return len;
}

/* into out: the header of the next part, or the closing boundary */
static int
next_part(struct http_file *f, struct buf *out)
{
	int n;

	if (f->f_range + 1 < f->f_nranges) {
		f->f_range++;
		f->f_pos = f->f_ranges[f->f_range].hr_start;
		f->f_end = f->f_ranges[f->f_range].hr_end;
		n = part_header(f, f->f_range, out->b_last,
		    out->b_end - out->b_last);
	} else {
		f->f_tail = 0;
		n = part_header(f, f->f_nranges, out->b_last,
		    out->b_end - out->b_last);
	}
	if (n < 0 || n >= out->b_end - out->b_last)
		return -1;
	out->b_last += n;
	return 0;
}

/* nginx's extension: after the last dot of the last segment */
static const char *
uri_ext(const struct http_req *r, size_t *len)
{
	const char *p = r->r_path;
	size_t i;

	for (i = r->r_pathlen; i > 1; i--) {
		if (p[i - 1] == '/')
			break;
		if (p[i - 1] == '.' && p[i - 2] != '/') {
			*len = r->r_pathlen - i;
			return p + i;
		}
	}
	*len = 0;
	return NULL;
}

static int
head_failed(struct conn *c)
{
	file_close(&c->c_req.r_file);
	if (http_error(c, 500, "the response head does not fit the output "
	    "buffer") == -1)
		return CS_CLOSE;
	return CS_SEND;
}

/* the answer for an open regular file */
static int
serve(struct conn *c, int fd, const struct stat *st)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct conf_loc *l = r->r_loc;
	struct buf *b;
	const char *ctype, *ext;
	char etag[64], date[40];
	size_t elen;
	ssize_t n;
	int status;

	f->f_fd = fd;
	f->f_active = 1;
	f->f_has_file = 1;
	f->f_size = st->st_size;
	f->f_mtime = st->st_mtime;
	f->f_pos = 0;
	f->f_end = f->f_size;
	etag[0] = '\0';
	if (l->lc_etag)
		http_cond_etag(f->f_mtime, f->f_size, etag, sizeof(etag));
	status = conditions(c, etag);
	if (status == 412) {
		file_close(f);
		return http_special(c, 412);
	}
	if (status == 0 && (status = range(c, etag)) == 416) {
		file_close(f);
		f->f_416 = 1;
		return http_special(c, 416);
	}
	if ((ext = uri_ext(r, &elen)) == NULL ||
	    (ctype = conf_mime_type(l, ext, elen)) == NULL)
		ctype = l->lc_default_type;
	if (http_head_open(c, status) == -1)
		return head_failed(c);
	http_cond_format_date(f->f_mtime, date, sizeof(date));
	f->f_ctype = ctype;
	if (status == 206 && f->f_nranges > 1) {
		static uint64_t boundary;

		snprintf(f->f_boundary, sizeof(f->f_boundary), "%020llu",
		    (unsigned long long)++boundary);
		f->f_tail = 1;
		if (http_head_printf(c, "Content-Type: multipart/byteranges; "
		    "boundary=%s\r\nContent-Length: %lld\r\n", f->f_boundary,
		    (long long)multipart_length(f)) == -1)
			return head_failed(c);
	} else if (status != 304 && http_head_printf(c, "Content-Type: %s\r\n"
	    "Content-Length: %lld\r\n", ctype,
	    (long long)(f->f_end - f->f_pos)) == -1)
		return head_failed(c);
	if (http_head_printf(c, "Last-Modified: %s\r\n", date) == -1 ||
	    (etag[0] != '\0' && http_head_printf(c, "ETag: %s\r\n", etag) ==
	    -1))
		return head_failed(c);
	if (status == 206 && !f->f_tail && http_head_printf(c,
	    "Content-Range: bytes "
	    "%lld-%lld/%lld\r\n", (long long)f->f_pos,
	    (long long)f->f_end - 1, (long long)f->f_size) == -1)
		return head_failed(c);
	if (status == 200 && http_head_printf(c, "Accept-Ranges: bytes\r\n") ==
	    -1)
		return head_failed(c);
	if (http_head_close(c) == -1)
		return head_failed(c);
	if (r->r_head_only || status == 304 || f->f_pos == f->f_end) {
		file_close(f);
		return CS_SEND;
	}
	/* the first part's header follows the head */
	if (f->f_tail) {
		f->f_range = -1;
		if (next_part(f, c->c_out) == -1)
			return head_failed(c);
	}
	if (!l->lc_tcp_nodelay)
		conn_nodelay_hold(c);
	/* TLS encrypts in user space: the file goes through the buffer */
	f->f_sendfile = l->lc_sendfile && c->c_ssl == NULL;
	if (f->f_sendfile) {
		/* as nginx: tcp_nopush only with sendfile */
		if (l->lc_tcp_nopush) {
			sock_opt(c, TCP_CORK, 1);
			f->f_corked = 1;
		}
		return CS_SEND;
	}
	/* the first part of the body goes out with the head */
	b = c->c_out;
	n = pread(fd, b->b_last, MIN((int64_t)(b->b_end - b->b_last),
	    f->f_end - f->f_pos), f->f_pos);
	if (n > 0) {
		b->b_last += n;
		f->f_pos += n;
		if (f->f_pos == f->f_end && !more_parts(f))
			file_done(c);
	}
	return CS_SEND;
}

int
http_static_handler(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	struct stat st;
	int fd, rc;

	/* after an internal redirect: nothing of an earlier answer stays */
	file_close(f);
	f->f_location = NULL;
	f->f_416 = 0;
	if (r->r_pathlen == 0 || r->r_path[0] != '/')
		return http_special(c, 404);
	if (r->r_path[r->r_pathlen - 1] == '/')
		return index_handler(c);
	if (!is_get_head_post(r))
		return http_special(c, 405);
	if ((rc = map_name(c, r->r_path, r->r_pathlen, 0)) != 0)
		return map_failed(c, rc);
	/* O_NONBLOCK: a FIFO in the tree must not hang the worker */
	fd = open(f->f_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return file_error(c, "open()", f->f_name, errno);
	if (fstat(fd, &st) == -1) {
		rc = errno;
		close(fd);
		return file_error(c, "fstat()", f->f_name, rc);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return dir_redirect(c);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		conn_log(c, LOG_ERR, "\"%s\" is not a regular file", f->f_name);
		return http_special(c, 404);
	}
	/* as nginx: a POST to a file that exists */
	if (http_token_eq(r->r_head.hh_method, r->r_head.hh_methodlen,
	    "POST")) {
		close(fd);
		return http_special(c, 405);
	}
	return serve(c, fd, &st);
}

int
http_static_try_files(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	const struct conf_try *t = r->r_loc->lc_try;
	struct conf_loc *named;
	struct stat st;
	char *name, *uri;
	size_t len;
	int i, dir;

	if (f->f_buf == NULL && (f->f_buf = buf_get(STATIC_BUF)) == NULL)
		return http_special(c, 500);
	name = region(f, RG_TMP);
	for (i = 0; i < t->tf_nfiles; i++) {
		if (render(c, t->tf_files[i], name, RG_TMP_LEN, &len) == -1 ||
		    len == 0)
			continue;
		dir = t->tf_dirs[i];
		if (map_name(c, name, len, 1) != 0)
			continue;
		if (stat(f->f_name, &st) == -1) {
			if (errno != ENOENT && errno != ENOTDIR &&
			    errno != ENAMETOOLONG)
				conn_log(c, LOG_ERR, "stat() \"%s\" failed "
				    "(%d: %s)", f->f_name, errno,
				    strerror(errno));
			continue;
		}
		if ((S_ISDIR(st.st_mode) ? 1 : 0) != dir)
			continue;
		/* found: it becomes $uri, in this location */
		if (name[0] != '/' || len >= RG_URI_LEN)
			continue;
		uri = region(f, RG_URI);
		memcpy(uri, name, len + 1);
		r->r_path = uri;
		r->r_pathlen = len;
		return -1;
	}
	if (t->tf_code != 0)
		return http_special(c, t->tf_code);
	if (render(c, t->tf_uri, name, RG_TMP_LEN, &len) == -1 || len == 0)
		return http_special(c, 500);
	if (name[0] == '@') {
		if ((named = conf_find_named(r->r_srv->sc_loc, name)) == NULL) {
			conn_log(c, LOG_ERR, "could not find named location "
			    "\"%s\"", name);
			return http_special(c, 500);
		}
		return http_named_redirect(c, named);
	}
	return http_internal_redirect(c, name, len);
}

void
http_static_reset(struct conn *c)
{
	struct http_file *f = &c->c_req.r_file;

	file_done(c);
	buf_put(f->f_buf);
	memset(f, 0, sizeof(*f));
}

int
http_static_pending(struct conn *c)
{
	const struct http_file *f = &c->c_req.r_file;

	return f->f_active && (f->f_pos < f->f_end || more_parts(f));
}

static int
truncated(struct conn *c)
{
	struct http_file *f = &c->c_req.r_file;

	conn_log(c, LOG_ERR, "\"%s\" was truncated at %lld while it was sent, "
	    "%lld bytes expected: closing the connection", f->f_name,
	    (long long)f->f_pos, (long long)f->f_end);
	file_done(c);
	return IO_ERROR;
}

int
http_static_send(struct conn *c, struct buf *out)
{
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;
	off_t off = f->f_pos;
	ssize_t n;

	if (f->f_pos == f->f_end) {
		/* between two parts of a multipart body */
		out->b_pos = out->b_last = out->b_start;
		if (next_part(f, out) == -1) {
			file_done(c);
			return IO_ERROR;
		}
		if (!more_parts(f) && f->f_pos == f->f_end)
			file_done(c);
		return IO_OK;
	}
	if (f->f_sendfile) {
		conn_before_write(c);
		n = sendfile(c->c_fd, f->f_fd, &off, MIN(f->f_end - f->f_pos,
		    SENDFILE_CHUNK));
		if (n > 0) {
			f->f_pos += n;
			r->r_sent += n;
		}
	} else {
		out->b_pos = out->b_last = out->b_start;
		n = pread(f->f_fd, out->b_start, MIN(f->f_end - f->f_pos,
		    (int64_t)(out->b_end - out->b_start)), f->f_pos);
		if (n > 0) {
			f->f_pos += n;
			out->b_last += n;
		}
	}
	if (n > 0) {
		if (f->f_pos == f->f_end && !more_parts(f))
			file_done(c);
		return IO_OK;
	}
	if (n == 0)
		return truncated(c);
	if (errno == EINTR)
		return IO_OK;
	if (errno == EAGAIN)
		return IO_AGAIN;
	conn_log(c, LOG_INFO, "%s() of \"%s\" failed (%d: %s)", f->f_sendfile ?
	    "sendfile" : "pread", f->f_name, errno, strerror(errno));
	file_done(c);
	return IO_ERROR;
}

static int
is_cacheable_status(int s)
{
	return s == 200 || s == 201 || s == 204 || s == 206 || s == 301 ||
	    s == 302 || s == 303 || s == 304 || s == 307 || s == 308;
}

static int
expires(struct conn *c, int status)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	time_t now = clock_wall(), when;
	long long age;
	char date[40];

	switch (l->lc_expires) {
	case EXPIRES_EPOCH:
		return http_head_printf(c, "Expires: Thu, 01 Jan 1970 00:00:01 "
		    "GMT\r\nCache-Control: no-cache\r\n");
	case EXPIRES_MAX:
		return http_head_printf(c, "Expires: Thu, 31 Dec 2037 23:55:55 "
		    "GMT\r\nCache-Control: max-age=315360000\r\n");
	case EXPIRES_TIME:
	case EXPIRES_MODIFIED:
		when = (l->lc_expires == EXPIRES_MODIFIED &&
		    r->r_file.f_has_file ? r->r_file.f_mtime : now) +
		    l->lc_expires_time / 1000;
		age = (long long)(when - now);
		http_cond_format_date(when, date, sizeof(date));
		if (age < 0)
			return http_head_printf(c, "Expires: %s\r\n"
			    "Cache-Control: no-cache\r\n", date);
		return http_head_printf(c, "Expires: %s\r\nCache-Control: "
		    "max-age=%lld\r\n", date, age);
	}
	return 0;
}

int
http_static_headers(struct conn *c, struct buf *b, int status)
{
	struct http_req *r = &c->c_req;
	const struct http_file *f = &r->r_file;
	const struct conf_loc *l = r->r_loc;
	const struct conf_header *h;
	char *mark;
	/* nginx decides on the status before its range filter makes a 416 */
	int ok = is_cacheable_status(status) || (f->f_416 && status == 416);

	if (f->f_location != NULL && status >= 300 && status < 400 &&
	    http_head_printf(c, "Location: %.*s\r\n", (int)f->f_locationlen,
	    f->f_location) == -1)
		return -1;
	if (f->f_416 && status == 416 && http_head_printf(c, "Content-Range: "
	    "bytes */%lld\r\n", (long long)f->f_size) == -1)
		return -1;
	if (l == NULL)
		return 0;
	if (ok && expires(c, status) == -1)
		return -1;
	for (h = l->lc_headers; h != NULL; h = h->hd_next) {
		if (!ok && !h->hd_always)
			continue;
		mark = b->b_last;
		if (http_head_printf(c, "%s: ", h->hd_name) == -1 ||
		    http_var_render(c, h->hd_value, b, VAR_ESC_NONE, 0) == -1)
			return -1;
		/* an empty value adds no header, as nginx */
		if (b->b_last == mark + strlen(h->hd_name) + 2) {
			b->b_last = mark;
			continue;
		}
		if (http_head_printf(c, "\r\n") == -1)
			return -1;
	}
	return 0;
}

int
http_static_var(struct conn *c, int id, const char **v, size_t *len)
{
	static char real[PATH_MAX];
	struct http_req *r = &c->c_req;
	struct http_file *f = &r->r_file;

	if (r->r_loc == NULL || r->r_path == NULL)
		return 0;
	switch (id) {
	case VAR_DOCUMENT_ROOT:
		if (map_root(c) == -1)
			return 0;
		*v = f->f_root;
		*len = f->f_rootlen;
		return 1;
	case VAR_REALPATH_ROOT:
		if (map_root(c) == -1 || realpath(f->f_root, real) == NULL)
			return 0;
		*v = real;
		*len = strlen(real);
		return 1;
	case VAR_REQUEST_FILENAME:
		if (!f->f_mapped && map_name(c, r->r_path, r->r_pathlen, 0) != 0)
			return 0;
		*v = f->f_name;
		*len = f->f_namelen;
		return 1;
	}
	return 0;
}

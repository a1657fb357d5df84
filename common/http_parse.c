/*
 * http_parse.c: request line and header fields, per RFC 9112.
 * Rejected outright: bare LF, obs-fold, whitespace before a colon,
 * control characters (NUL included) in any field, invalid token
 * characters, unknown versions.  The caller checks the semantics (Host,
 * Content-Length, Transfer-Encoding).
 */
#include "core.h"

#include <ctype.h>
#include <strings.h>

#include "http_parse.h"

static const char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

int
http_is_tchar(int c)
{
	return tchar[(unsigned char)c];
}

/* case-insensitive equality of a token with a literal */
int
http_token_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

int
http_head_end(const char *buf, size_t len, size_t *scan)
{
	size_t i = *scan, lead = 0;

	/* empty lines before the request line are skipped (RFC 9112, 2.2) */
	while (lead + 1 < len && buf[lead] == '\r' && buf[lead + 1] == '\n')
		lead += 2;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i == 0 || buf[i - 1] != '\r')
			return -1;
		/* an empty line after the request line ends the head */
		if (i >= 3 && i - 3 >= lead && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return (int)(i + 1);
	}
	*scan = i;
	return -2;
}

static int
invalid(struct http_head *h, int status, const char *reason)
{
	h->hh_status = status;
	h->hh_reason = reason;
	return -1;
}

static int
parse_request_line(const char *p, const char *end, struct http_head *h,
    const char **next)
{
	const char *s;

	s = p;
	while (p < end && tchar[(unsigned char)*p])
		p++;
	if (p == s || p == end || *p != ' ')
		return invalid(h, 400, "client sent invalid method");
	h->hh_method = s;
	h->hh_methodlen = p - s;
	s = ++p;
	/* request-target: visible ASCII only */
	while (p < end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	if (p == s || p == end || *p != ' ')
		return invalid(h, 400, "client sent invalid request");
	h->hh_target = s;
	h->hh_targetlen = p - s;
	p++;
	if (end - p < 10 || memcmp(p, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)p[5]) || p[6] != '.' ||
	    !isdigit((unsigned char)p[7]) || p[8] != '\r' || p[9] != '\n')
		return invalid(h, 400, "client sent invalid request line");
	if (p[5] != '1')
		return invalid(h, 505, "client sent unsupported HTTP version");
	/* a later 1.x minor version is answered as 1.1 (RFC 9110, 2.5) */
	h->hh_version = p[7] == '0' ? 10 : 11;
	/* hh_version != 0 now says the request line is complete */
	*next = p + 10;
	return 0;
}

/*
 * Header fields up to the empty line; who is "client" or "upstream" for
 * the reasons.  Returns the head length, or -1.
 */
static int
parse_fields(const char *buf, const char *p, const char *end,
    struct http_head *h, int upstream)
{
	const char *s, *v, *ve;

	for (;;) {
		if (end - p < 2)
			return invalid(h, 400, upstream ? "upstream sent "
			    "truncated header" : "client sent truncated header");
		if (p[0] == '\r' && p[1] == '\n')
			return (int)(p + 2 - buf);
		if (*p == ' ' || *p == '\t')
			return invalid(h, 400, upstream ? "upstream sent folded "
			    "header line" : "client sent folded header line");
		s = p;
		while (p < end && tchar[(unsigned char)*p])
			p++;
		if (p == s || p == end || *p != ':')
			return invalid(h, 400, upstream ? "upstream sent invalid "
			    "header line" : "client sent invalid header line");
		if (h->hh_nheaders == HTTP_MAX_HEADERS)
			return invalid(h, 431, upstream ? "upstream sent too "
			    "many headers" : "client sent too many headers");
		h->hh_headers[h->hh_nheaders].h_name = s;
		h->hh_headers[h->hh_nheaders].h_namelen = p - s;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		v = ve = p;
		for (; p < end && *p != '\r'; p++) {
			unsigned char c = *p;

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return invalid(h, 400, upstream ? "upstream "
				    "sent invalid character in header value" :
				    "client sent invalid character in header "
				    "value");
			if (c != ' ' && c != '\t')
				ve = p + 1;
		}
		if (end - p < 2 || p[1] != '\n')
			return invalid(h, 400, upstream ? "upstream sent invalid "
			    "header line" : "client sent invalid header line");
		h->hh_headers[h->hh_nheaders].h_value = v;
		h->hh_headers[h->hh_nheaders].h_valuelen = ve - v;
		h->hh_nheaders++;
		p += 2;
	}
}

static void
head_clear(struct http_head *h)
{
	h->hh_method = h->hh_target = NULL;
	h->hh_methodlen = h->hh_targetlen = 0;
	h->hh_version = 0;
	h->hh_nheaders = 0;
	h->hh_status = 0;
	h->hh_reason = NULL;
	h->hh_code = 0;
}

int
http_parse_request(const char *buf, size_t len, struct http_head *h)
{
	const char *p = buf, *end = buf + len;

	head_clear(h);
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if (parse_request_line(p, end, h, &p) == -1)
		return -1;
	return parse_fields(buf, p, end, h, 0);
}

/*
 * "HTTP/1.x SP 3DIGIT SP [reason] CRLF" (RFC 9112, 4), then the fields.
 * The reason phrase may hold any visible byte, SP and HTAB.
 */
int
http_parse_response(const char *buf, size_t len, struct http_head *h)
{
	const char *p = buf, *end = buf + len;
	int n;

	head_clear(h);
	if (end - p < 14 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || p[9] == '0' ||
	    (p[12] != ' ' && p[12] != '\r'))
		return invalid(h, 502, "upstream sent invalid status line");
	h->hh_version = p[7] == '0' ? 10 : 11;
	h->hh_code = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	p += 12;
	if (*p == ' ')
		p++;
	h->hh_phrase = p;
	for (; p < end && *p != '\r'; p++) {
		unsigned char c = *p;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return invalid(h, 502, "upstream sent invalid status "
			    "line");
	}
	h->hh_phraselen = p - h->hh_phrase;
	if (end - p < 2 || p[1] != '\n')
		return invalid(h, 502, "upstream sent invalid status line");
	p += 2;
	if ((n = parse_fields(buf, p, end, h, 1)) == -1)
		h->hh_status = 502;
	return n;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
http_normalize_path(const char *in, size_t len, char *out, size_t *outlen)
{
	size_t i, n = 0, r, w, e;
	int hi, lo;

	if (len == 0 || in[0] != '/')
		return -1;
	/* decode first: %2F and %2E take part in the segment rules below */
	for (i = 0; i < len; i++) {
		if (in[i] != '%') {
			out[n++] = in[i];
			continue;
		}
		if (i + 2 >= len || (hi = hexval(in[i + 1])) < 0 ||
		    (lo = hexval(in[i + 2])) < 0)
			return -1;
		if (hi == 0 && lo == 0)
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	/* then the segments, in place: w never passes r */
	w = 1;
	r = 1;
	while (r < n) {
		if (out[r] == '/') {
			r++;
			continue;
		}
		for (e = r; e < n && out[e] != '/'; e++)
			;
		if (e - r == 1 && out[r] == '.') {
			/* "." names the folder itself */
		} else if (e - r == 2 && out[r] == '.' && out[r + 1] == '.') {
			if (w == 1)
				return -1;
			/* back over the previous segment and its slash */
			w--;
			while (w > 0 && out[w - 1] != '/')
				w--;
		} else {
			memmove(out + w, out + r, e - r);
			w += e - r;
			if (e < n)
				out[w++] = '/';
		}
		r = e;
	}
	out[w] = '\0';
	*outlen = w;
	return 0;
}

enum {
	EXT_NONE = 0,
	EXT_NAME0,
	EXT_NAME,
	EXT_VALUE0,
	EXT_VALUE,
	EXT_QUOTED,
	EXT_QESC,
	EXT_QEND,
};

enum {
	CH_SIZE = 0,	/* hex digits */
	CH_EXT,		/* after the size: ";" extensions, up to CR */
	CH_SIZE_LF,	/* CR seen after the size line */
	CH_DATA,
	CH_DATA_CR,	/* the CRLF after the data */
	CH_DATA_LF,
	CH_TR_START,	/* a trailer line, or the empty line that ends all */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_END_LF,	/* CR of the final empty line seen */
	CH_DONE,
};

int
http_chunked_done(const struct http_chunked *c)
{
	return c->hc_state == CH_DONE;
}

static ssize_t
chunked_invalid(struct http_chunked *c, const char *reason)
{
	c->hc_reason = reason;
	return -1;
}

ssize_t
http_chunked_step(struct http_chunked *c, const char *p, size_t len,
    const char **data, size_t *dlen)
{
	size_t i = 0;
	int v;

	*data = NULL;
	*dlen = 0;
	while (i < len && c->hc_state != CH_DONE) {
		unsigned char ch = p[i];

		switch (c->hc_state) {
		case CH_SIZE:
			if ((v = hexval(ch)) >= 0) {
				/* 15 hex digits keep the size within int64 */
				if (++c->hc_digits > 15)
					return chunked_invalid(c, "client sent "
					    "too large chunk size");
				c->hc_size = c->hc_size * 16 + v;
				i++;
				break;
			}
			if (c->hc_digits == 0)
				return chunked_invalid(c, "client sent invalid "
				    "chunk size");
			c->hc_state = CH_EXT;
			break;
		case CH_EXT:
			/*
			 * Strict, as llhttp: the size is followed by CRLF or
			 * by ";name[=value]" extensions, names and values
			 * tokens, values possibly quoted; no whitespace.
			 */
			switch (c->hc_ext) {
			case EXT_NONE:		/* right after the size */
			case EXT_VALUE:		/* in a token value */
			case EXT_QEND:		/* after a closing quote */
				if (ch == '\r')
					c->hc_state = CH_SIZE_LF;
				else if (ch == ';')
					c->hc_ext = EXT_NAME0;
				else if (c->hc_ext == EXT_VALUE && tchar[ch])
					break;
				else
					return chunked_invalid(c, c->hc_ext ==
					    EXT_NONE ? "client sent invalid "
					    "chunk size" : "client sent invalid "
					    "chunk extension");
				break;
			case EXT_NAME0:		/* after ';' */
			case EXT_NAME:
				if (tchar[ch])
					c->hc_ext = EXT_NAME;
				else if (c->hc_ext == EXT_NAME && ch == '=')
					c->hc_ext = EXT_VALUE0;
				else if (c->hc_ext == EXT_NAME && ch == ';')
					c->hc_ext = EXT_NAME0;
				else if (c->hc_ext == EXT_NAME && ch == '\r')
					c->hc_state = CH_SIZE_LF;
				else
					return chunked_invalid(c, "client sent "
					    "invalid chunk extension");
				break;
			case EXT_VALUE0:	/* after '=' */
				if (ch == '"')
					c->hc_ext = EXT_QUOTED;
				else if (tchar[ch])
					c->hc_ext = EXT_VALUE;
				else
					return chunked_invalid(c, "client sent "
					    "invalid chunk extension");
				break;
			case EXT_QUOTED:
				if (ch == '"')
					c->hc_ext = EXT_QEND;
				else if (ch == '\\')
					c->hc_ext = EXT_QESC;
				else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
					return chunked_invalid(c, "client sent "
					    "invalid chunk extension");
				break;
			case EXT_QESC:
				if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
					return chunked_invalid(c, "client sent "
					    "invalid chunk extension");
				c->hc_ext = EXT_QUOTED;
				break;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return chunked_invalid(c, "client sent invalid "
				    "chunk size line");
			i++;
			c->hc_digits = 0;
			c->hc_ext = EXT_NONE;
			c->hc_state = c->hc_size == 0 ? CH_TR_START : CH_DATA;
			break;
		case CH_DATA: {
			size_t n = len - i;

			if ((int64_t)n > c->hc_size)
				n = c->hc_size;
			*data = p + i;
			*dlen = n;
			c->hc_size -= n;
			i += n;
			if (c->hc_size == 0)
				c->hc_state = CH_DATA_CR;
			/* hand the data over before reading on */
			return i;
		}
		case CH_DATA_CR:
			if (ch != '\r')
				return chunked_invalid(c, "client sent chunk "
				    "data not followed by CRLF");
			c->hc_state = CH_DATA_LF;
			i++;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return chunked_invalid(c, "client sent chunk "
				    "data not followed by CRLF");
			c->hc_state = CH_SIZE;
			i++;
			break;
		case CH_TR_START:
			if (ch == '\r') {
				c->hc_state = CH_END_LF;
				i++;
				break;
			}
			if (!tchar[ch])
				return chunked_invalid(c, "client sent invalid "
				    "trailer");
			c->hc_state = CH_TR_NAME;
			break;
		case CH_TR_NAME:
			if (ch == ':')
				c->hc_state = CH_TR_VALUE;
			else if (!tchar[ch])
				return chunked_invalid(c, "client sent invalid "
				    "trailer");
			i++;
			break;
		case CH_TR_VALUE:
			if (ch == '\r')
				c->hc_state = CH_TR_LF;
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return chunked_invalid(c, "client sent invalid "
				    "trailer");
			i++;
			break;
		case CH_TR_LF:
			if (ch != '\n')
				return chunked_invalid(c, "client sent invalid "
				    "trailer");
			c->hc_state = CH_TR_START;
			i++;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return chunked_invalid(c, "client sent invalid "
				    "end of chunked body");
			c->hc_state = CH_DONE;
			i++;
			break;
		}
		if (c->hc_state >= CH_TR_START && c->hc_state != CH_DONE &&
		    ++c->hc_trailer > HTTP_MAX_TRAILER)
			return chunked_invalid(c, "client sent too large "
			    "trailers");
	}
	return i;
}

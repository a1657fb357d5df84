/*
 * unit tests for common/http_parse.c: finding the end of a request head,
 * and the strict request-line and header parser.
 */
#include "../../common/http_parse.c"
#include "tap.h"

/* a string literal with its length, NULs included */
#define S(lit)	lit, sizeof(lit) - 1

#define BARE_LF	(-1)		/* want: http_head_end() rejects it */

struct req_case {
	const char	*what;
	const char	*raw;
	size_t		 len;
	int		 status;	/* 0 accepted, else hh_status, or BARE_LF */
	int		 version;	/* when accepted */
	const char	*method;	/* when accepted and not NULL */
	const char	*target;
	int		 nheaders;
};

/*
 * As the data path does: find the head, then parse it.  Every rejection
 * must say why (hh_reason) and with which status.
 */
static void
check_request(const struct req_case *c)
{
	struct http_head h;
	size_t scan = 0;
	int end, rc;

	end = http_head_end(c->raw, c->len, &scan);
	if (c->status == BARE_LF) {
		is_int(end, -1, "%s: bare LF rejected by http_head_end", c->what);
		return;
	}
	if (end <= 0) {
		ok(0, "%s: http_head_end found the head (got %d)", c->what, end);
		return;
	}
	memset(&h, 0x5a, sizeof(h));	/* the parser must set what it reports */
	rc = http_parse_request(c->raw, end, &h);
	if (c->status != 0) {
		ok(rc == -1 && h.hh_status == c->status && h.hh_reason != NULL,
		    "%s: rejected with %d", c->what, c->status);
		if (rc != -1 || h.hh_status != c->status)
			printf("#   got rc %d, status %d\n", rc, h.hh_status);
		return;
	}
	ok(rc == end && h.hh_status == 0 && h.hh_reason == NULL &&
	    h.hh_version == c->version &&
	    (c->nheaders < 0 || h.hh_nheaders == c->nheaders) &&
	    (c->method == NULL || (h.hh_methodlen == strlen(c->method) &&
	    memcmp(h.hh_method, c->method, h.hh_methodlen) == 0)) &&
	    (c->target == NULL || (h.hh_targetlen == strlen(c->target) &&
	    memcmp(h.hh_target, c->target, h.hh_targetlen) == 0)),
	    "%s: accepted", c->what);
	if (rc != end || h.hh_status != 0)
		printf("#   got rc %d (head %d), status %d, reason %s\n", rc, end,
		    h.hh_status, h.hh_reason ? h.hh_reason : "(null)");
}

static void
check_requests(const struct req_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_request(&c[i]);
}

static void
test_head_end(void)
{
	static const struct {
		const char *what, *raw;
		size_t len;
		int want;
	} cases[] = {
		{ "complete head", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27 },
		{ "bytes after the head not counted",
		    S("GET / HTTP/1.1\r\n\r\nGET /next"), 18 },
		{ "body after the head", S("POST / HTTP/1.1\r\n\r\n\r\n\r\n"),
		    19 },
		{ "no empty line yet", S("GET / HTTP/1.1\r\nHost: a\r\n"), -2 },
		{ "half an empty line", S("GET / HTTP/1.1\r\nHost: a\r\n\r"),
		    -2 },
		{ "nothing yet", S(""), -2 },
		{ "bare LF in the request line",
		    S("GET / HTTP/1.1\nHost: a\r\n\r\n"), -1 },
		{ "bare LF ending the head",
		    S("GET / HTTP/1.1\r\nHost: a\r\n\n"), -1 },
		{ "LF first", S("\n"), -1 },
		{ "leading CRLFs skipped",
		    S("\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 24 },
		{ "only CRLFs so far", S("\r\n\r\n\r\n"), -2 },
		{ "CR CR LF CR LF ends it (the parser rejects it)",
		    S("GET / HTTP/1.1\r\r\n\r\n"), 19 },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		size_t scan = 0;
		int got = http_head_end(cases[i].raw, cases[i].len, &scan);

		is_int(got, cases[i].want, "http_head_end: %s", cases[i].what);
	}
}

/*
 * Feed a head one byte (or step bytes) at a time, keeping the scan
 * position, as a connection reading a slow client does: -2 until the
 * whole head is there, then the same answer as in one piece.
 */
static void
feed(const char *what, const char *raw, size_t len, size_t step)
{
	size_t scan = 0, have, last_scan = 0;
	int whole, got = -2, scan_ok = 1;

	{
		size_t s0 = 0;

		whole = http_head_end(raw, len, &s0);
	}
	for (have = 0; have < len && got == -2; ) {
		have = MIN(have + step, len);
		got = http_head_end(raw, have, &scan);
		if (got == -2 && (scan > have || scan < last_scan))
			scan_ok = 0;
		last_scan = scan;
	}
	is_int(got, whole, "fed %zu at a time: %s", step, what);
	ok(scan_ok, "fed %zu at a time: scan moves forward within the "
	    "data: %s", step, what);
	if (whole > 0)
		ok(have >= (size_t)whole && have < (size_t)whole + step,
		    "fed %zu at a time: answer as soon as the head is in: %s",
		    step, what);
}

static void
test_head_end_incremental(void)
{
	static const struct {
		const char *what, *raw;
		size_t len;
	} heads[] = {
		{ "plain head", S("GET /a HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n"
		    "body") },
		{ "leading CRLFs", S("\r\n\r\nGET / HTTP/1.1\r\n\r\n") },
		{ "bare LF", S("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n") },
		{ "CR in a value", S("GET / HTTP/1.1\r\nX: \r\r\n\r\n") },
	};
	size_t i, step;

	for (i = 0; i < nitems(heads); i++)
		for (step = 1; step <= 3; step++)
			feed(heads[i].what, heads[i].raw, heads[i].len, step);
}

static void
test_valid_request(void)
{
	static const char raw[] =
	    "GET /index.html?x=1&y=%20 HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "User-Agent: curl/8.5.0\r\n"
	    "Accept:*/*\r\n"
	    "X-Empty:\r\n"
	    "X-Trim: \t  a  b \t \r\n"
	    "X-Tab: a\tb\r\n"
	    "X-Obs: D\xc3\xbc" "sseldorf \xff\x80\r\n"
	    "\r\n";
	static const struct {
		const char *name, *value;
	} want[] = {
		{ "Host", "example.com" },
		{ "User-Agent", "curl/8.5.0" },
		{ "Accept", "*/*" },
		{ "X-Empty", "" },
		{ "X-Trim", "a  b" },
		{ "X-Tab", "a\tb" },
		{ "X-Obs", "D\xc3\xbcsseldorf \xff\x80" },
	};
	struct http_head h;
	size_t i, len = sizeof(raw) - 1;
	int rc;

	rc = http_parse_request(raw, len, &h);
	is_int(rc, (int)len, "valid GET: whole head consumed");
	is_mem(h.hh_method, h.hh_methodlen, "GET", "method");
	ok(h.hh_method == raw, "method points into the buffer");
	is_mem(h.hh_target, h.hh_targetlen, "/index.html?x=1&y=%20", "target");
	is_int(h.hh_version, 11, "HTTP/1.1");
	is_int(h.hh_status, 0, "no status when valid");
	ok(h.hh_reason == NULL, "no reason when valid");
	is_int(h.hh_nheaders, (int)nitems(want), "header count");
	for (i = 0; i < nitems(want) && (int)i < h.hh_nheaders; i++) {
		is_mem(h.hh_headers[i].h_name, h.hh_headers[i].h_namelen,
		    want[i].name, "header %zu name", i);
		is_mem(h.hh_headers[i].h_value, h.hh_headers[i].h_valuelen,
		    want[i].value, "header %zu value (%s)", i, want[i].name);
	}

	/* the same struct, reused after a rejection, reports afresh */
	rc = http_parse_request(S("GET / HTTP/7.0\r\n\r\n"), &h);
	ok(rc == -1 && h.hh_status == 505, "rejected first");
	rc = http_parse_request(S("\r\nHEAD / HTTP/1.0\r\n\r\n"), &h);
	ok(rc == 21 && h.hh_status == 0 && h.hh_reason == NULL &&
	    h.hh_nheaders == 0 && h.hh_version == 10,
	    "then accepted: status and reason cleared");

	ok(http_token_eq("Keep-Alive", 10, "keep-alive"), "token_eq ignores case");
	ok(!http_token_eq("keep-alive", 9, "keep-alive"), "token_eq length");
	ok(http_is_tchar('!') && http_is_tchar('~') && !http_is_tchar(':') &&
	    !http_is_tchar(' ') && !http_is_tchar('"') &&
	    !http_is_tchar(0x80) && !http_is_tchar(-1),
	    "http_is_tchar: RFC 9110 tchar");
}

#define OK(what, raw, v, m, t, n)	{ what, S(raw), 0, v, m, t, n }
#define BAD(what, raw, st)		{ what, S(raw), st, 0, NULL, NULL, 0 }

static const struct req_case own_cases[] = {
	OK("HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", 10, "GET", "/", 0),
	OK("HTTP/1.2 answered as 1.1", "GET / HTTP/1.2\r\n\r\n", 11, NULL,
	    NULL, 0),
	OK("HTTP/1.9 answered as 1.1", "GET / HTTP/1.9\r\n\r\n", 11, NULL,
	    NULL, 0),
	OK("any token method", "M-SEARCH * HTTP/1.1\r\n\r\n", 11, "M-SEARCH",
	    "*", 0),
	OK("leading CRLF", "\r\n\r\nPUT /x HTTP/1.1\r\nA: b\r\n\r\n", 11,
	    "PUT", "/x", 1),
	OK("visible ASCII target", "GET /!\"#$%&'()*+,;<=>?@[\\]^`{|}~ "
	    "HTTP/1.1\r\n\r\n", 11, NULL, "/!\"#$%&'()*+,;<=>?@[\\]^`{|}~", 0),
	OK("colon right after the name", "GET / HTTP/1.1\r\nA:b\r\n\r\n", 11,
	    NULL, NULL, 1),
	OK("only white space as a value", "GET / HTTP/1.1\r\nA: \t \r\n\r\n",
	    11, NULL, NULL, 1),
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505),
	BAD("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505),
	BAD("HTTP/9.1", "GET / HTTP/9.1\r\n\r\n", 505),
	BAD("minor version not a digit", "GET / HTTP/1.x\r\n\r\n", 400),
	BAD("two-digit major", "GET / HTTP/11.1\r\n\r\n", 400),
	BAD("no minor version", "GET / HTTP/1\r\n\r\n", 400),
	BAD("lower-case protocol", "GET / http/1.1\r\n\r\n", 400),
	BAD("other protocol", "GET / HTTX/1.1\r\n\r\n", 400),
	BAD("garbage after version", "GET / HTTP/1.1x\r\n\r\n", 400),
	BAD("space after version", "GET / HTTP/1.1 \r\n\r\n", 400),
	BAD("no version", "GET /\r\n\r\n", 400),
	BAD("no target", "GET HTTP/1.1\r\n\r\n", 400),
	BAD("invalid method char (", "GE(T / HTTP/1.1\r\n\r\n", 400),
	BAD("invalid method char @", "G@T / HTTP/1.1\r\n\r\n", 400),
	BAD("tab after method", "GET\t/ HTTP/1.1\r\n\r\n", 400),
	BAD("space before method", " GET / HTTP/1.1\r\n\r\n", 400),
	BAD("two spaces after method", "GET  / HTTP/1.1\r\n\r\n", 400),
	BAD("space in target", "GET /a b HTTP/1.1\r\n\r\n", 400),
	BAD("two spaces before version", "GET /  HTTP/1.1\r\n\r\n", 400),
	BAD("tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", 400),
	BAD("control char in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400),
	BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", 400),
	BAD("NUL in target", "GET /a\0b HTTP/1.1\r\n\r\n", 400),
	BAD("non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
	BAD("NUL in method", "G\0T / HTTP/1.1\r\n\r\n", 400),
	BAD("control char in value", "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
	    400),
	BAD("NUL in value", "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 400),
	BAD("DEL in value", "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", 400),
	BAD("ESC in value", "GET / HTTP/1.1\r\nA: \x1b[0m\r\n\r\n", 400),
	BAD("vertical tab in value", "GET / HTTP/1.1\r\nA: b\vc\r\n\r\n",
	    400),
	BAD("CR inside a value", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400),
	BAD("obs-fold with space",
	    "GET / HTTP/1.1\r\nA: b\r\n c\r\nD: e\r\n\r\n", 400),
	BAD("obs-fold with tab", "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400),
	BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
	BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400),
	BAD("empty header name", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400),
	BAD("no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
	BAD("name alone", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400),
	BAD("invalid name char", "GET / HTTP/1.1\r\nA/b: c\r\n\r\n", 400),
	BAD("NUL in name", "GET / HTTP/1.1\r\nA\0b: c\r\n\r\n", 400),
	BAD("non-ASCII in name", "GET / HTTP/1.1\r\n\xc3\xa9: c\r\n\r\n",
	    400),
};

static void
test_many_headers(void)
{
	char raw[8192];
	struct http_head h;
	int n, i, rc;

	for (n = 99; n <= 101; n++) {
		int len = snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\n");

		for (i = 0; i < n; i++)
			len += snprintf(raw + len, sizeof(raw) - len,
			    "X-%d: %d\r\n", i, i);
		len += snprintf(raw + len, sizeof(raw) - len, "\r\n");
		rc = http_parse_request(raw, len, &h);
		if (n <= HTTP_MAX_HEADERS)
			ok(rc == len && h.hh_nheaders == n &&
			    h.hh_headers[n - 1].h_valuelen == 2,
			    "%d headers accepted", n);
		else
			ok(rc == -1 && h.hh_status == 431 &&
			    h.hh_reason != NULL, "%d headers: 431", n);
	}
}

static void
test_truncated(void)
{
	struct http_head h;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t len;
	int rc, all_rejected = 1;

	/* every proper prefix of a head is invalid, never over-read */
	for (len = 0; len < sizeof(raw) - 1; len++) {
		char *copy = malloc(len + 1);

		memcpy(copy, raw, len);
		rc = http_parse_request(copy, len, &h);
		if (rc != -1 || h.hh_status != 400 || h.hh_reason == NULL)
			all_rejected = 0;
		free(copy);
	}
	ok(all_rejected, "every truncated head is a 400 with a reason");
}

/*
 * Derived from the llhttp request vectors (/work/shared/vectors/llhttp/
 * request/); the status is what a strict server answers.  Where llhttp
 * only takes an input when lenient, portico rejects it.
 */
static const struct req_case llhttp_cases[] = {
	OK("sample: curl GET", "GET /test HTTP/1.1\r\n"
	    "User-Agent: curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 "
	    "OpenSSL/0.9.8g zlib/1.2.3.3 libidn/1.1\r\nHost: 0.0.0.0=5000\r\n"
	    "Accept: */*\r\n\r\n", 11, "GET", "/test", 3),
	OK("sample: prefix newline", "\r\nGET /test HTTP/1.1\r\n\r\n", 11,
	    "GET", "/test", 0),
	OK("uri: quotes", "GET /with_\"lovely\"_quotes?foo=\\\"bar\\\" "
	    "HTTP/1.1\r\n\r\n", 11, NULL,
	    "/with_\"lovely\"_quotes?foo=\\\"bar\\\"", 0),
	OK("uri: vertical bar", "GET /test.cgi?query=| HTTP/1.1\r\n\r\n", 11,
	    NULL, "/test.cgi?query=|", 0),
	OK("uri: basic auth", "GET http://a%12:b!&*$@hypnotoad.org:1234/toto"
	    " HTTP/1.1\r\n\r\n", 11, NULL,
	    "http://a%12:b!&*$@hypnotoad.org:1234/toto", 0),
	OK("uri: underscore in host, CONNECT, 1.0",
	    "CONNECT home_0.netscape.com:443 HTTP/1.0\r\n"
	    "User-agent: Mozilla/1.1N\r\n"
	    "Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\n", 10,
	    "CONNECT", "home_0.netscape.com:443", 2),
	OK("sample: extended characters", "GET / HTTP/1.1\r\n"
	    "Test: D\xc3\xbcsseldorf\r\n\r\n", 11, NULL, NULL, 1),
	OK("sample: 255 in header value", "OPTIONS /url HTTP/1.1\r\n"
	    "Header1: Value1\r\nHeader2: \xffValue2\r\n\r\n", 11, "OPTIONS",
	    "/url", 2),
	OK("method: PRI head ends at the first empty line",
	    "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 11, "PRI", "*", 0),
	BAD("uri: UTF-8 in path", "GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1"
	    "#narf HTTP/1.1\r\nHost: github.com\r\n\r\n", 400),
	BAD("uri: space", "GET /foo bar/ HTTP/1.1\r\n\r\n", 400),
	BAD("sample: no HTTP version", "GET /\r\n\r\n", 400),
	BAD("invalid: HTTP/5.6", "GET / HTTP/5.6\r\n\r\n", 505),
	BAD("invalid: ICE protocol", "GET /music/sweet/music ICE/1.0\r\n"
	    "Host: example.com\r\n\r\n", 400),
	BAD("invalid: RTSP protocol", "PUT /music/sweet/music RTSP/1.0\r\n"
	    "Host: example.com\r\n\r\n", 400),
	BAD("invalid: headers separated by CR",
	    "GET / HTTP/1.1\r\nFoo: 1\rBar: 2\r\n\r\n", 400),
	BAD("invalid: headers separated by dummy characters",
	    "GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n"
	    "\rZGET /evil: HTTP/1.1\r\nHost: a\r\n\r\n", 400),
	BAD("invalid: header token @", "GET / HTTP/1.1\r\nFo@: Failure\r\n\r\n",
	    400),
	BAD("invalid: empty header name", "GET / HTTP/1.1\r\n: Bar\r\n\r\n",
	    400),
	BAD("invalid: field name line folding",
	    "GET / HTTP/1.1\r\nname\r\n : value\r\n\r\n", 400),
	BAD("invalid: space after start line",
	    "GET / HTTP/1.1\r\n Host: foo\r\n\r\n", 400),
	BAD("invalid: spaces before headers", "POST /hello HTTP/1.1\r\n"
	    "Host: localhost\r\nFoo: bar\r\n Content-Length: 38\r\n\r\n", 400),
	BAD("sample: line folding (lenient only)", "GET / HTTP/1.1\r\n"
	    "Line1:   abc\r\n\tdef\r\n ghi\r\n\r\n", 400),
	BAD("relaxed: control char in value (strict)",
	    "GET /url HTTP/1.1\r\nHeader1: hello\fworld\r\n\r\n", 400),
	BAD("sample: no LF after CR", "GET / HTTP/1.1\rLine: 1\r\n\r\n", 400),
	{ "invalid: headers separated by LF", S("POST / HTTP/1.1\r\n"
	    "Host: localhost:5000\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n"),
	    BARE_LF, 0, NULL, NULL, 0 },
	{ "invalid: only LFs", S("POST / HTTP/1.1\nTransfer-Encoding: "
	    "chunked\nTrailer: Baz\r\nFoo: abc\n\n"), BARE_LF, 0, NULL, NULL,
	    0 },
};

/* http_normalize_path: nginx's $uri from the request path */
static void
test_normalize(void)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "/", "/" },
		{ "/a/b", "/a/b" },
		{ "/a//b///c", "/a/b/c" },
		{ "/a/./b/.", "/a/b/" },
		{ "/a/b/../c", "/a/c" },
		{ "/a/b/..", "/a/" },
		{ "/a/..", "/" },
		{ "/a%20b", "/a b" },
		{ "/%41%62", "/Ab" },
		{ "/a%2fb", "/a/b" },
		{ "/a%2F..%2Fb", "/b" },
		{ "/a/%2e%2e/b", "/b" },
		{ "/a/..%2f/b", "/b" },
		{ "/a/b/", "/a/b/" },
		{ "/.../x", "/.../x" },
		{ "/..a/x", "/..a/x" },
		{ "/%25", "/%" },
	};
	static const char *const bad[] = {
		"/..", "/../x", "/a/../..", "/%2e%2e/", "/a%2F..%2F..%2Fb",
		"/%", "/%4", "/%zz", "/%00", "/a%00b", "x/a", "",
	};
	char out[256];
	size_t i, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = http_normalize_path(good[i].in, strlen(good[i].in),
		    out, &n);

		ok(rc == 0 && n == strlen(out), "normalize %s accepted",
		    good[i].in);
		is_str(rc == 0 ? out : "(rejected)", good[i].out,
		    "normalize %s", good[i].in);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(http_normalize_path(bad[i], strlen(bad[i]), out, &n) == -1,
		    "normalize rejects \"%s\"", bad[i]);
}

/* run a chunked body whole, or n bytes at a time; the data out and
 * the verdict must not depend on how the bytes arrive */
static int
chunked_run(const char *in, size_t len, size_t step, char *out, size_t *olen,
    size_t *consumed)
{
	struct http_chunked c;
	const char *data;
	size_t off = 0, dlen, part;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	*olen = 0;
	while (off < len && !http_chunked_done(&c)) {
		part = step == 0 || len - off < step ? len - off : step;
		n = http_chunked_step(&c, in + off, part, &data, &dlen);
		if (n == -1)
			return -1;
		if (dlen > 0)
			memcpy(out + *olen, data, dlen);
		*olen += dlen;
		off += n;
	}
	*consumed = off;
	return http_chunked_done(&c) ? 1 : 0;
}

static void
test_chunked(void)
{
	static const struct {
		const char *in, *data;
		size_t rest;	/* bytes after the body, left unconsumed */
	} good[] = {
		{ "0\r\n\r\n", "", 0 },
		{ "5\r\nhello\r\n0\r\n\r\n", "hello", 0 },
		{ "5;a=b\r\nhello\r\n0\r\n\r\n", "hello", 0 },
		{ "5;a=\"q x\";b\r\nhello\r\n0\r\n\r\n", "hello", 0 },
		{ "5;a=\"q\\\"x\"\r\nhello\r\n0\r\n\r\n", "hello", 0 },
		{ "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0 },
		{ "a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", "0123456789x", 0 },
		{ "000002\r\nhi\r\n0\r\n\r\n", "hi", 0 },
		{ "3\r\nabc\r\n0\r\nT: v\r\nU: w\r\n\r\n", "abc", 0 },
		{ "1\r\na\r\n0\r\n\r\nGET /", "a", 5 },
	};
	static const char *const bad[] = {
		"x\r\n", "\r\n", "-1\r\n", "+1\r\n", " 1\r\n", "1x\r\n",
		"5\nhello\r\n", "5\r\nhello\n0\r\n\r\n",
		"5\r\nhelloX\r\n", "1000000000000000\r\n",
		"5;\x01\r\n", "5;a\nb\r\n", "0\r\nBad Name: v\r\n\r\n",
		"0\r\nT: v\n\r\n", "0\r\n\n", "0\r\nT: \x7f\r\n\r\n",
		"5 ; a=b\r\n", "5 \r\n", "5;\r\n", "5;=x\r\n", "5;a@b\r\n",
		"5;a=\"unbalanced\r\n", "5;a=b c\r\n", "5;a=\r\n",
	};
	char out[256];
	size_t i, olen, used, step;
	int rc;

	for (i = 0; i < nitems(good); i++) {
		size_t len = strlen(good[i].in);

		for (step = 0; step <= 3; step++) {
			rc = chunked_run(good[i].in, len, step, out, &olen,
			    &used);
			out[olen] = '\0';
			ok(rc == 1 && strcmp(out, good[i].data) == 0 &&
			    used == len - good[i].rest,
			    "chunked good #%zu by %zu: data and end", i, step);
		}
	}
	for (i = 0; i < nitems(bad); i++)
		for (step = 0; step <= 1; step++)
			ok(chunked_run(bad[i], strlen(bad[i]), step, out, &olen,
			    &used) == -1, "chunked bad #%zu by %zu rejected", i,
			    step);
	{
		/* trailers are bounded */
		static char big[HTTP_MAX_TRAILER + 64];

		memcpy(big, "0\r\nT: ", 7);
		memset(big + 7, 'a', sizeof(big) - 7);
		ok(chunked_run(big, sizeof(big), 0, out, &olen, &used) == -1,
		    "oversize trailers rejected");
	}
}

/* an upstream's response head */
static void
test_response(void)
{
	static const struct {
		const char	*in;
		int		 code;		/* 0: invalid */
		const char	*phrase;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nA: b\r\n\r\n", 200, "OK" },
		{ "HTTP/1.0 404 Not Found\r\n\r\n", 404, "Not Found" },
		{ "HTTP/1.1 204\r\n\r\n", 204, "" },
		{ "HTTP/1.1 204 \r\n\r\n", 204, "" },
		{ "HTTP/1.1 599 any \t text\r\n\r\n", 599, "any \t text" },
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
		    101, "Switching Protocols" },
		{ "HTTP/2.0 200 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 20 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 2000 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 099 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 200OK\r\n\r\n", 0, NULL },
		{ "http/1.1 200 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 200 O\x01K\r\n\r\n", 0, NULL },
		{ "ICY 200 OK\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", 0, NULL },
		{ "HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", 0, NULL },
	};
	struct http_head h;
	size_t i, len;
	int rc;

	for (i = 0; i < nitems(cases); i++) {
		len = strlen(cases[i].in);
		rc = http_parse_response(cases[i].in, len, &h);
		if (cases[i].code == 0) {
			ok(rc == -1 && h.hh_status == 502 && h.hh_reason != NULL,
			    "response %zu is refused with 502", i);
			continue;
		}
		ok(rc == (int)len, "response %zu parses whole", i);
		is_int(h.hh_code, cases[i].code, "response %zu code", i);
		ok(h.hh_phraselen == strlen(cases[i].phrase) &&
		    memcmp(h.hh_phrase, cases[i].phrase, h.hh_phraselen) == 0,
		    "response %zu reason phrase", i);
	}
	len = strlen("HTTP/1.1 200 OK\r\nX: 1\r\nY:2 \r\n\r\n");
	rc = http_parse_response("HTTP/1.1 200 OK\r\nX: 1\r\nY:2 \r\n\r\n",
	    len, &h);
	is_int(rc, (int)len, "two fields");
	is_int(h.hh_nheaders, 2, "two fields counted");
	ok(h.hh_headers[1].h_valuelen == 1 && h.hh_headers[1].h_value[0] == '2',
	    "trailing whitespace is not part of a value");
	is_int(h.hh_version, 11, "version 1.1");
}

int
main(void)
{
	test_response();
	test_head_end();
	test_head_end_incremental();
	test_valid_request();
	check_requests(own_cases, nitems(own_cases));
	test_many_headers();
	test_truncated();
	check_requests(llhttp_cases, nitems(llhttp_cases));
	test_normalize();
	test_chunked();
	return tap_done();
}

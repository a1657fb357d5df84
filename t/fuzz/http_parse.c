/*
 * Fuzz target: the request head parser.  The whole input is searched for
 * the end of a head, once in one piece and once a byte at a time (the
 * answers must agree), and a complete head is parsed; every pointer the
 * parser returns must lie inside the input.
 */
#include "../../common/http_parse.c"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const char *buf, size_t len, const char *p, size_t plen)
{
	assert(p >= buf && p + plen <= buf + len);
}

/* a normalized path starts with '/' and has no "//", "/./", "/../" */
static void
check_normalize(const char *p, size_t len)
{
	char out[65536 + 1];
	size_t n, i;

	if (http_normalize_path(p, len, out, &n) == -1)
		return;
	assert(n >= 1 && n <= len && out[0] == '/' && out[n] == '\0');
	for (i = 0; i + 1 < n; i++) {
		assert(!(out[i] == '/' && out[i + 1] == '/'));
		if (out[i] == '/' && out[i + 1] == '.')
			assert(!(i + 2 == n || out[i + 2] == '/' ||
			    (out[i + 2] == '.' && (i + 3 == n ||
			    out[i + 3] == '/'))));
	}
}

/* the chunked decoder gives the same verdict and data whole and bytewise */
static int
chunked_all(const char *p, size_t len, size_t step, uint64_t *sum,
    size_t *total)
{
	struct http_chunked c;
	const char *d;
	size_t off = 0, dl, i;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	*sum = 0;
	*total = 0;
	while (off < len && !http_chunked_done(&c)) {
		n = http_chunked_step(&c, p + off, step ? MIN(step, len - off) :
		    len - off, &d, &dl);
		if (n == -1)
			return -1;
		assert((size_t)n <= len - off);
		if (dl > 0)
			assert(d >= p + off && d + dl <= p + off + n);
		for (i = 0; i < dl; i++)
			*sum = *sum * 31 + (unsigned char)d[i];
		*total += dl;
		off += n;
	}
	return http_chunked_done(&c);
}

static void
check_chunked(const char *p, size_t len)
{
	uint64_t s1, s2;
	size_t t1, t2;
	int r1 = chunked_all(p, len, 0, &s1, &t1);
	int r2 = chunked_all(p, len, 1, &s2, &t2);

	assert(r1 == r2);
	if (r1 != -1)
		assert(s1 == s2 && t1 == t2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_head h;
	const char *buf;
	char *copy;
	size_t scan = 0, scan2 = 0, i;
	int end, end2 = -2, n, j;

	if (size > 65536)
		return 0;
	/* a copy of exactly size bytes, so ASan sees any over-read */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	buf = copy;
	end = http_head_end(buf, size, &scan);
	for (i = 1; i <= size && end2 == -2; i++)
		end2 = http_head_end(buf, i, &scan2);
	assert(end == end2);
	if (end > 0) {
		n = http_parse_request(buf, end, &h);
		if (n > 0) {
			assert(n == end);
			inside(buf, end, h.hh_method, h.hh_methodlen);
			inside(buf, end, h.hh_target, h.hh_targetlen);
			assert(h.hh_version == 10 || h.hh_version == 11);
			check_normalize(h.hh_target, h.hh_targetlen);
			for (j = 0; j < h.hh_nheaders; j++) {
				inside(buf, end, h.hh_headers[j].h_name,
				    h.hh_headers[j].h_namelen);
				inside(buf, end, h.hh_headers[j].h_value,
				    h.hh_headers[j].h_valuelen);
			}
		} else {
			assert(n == -1);
			assert(h.hh_status >= 400 && h.hh_reason != NULL);
		}
	}
	/* the same head as an upstream's response */
	if (end > 0) {
		n = http_parse_response(buf, end, &h);
		if (n > 0) {
			assert(n == end);
			assert(h.hh_code >= 100 && h.hh_code <= 999);
			inside(buf, end, h.hh_phrase, h.hh_phraselen);
			for (j = 0; j < h.hh_nheaders; j++) {
				inside(buf, end, h.hh_headers[j].h_name,
				    h.hh_headers[j].h_namelen);
				inside(buf, end, h.hh_headers[j].h_value,
				    h.hh_headers[j].h_valuelen);
			}
		} else {
			assert(n == -1);
			assert(h.hh_status == 502 && h.hh_reason != NULL);
		}
	}
	/* the body after a head, as a chunked body; and the whole input */
	if (end > 0)
		check_chunked(buf + end, size - end);
	check_chunked(buf, size);
	free(copy);
	return 0;
}

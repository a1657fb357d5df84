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
	free(copy);
	return 0;
}

/*
 * regex.c: PCRE2 with JIT.  Patterns belong to a generation (freed with
 * it); children inherit the compiled code through fork().
 */
#include "core.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "regex.h"

static pcre2_match_data *md;

struct regex *
regex_compile(struct arena *a, struct regex **list, const char *src,
    int caseless, char *err, size_t errlen)
{
	struct regex *re;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *code;
	uint32_t n;
	int ec;

	code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    caseless ? PCRE2_CASELESS : 0, &ec, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "pcre2_compile() failed: %s in \"%s\" "
		    "at \"%s\"", (char *)msg, src, src + off);
		return NULL;
	}
	/* without JIT (no support on this CPU) the interpreter matches */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
	re = arena_alloc(a, sizeof(*re));
	re->re_code = code;
	re->re_src = arena_strdup(a, src);
	re->re_caseless = caseless;
	re->re_ncaptures = n;
	re->re_next = *list;
	*list = re;
	return re;
}

void
regex_free_all(struct regex *list)
{
	for (; list != NULL; list = list->re_next)
		pcre2_code_free(list->re_code);
}

/* 1 and captures filled, 0 no match, -1 error (a match limit) */
int
regex_match(const struct regex *re, const char *s, size_t len,
    struct regex_captures *cap)
{
	PCRE2_SIZE *ov;
	int rc, i;

	if (md == NULL &&
	    (md = pcre2_match_data_create(REGEX_MAX_CAPTURES, NULL)) == NULL)
		return -1;
	rc = pcre2_match(re->re_code, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	if (cap == NULL)
		return 1;
	/* rc 0: more groups than the match data holds; keep what fits */
	if (rc == 0)
		rc = REGEX_MAX_CAPTURES;
	ov = pcre2_get_ovector_pointer(md);
	cap->rc_re = re;
	cap->rc_subject = s;
	cap->rc_n = rc;
	for (i = 0; i < 2 * rc; i++)
		cap->rc_ovec[i] = ov[i];
	return 1;
}

/* group n of the last match: 1, or 0 when it did not take part */
int
regex_capture(const struct regex_captures *cap, int n, const char **p,
    size_t *len)
{
	if (cap == NULL || cap->rc_re == NULL || n >= cap->rc_n ||
	    cap->rc_ovec[2 * n] == PCRE2_UNSET)
		return 0;
	*p = cap->rc_subject + cap->rc_ovec[2 * n];
	*len = cap->rc_ovec[2 * n + 1] - cap->rc_ovec[2 * n];
	return 1;
}

int
regex_named(const struct regex_captures *cap, const char *name,
    const char **p, size_t *len)
{
	int n;

	if (cap == NULL || cap->rc_re == NULL)
		return 0;
	n = pcre2_substring_number_from_name(cap->rc_re->re_code,
	    (PCRE2_SPTR)name);
	if (n < 0)
		return 0;
	return regex_capture(cap, n, p, len);
}

int
regex_names(const struct regex *re, const char **names, int max)
{
	uint32_t count, size, i;
	PCRE2_SPTR table;
	int n = 0;

	pcre2_pattern_info(re->re_code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(re->re_code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re->re_code, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count && n < max; i++)
		names[n++] = (const char *)(table + i * size + 2);
	return n;
}

/*
 * http_cond.c: HTTP dates, entity tags and byte ranges, read the way
 * nginx reads them so that caches and clients see the same answers.
 */
#include "core.h"

#include <strings.h>

#include "http_cond.h"

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

/* days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

struct scan {
	const char	*p;
	const char	*end;
};

static int
digits(struct scan *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s->p == s->end || *s->p < '0' || *s->p > '9')
			return -1;
		v = v * 10 + (*s->p++ - '0');
	}
	*out = v;
	return 0;
}

static int
lit(struct scan *s, char ch)
{
	if (s->p == s->end || *s->p != ch)
		return -1;
	s->p++;
	return 0;
}

static int
month(struct scan *s, int *out)
{
	int i;

	if (s->end - s->p < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (strncmp(s->p, months[i], 3) == 0) {
			s->p += 3;
			*out = i + 1;
			return 0;
		}
	return -1;
}

/* "hh:mm:ss" */
static int
clock_part(struct scan *s, int *h, int *mi, int *sec)
{
	if (digits(s, 2, h) == -1 || lit(s, ':') == -1 ||
	    digits(s, 2, mi) == -1 || lit(s, ':') == -1 ||
	    digits(s, 2, sec) == -1)
		return -1;
	return 0;
}

time_t
http_cond_parse_date(const char *str, size_t len)
{
	static const int mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	struct scan s = { str, str + len };
	int day, mon, year, h, mi, sec, y2;

	/* the weekday name is skipped, as nginx does */
	while (s.p < s.end && *s.p != ',' && *s.p != ' ')
		s.p++;
	if (s.p == s.end)
		return -1;
	if (*s.p == ',') {
		s.p++;
		if (lit(&s, ' ') == -1 || digits(&s, 2, &day) == -1)
			return -1;
		if (s.p < s.end && *s.p == ' ') {
			/* RFC 1123: "06 Nov 1994 08:49:37 GMT" */
			s.p++;
			if (month(&s, &mon) == -1 || lit(&s, ' ') == -1 ||
			    digits(&s, 4, &year) == -1)
				return -1;
		} else {
			/* RFC 850: "06-Nov-94 08:49:37 GMT" */
			if (lit(&s, '-') == -1 || month(&s, &mon) == -1 ||
			    lit(&s, '-') == -1 || digits(&s, 2, &y2) == -1)
				return -1;
			year = y2 + (y2 < 70 ? 2000 : 1900);
		}
		if (lit(&s, ' ') == -1 || clock_part(&s, &h, &mi, &sec) == -1)
			return -1;
		if (s.end - s.p != 4 || memcmp(s.p, " GMT", 4) != 0)
			return -1;
	} else {
		/* asctime: "Nov  6 08:49:37 1994" */
		s.p++;
		if (month(&s, &mon) == -1 || lit(&s, ' ') == -1)
			return -1;
		if (s.p < s.end && *s.p == ' ') {
			s.p++;
			if (digits(&s, 1, &day) == -1)
				return -1;
		} else if (digits(&s, 2, &day) == -1)
			return -1;
		if (lit(&s, ' ') == -1 || clock_part(&s, &h, &mi, &sec) == -1 ||
		    lit(&s, ' ') == -1 || digits(&s, 4, &year) == -1 ||
		    s.p != s.end)
			return -1;
	}
	if (h > 23 || mi > 59 || sec > 59 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !is_leap(year)) || year < 1970)
		return -1;
	return (time_t)(days_from_civil(year, mon, day) * 86400 + h * 3600 +
	    mi * 60 + sec);
}

size_t
http_cond_format_date(time_t t, char *out, size_t len)
{
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	n = snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

size_t
http_cond_etag(time_t mtime, int64_t size, char *out, size_t len)
{
	int n = snprintf(out, len, "\"%llx-%llx\"", (unsigned long long)mtime,
	    (unsigned long long)size);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static int
is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

int
http_cond_etag_match(const char *list, size_t len, const char *etag,
    int weak)
{
	const char *p = list, *end = list + len;
	size_t el = strlen(etag);

	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	if (end - p == 1 && *p == '*')
		return 1;
	while (p < end) {
		const char *tag = p, *e;

		/* one member: up to the next comma */
		while (p < end && *p != ',')
			p++;
		e = p;
		while (e > tag && is_ows(e[-1]))
			e--;
		if (weak && e - tag > 2 && tag[0] == 'W' && tag[1] == '/')
			tag += 2;
		if ((size_t)(e - tag) == el && memcmp(tag, etag, el) == 0)
			return 1;
		while (p < end && (*p == ',' || is_ows(*p)))
			p++;
	}
	return 0;
}

/* a decimal number without overflow; -1 when there is no digit */
static int
range_num(const char **pp, const char *end, int64_t *out)
{
	const char *p = *pp;
	int64_t v = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

int
http_cond_parse_ranges(const char *v, size_t len, int64_t size,
    struct http_range *out, int max, int *nout)
{
	const char *p = v + 6, *end = v + len;
	int64_t start, last, total = 0;
	int n = 0, suffix;

	if (len < 7 || strncasecmp(v, "bytes=", 6) != 0)
		return 200;
	for (;;) {
		start = last = 0;
		suffix = 0;
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == '-') {
			suffix = 1;
			p++;
		} else {
			if (range_num(&p, end, &start) == -1)
				return 416;
			while (p < end && *p == ' ')
				p++;
			if (p == end || *p++ != '-')
				return 416;
			while (p < end && *p == ' ')
				p++;
			if (p == end || *p == ',') {
				last = size;
				goto found;
			}
		}
		if (range_num(&p, end, &last) == -1)
			return 416;
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p != ',')
			return 416;
		if (suffix) {
			start = last < size ? size - last : 0;
			last = size - 1;
		}
		/* from here on last is one past the range */
		last = last >= size ? size : last + 1;
found:
		if (start < last) {
			if (total > INT64_MAX - (last - start))
				return 416;
			total += last - start;
			/* more than the caller takes: the whole body */
			if (n == max)
				return 200;
			out[n].hr_start = start;
			out[n++].hr_end = last;
		} else if (start == 0)
			return 200;	/* "0-" of an empty body, as nginx */
		if (p == end)
			break;
		p++;		/* the comma */
	}
	if (n == 0)
		return 416;
	/* as nginx: ranges that overlap beyond the size get the whole body */
	if (total > size)
		return 200;
	*nout = n;
	return 206;
}

int
http_cond_parse_range(const char *v, size_t len, int64_t size,
    int64_t *start, int64_t *end)
{
	struct http_range r;
	int n, rc;

	if ((rc = http_cond_parse_ranges(v, len, size, &r, 1, &n)) == 206) {
		*start = r.hr_start;
		*end = r.hr_end;
	}
	return rc;
}

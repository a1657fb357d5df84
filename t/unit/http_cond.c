/* unit tests for worker/http_cond.c: HTTP dates, entity tags, ranges */
#include "../../worker/http_cond.c"
#include "tap.h"

static int
range(const char *v, int64_t size, int64_t *s, int64_t *e)
{
	*s = *e = -1;
	return http_cond_parse_range(v, strlen(v), size, s, e);
}

#define DATE(s)	http_cond_parse_date(s, strlen(s))

int
main(void)
{
	char buf[64];
	int64_t s, e;

	/* RFC 9110's example, in its three forms: 784111777 */
	is_int(DATE("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777, "IMF-fixdate");
	is_int(DATE("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777, "RFC 850");
	is_int(DATE("Sun Nov  6 08:49:37 1994"), 784111777, "asctime");
	is_int(DATE("Thu, 01 Jan 1970 00:00:00 GMT"), 0, "the epoch");
	is_int(DATE("Tue, 29 Feb 2028 12:00:00 GMT"), 1835438400, "a leap day");
	is_int(DATE("Thu, 31 Dec 2037 23:55:55 GMT"), 2145916555, "expires max");
	is_int(DATE("Mon, 29 Feb 2027 12:00:00 GMT"), -1, "29 Feb of a common year");
	is_int(DATE("Sun, 31 Nov 1994 08:49:37 GMT"), -1, "31 November");
	is_int(DATE("Sun, 06 Nov 1994 24:00:00 GMT"), -1, "hour 24");
	is_int(DATE("Sun, 06 Nov 1994 08:60:00 GMT"), -1, "minute 60");
	is_int(DATE("Sun, 06 Foo 1994 08:49:37 GMT"), -1, "unknown month");
	is_int(DATE("Sun, 06 Nov 1994 08:49:37"), -1, "no GMT");
	is_int(DATE("Sun, 06 Nov 1994 08:49:37 GMT "), -1, "trailing space");
	is_int(DATE("Sun, 6 Nov 1994 08:49:37 GMT"), -1, "one-digit day");
	is_int(DATE(""), -1, "empty");
	is_int(DATE("784111777"), -1, "a number");
	is_int(http_cond_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 20), -1,
	    "cut short: the length is respected");

	http_cond_format_date(784111777, buf, sizeof(buf));
	is_str(buf, "Sun, 06 Nov 1994 08:49:37 GMT", "format");
	is_int(DATE(buf), 784111777, "format and parse agree");

	http_cond_etag(0x6b0f3a0f, 6, buf, sizeof(buf));
	is_str(buf, "\"6b0f3a0f-6\"", "etag as nginx: mtime-size in hex");
	http_cond_etag(1, 0x1234567890LL, buf, sizeof(buf));
	is_str(buf, "\"1-1234567890\"", "etag of a large file");

	ok(http_cond_etag_match("\"a-1\"", 5, "\"a-1\"", 0), "etag: same");
	ok(!http_cond_etag_match("\"a-2\"", 5, "\"a-1\"", 0), "etag: other");
	ok(http_cond_etag_match("*", 1, "\"a-1\"", 0), "etag: *");
	ok(http_cond_etag_match(" \"x\" ,\t\"a-1\" ", 13, "\"a-1\"", 1),
	    "etag: in a list with spaces");
	ok(http_cond_etag_match("W/\"a-1\"", 7, "\"a-1\"", 1),
	    "etag: weak comparison for If-None-Match");
	ok(!http_cond_etag_match("W/\"a-1\"", 7, "\"a-1\"", 0),
	    "etag: strong comparison for If-Match");
	ok(!http_cond_etag_match("\"a-1\"x", 6, "\"a-1\"", 1),
	    "etag: a longer tag does not match");
	ok(!http_cond_etag_match("\"a-", 3, "\"a-1\"", 1),
	    "etag: a prefix does not match");
	ok(!http_cond_etag_match("", 0, "\"a-1\"", 1), "etag: empty");
	ok(!http_cond_etag_match("\"a-1\"", 5, "", 1),
	    "etag: none (etag off) matches nothing");

	is_int(range("bytes=0-4", 10, &s, &e), 206, "range 0-4");
	ok(s == 0 && e == 5, "  is [0, 5)");
	is_int(range("bytes=2-", 10, &s, &e), 206, "range 2-");
	ok(s == 2 && e == 10, "  is [2, 10)");
	is_int(range("bytes=-3", 10, &s, &e), 206, "suffix -3");
	ok(s == 7 && e == 10, "  is [7, 10)");
	is_int(range("bytes=-30", 10, &s, &e), 206, "suffix longer than the body");
	ok(s == 0 && e == 10, "  is the whole body");
	is_int(range("bytes=5-100", 10, &s, &e), 206, "end past the size");
	ok(s == 5 && e == 10, "  is cut at the size");
	is_int(range("BYTES= 1 - 2 ", 10, &s, &e), 206, "unit case, spaces");
	ok(s == 1 && e == 3, "  is [1, 3)");
	is_int(range("bytes=10-", 10, &s, &e), 416, "start at the size: 416");
	is_int(range("bytes=-0", 10, &s, &e), 416, "suffix 0: 416");
	is_int(range("bytes=x", 10, &s, &e), 416, "garbage: 416");
	is_int(range("bytes=1-2x", 10, &s, &e), 416, "garbage after: 416");
	is_int(range("bytes=5-1", 10, &s, &e), 416, "start after end: 416");
	is_int(range("bytes=99999999999999999999-", 10, &s, &e), 416,
	    "overflow: 416");
	is_int(range("items=0-1", 10, &s, &e), 200, "another unit: ignored");
	is_int(range("bytes=", 10, &s, &e), 200, "bytes= alone: ignored");
	is_int(range("bytes=0-1,3-4", 10, &s, &e), 200,
	    "two ranges: the whole body");
	is_int(range("bytes=0-1,30-40", 10, &s, &e), 206,
	    "two ranges, one satisfiable: that one");
	ok(s == 0 && e == 2, "  is [0, 2)");
	is_int(range("bytes=30-40,0-1", 10, &s, &e), 206,
	    "the satisfiable one second");
	ok(s == 0 && e == 2, "  is [0, 2)");
	is_int(range("bytes=0-", 0, &s, &e), 200, "0- of an empty body: 200");
	is_int(range("bytes=0-0", 1, &s, &e), 206, "one byte");
	ok(s == 0 && e == 1, "  is [0, 1)");
	is_int(range("bytes=0-9,0-9", 10, &s, &e), 200,
	    "overlapping beyond the size: ignored");
	is_int(http_cond_parse_range("bytes=0-4", 8, 10, &s, &e), 206,
	    "the length is respected");
	ok(s == 0 && e == 10, "  \"bytes=0-\" is [0, 10)");
	is_int(range("bytes=0-1073741823", 53687091200LL, &s, &e), 206,
	    "a range of a 50 GB file");
	ok(s == 0 && e == 1073741824, "  is 1 GB");
	{
		struct http_range rg[4];
		int n = 0;

		is_int(http_cond_parse_ranges("bytes=0-1, 5-6,-1", 17, 10, rg, 4,
		    &n), 206, "several ranges");
		ok(n == 3 && rg[0].hr_start == 0 && rg[0].hr_end == 2 &&
		    rg[1].hr_start == 5 && rg[1].hr_end == 7 &&
		    rg[2].hr_start == 9 && rg[2].hr_end == 10,
		    "  in order, as sent");
		is_int(http_cond_parse_ranges("bytes=0-0,1-1,2-2,3-3,4-4", 25, 10,
		    rg, 4, &n), 200, "more ranges than the caller takes: 200");
		is_int(http_cond_parse_ranges("bytes=0-0,1-1,2-2,3-3", 21, 10, rg,
		    4, &n), 206, "as many as it takes");
		is_int(n, 4, "  all four");
		is_int(http_cond_parse_ranges("bytes=50-,0-0,60-", 17, 10, rg, 4,
		    &n), 206, "unsatisfiable ones are left out");
		ok(n == 1 && rg[0].hr_start == 0 && rg[0].hr_end == 1, "  one left");
		is_int(http_cond_parse_ranges("bytes=0-5,3-9", 13, 10, rg, 4, &n),
		    200, "overlapping beyond the size: 200");
		is_int(http_cond_parse_ranges("bytes=0-1,x", 11, 10, rg, 4, &n),
		    416, "garbage after a good one: 416");
	}
	return tap_done();
}

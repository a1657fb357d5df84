/* unit tests for common/str.c: nginx's size and time syntax */
#include "../../common/str.c"
#include "tap.h"

int
main(void)
{
	long long v;
	msec_t t;

	ok(str_parse_size("1024", &v) == 0 && v == 1024, "plain bytes");
	ok(str_parse_size("8k", &v) == 0 && v == 8192, "k");
	ok(str_parse_size("8K", &v) == 0 && v == 8192, "K");
	ok(str_parse_size("2m", &v) == 0 && v == 2 * 1024 * 1024, "m");
	ok(str_parse_size("1g", &v) == 0 && v == 1024LL * 1024 * 1024, "g");
	ok(str_parse_size("", &v) == -1, "empty size rejected");
	ok(str_parse_size("k", &v) == -1, "unit alone rejected");
	ok(str_parse_size("-1", &v) == -1, "negative rejected");
	ok(str_parse_size("1x", &v) == -1, "unknown unit rejected");
	ok(str_parse_size("99999999999999999999", &v) == -1,
	    "overflow rejected");

	ok(str_parse_time("30", &t) == 0 && t == 30000, "seconds by default");
	ok(str_parse_time("500ms", &t) == 0 && t == 500, "ms");
	ok(str_parse_time("1h30m", &t) == 0 && t == 5400000, "1h30m");
	ok(str_parse_time("1d", &t) == 0 && t == 86400000, "d");
	ok(str_parse_time("1w", &t) == 0 && t == 7LL * 86400000, "w");
	ok(str_parse_time("1M", &t) == 0 && t == 30LL * 86400000, "M");
	ok(str_parse_time("1y", &t) == 0 && t == 365LL * 86400000, "y");
	ok(str_parse_time("1m1s", &t) == 0 && t == 61000, "m then s");
	ok(str_parse_time("1s1m", &t) == -1, "units out of order rejected");
	ok(str_parse_time("1s1s", &t) == -1, "unit twice rejected");
	ok(str_parse_time("s", &t) == -1, "unit alone rejected");
	ok(str_parse_time("", &t) == -1, "empty time rejected");
	ok(str_parse_time("10q", &t) == -1, "unknown unit rejected");

	ok(str_parse_int("65535", 65535, &v) == 0 && v == 65535, "int max");
	ok(str_parse_int("65536", 65535, &v) == -1, "int over max");
	ok(str_parse_int("+1", 100, &v) == -1, "sign rejected");
	ok(str_parse_int(" 1", 100, &v) == -1, "space rejected");
	return tap_done();
}

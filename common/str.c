/*
 * str.c: nginx's value syntax.  Sizes take k/K, m/M, g/G; times take
 * ms, s, m, h, d, w, M (30 days), y (365 days), may be combined ("1h30m")
 * and default to seconds.
 */
#include "core.h"

#include <ctype.h>

#include "str.h"

size_t
str_lcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len >= size ? size - 1 : len;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* decimal digits only, no sign, no spaces: 0..max */
int
str_parse_int(const char *s, long long max, long long *out)
{
	long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int
str_parse_size(const char *s, long long *out)
{
	char num[32];
	size_t len = strlen(s);
	long long mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K': mult = 1024LL; break;
	case 'm': case 'M': mult = 1024LL * 1024; break;
	case 'g': case 'G': mult = 1024LL * 1024 * 1024; break;
	}
	if (mult != 1)
		num[--len] = '\0';
	if (str_parse_int(num, LLONG_MAX / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

int
str_parse_time(const char *s, msec_t *out)
{
	msec_t total = 0, unit;
	long long v;
	int any = 0, last_rank = 100, rank;

	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = 0;
		while (isdigit((unsigned char)*s)) {
			if (v > 1000000000LL)
				return -1;
			v = v * 10 + (*s++ - '0');
		}
		switch (*s) {
		case 'y': unit = 365LL * 86400000; rank = 8; s++; break;
		case 'M': unit = 30LL * 86400000; rank = 7; s++; break;
		case 'w': unit = 7LL * 86400000; rank = 6; s++; break;
		case 'd': unit = 86400000; rank = 5; s++; break;
		case 'h': unit = 3600000; rank = 4; s++; break;
		case 'm':
			if (s[1] == 's') {
				unit = 1; rank = 1; s += 2;
			} else {
				unit = 60000; rank = 3; s++;
			}
			break;
		case 's': unit = 1000; rank = 2; s++; break;
		case '\0': unit = 1000; rank = 2; break;
		default:
			return -1;
		}
		/* units must go from larger to smaller, each at most once */
		if (rank >= last_rank)
			return -1;
		last_rank = rank;
		total += v * unit;
		any = 1;
	}
	if (!any)
		return -1;
	*out = total;
	return 0;
}

/*
 * tap.h: a tiny TAP producer for the C unit tests.  A unit test
 * #includes the .c under test, then this.
 */
#ifndef PORTICO_TAP_H
#define PORTICO_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	tap_n++;							\
	if (!(cond))							\
		tap_failed++;						\
	printf("%sok %d - ", (cond) ? "" : "not ", tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!(cond))							\
		printf("#   failed at %s:%d\n", __FILE__, __LINE__);	\
} while (0)

#define is_int(a, b, ...) do {						\
	long long _a = (a), _b = (b);					\
	ok(_a == _b, __VA_ARGS__);					\
	if (_a != _b)							\
		printf("#   got %lld, expected %lld\n", _a, _b);	\
} while (0)

#define is_str(a, b, ...) do {						\
	const char *_a = (a), *_b = (b);				\
	int _eq = (_a == NULL && _b == NULL) ||				\
	    (_a != NULL && _b != NULL && strcmp(_a, _b) == 0);		\
	ok(_eq, __VA_ARGS__);						\
	if (!_eq)							\
		printf("#   got \"%s\", expected \"%s\"\n",		\
		    _a ? _a : "(null)", _b ? _b : "(null)");		\
} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif

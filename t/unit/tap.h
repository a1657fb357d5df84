/*
 * tap.h: a tiny TAP producer for the C unit tests.  A unit test
 * #includes the .c under test, then this.
 */
#ifndef PORTICO_TAP_H
#define PORTICO_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* cond is evaluated once: it may have side effects */
#define ok(cond, ...) do {						\
	int tap_ok_ = !!(cond);						\
	tap_n++;							\
	if (!tap_ok_)							\
		tap_failed++;						\
	printf("%sok %d - ", tap_ok_ ? "" : "not ", tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_ok_)							\
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

/* s contains sub; on failure s is shown line by line as a comment */
#define like(s, sub, ...) do {						\
	const char *_s = (s), *_sub = (sub), *_e;			\
	int _in = _s != NULL && strstr(_s, _sub) != NULL;		\
	ok(_in, __VA_ARGS__);						\
	if (!_in) {							\
		printf("#   expected to contain: %s\n#   got:\n", _sub);	\
		for (_s = _s ? _s : "(null)"; *_s; _s = _e + !!*_e) {	\
			_e = strchr(_s, '\n');				\
			if (_e == NULL)						\
				_e = _s + strlen(_s);			\
			printf("#     %.*s\n", (int)(_e - _s), _s);	\
		}							\
	}								\
} while (0)

/* n bytes at p are the string lit */
#define is_mem(p, n, lit, ...) do {					\
	const char *_p = (p), *_l = (lit);				\
	size_t _n = (n);						\
	int _eq = _p != NULL && _n == strlen(_l) &&			\
	    memcmp(_p, _l, _n) == 0;					\
	ok(_eq, __VA_ARGS__);						\
	if (!_eq)							\
		printf("#   got \"%.*s\", expected \"%s\"\n",		\
		    _p ? (int)_n : 6, _p ? _p : "(null)", _l);		\
} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif

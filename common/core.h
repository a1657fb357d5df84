/*
 * core.h: included first by every portico source file.
 */
#ifndef PORTICO_CORE_H
#define PORTICO_CORE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define PORTICO_NAME	"portico"
#define PORTICO_VERSION	"0.1.0"
#define PORTICO_VER	PORTICO_NAME "/" PORTICO_VERSION

/* environment variable carrying listening fds across a binary upgrade */
#define PORTICO_ENV_FDS	"PORTICO"

/* a stopping worker closes an idle keep-alive connection after this */
#define PORTICO_LAME_DUCK_MS	1000

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define UNSET		(-1)

#ifdef PORTICO_DEBUG
#define DASSERT(x)	do { if (!(x)) fatalx("assertion failed: %s at %s:%d", \
			    #x, __FILE__, __LINE__); } while (0)
#else
#define DASSERT(x)	do { } while (0)
#endif

/* I/O step results */
enum {
	IO_OK = 0,
	IO_AGAIN = 1,
	IO_DONE = 2,
	IO_ERROR = -1,
};

/* milliseconds; every timeout and clock reading in portico */
typedef int64_t msec_t;

/*
 * Banned: they cannot be used safely.  Use snprintf / memcpy with a
 * length, or the str_ helpers.
 */
#pragma GCC poison strcpy strcat sprintf vsprintf gets

#endif

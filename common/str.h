/*
 * str.h: string and number helpers for config values.
 */
#ifndef PORTICO_STR_H
#define PORTICO_STR_H

#include "core.h"

size_t	 str_lcpy(char *dst, const char *src, size_t size);
int	 str_parse_int(const char *, long long max, long long *out);
int	 str_parse_size(const char *, long long *out);
int	 str_parse_time(const char *, msec_t *out);
int	 str_has_prefix(const char *s, const char *prefix);

#endif

/*
 * clock.h: cached time, updated once per event loop turn.
 */
#ifndef PORTICO_CLOCK_H
#define PORTICO_CLOCK_H

#include "core.h"

#include <time.h>

void	 clock_update(void);
msec_t	 clock_now(void);		/* monotonic, ms */
time_t	 clock_wall(void);		/* seconds since the epoch */
const char *clock_log_time(void);	/* "2026/11/22 07:43:43" */
const char *clock_http_date(void);	/* "Sun, 22 Nov 2026 07:43:43 GMT" */
const char *clock_time_local(void);	/* "22/Nov/2026:07:43:43 +0000" */
const char *clock_iso8601(void);	/* "2026-11-22T07:43:43+00:00" */
msec_t	 clock_wall_ms(void);		/* ms since the epoch */

#endif

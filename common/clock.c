/*
 * clock.c: one clock reading per loop turn; the formatted strings are
 * rebuilt only when the second changes.
 */
#include "core.h"

#include "clock.h"

static msec_t now_ms;
static time_t wall_sec = -1;
static time_t fmt_sec = -1;
static char log_time[64];
static char http_date[64];

static const char *const wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

void
clock_update(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ms = (msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	wall_sec = time(NULL);
}

msec_t
clock_now(void)
{
	if (wall_sec == -1)
		clock_update();
	return now_ms;
}

time_t
clock_wall(void)
{
	if (wall_sec == -1)
		clock_update();
	return wall_sec;
}

static void
clock_format(void)
{
	struct tm lt, gt;
	time_t t;

	/* the log wants the current second even between loop turns */
	t = time(NULL);
	if (t == fmt_sec)
		return;
	fmt_sec = t;
	localtime_r(&t, &lt);
	gmtime_r(&t, &gt);
	snprintf(log_time, sizeof(log_time), "%04d/%02d/%02d %02d:%02d:%02d",
	    lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday, lt.tm_hour,
	    lt.tm_min, lt.tm_sec);
	snprintf(http_date, sizeof(http_date),
	    "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[gt.tm_wday],
	    gt.tm_mday, months[gt.tm_mon], gt.tm_year + 1900, gt.tm_hour,
	    gt.tm_min, gt.tm_sec);
}

const char *
clock_log_time(void)
{
	clock_format();
	return log_time;
}

const char *
clock_http_date(void)
{
	clock_format();
	return http_date;
}

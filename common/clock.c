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
static char time_local[64];
static char iso8601[64];
static msec_t wall_ms;

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
	clock_gettime(CLOCK_REALTIME, &ts);
	wall_sec = ts.tv_sec;
	wall_ms = (msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	{
		long off = lt.tm_gmtoff / 60;
		char sign = off < 0 ? '-' : '+';

		if (off < 0)
			off = -off;
		snprintf(time_local, sizeof(time_local),
		    "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", lt.tm_mday,
		    months[lt.tm_mon], lt.tm_year + 1900, lt.tm_hour,
		    lt.tm_min, lt.tm_sec, sign, off / 60, off % 60);
		snprintf(iso8601, sizeof(iso8601),
		    "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
		    lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday, lt.tm_hour,
		    lt.tm_min, lt.tm_sec, sign, off / 60, off % 60);
	}
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

const char *
clock_time_local(void)
{
	clock_format();
	return time_local;
}

const char *
clock_iso8601(void)
{
	clock_format();
	return iso8601;
}

msec_t
clock_wall_ms(void)
{
	if (wall_sec == -1)
		clock_update();
	return wall_ms;
}

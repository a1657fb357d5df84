/*
 * log.c: the error log.  Lines look like nginx's:
 *   2026/11/22 07:43:43 [error] 1234#0: message
 * Each line is written with one write(2) on an O_APPEND fd, so lines from
 * the master and every worker never interleave.
 */
#include "core.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"

static const char *const levels[] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
};

int log_level = LOG_ERR;
static int log_fdesc = 2;
static char log_file[PATH_MAX];		/* "" means stderr */
static int log_dup_stderr;		/* start-up: also show on stderr */

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < nitems(levels); i++)
		if (strcmp(s, levels[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int l)
{
	if (l < 0 || l >= (int)nitems(levels))
		return "?";
	return levels[l];
}

/* path NULL or "stderr" logs to stderr */
int
log_open(const char *path, int level)
{
	int fd;

	log_level = level;
	if (path == NULL || strcmp(path, "stderr") == 0) {
		if (log_fdesc > 2)
			close(log_fdesc);
		log_fdesc = 2;
		log_file[0] = '\0';
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (log_fdesc > 2)
		close(log_fdesc);
	log_fdesc = fd;
	snprintf(log_file, sizeof(log_file), "%s", path);
	return 0;
}

/* reopen by name: after logrotate renamed the file (USR1) */
int
log_reopen(void)
{
	if (log_file[0] == '\0')
		return 0;
	return log_open(log_file, log_level);
}

int
log_fd(void)
{
	return log_fdesc;
}

const char *
log_path(void)
{
	return log_file[0] ? log_file : "stderr";
}

/* workers reopen the log themselves, as their own user */
int
log_chown(uid_t uid, gid_t gid)
{
	if (log_file[0] == '\0')
		return 0;
	return fchown(log_fdesc, uid, gid);
}

void
log_to_stderr(int level)
{
	log_open(NULL, level);
}

/* during start-up, errors go to the log file and to the terminal */
void
log_also_stderr(int on)
{
	log_dup_stderr = on;
}

void
log_vmsg(int level, int err, const char *fmt, va_list ap)
{
	char buf[2048];
	int n, m;

	if (level > log_level)
		return;
	if (log_dup_stderr && log_fdesc == 2) {
		/* nginx's start-up form: "portico: [emerg] message" */
		n = snprintf(buf, sizeof(buf), PORTICO_NAME ": [%s] ",
		    log_level_name(level));
		m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
		n += m < 0 ? 0 : m;
		if (n > (int)sizeof(buf) - 2)
			n = sizeof(buf) - 2;
		buf[n++] = '\n';
		if (write(2, buf, n) == -1) {
			/* nothing to do */
		}
		return;
	}
	n = snprintf(buf, sizeof(buf), "%s [%s] %d#0: ", clock_log_time(),
	    log_level_name(level), (int)getpid());
	m = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 64)
		n = sizeof(buf) - 64;
	if (err)
		n += snprintf(buf + n, sizeof(buf) - n, " (%d: %s)", err,
		    strerror(err));
	buf[n++] = '\n';
	if (write(log_fdesc, buf, n) == -1) {
		/* nowhere left to report it */
	}
	if (log_dup_stderr && log_fdesc != 2 && level <= LOG_WARN) {
		/* nginx's start-up form: "portico: [emerg] message" */
		char pre[32];
		int p = snprintf(pre, sizeof(pre), PORTICO_NAME ": [%s] ",
		    log_level_name(level));
		char *msg = strstr(buf, "#0: ") + 4;

		if (write(2, pre, p) == -1 ||
		    write(2, msg, buf + n - msg) == -1) {
			/* nothing to do */
		}
	}
}

void
log_msg(int level, int err, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vmsg(level, err, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_EMERG, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_EMERG, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

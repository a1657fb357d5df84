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
#include "str.h"

static const char *const levels[] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
};

int log_level = LOG_ERR;

/*
 * Up to LOG_MAX_TARGETS logs, as nginx allows several error_log lines;
 * a message goes to each target whose level admits it.  log_level is
 * the highest of them, for a quick test before formatting.
 */
struct log_target {
	int	 lt_fd;
	int	 lt_level;
	char	 lt_path[PATH_MAX];	/* "" means stderr */
};

static struct log_target targets[LOG_MAX_TARGETS] = {
	{ 2, LOG_ERR, "" },
};
static int ntargets = 1;
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

static int
is_stderr(const char *path)
{
	return path == NULL || path[0] == '\0' || strcmp(path, "stderr") == 0;
}

static void
close_targets(void)
{
	int i;

	for (i = 0; i < ntargets; i++)
		if (targets[i].lt_fd > 2)
			close(targets[i].lt_fd);
	ntargets = 0;
}

/*
 * Open every log of the set; when one cannot be opened the previous set
 * stays in place and -1 is returned with errno set.
 */
int
log_open_set(int n, char *const *paths, const int *lvls)
{
	struct log_target nt[LOG_MAX_TARGETS];
	int i, j, saved;

	if (n < 1 || n > LOG_MAX_TARGETS) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		nt[i].lt_level = lvls[i];
		if (is_stderr(paths[i])) {
			nt[i].lt_fd = 2;
			nt[i].lt_path[0] = '\0';
			continue;
		}
		nt[i].lt_fd = open(paths[i], O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
		if (nt[i].lt_fd == -1) {
			saved = errno;
			for (j = 0; j < i; j++)
				if (nt[j].lt_fd > 2)
					close(nt[j].lt_fd);
			errno = saved;
			return -1;
		}
		str_lcpy(nt[i].lt_path, paths[i], sizeof(nt[i].lt_path));
	}
	close_targets();
	memcpy(targets, nt, n * sizeof(nt[0]));
	ntargets = n;
	log_level = LOG_EMERG;
	for (i = 0; i < n; i++)
		log_level = MAX(log_level, targets[i].lt_level);
	return 0;
}

/* path NULL or "stderr" logs to stderr */
int
log_open(const char *path, int level)
{
	char *p = (char *)(path != NULL ? path : "stderr");

	return log_open_set(1, &p, &level);
}

/* reopen by name: after logrotate renamed the files (USR1) */
int
log_reopen(void)
{
	char *paths[LOG_MAX_TARGETS] = { NULL };
	int lvls[LOG_MAX_TARGETS] = { 0 }, i, n = ntargets;

	for (i = 0; i < n; i++) {
		paths[i] = strdup(targets[i].lt_path[0] ? targets[i].lt_path :
		    "stderr");
		lvls[i] = targets[i].lt_level;
	}
	i = log_open_set(n, paths, lvls);
	while (n > 0)
		free(paths[--n]);
	return i;
}

/* is any log on stderr (then a daemon keeps fd 2) */
int
log_uses_stderr(void)
{
	int i;

	for (i = 0; i < ntargets; i++)
		if (targets[i].lt_fd == 2)
			return 1;
	return 0;
}

const char *
log_path(void)
{
	int i;

	for (i = 0; i < ntargets; i++)
		if (targets[i].lt_path[0])
			return targets[i].lt_path;
	return "stderr";
}

/* workers reopen the logs themselves, as their own user */
int
log_chown(uid_t uid, gid_t gid)
{
	int i, rc = 0;

	for (i = 0; i < ntargets; i++)
		if (targets[i].lt_path[0] && fchown(targets[i].lt_fd, uid,
		    gid) == -1)
			rc = -1;
	return rc;
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
	int n, m, i, on_stderr = 0;

	if (level > log_level)
		return;
	if (log_dup_stderr && ntargets == 1 && targets[0].lt_fd == 2) {
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
	for (i = 0; i < ntargets; i++) {
		if (level > targets[i].lt_level)
			continue;
		if (targets[i].lt_fd == 2)
			on_stderr = 1;
		if (write(targets[i].lt_fd, buf, n) == -1) {
			/* nowhere left to report it */
		}
	}
	if (log_dup_stderr && !on_stderr && level <= LOG_WARN) {
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

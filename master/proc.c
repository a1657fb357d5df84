/*
 * proc.c: process titles, daemonizing, pid files, privileges.
 */
#include "core.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "log.h"
#include "proc.h"
#include "str.h"

extern char **environ;

static char *title_start;
static size_t title_len;

/*
 * ps(1) shows the memory of argv; the environment follows it, so move
 * the environment to the heap and use both for the title.
 */
void
proc_title_init(int argc, char **argv)
{
	char *end, **env;
	int i, n;

	if (argc == 0 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 1, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		env[i] = strdup(environ[i]);
	}
	environ = env;
	title_start = argv[0];
	title_len = end - argv[0];
	argv[1] = NULL;
}

void
proc_title_set(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	prctl(PR_SET_NAME, "portico", 0, 0, 0);
	if (title_start == NULL)
		return;
	n = str_lcpy(title_start, buf, title_len);
	if (n < title_len)
		memset(title_start + n, '\0', title_len - n);
}

static int ready_fd = -1;

/*
 * The parent exits only when the daemon is ready (pid file written,
 * sockets listening), with the child's verdict: a script that starts
 * portico can rely on the pid file at once.
 */
int
proc_daemonize(void)
{
	int fd, p[2];
	char c;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_emerg("pipe() failed (%d: %s)", errno, strerror(errno));
		return -1;
	}
	switch (fork()) {
	case -1:
		log_emerg("fork() failed (%d: %s)", errno, strerror(errno));
		return -1;
	case 0:
		close(p[0]);
		ready_fd = p[1];
		break;
	default:
		close(p[1]);
		do {
			n = read(p[0], &c, 1);
		} while (n == -1 && errno == EINTR);
		/* EOF without a byte: the daemon failed and said why */
		_exit(n == 1 ? 0 : 1);
	}
	if (setsid() == -1) {
		log_emerg("setsid() failed (%d: %s)", errno, strerror(errno));
		return -1;
	}
	umask(022);
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	/* stderr stays open for start-up errors until proc_daemon_ready() */
	if (fd > 2)
		close(fd);
	return 0;
}

/* start-up done: release the waiting parent and detach stderr */
void
proc_daemon_ready(void)
{
	int fd;

	if (ready_fd == -1)
		return;
	if (write(ready_fd, "", 1) == -1) {
		/* the parent is gone: nothing to tell */
	}
	close(ready_fd);
	ready_fd = -1;
	if (!log_uses_stderr() && (fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int
proc_pid_write(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_emerg("open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n) {
		log_emerg("write() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

pid_t
proc_pid_read(const char *path)
{
	char buf[32];
	long long v;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_errx("open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (str_parse_int(buf, INT_MAX, &v) == -1 || v == 0) {
		log_errx("invalid PID number \"%s\" in \"%s\"", buf, path);
		return -1;
	}
	return (pid_t)v;
}

/*
 * In the master: who the children become.  Resolved here, before the
 * fork, because a child may not be able to open /etc/passwd (its
 * worker_rlimit_nofile, a chroot later).
 */
int
proc_creds_lookup(const struct conf_main *m, struct proc_creds *pc)
{
	struct passwd *pw;
	struct group *gr;

	if ((pw = getpwnam(m->mc_user)) == NULL) {
		log_emerg("getpwnam(\"%s\") failed", m->mc_user);
		return -1;
	}
	pc->pc_uid = pw->pw_uid;
	pc->pc_gid = pw->pw_gid;
	if (m->mc_group != NULL) {
		if ((gr = getgrnam(m->mc_group)) == NULL) {
			log_emerg("getgrnam(\"%s\") failed", m->mc_group);
			return -1;
		}
		pc->pc_gid = gr->gr_gid;
	}
	pc->pc_ngroups = nitems(pc->pc_groups);
	if (getgrouplist(m->mc_user, pc->pc_gid, pc->pc_groups,
	    &pc->pc_ngroups) == -1) {
		/* more than fit: the primary group alone */
		pc->pc_groups[0] = pc->pc_gid;
		pc->pc_ngroups = 1;
	}
	return 0;
}

/* in a child, when the master runs as root */
int
proc_drop_privileges(const struct proc_creds *pc)
{
	if (geteuid() != 0)
		return 0;
	if (setgid(pc->pc_gid) == -1) {
		log_emerg("setgid(%d) failed (%d: %s)", (int)pc->pc_gid, errno,
		    strerror(errno));
		return -1;
	}
	if (setgroups(pc->pc_ngroups, pc->pc_groups) == -1) {
		log_emerg("setgroups() failed (%d: %s)", errno,
		    strerror(errno));
		return -1;
	}
	if (setuid(pc->pc_uid) == -1) {
		log_emerg("setuid(%d) failed (%d: %s)", (int)pc->pc_uid, errno,
		    strerror(errno));
		return -1;
	}
	/* core dumps stay possible for debugging a crashed worker */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

/*
 * master.c: the master process.  It sleeps in sigsuspend(); signal
 * handlers only set flags, and the loop acts on them: reap and respawn
 * children, reload into a new generation, reopen logs, exec a new binary.
 * It never touches client traffic.
 */
#include "core.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "child.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "shm.h"
#include "upstream.h"
#include "master.h"
#include "proc.h"
#include "shm.h"
#include "ssl_zone.h"
#include "str.h"

#define MAX_CHILDREN	2100
#define RESPAWN_MAX_MS	30000
#define KILL_AFTER_MS	5000

enum child_kind {
	CHILD_WORKER,
	CHILD_KEEPER,
};

struct child {
	pid_t		 ch_pid;	/* 0: waiting to be respawned */
	int		 ch_kind;
	int		 ch_slot;
	unsigned	 ch_gen;
	int		 ch_exiting;	/* told to stop: not respawned */
	msec_t		 ch_started;
	int		 ch_fails;	/* quick deaths in a row */
	msec_t		 ch_respawn_at;
	int		 ch_used;
};

static struct child children[MAX_CHILDREN];
static struct shm_zone *health;		/* outlives the generations */
static struct gen *cur;
static struct master_opts *opts;
static char pid_path[PATH_MAX + 16];		/* where our pid is now */
static pid_t new_binary;		/* upgrade child, while alive */
static pid_t parent_at_start;
static int inherited;
static int noaccept;			/* after WINCH: workers stopped */
static int quitting, terminating;
static msec_t kill_at;
static struct proc_creds creds;
static int have_creds;		/* root: children switch to creds */

static volatile sig_atomic_t sig_reap, sig_reload, sig_quit, sig_term,
    sig_reopen, sig_upgrade, sig_winch, sig_alarm;

static void
master_signal(int sig)
{
	switch (sig) {
	case SIGCHLD: sig_reap = 1; break;
	case SIGHUP: sig_reload = 1; break;
	case SIGQUIT: sig_quit = 1; break;
	case SIGTERM: case SIGINT: sig_term = 1; break;
	case SIGUSR1: sig_reopen = 1; break;
	case SIGUSR2: sig_upgrade = 1; break;
	case SIGWINCH: sig_winch = 1; break;
	case SIGALRM: sig_alarm = 1; break;
	}
}

static const int handled[] = {
	SIGCHLD, SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGWINCH,
	SIGALRM,
};

static void
master_signals_setup(void)
{
	struct sigaction sa;
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nitems(handled); i++) {
		sigaction(handled[i], &sa, NULL);
		sigaddset(&set, handled[i]);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * Children get default handlers, but the master's signals stay blocked
 * (as they were at fork()): a QUIT sent while a worker starts waits for
 * the worker's signalfd instead of killing it with the default action.
 * An exec'd new master unblocks them in its own sigsuspend().
 */
static void
child_signals_reset(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < nitems(handled); i++)
		sigaction(handled[i], &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static const char *
kind_name(int kind)
{
	return kind == CHILD_KEEPER ? "keeper" : "worker";
}

static struct child *
child_slot(void)
{
	int i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (!children[i].ch_used) {
			memset(&children[i], 0, sizeof(children[i]));
			children[i].ch_used = 1;
			return &children[i];
		}
	return NULL;
}

static int
child_rlimit(const struct gen *g)
{
	struct rlimit rl;

	if (g->g_main->mc_rlimit_nofile == 0)
		return 0;
	rl.rlim_cur = rl.rlim_max = g->g_main->mc_rlimit_nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_alert("setrlimit(RLIMIT_NOFILE, %lld) failed (%d: %s)",
		    (long long)rl.rlim_cur, errno, strerror(errno));
		return -1;
	}
	return 0;
}

static int
child_spawn(struct child *ch)
{
	pid_t pid;

	switch ((pid = fork())) {
	case -1:
		log_alert("fork() failed while spawning \"%s process\" "
		    "(%d: %s)", kind_name(ch->ch_kind), errno, strerror(errno));
		return -1;
	case 0:
		child_signals_reset();
		proc_title_set("portico: %s process", kind_name(ch->ch_kind));
		/* as in nginx, the limit is the workers', not the master's */
		if (ch->ch_kind == CHILD_WORKER && child_rlimit(cur) == -1)
			_exit(2);
		if (have_creds && proc_drop_privileges(&creds) == -1)
			_exit(2);
		if (ch->ch_kind == CHILD_KEEPER) {
			/* the keeper serves no client: no listening socket */
			listen_close_all();
			keeper_main(cur);
		}
		worker_main(cur, ch->ch_slot);
	}
	ch->ch_pid = pid;
	ch->ch_gen = cur->g_id;
	ch->ch_started = clock_now();
	log_notice("start %s process %d", kind_name(ch->ch_kind), (int)pid);
	return 0;
}

static int
worker_count(const struct gen *g)
{
	long n;

	if (g->g_main->mc_workers > 0)
		return (int)g->g_main->mc_workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* reuseport sockets: one per worker; one process without a master */
static int
listen_workers(const struct gen *g)
{
	return g->g_main->mc_master ? worker_count(g) : 1;
}

static void
spawn_generation(void)
{
	struct child *ch;
	int i, n = worker_count(cur);

	for (i = 0; i <= n; i++) {
		if ((ch = child_slot()) == NULL) {
			log_alert("too many processes");
			return;
		}
		ch->ch_kind = i < n ? CHILD_WORKER : CHILD_KEEPER;
		ch->ch_slot = i;
		if (child_spawn(ch) == -1) {
			/* try again soon, as for a crash */
			ch->ch_fails = 1;
			ch->ch_respawn_at = clock_now() + 1000;
		}
	}
}

/* tell every child (or those of other generations) to stop */
static void
signal_children(int sig, int other_gens_only)
{
	int i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		struct child *ch = &children[i];

		if (!ch->ch_used)
			continue;
		if (other_gens_only && ch->ch_gen == cur->g_id)
			continue;
		if (sig == SIGQUIT || sig == SIGTERM || sig == SIGKILL) {
			ch->ch_exiting = 1;
			if (ch->ch_pid == 0) {
				ch->ch_used = 0;	/* pending respawn */
				continue;
			}
		}
		if (ch->ch_pid > 0 && kill(ch->ch_pid, sig) == -1 &&
		    errno != ESRCH)
			log_alert("kill(%d, %d) failed (%d: %s)",
			    (int)ch->ch_pid, sig, errno, strerror(errno));
	}
}

static int
live_children(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i].ch_used && children[i].ch_pid > 0)
			n++;
	return n;
}

static void
upgrade_failed(void)
{
	char old[PATH_MAX + 16];

	snprintf(old, sizeof(old), "%s.oldbin", cur->g_main->mc_pid);
	if (strcmp(pid_path, old) == 0) {
		if (rename(old, cur->g_main->mc_pid) == -1)
			log_alert("rename() \"%s\" back to \"%s\" failed "
			    "(%d: %s)", old, cur->g_main->mc_pid, errno,
			    strerror(errno));
		else
			snprintf(pid_path, sizeof(pid_path), "%s",
			    cur->g_main->mc_pid);
	}
}

static void
reap(void)
{
	struct child *ch;
	msec_t lived, delay;
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == new_binary) {
			/* a rollback stops the new master with QUIT: code 0 */
			log_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
			    LOG_NOTICE : LOG_ALERT, 0,
			    "new binary process %d exited %s %d; "
			    "keeping this one, pid file restored", (int)pid,
			    WIFSIGNALED(status) ? "on signal" : "with code",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
			new_binary = 0;
			upgrade_failed();
			continue;
		}
		for (i = 0; i < MAX_CHILDREN; i++)
			if (children[i].ch_used && children[i].ch_pid == pid)
				break;
		if (i == MAX_CHILDREN)
			continue;
		ch = &children[i];
		if (WIFSIGNALED(status))
			log_msg(ch->ch_exiting && WTERMSIG(status) == SIGKILL ?
			    LOG_NOTICE : LOG_ALERT, 0,
			    "%s process %d exited on signal %d%s",
			    kind_name(ch->ch_kind), (int)pid, WTERMSIG(status),
			    WCOREDUMP(status) ? " (core dumped)" : "");
		else
			log_msg(WEXITSTATUS(status) && !ch->ch_exiting ?
			    LOG_ALERT : LOG_NOTICE, 0,
			    "%s process %d exited with code %d",
			    kind_name(ch->ch_kind), (int)pid,
			    WEXITSTATUS(status));
		ch->ch_pid = 0;
		if (ch->ch_exiting || quitting || terminating || noaccept ||
		    ch->ch_gen != cur->g_id) {
			ch->ch_used = 0;
			continue;
		}
		/* a child that dies at start-up is respawned ever slower */
		lived = clock_now() - ch->ch_started;
		if (lived < 2000)
			ch->ch_fails++;
		else
			ch->ch_fails = 0;
		delay = 0;
		if (ch->ch_fails > 1) {
			delay = 100LL << MIN(ch->ch_fails - 2, 10);
			if (delay > RESPAWN_MAX_MS)
				delay = RESPAWN_MAX_MS;
			log_alert("%s process keeps exiting at start-up, "
			    "respawning in %lld ms", kind_name(ch->ch_kind),
			    (long long)delay);
		}
		ch->ch_respawn_at = clock_now() + delay;
	}
}

static void
respawn_due(msec_t *next)
{
	int i;

	for (i = 0; i < MAX_CHILDREN; i++) {
		struct child *ch = &children[i];

		if (!ch->ch_used || ch->ch_pid != 0)
			continue;
		if (ch->ch_respawn_at <= clock_now()) {
			if (child_spawn(ch) == -1) {
				ch->ch_fails++;
				ch->ch_respawn_at = clock_now() + 1000;
			}
		}
		if (ch->ch_pid == 0 && (*next == 0 || ch->ch_respawn_at < *next))
			*next = ch->ch_respawn_at;
	}
}

static void
chown_logs(void)
{
	if (have_creds && conf_logs_chown(cur, creds.pc_uid, creds.pc_gid) ==
	    -1)
		log_alert("chown() of an access log failed (%d: %s)", errno,
		    strerror(errno));
	if (have_creds && log_chown(creds.pc_uid, creds.pc_gid) == -1)
		log_alert("chown() \"%s\" failed (%d: %s)", log_path(), errno,
		    strerror(errno));
}

static int
apply_main_settings(const struct gen *g)
{
	struct proc_creds pc;

	if (geteuid() != 0)
		return 0;
	if (proc_creds_lookup(g->g_main, &pc) == -1)
		return -1;
	creds = pc;
	have_creds = 1;
	return 0;
}

/*
 * Give the peers of g their slots in the health zone, before g's
 * children are forked: they inherit the mapping.  The zone is a file
 * beside the pid file, so a new binary maps the same one.  Without it
 * (an error is only a warning) each worker keeps its own state.
 */
static void
health_attach(struct gen *g)
{
	struct conf_upstream *u;
	char path[PATH_MAX], *slash;
	int n = 0, slots = 1024, missing;

	if (g->g_http == NULL || g->g_http->hc_upstreams == NULL)
		return;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		n += u->u_npeers;
	while (slots < 2 * n)
		slots *= 2;
	if (health != NULL && health->z_size < shm_health_size(slots)) {
		/* children of older generations keep their own mapping */
		shm_zone_close(health);
		health = NULL;
	}
	if (health == NULL) {
		snprintf(path, sizeof(path), "%s", g->g_main->mc_pid);
		if ((slash = strrchr(path, '/')) != NULL)
			slash[1] = '\0';
		else
			path[0] = '\0';
		str_lcpy(path + strlen(path), SHM_HEALTH_FILE,
		    sizeof(path) - strlen(path));
		if ((health = shm_health_open(path, slots)) == NULL) {
			log_warn("the upstream state is not shared: cannot map "
			    "\"%s\"", path);
			return;
		}
	}
	if ((missing = shm_health_attach(health, g)) != 0)
		log_warnx("%d upstream peers have no slot in the health zone",
		    missing);
	g->g_health = health;
}

static void
reload(void)
{
	struct gen *g, *old = cur;

	if (noaccept) {
		/* rolling back an upgrade: the same config, new workers */
		log_notice("starting workers again with the current "
		    "configuration");
		noaccept = 0;
		spawn_generation();
		return;
	}
	g = conf_load(opts->mo_prefix, opts->mo_conf, opts->mo_params,
	    geteuid() == 0);
	if (g == NULL) {
		log_msg(LOG_ERR, 0, "reload failed: the configuration has "
		    "errors, keeping the running one");
		return;
	}
	if (listen_open(g, listen_workers(g)) == -1) {
		log_msg(LOG_ERR, 0, "reload failed: cannot listen, keeping "
		    "the running configuration");
		conf_free(g);
		return;
	}
	if (conf_logs_open(g) == -1) {
		log_msg(LOG_ERR, 0, "reload failed: cannot open an access log, "
		    "keeping the running configuration");
		listen_close_unused(cur);
		conf_free(g);
		return;
	}
	if (log_open_set(g->g_main->mc_nerror_logs, g->g_main->mc_error_log,
	    g->g_main->mc_error_level) == -1)
		log_alert("cannot open the new error log (%d: %s), keeping the "
		    "current one", errno, strerror(errno));
	if (apply_main_settings(g) == -1) {
		log_msg(LOG_ERR, 0, "reload failed: unknown user, keeping the "
		    "running configuration");
		listen_close_unused(cur);
		conf_free(g);
		return;
	}
	if (conf_tempdirs_make(g, have_creds, creds.pc_uid, creds.pc_gid) ==
	    -1) {
		log_msg(LOG_ERR, 0, "reload failed: cannot make a temporary "
		    "directory, keeping the running configuration");
		listen_close_unused(cur);
		conf_free(g);
		return;
	}
	/* before the switch: a bad ssl_session_ticket_key keeps the old */
	if (ssl_zone_attach(g) == -1) {
		log_msg(LOG_ERR, 0, "reload failed: cannot set up the TLS "
		    "sessions, keeping the running configuration");
		listen_close_unused(cur);
		conf_free(g);
		return;
	}
	cur = g;
	chown_logs();
	health_attach(g);
	/* before the fork: new children must not inherit removed sockets */
	listen_close_unused(g);
	spawn_generation();
	signal_children(SIGQUIT, 1);
	/* the old workers keep their own copy of the old generation */
	conf_free(old);
	log_notice("reconfigured: generation %u", g->g_id);
}

static void
reopen_logs(void)
{
	if (log_reopen() == -1)
		log_alert("reopen of \"%s\" failed (%d: %s)", log_path(),
		    errno, strerror(errno));
	conf_logs_reopen(cur);
	/* the workers reopen by name next: the files must be theirs */
	chown_logs();
	signal_children(SIGUSR1, 0);
}

static void
upgrade(void)
{
	char env[4096], var[4200], old[PATH_MAX + 16];
	char **envp;
	extern char **environ;
	pid_t pid;
	int n, i;

	if (new_binary > 0) {
		log_warnx("the binary is being changed already (new master "
		    "%d); USR2 ignored", (int)new_binary);
		return;
	}
	if (inherited && getppid() == parent_at_start && getppid() > 1) {
		log_warnx("the old master %d is still running: stop it or "
		    "this one before changing the binary again; USR2 ignored",
		    (int)parent_at_start);
		return;
	}
	snprintf(old, sizeof(old), "%s.oldbin", cur->g_main->mc_pid);
	if (rename(pid_path, old) == -1) {
		log_alert("rename() \"%s\" to \"%s\" failed (%d: %s), not "
		    "changing the binary", pid_path, old, errno,
		    strerror(errno));
		return;
	}
	snprintf(pid_path, sizeof(pid_path), "%s", old);
	if (listen_env(env, sizeof(env)) == -1) {
		log_alert("too many listening sockets for the environment");
		upgrade_failed();
		return;
	}
	snprintf(var, sizeof(var), "%s=%s", PORTICO_ENV_FDS, env);
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((envp = calloc(n + 2, sizeof(char *))) == NULL) {
		upgrade_failed();
		return;
	}
	for (i = 0, n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], PORTICO_ENV_FDS "=",
		    sizeof(PORTICO_ENV_FDS)) != 0)
			envp[n++] = environ[i];
	envp[n++] = var;
	envp[n] = NULL;

	switch ((pid = fork())) {
	case -1:
		log_alert("fork() failed (%d: %s), not changing the binary",
		    errno, strerror(errno));
		free(envp);
		upgrade_failed();
		return;
	case 0:
		child_signals_reset();
		listen_set_cloexec(0);
		execve(opts->mo_exe, opts->mo_argv, envp);
		log_alert("execve() \"%s\" failed (%d: %s)", opts->mo_exe,
		    errno, strerror(errno));
		_exit(1);
	}
	free(envp);
	new_binary = pid;
	log_notice("changing binary: new master process %d (%s)", (int)pid,
	    opts->mo_exe);
}

static void
set_alarm(msec_t at)
{
	struct itimerval it;
	msec_t d;

	memset(&it, 0, sizeof(it));
	if (at > 0) {
		d = at - clock_now();
		if (d < 1)
			d = 1;
		it.it_value.tv_sec = d / 1000;
		it.it_value.tv_usec = (d % 1000) * 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
master_exit(int code)
{
	listen_close_all();
	if (pid_path[0] != '\0')
		unlink(pid_path);
	log_notice("exit");
	exit(code);
}

static void
master_loop(void)
{
	sigset_t empty;
	msec_t next;

	sigemptyset(&empty);
	for (;;) {
		clock_update();
		next = 0;
		if (!quitting && !terminating)
			respawn_due(&next);
		if (terminating && kill_at > 0) {
			if (clock_now() >= kill_at) {
				log_notice("children still running, sending "
				    "KILL");
				signal_children(SIGKILL, 0);
				kill_at = 0;
			} else if (next == 0 || kill_at < next)
				next = kill_at;
		}
		if ((quitting || terminating) && live_children() == 0)
			master_exit(0);
		set_alarm(next);

		sigsuspend(&empty);
		clock_update();

		if (sig_reap) {
			sig_reap = 0;
			reap();
		}
		if (sig_term) {
			sig_term = 0;
			if (!terminating)
				log_notice("signal received, exiting");
			terminating = 1;
			if (kill_at == 0)
				kill_at = clock_now() + KILL_AFTER_MS;
			signal_children(SIGTERM, 0);
			listen_close_all();
		}
		if (sig_quit) {
			sig_quit = 0;
			log_notice("signal received, shutting down");
			quitting = 1;
			signal_children(SIGQUIT, 0);
			listen_close_all();
		}
		if (quitting || terminating) {
			sig_reload = sig_upgrade = sig_winch = 0;
		}
		if (sig_reload) {
			sig_reload = 0;
			log_notice("signal received, reconfiguring");
			reload();
		}
		if (sig_reopen) {
			sig_reopen = 0;
			log_notice("signal received, reopening logs");
			reopen_logs();
		}
		if (sig_upgrade) {
			sig_upgrade = 0;
			log_notice("signal received, changing binary");
			upgrade();
		}
		if (sig_winch) {
			sig_winch = 0;
			log_notice("signal received, gracefully stopping "
			    "worker processes");
			noaccept = 1;
			signal_children(SIGQUIT, 0);
		}
		sig_alarm = 0;
	}
}

int
master_run(struct gen *g, struct master_opts *o)
{
	cur = g;
	opts = o;
	parent_at_start = getppid();
	inherited = getenv(PORTICO_ENV_FDS) != NULL;
	if (listen_adopt_env() > 0)
		inherited = 1;
	if (listen_open(g, listen_workers(g)) == -1)
		return 1;
	listen_close_unused(g);
	if (conf_logs_open(g) == -1)
		return 1;
	if (g->g_main->mc_daemon && !inherited) {
		if (proc_daemonize() == -1)
			return 1;
	}
	master_signals_setup();
	if (apply_main_settings(g) == -1)
		return 1;
	if (conf_tempdirs_make(g, have_creds, creds.pc_uid, creds.pc_gid) ==
	    -1)
		return 1;
	chown_logs();
	health_attach(g);
	if (ssl_zone_attach(g) == -1)
		return 1;
	/*
	 * The title before the pid file: whoever waits for the pid file
	 * (or for the daemon's parent to exit) sees the title already.
	 */
	proc_title_set("portico: %s process %s", g->g_main->mc_master ?
	    "master" : "single", o->mo_cmdline);
	snprintf(pid_path, sizeof(pid_path), "%s", g->g_main->mc_pid);
	if (proc_pid_write(pid_path) == -1) {
		pid_path[0] = '\0';
		return 1;
	}
	proc_daemon_ready();
	log_also_stderr(0);
	if (!g->g_main->mc_master) {
		log_notice("%s started (single process)", PORTICO_VER);
		worker_run_single(g);
		master_exit(0);
	}
	log_notice("%s started", PORTICO_VER);
	spawn_generation();
	master_loop();
	return 0;
}

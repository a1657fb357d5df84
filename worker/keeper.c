/*
 * keeper.c: the keeper process, home of active health checks and the
 * cache manager in later releases.  For now it waits for a stop signal.
 */
#include "core.h"

#include <signal.h>

#include "child.h"
#include "log.h"

void
keeper_main(struct gen *g)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGQUIT || sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR1 && log_reopen() == -1)
			log_alert("reopen of \"%s\" failed (%d: %s)", log_path(),
			    errno, strerror(errno));
	}
	exit(0);
}

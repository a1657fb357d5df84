/*
 * proc.h: process chores for the master: titles, daemonizing, pid files,
 * dropping privileges in children.
 */
#ifndef PORTICO_PROC_H
#define PORTICO_PROC_H

#include "conf.h"

void	 proc_title_init(int argc, char **argv);
void	 proc_title_set(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
int	 proc_daemonize(void);
void	 proc_daemon_ready(void);
int	 proc_pid_write(const char *path);
pid_t	 proc_pid_read(const char *path);
struct proc_creds {
	uid_t		 pc_uid;
	gid_t		 pc_gid;
	gid_t		 pc_groups[64];
	int		 pc_ngroups;
};

int	 proc_creds_lookup(const struct conf_main *, struct proc_creds *);
int	 proc_drop_privileges(const struct proc_creds *);

#endif

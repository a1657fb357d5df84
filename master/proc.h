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
int	 proc_pid_write(const char *path);
pid_t	 proc_pid_read(const char *path);
int	 proc_user_lookup(const struct conf_main *, uid_t *, gid_t *);
int	 proc_drop_privileges(const struct conf_main *);

#endif

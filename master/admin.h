/*
 * admin.h: "portico -a command", read from the shared zones.
 */
#ifndef PORTICO_ADMIN_H
#define PORTICO_ADMIN_H

#include "conf.h"

/* the exit status */
int	 admin_run(struct gen *, const char *cmd);

#endif

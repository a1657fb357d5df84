/*
 * listen.h: the master's listening sockets, kept across reloads and
 * handed to a new binary on upgrade.
 */
#ifndef PORTICO_LISTEN_H
#define PORTICO_LISTEN_H

#include "conf.h"

int	 listen_adopt_env(void);
int	 listen_open(struct gen *, int nworkers);
void	 listen_close_unused(const struct gen *);
void	 listen_close_all(void);
int	 listen_env(char *buf, size_t len);
void	 listen_set_cloexec(int on);

#endif

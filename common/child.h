/*
 * child.h: the interface between the master and the processes it forks.
 * The master sets up a child (privileges, title, signals at default) and
 * calls one of these; they never return.
 */
#ifndef PORTICO_CHILD_H
#define PORTICO_CHILD_H

#include "conf.h"

/* slot: the worker's index, 0..worker_processes-1 */
void	 worker_main(struct gen *, int slot) __attribute__((noreturn));
void	 keeper_main(struct gen *) __attribute__((noreturn));

/* master_process off: the one process serves until a stop signal */
int	 worker_run_single(struct gen *);

#endif

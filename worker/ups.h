/*
 * ups.h: a worker's balancer for each upstream.
 */
#ifndef PORTICO_UPS_H
#define PORTICO_UPS_H

#include "core.h"

#include "balance.h"
#include "conf.h"
#include "upstream.h"

/* at worker start, after the fork: 0 or -1 */
int		 ups_init(struct gen *);
struct balance	*ups_balance(const struct conf_upstream *);

#endif

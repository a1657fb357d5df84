/*
 * master.h: the master process.
 */
#ifndef PORTICO_MASTER_H
#define PORTICO_MASTER_H

#include "conf.h"

struct master_opts {
	const char	*mo_prefix;
	const char	*mo_conf;
	const char	*mo_params;	/* -g */
	char		**mo_argv;	/* saved, for the binary upgrade */
	char		*mo_cmdline;	/* for the process title */
	char		*mo_exe;	/* absolute path of this binary */
};

int	 master_run(struct gen *, struct master_opts *);

#endif

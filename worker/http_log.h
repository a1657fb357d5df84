/*
 * http_log.h: the access log, written by the workers.
 */
#ifndef PORTICO_HTTP_LOG_H
#define PORTICO_HTTP_LOG_H

#include "conn.h"

void	 http_log_request(struct conn *);
void	 http_log_flush_all(struct gen *);
void	 http_log_reopen(struct gen *);

#endif

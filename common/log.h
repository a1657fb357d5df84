/*
 * log.h: the one logging API, for the master, workers and keeper.
 */
#ifndef PORTICO_LOG_H
#define PORTICO_LOG_H

#include "core.h"

enum log_level {
	LOG_EMERG = 0,
	LOG_ALERT,
	LOG_CRIT,
	LOG_ERR,
	LOG_WARN,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG,
};

#define LOG_MAX_TARGETS	4

extern int log_level;

int	 log_level_parse(const char *);
const char *log_level_name(int);
int	 log_open(const char *path, int level);
int	 log_open_set(int n, char *const *paths, const int *levels);
int	 log_reopen(void);
int	 log_uses_stderr(void);
const char *log_path(void);
int	 log_chown(uid_t, gid_t);
void	 log_to_stderr(int level);
void	 log_also_stderr(int);
void	 log_close_stderr(void);

void	 log_msg(int level, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 log_vmsg(int level, int err, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));

#define log_emerg(...)	log_msg(LOG_EMERG, 0, __VA_ARGS__)
#define log_alert(...)	log_msg(LOG_ALERT, 0, __VA_ARGS__)
#define log_crit(...)	log_msg(LOG_CRIT, errno, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_ERR, errno, __VA_ARGS__)
#define log_errx(...)	log_msg(LOG_ERR, 0, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, errno, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_WARN, 0, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...)	do { if (log_level >= LOG_DEBUG) \
			    log_msg(LOG_DEBUG, 0, __VA_ARGS__); } while (0)

void	 fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

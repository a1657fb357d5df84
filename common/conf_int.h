/*
 * conf_int.h: shared by conf.c (reading), conf_dir.c (the directive
 * table) and the conf_*.c files that read groups of directives;
 * nothing outside the conf module includes it.
 */
#ifndef PORTICO_CONF_INT_H
#define PORTICO_CONF_INT_H

#include "conf.h"

#define CONF_MAX_ARGS	256	/* server_name may list many names */
#define CONF_MAX_ERRORS	50

enum conf_which {
	CONF_MAIN = 0,
	CONF_SRV,
	CONF_LOC,
	CONF_NONE,
};

#define ARGS_ANY	-1

struct conf_parser;
struct conf_cmd;

typedef int (*conf_set_fn)(struct conf_parser *, const struct conf_cmd *,
    int argc, char **argv, void *conf);

struct conf_cmd {
	const char	*c_name;
	int		 c_ctx;
	int		 c_block;	/* takes { } instead of ; */
	int		 c_minargs;	/* not counting the name */
	int		 c_maxargs;	/* ARGS_ANY: no limit */
	conf_set_fn	 c_set;
	int		 c_which;
	size_t		 c_offset;
};

struct conf_input {
	const char	*in_path;
	const char	*in_p;
	const char	*in_end;
	int		 in_line;
};

struct conf_parser {
	struct gen		*cp_gen;
	struct arena		*cp_arena;
	struct conf_input	*cp_in;
	int			 cp_depth;	/* include nesting */
	int			 cp_line;	/* line of the current directive */
	int			 cp_is_root;
	int			 cp_unget;	/* a token to read again, or -1 */
	int			 cp_eof_reported;
	struct conf_main	*cp_main;
	struct conf_http	*cp_http;
	struct conf_srv		*cp_srv;
	struct conf_loc		*cp_loc;
	struct conf_types	*cp_types;
	struct conf_upstream	*cp_ups;	/* inside upstream {} */
	struct conf_map		*cp_map;	/* inside map { } */
};

extern const struct conf_cmd conf_cmds[];

void	 conf_error(struct conf_parser *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 conf_parse_block(struct conf_parser *, int ctx);
int	 conf_skip_block(struct conf_parser *);
int	 conf_include(struct conf_parser *, const char *pattern, int ctx);
char	*conf_full_path(struct conf_parser *, const char *path, int from_conf);
const struct conf_cmd *conf_cmd_find(const char *name);
const struct conf_cmd *conf_cmd_find_ctx(const char *name, int ctx);
int	 conf_types_add(struct conf_parser *, int argc, char **argv);

struct conf_main *conf_main_new(struct arena *);
struct conf_srv	*conf_srv_new(struct arena *);
struct conf_loc	*conf_loc_new(struct arena *);
int	 conf_finish(struct conf_parser *);

/* conf_rewrite.c */
int	 conf_set_return(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_rewrite(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_set(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_break(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_if(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_internal(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_error_page(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_map(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_map_entry(struct conf_parser *, int argc, char **argv);
void	 conf_vars_check(struct conf_parser *);
void	 conf_rewrite_merge(struct conf_loc *, const struct conf_loc *);
struct regex *conf_regex(struct conf_parser *, const char *src, int caseless,
	    char *err, size_t errlen);

/* conf_listen.c */
int	 conf_set_listen(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_listen_build(struct conf_parser *);

/* conf_log.c */
int	 conf_set_log_format(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_access_log(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
void	 conf_log_defaults(struct conf_parser *);

/* conf_proxy.c */
void	 conf_proxy_init(struct conf_proxy *);
void	 conf_upstreams_index(struct conf_parser *);
void	 conf_proxy_addr_text(const struct sockaddr_storage *, char *, size_t);
void	 conf_proxy_merge(struct conf_parser *, struct conf_loc *,
	    const struct conf_loc *parent);
int	 conf_proxy_set_pass(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_header(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_hide(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_redirect(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_buffers(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_ignore(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_next(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_proxy_set_version(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
/* conf_ssl.c */
void	 conf_ssl_init(struct conf_ssl *);
void	 conf_ssl_proxy_init(struct conf_proxy *);
void	 conf_ssl_merge(struct conf_parser *, struct conf_srv *,
	    const struct conf_srv *http);
void	 conf_ssl_proxy_merge(struct conf_parser *, struct conf_loc *,
	    const struct conf_proxy *parent);
int	 conf_ssl_set(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_cert(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_protocols(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_command(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_ticket_key(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_cache(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_verify(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_ssl_set_name(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);

/* conf_upstream.c */
int	 conf_set_upstream(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_server(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_method(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_hash(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_random(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_keepalive(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_keepalive_opt(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_zone(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_ups_health_check(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_upstream_finish(struct conf_parser *);

/* conf_static.c */
int	 conf_set_root(struct conf_parser *, const struct conf_cmd *, int,
	    char **, void *);
int	 conf_set_index(struct conf_parser *, const struct conf_cmd *, int,
	    char **, void *);
int	 conf_set_autoindex(struct conf_parser *, const struct conf_cmd *, int,
	    char **, void *);
int	 conf_set_ims(struct conf_parser *, const struct conf_cmd *, int,
	    char **, void *);
int	 conf_set_expires(struct conf_parser *, const struct conf_cmd *, int,
	    char **, void *);
int	 conf_set_add_header(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
int	 conf_set_try_files(struct conf_parser *, const struct conf_cmd *,
	    int, char **, void *);
void	 conf_static_defaults(struct conf_parser *, struct conf_loc *http);
void	 conf_static_merge(struct conf_loc *, const struct conf_loc *parent);

#endif

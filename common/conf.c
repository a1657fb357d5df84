/*
 * conf.c: reading nginx's configuration grammar.
 *
 *   file      = statement*
 *   statement = word word* ";" | word word* "{" statement* "}"
 *
 * Words may be quoted with " or '; a backslash escapes the next
 * character; "#" at the start of a word comments out the rest of the
 * line.  Errors are reported as "FILE:LINE: message" and reading goes on,
 * so that one run names every error in the files.
 */
#include "core.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

enum tok {
	TOK_WORD,
	TOK_SEMI,
	TOK_OPEN,
	TOK_CLOSE,
	TOK_EOF,
	TOK_ERROR,
};

static int gen_counter;

void
conf_error(struct conf_parser *cp, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	cp->cp_gen->g_errors++;
	if (cp->cp_gen->g_errors > CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cp->cp_in != NULL)
		log_emerg("%s:%d: %s", cp->cp_in->in_path, cp->cp_line, msg);
	else
		log_emerg("%s", msg);
	if (cp->cp_gen->g_errors == CONF_MAX_ERRORS)
		log_emerg("too many errors, not reporting the rest");
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_special(int c)
{
	return c == ';' || c == '{' || c == '}';
}

/*
 * Read one token.  Words are unescaped into buf; *quoted tells whether
 * any part of the word was quoted (a quoted ";" is a word, not a
 * terminator).
 */
static enum tok
conf_next(struct conf_parser *cp, char *buf, size_t len, int *line)
{
	struct conf_input *in = cp->cp_in;
	const char *p = in->in_p, *end = in->in_end;
	size_t n = 0;
	char q;

	if (cp->cp_unget != -1) {
		enum tok t = cp->cp_unget;

		cp->cp_unget = -1;
		*line = in->in_line;
		return t;
	}
	for (;;) {
		while (p < end && is_space((unsigned char)*p)) {
			if (*p == '\n')
				in->in_line++;
			p++;
		}
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	*line = in->in_line;
	if (p == end) {
		in->in_p = p;
		return TOK_EOF;
	}
	if (is_special((unsigned char)*p)) {
		in->in_p = p + 1;
		return *p == ';' ? TOK_SEMI : *p == '{' ? TOK_OPEN : TOK_CLOSE;
	}

#define PUT(ch) do {							\
	if (n + 1 >= len) {						\
		cp->cp_line = *line;					\
		conf_error(cp, "too long parameter \"%.32s...\" started", \
		    buf);						\
		in->in_p = p;						\
		return TOK_ERROR;					\
	}								\
	buf[n++] = (ch);						\
} while (0)

	buf[0] = '\0';
	if (*p == '"' || *p == '\'') {
		q = *p++;
		for (;;) {
			if (p == end) {
				cp->cp_line = *line;
				conf_error(cp, "unexpected end of file, "
				    "expecting %s", q == '"' ? "'\"'" : "\"'\"");
				in->in_p = p;
				return TOK_ERROR;
			}
			if (*p == q) {
				p++;
				break;
			}
			if (*p == '\n')
				in->in_line++;
			if (*p == '\\' && p + 1 < end) {
				switch (p[1]) {
				case '"': case '\'': case '\\':
					PUT(p[1]); p += 2; continue;
				case 't': PUT('\t'); p += 2; continue;
				case 'r': PUT('\r'); p += 2; continue;
				case 'n': PUT('\n'); p += 2; continue;
				}
			}
			PUT(*p);
			p++;
		}
		buf[n] = '\0';
		/* as nginx: "if ($a = "")": the ")" is the next word */
		if (p < end && !is_space((unsigned char)*p) &&
		    !is_special((unsigned char)*p) && *p != ')') {
			cp->cp_line = in->in_line;
			conf_error(cp, "unexpected \"%c\"", *p);
			in->in_p = p;
			return TOK_ERROR;
		}
		in->in_p = p;
		return TOK_WORD;
	}

	while (p < end && !is_space((unsigned char)*p)) {
		if (*p == '{' && n > 0 && buf[n - 1] == '$') {
			/* "${name}" inside a word; ";" still ends the word */
			PUT('{');
			p++;
			while (p < end && *p != '}' && *p != ';' && *p != '{' &&
			    !is_space((unsigned char)*p)) {
				PUT(*p);
				p++;
			}
			if (p < end && *p == '}') {
				PUT('}');
				p++;
			}
			continue;
		}
		if (is_special((unsigned char)*p))
			break;
		if (*p == '\\' && p + 1 < end) {
			/*
			 * As nginx: \" \' \\ \t \r \n are unescaped; any other
			 * escaped character is kept with its backslash, and is
			 * not special (\; does not end the word).
			 */
			switch (p[1]) {
			case '"': case '\'': case '\\':
				PUT(p[1]); break;
			case 't': PUT('\t'); break;
			case 'r': PUT('\r'); break;
			case 'n': PUT('\n'); break;
			default:
				if (p[1] == '\n')
					in->in_line++;
				PUT('\\');
				PUT(p[1]);
				break;
			}
			p += 2;
			continue;
		}
		PUT(*p);
		p++;
	}
	buf[n] = '\0';
	in->in_p = p;
	return TOK_WORD;
#undef PUT
}

/* skip the rest of a block whose "{" has been read */
int
conf_skip_block(struct conf_parser *cp)
{
	char buf[4096];
	int depth = 1, line;
	enum tok t;

	while (depth > 0) {
		t = conf_next(cp, buf, sizeof(buf), &line);
		if (t == TOK_OPEN)
			depth++;
		else if (t == TOK_CLOSE)
			depth--;
		else if (t == TOK_EOF)
			return -1;
	}
	return 0;
}

const struct conf_cmd *
conf_cmd_find(const char *name)
{
	return conf_cmd_find_ctx(name, 0);
}

/*
 * As in nginx, one name may be two directives in different contexts
 * ("server" in http and in upstream): the one allowed in ctx, else the
 * first of the name, to be reported as not allowed here.
 */
const struct conf_cmd *
conf_cmd_find_ctx(const char *name, int ctx)
{
	const struct conf_cmd *c, *first = NULL;

	for (c = conf_cmds; c->c_name != NULL; c++) {
		if (strcmp(c->c_name, name) != 0)
			continue;
		if (first == NULL)
			first = c;
		if (ctx == 0 || (c->c_ctx & ctx))
			return c;
	}
	return first;
}

static void *
conf_target(struct conf_parser *cp, const struct conf_cmd *c)
{
	switch (c->c_which) {
	case CONF_MAIN:
		return cp->cp_main;
	case CONF_SRV:
		return cp->cp_srv;
	case CONF_LOC:
		return cp->cp_loc;
	}
	return NULL;
}

static void
conf_run(struct conf_parser *cp, int ctx, int argc, char **argv, enum tok t)
{
	const struct conf_cmd *c;
	int block = t == TOK_OPEN;

	var_where(cp->cp_in->in_path, cp->cp_line);
	if (ctx == CTX_MAP && strcmp(argv[0], "include") != 0) {
		if (block) {
			conf_error(cp, "unexpected \"{\"");
			conf_skip_block(cp);
			return;
		}
		conf_map_entry(cp, argc, argv);
		return;
	}
	if (ctx == CTX_TYPES && strcmp(argv[0], "include") != 0) {
		if (block) {
			conf_error(cp, "unexpected \"{\"");
			conf_skip_block(cp);
			return;
		}
		conf_types_add(cp, argc, argv);
		return;
	}
	if ((c = conf_cmd_find_ctx(argv[0], ctx)) == NULL) {
		conf_error(cp, "unknown directive \"%s\"", argv[0]);
		goto skip;
	}
	if (!(c->c_ctx & ctx)) {
		conf_error(cp, "\"%s\" directive is not allowed here", argv[0]);
		goto skip;
	}
	if (c->c_block && !block) {
		conf_error(cp, "directive \"%s\" has no opening \"{\"", argv[0]);
		return;
	}
	if (!c->c_block && block) {
		conf_error(cp, "directive \"%s\" is not terminated by \";\"",
		    argv[0]);
		goto skip;
	}
	if (argc - 1 < c->c_minargs ||
	    (c->c_maxargs != ARGS_ANY && argc - 1 > c->c_maxargs)) {
		conf_error(cp, "invalid number of arguments in \"%s\" directive",
		    argv[0]);
		goto skip;
	}
	/* a block setter reads (or skips) its own block */
	c->c_set(cp, c, argc, argv, conf_target(cp, c));
	return;
skip:
	if (block)
		conf_skip_block(cp);
}

/*
 * Read statements until the "}" closing this block (in_block) or the
 * end of the input (a file, included or not).  Returns -1 at an
 * unexpected end of file inside a block.
 */
/*
 * After a lexical error: skip to the end of the statement, so that one
 * mistake is reported once.  A "}" or the end of the input is left for
 * the caller to read.
 */
static void
conf_resync(struct conf_parser *cp)
{
	char buf[4096];
	int line;
	enum tok t;

	for (;;) {
		t = conf_next(cp, buf, sizeof(buf), &line);
		if (t == TOK_SEMI)
			return;
		if (t == TOK_OPEN) {
			conf_skip_block(cp);
			return;
		}
		if (t == TOK_CLOSE || t == TOK_EOF) {
			cp->cp_unget = t;
			return;
		}
	}
}

static int
conf_parse(struct conf_parser *cp, int ctx, int in_block)
{
	char *argv[CONF_MAX_ARGS + 1];
	char buf[4096];
	int argc, line, first_line, too_many;
	enum tok t;

	for (;;) {
		argc = 0;
		too_many = 0;
		first_line = -1;
		for (;;) {
			t = conf_next(cp, buf, sizeof(buf), &line);
			if (first_line == -1)
				first_line = line;
			if (t != TOK_WORD)
				break;
			if (argc == CONF_MAX_ARGS) {
				if (!too_many++) {
					cp->cp_line = first_line;
					conf_error(cp, "too many arguments in "
					    "\"%s\" directive", argv[0]);
				}
				continue;
			}
			argv[argc++] = arena_strdup(cp->cp_arena, buf);
		}
		argv[argc] = NULL;
		cp->cp_line = first_line;
		if (too_many) {
			if (t == TOK_OPEN)
				conf_skip_block(cp);
			continue;
		}
		switch (t) {
		case TOK_ERROR:
			conf_resync(cp);
			continue;
		case TOK_EOF:
			/* reported once, by the innermost block */
			if (cp->cp_eof_reported)
				return -1;
			if (argc > 0) {
				cp->cp_line = line;
				conf_error(cp, "unexpected end of file, "
				    "expecting \";\" or \"}\"");
				cp->cp_eof_reported = 1;
				return -1;
			}
			if (in_block) {
				cp->cp_line = line;
				conf_error(cp, "unexpected end of file, "
				    "expecting \"}\"");
				cp->cp_eof_reported = 1;
				return -1;
			}
			return 0;
		case TOK_CLOSE:
			if (argc > 0) {
				conf_error(cp, "unexpected \"}\"");
				if (in_block)
					return 0;
				continue;
			}
			if (!in_block) {
				conf_error(cp, "unexpected \"}\"");
				continue;
			}
			return 0;
		case TOK_SEMI:
		case TOK_OPEN:
			if (argc == 0) {
				conf_error(cp, "unexpected \"%c\"",
				    t == TOK_SEMI ? ';' : '{');
				if (t == TOK_OPEN)
					conf_skip_block(cp);
				continue;
			}
			conf_run(cp, ctx, argc, argv, t);
			break;
		default:
			break;
		}
	}
}

int
conf_parse_block(struct conf_parser *cp, int ctx)
{
	return conf_parse(cp, ctx, 1);
}

/* relative paths: to the prefix, or (from_conf) to the config's folder */
char *
conf_full_path(struct conf_parser *cp, const char *path, int from_conf)
{
	const char *base = from_conf ? cp->cp_gen->g_conf_dir :
	    cp->cp_gen->g_prefix;
	size_t bl, pl;
	char *s;

	if (path[0] == '/' || strcmp(path, "stderr") == 0)
		return arena_strdup(cp->cp_arena, path);
	bl = strlen(base);
	pl = strlen(path);
	if ((s = arena_alloc(cp->cp_arena, bl + pl + 1)) == NULL)
		return NULL;
	memcpy(s, base, bl);
	memcpy(s + bl, path, pl + 1);
	return s;
}

static struct conf_file *
conf_read_file(struct conf_parser *cp, const char *path)
{
	struct conf_file *f, **fp;
	struct stat st;
	ssize_t r;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_error(cp, "open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		conf_error(cp, "\"%s\" is not a regular file", path);
		close(fd);
		return NULL;
	}
	f = arena_alloc(cp->cp_arena, sizeof(*f));
	f->cf_path = arena_strdup(cp->cp_arena, path);
	f->cf_data = arena_alloc(cp->cp_arena, st.st_size + 1);
	while (off < (size_t)st.st_size) {
		r = read(fd, f->cf_data + off, st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += r;
	}
	close(fd);
	f->cf_len = off;
	for (fp = &cp->cp_gen->g_files; *fp != NULL; fp = &(*fp)->cf_next)
		;
	*fp = f;
	return f;
}

static int
conf_parse_text(struct conf_parser *cp, const char *name, const char *data,
    size_t len, int ctx)
{
	struct conf_input in, *saved = cp->cp_in;
	int rc;

	in.in_path = name;
	in.in_p = data;
	in.in_end = data + len;
	in.in_line = 1;
	cp->cp_in = &in;
	rc = conf_parse(cp, ctx, 0);
	cp->cp_in = saved;
	return rc;
}

int
conf_include(struct conf_parser *cp, const char *pattern, int ctx)
{
	struct conf_file *f;
	glob_t gl;
	char *path;
	size_t i;
	int rc, line = cp->cp_line;

	if (cp->cp_depth >= 16) {
		conf_error(cp, "includes nested too deeply (a loop?)");
		return -1;
	}
	path = conf_full_path(cp, pattern, 1);
	if (strpbrk(pattern, "*?[") == NULL) {
		if ((f = conf_read_file(cp, path)) == NULL)
			return -1;
		cp->cp_depth++;
		conf_parse_text(cp, f->cf_path, f->cf_data, f->cf_len, ctx);
		cp->cp_depth--;
		cp->cp_line = line;
		return 0;
	}
	/* a pattern matching nothing, even in no folder, is not an error */
	rc = glob(path, 0, NULL, &gl);
	if (rc == GLOB_NOMATCH || rc == GLOB_ABORTED)
		return 0;
	if (rc != 0) {
		conf_error(cp, "glob() \"%s\" failed", path);
		return -1;
	}
	/* glob() sorts, so includes are read in a stable order */
	for (i = 0; i < gl.gl_pathc; i++) {
		struct stat st;

		if (stat(gl.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		if ((f = conf_read_file(cp, gl.gl_pathv[i])) == NULL)
			continue;
		cp->cp_depth++;
		conf_parse_text(cp, f->cf_path, f->cf_data, f->cf_len, ctx);
		cp->cp_depth--;
		cp->cp_line = line;
	}
	globfree(&gl);
	return 0;
}

/*
 * Parse prefix/path plus the -g parameters into a new generation.
 * Returns NULL after reporting every error.
 */
struct gen *
conf_load(const char *prefix, const char *path, const char *params,
    int is_root)
{
	struct conf_parser cp;
	struct conf_file *f;
	struct gen *g;
	struct arena *a;
	char *slash;
	size_t pl;

	if ((a = arena_new()) == NULL)
		return NULL;
	g = arena_alloc(a, sizeof(*g));
	g->g_arena = a;
	g->g_id = ++gen_counter;
	pl = strlen(prefix);
	g->g_prefix = arena_alloc(a, pl + 2);
	memcpy(g->g_prefix, prefix, pl);
	if (pl == 0 || prefix[pl - 1] != '/')
		g->g_prefix[pl++] = '/';
	memset(&cp, 0, sizeof(cp));
	var_names_reset();
	cp.cp_unget = -1;
	cp.cp_gen = g;
	cp.cp_arena = a;
	cp.cp_is_root = is_root;
	g->g_conf_path = conf_full_path(&cp, path, 0);
	g->g_conf_dir = arena_strdup(a, g->g_conf_path);
	slash = strrchr(g->g_conf_dir, '/');
	slash[1] = '\0';
	cp.cp_main = g->g_main = conf_main_new(a);

	if (params != NULL && *params != '\0')
		conf_parse_text(&cp, "command line", params, strlen(params),
		    CTX_MAIN);
	if ((f = conf_read_file(&cp, g->g_conf_path)) != NULL)
		conf_parse_text(&cp, f->cf_path, f->cf_data, f->cf_len,
		    CTX_MAIN);
	/* after other errors, a variable's set may be in a skipped block */
	if (g->g_errors == 0)
		conf_vars_check(&cp);
	if (g->g_errors == 0)
		conf_finish(&cp);
	/* certificates and keys are read here: -t and a reload check them */
	if (g->g_errors == 0)
		conf_ssl_build(g);
	if (g->g_errors > 0) {
		conf_ssl_free(g);
		regex_free_all(g->g_regexes);
		arena_free(a);
		return NULL;
	}
	return g;
}

void
conf_free(struct gen *g)
{
	if (g != NULL) {
		conf_logs_close(g);
		conf_ssl_free(g);
		regex_free_all(g->g_regexes);
		arena_free(g->g_arena);
	}
}

const char *
conf_ctx_names(int ctx, char *buf, size_t len)
{
	static const char *const names[] = {
		"main", "events", "http", "server", "location", "types",
		"upstream", "map", "if",
	};
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < nitems(names); i++) {
		if (!(ctx & (1 << i)))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    n ? "," : "", names[i]);
	}
	return buf;
}

/* portico -L */
void
conf_print_directives(FILE *fp)
{
	const struct conf_cmd *c;
	char ctx[128];

	const struct conf_cmd *d;
	int all;

	/* a name that is two directives ("server") is one line */
	for (c = conf_cmds; c->c_name != NULL; c++) {
		if (conf_cmd_find(c->c_name) != c)
			continue;
		all = 0;
		for (d = c; d->c_name != NULL; d++)
			if (strcmp(d->c_name, c->c_name) == 0)
				all |= d->c_ctx;
		fprintf(fp, "%s\t%s\n", c->c_name,
		    conf_ctx_names(all, ctx, sizeof(ctx)));
	}
}

/* unit tests for common/var.c: compiling "$name" and "${name}" references */
#include "../../common/var.c"
#include "tap.h"

#include "arena.h"

/*
 * A template written as its parts: "lit" for a literal, "$name" for a
 * variable (by var_name()), "$http_:x" for $http_x, joined by '|'.
 */
static void
describe(const struct var_tpl *t, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < t->vt_nparts && n < len; i++) {
		const struct var_part *p = &t->vt_parts[i];

		if (p->vp_var == VAR_LITERAL)
			n += snprintf(buf + n, len - n, "%s%.*s", i ? "|" : "",
			    (int)p->vp_len, p->vp_str);
		else if (p->vp_var == VAR_HTTP_)
			n += snprintf(buf + n, len - n, "%s$http_:%.*s",
			    i ? "|" : "", (int)p->vp_len, p->vp_str);
		else
			n += snprintf(buf + n, len - n, "%s$%s", i ? "|" : "",
			    var_name(p->vp_var));
	}
}

/* compile src from a heap copy that is wiped and freed right after */
static struct var_tpl *
compile(struct arena *a, const char *src, char *err, size_t errlen)
{
	struct var_tpl *t;
	size_t len = strlen(src);
	char *copy = malloc(len + 1);

	memcpy(copy, src, len + 1);
	err[0] = '\0';
	t = var_compile(a, copy, err, errlen);
	memset(copy, '#', len);
	free(copy);
	return t;
}

static void
compiles(struct arena *a, const char *src, const char *parts, int has_vars)
{
	char err[256], got[1024];
	struct var_tpl *t;

	t = compile(a, src, err, sizeof(err));
	if (t == NULL) {
		ok(0, "compiles: %s", src);
		printf("#   error: %s\n", err);
		return;
	}
	describe(t, got, sizeof(got));
	ok(strcmp(got, parts) == 0 && t->vt_has_vars == has_vars &&
	    strcmp(t->vt_src, src) == 0, "compiles: \"%s\"", src);
	if (strcmp(got, parts) != 0)
		printf("#   parts %s, expected %s\n", got, parts);
}

static void
fails(struct arena *a, const char *src, const char *msg)
{
	char err[256];
	struct var_tpl *t;

	t = compile(a, src, err, sizeof(err));
	ok(t == NULL, "rejected: \"%s\"", src);
	is_str(err, msg, "error text for \"%s\"", src);
}

int
main(void)
{
	static const struct {
		const char *src, *parts;
		int has_vars;
	} good[] = {
		{ "", "", 0 },
		{ "plain text, 100%", "plain text, 100%", 0 },
		{ "$host", "$host", 1 },
		{ "${host}x", "$host|x", 1 },
		{ "x$host", "x|$host", 1 },
		{ "$host.", "$host|.", 1 },
		{ "$host$request_uri", "$host|$request_uri", 1 },
		{ "https://$host$request_uri", "https://|$host|$request_uri", 1 },
		{ "a$uri?$args!", "a|$uri|?|$args|!", 1 },
		{ "$query_string", "$args", 1 },
		{ "$http_x_real_ip", "$http_:x_real_ip", 1 },
		{ "${http_user_agent}_", "$http_:user_agent|_", 1 },
		{ "[$remote_addr:$remote_port]",
		    "[|$remote_addr|:|$remote_port|]", 1 },
		{ "$scheme$is_args$server_name$server_port$server_addr",
		    "$scheme|$is_args|$server_name|$server_port|$server_addr",
		    1 },
		{ "$request_method $server_protocol $pid $connection "
		    "$connection_requests $nginx_version",
		    "$request_method| |$server_protocol| |$pid| |$connection| "
		    "|$connection_requests| |$nginx_version", 1 },
		{ "$host-x", "$host|-x", 1 },
	};
	static const struct {
		const char *src, *msg;
	} bad[] = {
		{ "${host", "the closing bracket in \"host\" variable is "
		    "missing" },
		{ "${host-x}", "the closing bracket in \"host\" variable is "
		    "missing" },
		{ "$", "invalid variable name in \"$\"" },
		{ "cost: 5$", "invalid variable name in \"cost: 5$\"" },
		{ "$ host", "invalid variable name in \"$ host\"" },
		{ "${}", "invalid variable name in \"${}\"" },
		{ "$host$", "invalid variable name in \"$host$\"" },
	};
	struct arena *a = arena_new();
	struct var_tpl *t;
	char err[8];
	size_t i;

	for (i = 0; i < nitems(good); i++)
		compiles(a, good[i].src, good[i].parts, good[i].has_vars);
	for (i = 0; i < nitems(bad); i++)
		fails(a, bad[i].src, bad[i].msg);

	/* the parts: order, kinds, lengths, and copies of the source */
	t = compile(a, "<$host>${uri}$http_x_y", err, sizeof(err));
	ok(t != NULL && t->vt_nparts == 5, "five parts");
	if (t != NULL && t->vt_nparts == 5) {
		ok(t->vt_parts[0].vp_var == VAR_LITERAL &&
		    t->vt_parts[0].vp_len == 1 &&
		    memcmp(t->vt_parts[0].vp_str, "<", 1) == 0,
		    "literal before");
		ok(t->vt_parts[1].vp_var == VAR_HOST, "$host");
		ok(t->vt_parts[2].vp_var == VAR_LITERAL &&
		    t->vt_parts[2].vp_len == 1 && t->vt_parts[2].vp_str[0] == '>'
		    && t->vt_parts[2].vp_str[1] == '\0',
		    "literal between, NUL-terminated copy");
		ok(t->vt_parts[3].vp_var == VAR_URI, "${uri}");
		ok(t->vt_parts[4].vp_var == VAR_HTTP_ &&
		    t->vt_parts[4].vp_len == 3 &&
		    strcmp(t->vt_parts[4].vp_str, "x_y") == 0,
		    "$http_x_y: name after http_");
	}
	/* a short error buffer is truncated, not overrun */
	ok(compile(a, "${nosuchvariable", err, sizeof(err)) == NULL &&
	    strlen(err) == sizeof(err) - 1, "error text fits errlen");

	/*
	 * An unknown name is a user variable ("set", "map") that may be
	 * defined further on; one never defined is named at the end, with
	 * where it was first used.
	 */
	{
		const char *file = NULL, *name;
		int line = 0;

		var_names_reset();
		var_where("x.conf", 7);
		t = compile(a, "a $hostx b $foo", err, sizeof(err));
		ok(t != NULL && t->vt_nparts == 4 &&
		    t->vt_parts[1].vp_var == VAR_USER &&
		    t->vt_parts[3].vp_var == VAR_USER &&
		    t->vt_parts[1].vp_len == 0 && t->vt_parts[3].vp_len == 1,
		    "unknown names compile to user variable slots 0 and 1");
		t = compile(a, "$http_", err, sizeof(err));
		ok(t != NULL && t->vt_parts[0].vp_var == VAR_USER,
		    "$http_ alone is no header: a user variable");
		name = var_user_undefined(&file, &line);
		is_str(name, "hostx", "first undefined variable named");
		is_str(file, "x.conf", "with the file of its first use");
		is_int(line, 7, "and the line");
		is_int(var_user_define(a, "hostx"), 0, "set $hostx: slot 0");
		is_int(var_user_define(a, "http_"), 2, "set $http_: slot 2");
		is_str(var_user_undefined(&file, &line), "foo",
		    "then $foo is the undefined one");
		var_names_add(a, "foo");
		ok(var_user_undefined(&file, &line) == NULL,
		    "a named capture read later defines it");
		ok(var_is_builtin("uri") && var_is_builtin("http_host") &&
		    !var_is_builtin("hostx") && !var_is_builtin("newname"),
		    "var_is_builtin");
		is_int(var_user_count(), 3, "three user variables");
		var_names_reset();
		is_int(var_user_count(), 0, "reset empties the table");
	}

	is_str(var_name(VAR_HOST), "host", "var_name");
	is_str(var_name(VAR_HTTP_), "http_", "var_name http_");
	is_str(var_name(VAR_NVARS), "?", "var_name out of range");
	is_str(var_name(VAR_LITERAL), "?", "var_name literal");

	arena_free(a);
	return tap_done();
}

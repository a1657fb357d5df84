/*
 * main.c: the command line, as nginx's:
 *   portico [-hvVtTqL] [-s signal] [-a command] [-p prefix] [-c file]
 *       [-g directives]
 */
#include "core.h"

#include <signal.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <zlib.h>

#include "admin.h"
#include "conf.h"
#include "log.h"
#include "master.h"
#include "proc.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
"Usage: portico [-?hvVtTqL] [-s signal] [-a command] [-p prefix]\n"
"               [-c filename] [-g directives]\n"
"\n"
"Options:\n"
"  -?,-h         : this help\n"
"  -v            : show version and exit\n"
"  -V            : show version, libraries and configure options, then exit\n"
"  -t            : test configuration and exit\n"
"  -T            : test configuration, dump it and exit\n"
"  -q            : suppress non-error messages during configuration testing\n"
"  -L            : list the directives and their contexts, then exit\n"
"  -s signal     : send signal to a master process: stop, quit, reopen, reload\n"
"  -a command    : ask a running portico: health (the upstream peers' state)\n"
"  -p prefix     : set prefix path (default: %s)\n"
"  -c filename   : set configuration file (default: conf/portico.conf)\n"
"  -g directives : set global directives out of configuration file\n",
	    PORTICO_PREFIX);
}

static void
show_version(int full)
{
	char pcre[64] = "";

	fprintf(stderr, "portico version: %s\n", PORTICO_VER);
	if (!full)
		return;
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	fprintf(stderr, "built with %s (running with %s)\n",
	    OPENSSL_VERSION_TEXT, OpenSSL_version(OPENSSL_VERSION));
	fprintf(stderr, "built with PCRE2 %d.%d (running with %s)\n",
	    PCRE2_MAJOR, PCRE2_MINOR, pcre);
	fprintf(stderr, "built with zlib %s (running with %s)\n",
	    ZLIB_VERSION, zlibVersion());
	fprintf(stderr, "configure arguments: %s\n", PORTICO_CONFIGURE_ARGS);
}

static int
send_signal(struct gen *g, const char *name)
{
	static const struct { const char *n; int sig; } sigs[] = {
		{ "stop", SIGTERM }, { "quit", SIGQUIT },
		{ "reopen", SIGUSR1 }, { "reload", SIGHUP },
	};
	size_t i;
	pid_t pid;

	for (i = 0; i < nitems(sigs); i++)
		if (strcmp(sigs[i].n, name) == 0)
			break;
	if (i == nitems(sigs))
		return 1;
	if ((pid = proc_pid_read(g->g_main->mc_pid)) == -1)
		return 1;
	if (kill(pid, sigs[i].sig) == -1) {
		log_errx("kill(%d, %d) failed (%d: %s)", (int)pid, sigs[i].sig,
		    errno, strerror(errno));
		return 1;
	}
	return 0;
}

static void
dump_config(const struct gen *g)
{
	const struct conf_file *f;

	for (f = g->g_files; f != NULL; f = f->cf_next) {
		printf("# configuration file %s:\n", f->cf_path);
		fwrite(f->cf_data, 1, f->cf_len, stdout);
		if (f->cf_len > 0 && f->cf_data[f->cf_len - 1] != '\n')
			putchar('\n');
		putchar('\n');
	}
	fflush(stdout);
}

/* the absolute path to exec on a binary upgrade */
static char *
find_exe(const char *argv0)
{
	char buf[PATH_MAX], *path, *dir, *save = NULL;
	struct stat st;

	if (strchr(argv0, '/') != NULL)
		return realpath(argv0, NULL);
	if ((path = getenv("PATH")) == NULL)
		return NULL;
	path = strdup(path);
	for (dir = strtok_r(path, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, argv0);
		if (stat(buf, &st) == 0 && (st.st_mode & S_IXUSR)) {
			free(path);
			return realpath(buf, NULL);
		}
	}
	free(path);
	return NULL;
}

static char *
join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			strncat(s, " ", len - strlen(s) - 1);
		strncat(s, argv[i], len - strlen(s) - 1);
	}
	return s;
}

/* static: the options live as long as the process */
static struct master_opts o;

int
main(int argc, char **argv)
{
	struct gen *g;
	const char *sig = NULL, *admin = NULL, *conf = "conf/portico.conf";
	int test = 0, dump = 0, quiet = 0, i, rc;
	char *p;

	memset(&o, 0, sizeof(o));
	o.mo_prefix = PORTICO_PREFIX;
	log_to_stderr(LOG_NOTICE);
	log_also_stderr(1);

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (*p++ != '-') {
			fprintf(stderr, "portico: invalid option: \"%s\"\n",
			    argv[i]);
			return 1;
		}
		while (*p) {
			const char **val = NULL;

			switch (*p++) {
			case '?': case 'h':
				usage(stderr);
				return 0;
			case 'v':
				show_version(0);
				return 0;
			case 'V':
				show_version(1);
				return 0;
			case 't': test = 1; break;
			case 'T': test = dump = 1; break;
			case 'q': quiet = 1; break;
			case 'L':
				conf_print_directives(stdout);
				return 0;
			case 's': val = &sig; break;
			case 'a': val = &admin; break;
			case 'p': val = &o.mo_prefix; break;
			case 'c': val = &conf; break;
			case 'g': val = &o.mo_params; break;
			default:
				fprintf(stderr, "portico: invalid option: "
				    "\"%c\"\n", p[-1]);
				return 1;
			}
			if (val == NULL)
				continue;
			if (*p) {
				*val = p;
			} else if (++i < argc) {
				*val = argv[i];
			} else {
				fprintf(stderr, "portico: option \"-%c\" "
				    "requires %s\n", p[-1], p[-1] == 's' ?
				    "signal name" : p[-1] == 'a' ? "command" :
				    p[-1] == 'g' ?
				    "parameter" : "file name");
				return 1;
			}
			break;
		}
	}
	if (sig != NULL && strcmp(sig, "stop") && strcmp(sig, "quit") &&
	    strcmp(sig, "reopen") && strcmp(sig, "reload")) {
		fprintf(stderr, "portico: invalid option: \"-s %s\"\n", sig);
		return 1;
	}
	/* argv is about to become the process title: keep copies */
	o.mo_conf = strdup(conf);
	o.mo_prefix = strdup(o.mo_prefix);
	if (o.mo_params != NULL)
		o.mo_params = strdup(o.mo_params);
	conf = o.mo_conf;

	g = conf_load(o.mo_prefix, conf, o.mo_params, geteuid() == 0);
	if (test) {
		/* the path as the user will recognise it */
		char path[PATH_MAX];

		if (conf[0] == '/')
			snprintf(path, sizeof(path), "%s", conf);
		else
			snprintf(path, sizeof(path), "%s%s%s", o.mo_prefix,
			    o.mo_prefix[strlen(o.mo_prefix) - 1] == '/' ?
			    "" : "/", conf);
		if (g == NULL) {
			fprintf(stderr, "portico: configuration file %s test "
			    "failed\n", path);
			return 1;
		}
		if (!quiet) {
			fprintf(stderr, "portico: the configuration file %s "
			    "syntax is ok\n", path);
			fprintf(stderr, "portico: configuration file %s test "
			    "is successful\n", path);
		}
		if (dump)
			dump_config(g);
		conf_free(g);
		return 0;
	}
	if (g == NULL)
		return 1;
	if (admin != NULL) {
		rc = admin_run(g, admin);
		conf_free(g);
		return rc;
	}
	if (sig != NULL) {
		rc = send_signal(g, sig);
		conf_free(g);
		return rc;
	}

	/* keep what exec needs before the title overwrites argv */
	o.mo_exe = find_exe(argv[0]);
	o.mo_argv = calloc(argc + 1, sizeof(char *));
	for (i = 0; i < argc; i++)
		o.mo_argv[i] = strdup(argv[i]);
	o.mo_cmdline = join_args(argc, argv);
	if (o.mo_exe == NULL || o.mo_argv == NULL || o.mo_cmdline == NULL) {
		log_emerg("cannot find the path of \"%s\"", argv[0]);
		return 1;
	}
	proc_title_init(argc, argv);

	if (log_open_set(g->g_main->mc_nerror_logs, g->g_main->mc_error_log,
	    g->g_main->mc_error_level) == -1) {
		log_emerg("cannot open the error log (%d: %s)", errno,
		    strerror(errno));
		return 1;
	}
	rc = master_run(g, &o);
	return rc;
}

/*
 * http_log.c: one line per request to each access_log of the request's
 * location.  A log with buffer= collects lines in a worker-local buffer
 * written when full, after flush=, on reopen and at exit.
 */
#include "core.h"

#include "clock.h"
#include "event.h"
#include "http_log.h"
#include "http_var.h"
#include "log.h"

#define LOG_LINE_MAX	8192

static struct timer flush_timer;
static struct gen *flush_gen;

static void
file_write(struct conf_logfile *lf, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(lf->lf_fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_crit("write() to \"%s\" failed", lf->lf_path);
			return;
		}
		p += n;
		len -= n;
	}
}

static void
file_flush(struct conf_logfile *lf)
{
	if (lf->lf_buflen == 0)
		return;
	file_write(lf, lf->lf_buf, lf->lf_buflen);
	lf->lf_buflen = 0;
}

void
http_log_flush_all(struct gen *g)
{
	struct conf_logfile *lf;

	for (lf = g->g_logfiles; lf != NULL; lf = lf->lf_next)
		file_flush(lf);
}

void
http_log_reopen(struct gen *g)
{
	http_log_flush_all(g);
	conf_logs_reopen(g);
}

/* flush= : write the buffers whose oldest line is old enough */
static void
on_flush(struct timer *t)
{
	struct conf_logfile *lf;
	msec_t next = 0, due;

	for (lf = flush_gen->g_logfiles; lf != NULL; lf = lf->lf_next) {
		if (lf->lf_buflen == 0 || lf->lf_flush == 0)
			continue;
		due = lf->lf_since + lf->lf_flush;
		if (due <= clock_now())
			file_flush(lf);
		else if (next == 0 || due < next)
			next = due;
	}
	if (next > 0)
		timer_set(&flush_timer, next - clock_now());
}

static void
file_append(struct gen *g, struct conf_logfile *lf, const char *p, size_t len)
{
	if (lf->lf_bufsize == 0 || lf->lf_fd == -1) {
		file_write(lf, p, len);
		return;
	}
	if (lf->lf_buf == NULL &&
	    (lf->lf_buf = malloc(lf->lf_bufsize)) == NULL) {
		file_write(lf, p, len);
		return;
	}
	if (lf->lf_buflen + len > (size_t)lf->lf_bufsize)
		file_flush(lf);
	if (len > (size_t)lf->lf_bufsize) {
		file_write(lf, p, len);
		return;
	}
	if (lf->lf_buflen == 0)
		lf->lf_since = clock_now();
	memcpy(lf->lf_buf + lf->lf_buflen, p, len);
	lf->lf_buflen += len;
	if (flush_gen == NULL) {
		/* a zeroed timer would look armed: initialize it first */
		timer_init(&flush_timer, on_flush, NULL);
		flush_gen = g;
	}
	if (lf->lf_flush > 0 && !timer_is_armed(&flush_timer))
		timer_set(&flush_timer, lf->lf_flush);
}

void
http_log_request(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_access *a;
	char line[LOG_LINE_MAX];
	struct buf b;

	if (r->r_logged || r->r_loc == NULL || r->r_status == 0)
		return;
	r->r_logged = 1;
	for (a = r->r_loc->lc_access; a != NULL; a = a->al_next) {
		if (a->al_if != NULL && http_var_is_false(c, a->al_if))
			continue;
		b.b_start = b.b_pos = b.b_last = line;
		b.b_end = line + sizeof(line) - 1;
		/* a line too long for the buffer is cut, not lost */
		http_var_render(c, a->al_fmt->lf_tpl, &b, a->al_fmt->lf_escape,
		    1);
		*b.b_last++ = '\n';
		file_append(c->c_gen, a->al_file, line, b.b_last - line);
	}
}

/*
 * http_static.h: static files: root, alias, index, try_files, the file
 * response (conditional, ranges) and its sending.
 */
#ifndef PORTICO_HTTP_STATIC_H
#define PORTICO_HTTP_STATIC_H

#include "core.h"

#include <time.h>

#include "http_cond.h"

/* byte ranges answered as multipart/byteranges; more get the whole file */
#define HTTP_STATIC_RANGES	16

struct conn;
struct buf;

/* per request: the file being sent and the paths of $request_filename */
struct http_file {
	int		 f_active;	/* f_fd is open */
	int		 f_fd;
	int		 f_sendfile;
	int		 f_corked;	/* TCP_CORK set for this response */
	int		 f_mapped;	/* f_root, f_name are set */
	int		 f_has_file;	/* f_mtime, f_size are of a file */
	int		 f_416;		/* add "Content-Range: bytes *\/size" */
	int64_t		 f_pos;		/* next byte to send */
	int64_t		 f_end;		/* one past the last byte to send */
	int64_t		 f_size;
	time_t		 f_mtime;
	/* several ranges: multipart/byteranges */
	struct http_range f_ranges[HTTP_STATIC_RANGES];
	int		 f_nranges;
	int		 f_range;	/* the one being sent */
	int		 f_tail;	/* the closing boundary is still owed */
	const char	*f_ctype;
	char		 f_boundary[24];
	struct buf	*f_buf;		/* holds the strings below */
	char		*f_root;	/* $document_root */
	size_t		 f_rootlen;
	char		*f_name;	/* $request_filename */
	size_t		 f_namelen;
	char		*f_location;	/* of a directory redirect */
	size_t		 f_locationlen;
};

/* the content phase of a location that serves files: next state */
int	 http_static_handler(struct conn *);
/* try_files: next state, or -1 to go on to the content phase */
int	 http_static_try_files(struct conn *);
/* release what the request holds (at reset and close) */
void	 http_static_reset(struct conn *);
/* is there file data still to send? */
int	 http_static_pending(struct conn *);
/* send more of the file; the output buffer is empty: IO_ step result */
int	 http_static_send(struct conn *, struct buf *out);
/* headers for any response: Location, Content-Range of a 416, expires,
 * add_header; -1 when they do not fit */
int	 http_static_headers(struct conn *, struct buf *out, int status);
/* "http://host[:port]" for a redirect to a path; SIZE_MAX if too long */
size_t	 http_static_origin(struct conn *, char *dst, size_t size);
/* $document_root, $realpath_root, $request_filename: 1 with a value */
int	 http_static_var(struct conn *, int id, const char **v, size_t *len);

#endif

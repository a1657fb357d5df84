#!/usr/bin/perl
# Malformed requests: each gets its status with "Connection: close", the
# connection is closed, nothing after the bad request is answered (a valid
# request sent behind it in the same write is never processed), and the
# reason is in the error log.  Then unusual but valid requests, answered.
# The same tables run against nginx when it is installed; where the two
# differ is reported with diag (only portico's results are asserted).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PorticoTest qw(http parse_response wait_until);

my $SMUGGLE = "GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n";
my $H = "Host: a.test\r\n";

# [ name, raw request ('@T@' becomes a path unique to the case), status,
#   reason in the error log (for a sample) ]
my @bad = (
	# line endings and folding
	['bare LF after the request line', "GET \@T\@ HTTP/1.1\n${H}\r\n", 400,
	    qr/client sent a bare LF|client sent invalid/],
	['bare LF after a header', "GET \@T\@ HTTP/1.1\r\n${H}X: y\n\r\n", 400],
	['bare LF ends the head', "GET \@T\@ HTTP/1.1\r\n${H}\n", 400],
	['all bare LF', "GET \@T\@ HTTP/1.1\n${H}\n" =~ s/\r//gr, 400],
	['bare CR inside a value', "GET \@T\@ HTTP/1.1\r\n${H}X: a\rb\r\n\r\n", 400],
	['bare CR ends a header', "GET \@T\@ HTTP/1.1\r\n${H}X: a\r\r\n\r\n", 400],
	['obs-fold with SP', "GET \@T\@ HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n", 400,
	    qr/client sent (folded|invalid) header line/],
	['obs-fold with HTAB', "GET \@T\@ HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n", 400],
	['first header line starts with SP',
	    "GET \@T\@ HTTP/1.1\r\n X: b\r\n${H}\r\n", 400],
	['SP between name and colon', "GET \@T\@ HTTP/1.1\r\nHost : a.test\r\n\r\n", 400,
	    qr/client sent invalid header line/],
	['HTAB between name and colon', "GET \@T\@ HTTP/1.1\r\n${H}X\t: b\r\n\r\n", 400],
	# control characters
	['NUL in a header value', "GET \@T\@ HTTP/1.1\r\n${H}X: a\0b\r\n\r\n", 400,
	    qr/client sent invalid/],
	['DEL in a header value', "GET \@T\@ HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n", 400],
	['SOH in a header value', "GET \@T\@ HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n", 400],
	['ESC in a header value', "GET \@T\@ HTTP/1.1\r\n${H}X: \x1b[0m\r\n\r\n", 400],
	['FF in a header value', "GET \@T\@ HTTP/1.1\r\n${H}X: a\x0cb\r\n\r\n", 400],
	['NUL in the Host value', "GET \@T\@ HTTP/1.1\r\nHost: a\0.test\r\n\r\n", 400],
	['NUL in the target', "GET /a\0b HTTP/1.1\r\n${H}\r\n", 400],
	['DEL in the target', "GET /a\x7fb HTTP/1.1\r\n${H}\r\n", 400],
	['SOH in the target', "GET /a\x01b HTTP/1.1\r\n${H}\r\n", 400],
	['HTAB in the target', "GET /a\tb HTTP/1.1\r\n${H}\r\n", 400],
	# tokens
	['"(" in the method', "G(T \@T\@ HTTP/1.1\r\n${H}\r\n", 400],
	['NUL in the method', "GE\0T \@T\@ HTTP/1.1\r\n${H}\r\n", 400],
	['empty method', " \@T\@ HTTP/1.1\r\n${H}\r\n", 400],
	['HTAB after the method', "GET\t\@T\@ HTTP/1.1\r\n${H}\r\n", 400],
	['two SP after the method', "GET  \@T\@ HTTP/1.1\r\n${H}\r\n", 400],
	['"(" in a header name', "GET \@T\@ HTTP/1.1\r\n${H}X(a): b\r\n\r\n", 400,
	    qr/client sent invalid header line/],
	['DQUOTE in a header name', "GET \@T\@ HTTP/1.1\r\n${H}X\"a: b\r\n\r\n", 400],
	['SP inside a header name', "GET \@T\@ HTTP/1.1\r\n${H}X a: b\r\n\r\n", 400],
	['8-bit byte in a header name', "GET \@T\@ HTTP/1.1\r\n${H}X\xffa: b\r\n\r\n", 400],
	['empty header name', "GET \@T\@ HTTP/1.1\r\n${H}: b\r\n\r\n", 400],
	['header line without colon', "GET \@T\@ HTTP/1.1\r\n${H}Xb\r\n\r\n", 400],
	# Host
	['HTTP/1.1 without Host', "GET \@T\@ HTTP/1.1\r\n\r\n", 400,
	    qr/client sent HTTP\/1.1 request without "Host" header/],
	['duplicate Host', "GET \@T\@ HTTP/1.1\r\n${H}Host: b.test\r\n\r\n", 400,
	    qr/client sent duplicate host header/],
	['duplicate Host, same value, other case',
	    "GET \@T\@ HTTP/1.1\r\n${H}host: a.test\r\n\r\n", 400],
	['Host with "/"', "GET \@T\@ HTTP/1.1\r\nHost: a/b\r\n\r\n", 400,
	    qr/client sent invalid host header/],
	['Host with "\\"', "GET \@T\@ HTTP/1.1\r\nHost: a\\b\r\n\r\n", 400],
	['Host with SP', "GET \@T\@ HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
	['Host with ".."', "GET \@T\@ HTTP/1.1\r\nHost: a..test\r\n\r\n", 400],
	['Host ".."', "GET \@T\@ HTTP/1.1\r\nHost: ..\r\n\r\n", 400],
	['Host with a bad port', "GET \@T\@ HTTP/1.1\r\nHost: a.test:8x\r\n\r\n", 400],
	# Content-Length
	['Content-Length with "+"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello", 400,
	    qr/client sent invalid "Content-Length"/],
	['Content-Length with "-"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: -5\r\n\r\nhello", 400],
	['Content-Length with SP inside',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 1 5\r\n\r\nhello", 400],
	['Content-Length in hex',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello", 400],
	['empty Content-Length',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length:\r\n\r\nhello", 400],
	['Content-Length list "5, 5"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello", 400],
	['Content-Length of 19 digits',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 1000000000000000000\r\n\r\nhello",
	    400],
	['Content-Length overflowing 2^64',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 18446744073709551621\r\n\r\nhello",
	    400],
	['two equal Content-Length',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	    400, qr/client sent duplicate.*Content-Length/],
	['two different Content-Length',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 0\r\n\r\nhello",
	    400],
	['Content-Length and Transfer-Encoding',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 3\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
	    qr/client sent "Content-Length" and "Transfer-Encoding"/],
	['Transfer-Encoding and Content-Length',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n"
	    . "Content-Length: 0\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400],
	['Transfer-Encoding on HTTP/1.0',
	    "POST \@T\@ HTTP/1.0\r\n${H}Connection: keep-alive\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
	    qr/Transfer-Encoding/],
	# chunked framing
	['chunk size not hex',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "zz\r\nhello\r\n0\r\n\r\n", 400, qr/client sent invalid chunk/],
	['chunk size with "+"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "+5\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size with "-"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "-5\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size "0x5"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "0x5\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size with SP inside',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "1 0\r\nhello world12345\r\n0\r\n\r\n", 400],
	['chunk size after SP',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . " 5\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size line ends in bare LF',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\nhello\r\n0\r\n\r\n", 400],
	['last chunk line ends in bare LF',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\n\r\n", 400],
	['chunk data not followed by CRLF',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhelloX0\r\n\r\n", 400],
	['chunk data followed by bare LF',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\n0\r\n\r\n", 400],
	['chunk extension with a control character',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;a\x01b\r\nhello\r\n0\r\n\r\n", 400],
	['chunk extension with a bare LF',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;a\nb\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size followed by SP',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5 \r\nhello\r\n0\r\n\r\n", 400],
	['chunk extension without a name',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;\r\nhello\r\n0\r\n\r\n", 400],
	['chunk extension name with "@"',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;a\@b\r\nhello\r\n0\r\n\r\n", 400],
	['chunk extension with an unbalanced quote',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size of 17 hex digits (over 2^63)',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "10000000000000000\r\nhello\r\n0\r\n\r\n", 400,
	    qr/client sent (too large|invalid) chunk/],
	['chunk size 2^64 - 1',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400],
	['chunk size 2^63',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "8000000000000000\r\nhello\r\n0\r\n\r\n", 400],
	['trailer without colon',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\r\nTrailer\r\n\r\n", 400],
	['trailer line folded',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\r\nT: x\r\n y\r\n\r\n", 400],
	# request target
	['target without "/"', "GET a/b HTTP/1.1\r\n${H}\r\n", 400],
	['target "a"', "GET a HTTP/1.1\r\n${H}\r\n", 400],
	['target with a scheme other than http',
	    "GET ftp://a.test/x HTTP/1.1\r\n${H}\r\n", 400],
	['absolute form with an empty host', "GET http:///x HTTP/1.1\r\n${H}\r\n", 400],
	['target with "#"', "GET /a#b HTTP/1.1\r\n${H}\r\n", 400,
	    qr/client sent invalid request/],
	['target with "#" in the query', "GET /a?b#c HTTP/1.1\r\n${H}\r\n", 400],
	['target "%00"', "GET /a%00b HTTP/1.1\r\n${H}\r\n", 400],
	['target "%zz"', "GET /a%zzb HTTP/1.1\r\n${H}\r\n", 400],
	['target ending in "%"', "GET /a% HTTP/1.1\r\n${H}\r\n", 400],
	['target ending in "%4"', "GET /a%4 HTTP/1.1\r\n${H}\r\n", 400],
	['target "/../x"', "GET /../x HTTP/1.1\r\n${H}\r\n", 400,
	    qr/client sent invalid request/],
	['target "/a/../../x"', "GET /a/../../x HTTP/1.1\r\n${H}\r\n", 400],
	['target "/%2e%2e/x"', "GET /%2e%2e/x HTTP/1.1\r\n${H}\r\n", 400],
	['target "/.%2E/x"', "GET /.%2E/x HTTP/1.1\r\n${H}\r\n", 400],
	['target "/a/%2e%2e%2f%2e%2e/x"',
	    "GET /a/%2e%2e%2f%2e%2e/x HTTP/1.1\r\n${H}\r\n", 400],
	['target "/.."', "GET /.. HTTP/1.1\r\n${H}\r\n", 400],
	# Transfer-Encoding other than a final "chunked"
	['Transfer-Encoding: gzip',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n", 501,
	    qr/client sent unknown "Transfer-Encoding"/],
	['Transfer-Encoding: chunked, gzip',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n"
	    . "0\r\n\r\n", 501],
	['Transfer-Encoding: identity',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n", 501],
	# RFC 9112 allows this one; nginx 1.22 answers 501 and portico follows
	['Transfer-Encoding: gzip, chunked',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n"
	    . "0\r\n\r\n", 501],
	['Transfer-Encoding: chunkedchunked',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunkedchunked\r\n\r\n"
	    . "0\r\n\r\n", 501],
	['two Transfer-Encoding headers',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n"
	    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501],
	# RFC 9112 7.1.1 allows BWS around ";" and "=" in chunk extensions;
	# portico is as strict as llhttp: parsers that disagree on such a
	# line are how bodies get smuggled, and no client sends it
	['chunk extensions with BWS around ";" and "="',
	    "POST \@T\@ HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5 ; a = 1\r\nhello\r\n0\r\n\r\n", 400],
	# versions
	['HTTP/2.0', "GET \@T\@ HTTP/2.0\r\n${H}\r\n", 505,
	    qr/client sent unsupported HTTP version/],
	['HTTP/3.1', "GET \@T\@ HTTP/3.1\r\n${H}\r\n", 505],
	['HTTP/0.9', "GET \@T\@ HTTP/0.9\r\n${H}\r\n", 505],
	# nginx answers a line without a version as HTTP/0.9 (a bare body);
	# portico does not speak 0.9 and refuses the line
	['HTTP/0.9 style: no version', "GET \@T\@\r\n${H}\r\n", 400],
	['lowercase "http/1.1"', "GET \@T\@ http/1.1\r\n${H}\r\n", 400],
	['version "HTTP/1"', "GET \@T\@ HTTP/1\r\n${H}\r\n", 400],
	['SP after the version', "GET \@T\@ HTTP/1.1 \r\n${H}\r\n", 400],
	# sizes
	['request line over 8k', "GET /" . ('a' x 9000) . " HTTP/1.1\r\n${H}\r\n",
	    414, qr/client sent too long URI/],
	# nginx answers this one 400 "Request Header Or Cookie Too Large";
	# portico answers 431 as RFC 6585 says
	['header line over 8k', "GET \@T\@ HTTP/1.1\r\n${H}X: " . ('a' x 9000)
	    . "\r\n\r\n", 431, qr/client sent too (large|long) (request )?header/],
	['Content-Length over client_max_body_size',
	    "POST /small\@T\@ HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\nhello world",
	    413, qr/client intended to send too large body/],
	['Content-Length over the default 1m',
	    "POST \@T\@ HTTP/1.1\r\n${H}Content-Length: 1048577\r\n\r\nhello", 413],
);

# [ name, raw request, body of the first answer (a regex) ]; each is
# followed by a request for /last that must be answered too
my $LAST = "GET /last HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
my @good = (
	['absolute form takes its host from the target',
	    "GET http://a.test/x?y HTTP/1.1\r\nHost: other\r\n\r\n",
	    qr/^ok a\.test \/x\n\z/],
	['absolute form without a path', "GET http://A.test HTTP/1.1\r\nHost: o\r\n\r\n",
	    qr/^ok a\.test \/\n\z/],
	['absolute form with a query and no path',
	    "GET http://a.test?x=1 HTTP/1.1\r\nHost: o\r\n\r\n", qr/^ok a\.test \/\n\z/],
	['absolute form with a port, a query and no path',
	    "GET http://a.test:80?x=1 HTTP/1.1\r\nHost: o\r\n\r\n",
	    qr/^ok a\.test \/\n\z/],
	['absolute form with a port',
	    "GET http://a.test:80/p HTTP/1.1\r\nHost: o\r\n\r\n", qr/^ok a\.test \/p\n\z/],
	['HTTP/1.0 without Host',
	    "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", qr/^other \/ten\n\z/],
	['empty lines before the request line', "\r\n\r\nGET /e HTTP/1.1\r\n${H}\r\n",
	    qr/^ok a\.test \/e\n\z/],
	['chunked body with extensions and trailers',
	    "POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "5;ext=1\r\nhello\r\n6;a=\"b \\\"c\";d\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
	    qr/^ok a\.test \/c\n\z/],
	['chunk size with leading zeros and uppercase hex',
	    "POST /z HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
	    . "00A\r\n0123456789\r\n000\r\n\r\n", qr/^ok a\.test \/z\n\z/],
	['Transfer-Encoding "Chunked" with OWS',
	    "POST /tc HTTP/1.1\r\n${H}Transfer-Encoding:  Chunked \r\n\r\n0\r\n\r\n",
	    qr/^ok a\.test \/tc\n\z/],
	['body with Content-Length is read and dropped',
	    "POST /b HTTP/1.1\r\n${H}Content-Length: 16\r\n\r\nGET /smuggled 12",
	    qr/^ok a\.test \/b\n\z/],
	['Content-Length with leading zeros',
	    "POST /lz HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello",
	    qr/^ok a\.test \/lz\n\z/],
	['body of exactly client_max_body_size',
	    "POST /small HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n0123456789",
	    qr/^small\n\z/],
	['OWS and obs-text in header values',
	    "GET /v HTTP/1.1\r\n${H}X: \t D\xfcsseldorf \t\r\nY:\r\n\r\n",
	    qr/^ok a\.test \/v\n\z/],
	['token characters in a method', "M-SEARCH_X /m HTTP/1.1\r\n${H}\r\n",
	    qr/^ok a\.test \/m\n\z/],
	['Host in capitals with a port and a trailing dot',
	    "GET /h HTTP/1.1\r\nHost: A.TEST.:8080\r\n\r\n", qr/^ok a\.test \/h\n\z/],
	['Host as an IPv6 literal',
	    "GET /6 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", qr/^other \/6\n\z/],
	['dot segments and escapes inside the root',
	    "GET /a/./b/../c%20d?x=%zz HTTP/1.1\r\n${H}\r\n",
	    qr/^ok a\.test \/a\/c d\n\z/],
	['HTTP/1.2 is answered as HTTP/1.1', "GET /12 HTTP/1.2\r\n${H}\r\n",
	    qr/^ok a\.test \/12\n\z/],
);

my $conf = <<'EOF';
worker_processes 1;
events { worker_connections 1024; }
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name a.test;
        location / { return 200 "ok $host $uri\n"; }
        location /smuggled { return 200 "SMUGGLED\n"; }
        location /small { client_max_body_size 10; return 200 "small\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%% default_server;
        location / { return 200 "other $uri\n"; }
    }
}
EOF

# what a bad request got: (status, list of problems)
sub judge_bad {
	my ($case, $res) = @_;
	my (undef, undef, $status) = @$case;
	my @r = PorticoTest::split_responses($res->{raw});
	my @why;
	my $got = @r ? $r[0]{status} : 'none';
	if ($res->{raw} =~ /SMUGGLED/) {
		push @why, 'answers the request behind it';
	} else {
		push @why, 'no "Connection: close"'
		    if @r && ($r[0]{h}{connection} // '') ne 'close';
		push @why, 'not closed within 2 s'
		    if !$res->{closed} || $res->{secs} > 2;
		push @why, scalar(@r) . ' responses' if @r > 1;
	}
	push @why, 'closed by a reset' if $res->{reset};
	push @why, 'trailing bytes after the response'
	    if @r == 1 && $res->{raw} !~ /\r\n\r\n\Q$r[0]{body}\E\z/;
	return ($got, @why);
}

sub raw_of {
	my ($i, $raw) = @_;
	$raw =~ s/\@T\@/\/m$i/g;
	return $raw . $SMUGGLE;
}

sub show { my $s = shift; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	length $s > 120 ? substr($s, 0, 117) . '...' : $s }

my $t = PorticoTest->new;
(my $pconf = $conf) =~ s/%%PORT%%/%%PORT_0%%/g;
$t->write_conf($pconf);
$t->run;
my $p = $t->port(0);

my $ng;
if (PorticoTest::Nginx::available()) {
	$ng = PorticoTest::Nginx->start($conf);
	diag('nginx did not start: no comparison') unless $ng;
} else {
	diag('/usr/sbin/nginx is not installed: the nginx comparison is skipped');
}

cmp_ok(scalar @bad, '>=', 60, 'at least 60 malformed requests');

# all at once: each closes at once when right, the batch ends by 3 s
my @reqs = map { raw_of($_, $bad[$_][1]) } 0 .. $#bad;
my $start = time;
my $res = PorticoTest::http_batch($p, \@reqs, timeout => 3);
my $nres = $ng ? PorticoTest::http_batch($ng->port, \@reqs, timeout => 3) : undef;
my @diff;
for my $i (0 .. $#bad) {
	my ($name, $raw, $status) = @{ $bad[$i] };
	my $r = $res->[$i];
	my @resp = PorticoTest::split_responses($r->{raw});
	my $got = @resp ? $resp[0]{status} : 'none';
	subtest "$name: $status" => sub {
		is($got, $status, 'status')
		    or diag('request: ' . show($reqs[$i]) . "\nanswer: "
		    . show(substr($r->{raw}, 0, 200)));
		is(@resp ? $resp[0]{h}{connection} : undef, 'close',
		    'Connection: close');
		ok($r->{closed} && $r->{secs} <= 2, 'closed by the server within 2 s')
		    or diag($r->{closed} ? "closed after $r->{secs} s" : 'still open');
		ok(!$r->{reset}, 'closed without a reset (the answer cannot be lost)');
		is(scalar @resp, 1, 'exactly one response');
		unlike($r->{raw}, qr/SMUGGLED/, 'the request behind it was not answered');
	};
	next unless $nres;
	my ($ngot, @nwhy) = judge_bad($bad[$i], $nres->[$i]);
	my (undef, @pwhy) = judge_bad($bad[$i], $r);
	my $pw = join(', ', @pwhy);
	my $nw = join(', ', @nwhy);
	push @diff, sprintf("%-42s portico %s%s; nginx %s%s", $name,
	    $got, $pw ? " ($pw)" : '', $ngot, $nw ? " ($nw)" : '')
	    if $pw ne $nw || $got ne $ngot;
}
my $batch_secs = time - $start;

# the reason is logged at info, with the client and the request line
for my $i (grep { $bad[$_][3] } 0 .. $#bad) {
	my ($name, $raw, $status, $re) = @{ $bad[$i] };
	# the request line, when it was parsed (not for 414 and 431: there
	# the head did not fit)
	my $line;
	$line = quotemeta($1) if $status != 414 && $status != 431 &&
	    raw_of($i, $raw) =~ /^([A-Z]+ \/[!-~]* HTTP\/1\.[01])\r\n/;
	my $ok = wait_until(sub {
		grep { /\[info\] / && $_ =~ $re && (!$line || /request: "$line"/) }
		    split /\n/, $t->error_log;
	}, 2);
	ok($ok, "log: $name") or diag("no [info] line matching $re"
	    . ($line ? " for $line" : ''));
}
like($t->error_log, qr/\[info\] \d+#\d+: client sent duplicate host header(?: while [^,]+)?, client: 127\.0\.0\.1, server: [^,]+, request: "GET \/m\d+ HTTP\/1\.1"/,
    'the log line format: level, pid, reason, client, server, request');

# valid but unusual: answered, and the connection goes on
my @greqs = map { $_->[1] . $LAST } @good;
my $gres = PorticoTest::http_batch($p, \@greqs, timeout => 3);
my $ngres = $ng ? PorticoTest::http_batch($ng->port, \@greqs, timeout => 3) : undef;
for my $i (0 .. $#good) {
	my ($name, $raw, $body) = @{ $good[$i] };
	my @r = PorticoTest::split_responses($gres->[$i]{raw});
	subtest "valid: $name" => sub {
		is($r[0]{status}, 200, 'status 200')
		    or diag('request: ' . show($greqs[$i]) . "\nanswer: "
		    . show(substr($gres->[$i]{raw}, 0, 200)));
		like($r[0]{body} // '', $body, 'body');
		is(scalar @r, 2, 'the next request is answered too');
		like($r[1]{body} // '', qr/ \/last\n\z/, 'the next answer is its own');
	};
	next unless $ngres;
	my @n = PorticoTest::split_responses($ngres->[$i]{raw});
	my $pd = join(' ', map { $_->{status} } @r) || 'none';
	my $nd = join(' ', map { $_->{status} } @n) || 'none';
	my $pb = ($r[0]{body} // '') =~ $body ? 'ok' : 'body ' . show($r[0]{body} // '');
	my $nb = ($n[0]{body} // '') =~ $body ? 'ok' : 'body ' . show($n[0]{body} // '');
	push @diff, sprintf("%-45s portico %s (%s); nginx %s (%s)", "valid: $name",
	    $pd, $pb, $nd, $nb) if $pd ne $nd || $pb ne $nb;
}

# Expect: 100-continue: the interim answer comes first, then the body is
# read as a body (not as a request) and the next request is answered.
# Like nginx, portico may send the final answer of a "return" location
# without waiting for the body; it then reads and drops the body.
{
	my $s = PorticoTest::connect_port($p);
	print $s "POST /x HTTP/1.1\r\n${H}Content-Length: 16\r\n"
	    . "Expect: 100-continue\r\n\r\n";
	my ($buf, $closed) = PorticoTest::read_sock($s, 3,
	    sub { $_[0] =~ /\r\n\r\n/ });
	like($buf, qr/^HTTP\/1\.1 100 Continue\r\n\r\n/,
	    '100 Continue first, before the body is sent');
	ok(!$closed, 'the connection waits for the body');
	# a body that looks like a request: it must not be answered
	print $s "GET /smuggled 12" . $LAST;
	my ($more) = PorticoTest::read_sock($s, 3);
	$buf .= $more;
	my @r = PorticoTest::split_responses($buf);
	is(join(' ', map { $_->{status} } @r), '100 200 200',
	    '100, the answer, then the next request\'s');
	is(join('', map { $_->{body} } @r), "ok a.test /x\nok a.test /last\n",
	    'the body was read as a body');
	is(() = $buf =~ /100 Continue/g, 1, 'one 100 Continue');
	close $s;

	# no 100 Continue when the body is refused: 413 at once
	$s = PorticoTest::connect_port($p);
	print $s "POST /small HTTP/1.1\r\n${H}Content-Length: 11\r\n"
	    . "Expect: 100-continue\r\n\r\n";
	($buf, $closed) = PorticoTest::read_sock($s, 3);
	like($buf, qr/^HTTP\/1\.1 413 /, 'Expect with too large a body: 413, no 100');
	ok($closed, 'and closed');
	close $s;

	# HTTP/1.0 gets no 100 Continue (RFC 9110, 10.1.1)
	$s = PorticoTest::connect_port($p);
	print $s "POST /x HTTP/1.0\r\n${H}Content-Length: 5\r\n"
	    . "Expect: 100-continue\r\n\r\n";
	($buf) = PorticoTest::read_sock($s, 0.5, sub { $_[0] =~ /\r\n\r\n/ });
	print $s "hello";
	($more, $closed) = PorticoTest::read_sock($s, 3);
	$buf .= $more;
	@r = PorticoTest::split_responses($buf);
	is(join(' ', map { $_->{status} } @r), '200',
	    'HTTP/1.0 with Expect: no 100 Continue, answered');
	ok($closed, 'HTTP/1.0: closed after the answer');
	close $s;
}

diag(sprintf('%d malformed requests in %.1f s', scalar @bad, $batch_secs));
if ($ng) {
	diag("where portico and nginx 1.22 differ (" . scalar(@diff) . "):\n"
	    . join("\n", @diff));
	$ng->stop;
}

$t->stop;
done_testing();

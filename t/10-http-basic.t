#!/usr/bin/perl
# The minimal HTTP/1.1 responder: return, server_name, locations,
# keep-alive, pipelining, error answers.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http http_get parse_response);

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
worker_processes 2;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name a.test *.wild.test;
        location / { return 200 "a:$uri:$args\n"; }
        location = /exact { return 200 "exact\n"; }
        location /pre { return 200 "prefix\n";
            location /pre/nested { return 200 "nested\n"; }
        }
        location ^~ /stop { return 200 "stop\n"; }
        location /redir { return 301 https://$host$request_uri; }
        location /gone { return 410; }
        location /close { return 444; }
        location /empty { return 204; }
    }
    server {
        listen 127.0.0.1:%%PORT_0%% default_server;
        server_name b.test;
        location / { return 200 "default\n"; }
    }
}
EOF
$t->run;
my $p = $t->port(0);

my ($st, $h, $b) = http_get($p, '/x?y=1', Host => 'a.test');
is($st, 200, 'status');
is($b, "a:/x:y=1\n", 'variables in return text');
is($h->{'content-type'}, 'text/plain', 'default_type');
like($h->{server}, qr{^portico/}, 'Server header');
like($h->{date}, qr/GMT$/, 'Date header');

(undef, undef, $b) = http_get($p, '/', Host => 'A.TEST:123');
is($b, "a:/:\n", 'host is case-insensitive, port ignored');
(undef, undef, $b) = http_get($p, '/', Host => 'x.wild.test');
is($b, "a:/:\n", 'leading wildcard server_name');
(undef, undef, $b) = http_get($p, '/', Host => 'other.test');
is($b, "default\n", 'unknown host goes to default_server');

(undef, undef, $b) = http_get($p, '/exact', Host => 'a.test');
is($b, "exact\n", 'exact location');
(undef, undef, $b) = http_get($p, '/exactly', Host => 'a.test');
is($b, "a:/exactly:\n", 'exact location does not match a longer uri');
(undef, undef, $b) = http_get($p, '/pre/x', Host => 'a.test');
is($b, "prefix\n", 'prefix location');
(undef, undef, $b) = http_get($p, '/pre/nested/x', Host => 'a.test');
is($b, "nested\n", 'nested location');
(undef, undef, $b) = http_get($p, '/stop', Host => 'a.test');
is($b, "stop\n", '^~ location');

($st, $h, $b) = http_get($p, '/redir/x?q', Host => 'a.test');
is($st, 301, 'redirect status');
is($h->{location}, 'https://a.test/redir/x?q', 'Location');
like($b, qr{<title>301 Moved Permanently</title>}, 'redirect page');

($st, $h, $b) = http_get($p, '/gone', Host => 'a.test');
is($st, 410, 'return code without text');
like($b, qr{<h1>410 Gone</h1>}, 'error page');

my $raw = http($p, "GET /close HTTP/1.1\r\nHost: a.test\r\n\r\n");
is($raw, '', 'return 444 closes without an answer');

($st, $h, $b) = http_get($p, '/empty', Host => 'a.test');
is($st, 204, 'return 204');
ok(!exists $h->{'content-length'}, '204 has no Content-Length');

# HEAD: headers only
$raw = http($p, "HEAD / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
like($raw, qr/Content-Length: 5\r\n/, 'HEAD keeps Content-Length');
like($raw, qr/\r\n\r\n$/, 'HEAD has no body');

# keep-alive and pipelining: three answers in order on one connection
$raw = http($p, "GET /exact HTTP/1.1\r\nHost: a.test\r\n\r\n"
    . "GET /pre HTTP/1.1\r\nHost: a.test\r\n\r\n"
    . "GET /stop HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
my @bodies = $raw =~ /\r\n\r\n(\w+)\n/g;
is_deeply(\@bodies, [qw(exact prefix stop)], 'pipelined answers in order');
is(() = $raw =~ /Connection: keep-alive/g, 2, 'keep-alive until asked to close');

# HTTP/1.0 closes by default
$raw = http($p, "GET / HTTP/1.0\r\n\r\n");
like($raw, qr/Connection: close/, 'HTTP/1.0 closes');

# errors
$raw = http($p, "GET / HTTP/1.1\r\n\r\n");
like($raw, qr{^HTTP/1.1 400 }, 'HTTP/1.1 without Host is 400');
like($raw, qr/Connection: close/, '400 closes');
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
like($raw, qr{^HTTP/1.1 400 }, 'duplicate Host is 400');
$raw = http($p, "GET / HTTP/2.0\r\nHost: a\r\n\r\n");
like($raw, qr{^HTTP/1.1 505 }, 'HTTP/2.0 request line is 505');
$raw = http($p, "GET / HTTP/1.1\nHost: a\n\n");
like($raw, qr{^HTTP/1.1 400 }, 'bare LF is 400');
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n");
like($raw, qr{^HTTP/1.1 400 }, 'obs-fold is 400');
$raw = http($p, "GET / HTTP/1.1\r\nHost : a\r\n\r\n");
like($raw, qr{^HTTP/1.1 400 }, 'space before colon is 400');
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
like($raw, qr{^HTTP/1.1 400 }, 'CL with TE is 400');
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
    . "Content-Length: 2\r\n\r\nab");
like($raw, qr{^HTTP/1.1 400 }, 'two Content-Length is 400');
$raw = http($p, "GET /" . ("a" x 9000) . " HTTP/1.1\r\nHost: a\r\n\r\n");
like($raw, qr{^HTTP/1.1 414 }, 'a URI over the buffer is 414');
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\nX: " . ("a" x 9000) . "\r\n\r\n");
like($raw, qr{^HTTP/1.1 431 }, 'headers over the buffer are 431');

# a bad request is not followed by a smuggled second answer
$raw = http($p, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
    . "Transfer-Encoding: chunked\r\n\r\nGET /exact HTTP/1.1\r\nHost: a.test\r\n\r\n");
is(() = $raw =~ /HTTP\/1.1 /g, 1, 'one answer only after a bad request');

# a request body is read and dropped, keeping the connection in sync
$raw = http($p, "POST /exact HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello"
    . "GET /stop HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
@bodies = $raw =~ /\r\n\r\n(\w+)\n/g;
is_deeply(\@bodies, [qw(exact stop)], 'body skipped, next request answered');

like($t->error_log, qr/client sent duplicate host header.*client: 127\.0\.0\.1/,
    'rejections are logged with the reason and the client');

$t->stop;
done_testing();

#!/usr/bin/perl
# The proxy directives at "portico -t": errors with FILE:LINE and the
# directive named, an exit code of 1; the same files through "nginx -t"
# for the record (where both reject, both must; the words are portico's).
# Then the inheritance rules at run time that are not about headers:
# proxy_pass is not inherited by nested locations, the scalar proxy_*
# directives are (a nested location keeps its parent's timeout).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PorticoTest qw(bin);
use PorticoUpstream qw(http_n);

my $t = PorticoTest->new;
my $dir = $t->dir;
my $P = PorticoTest::free_port();

sub conf_test {
	my ($text) = @_;
	my $path = $t->write_file('c.conf', $text);
	my ($code, $out, $err) = $t->capture([bin(), '-p', "$dir/", '-c', $path,
	    '-t']);
	return ($code, $err, $path);
}

sub nginx_test {
	my ($text) = @_;
	return undef unless PorticoTest::Nginx::available();
	open(my $fh, '>', "$dir/ng.conf") or return undef;
	print $fh "error_log $dir/ng-error.log;\npid $dir/ng.pid;\n$text";
	close $fh;
	my ($code, $out, $err) = $t->capture([$PorticoTest::Nginx::NGINX, '-e',
	    "$dir/ng-error.log", '-p', "$dir/", '-c', "$dir/ng.conf", '-t']);
	return $code;
}

# [ name, server-block body, line of the error (from the top of the
# file), words of the message ]
my @cases = (
	['URI in a regex location', "location ~ ^/r { proxy_pass http://127.0.0.1:1/x; }",
	    4, qr/"proxy_pass" cannot have URI part in location given by regular expression/],
	['URI in a named location', "location \@n { proxy_pass http://127.0.0.1:1/; }",
	    4, qr/"proxy_pass" cannot have URI part/],
	['proxy_pass in server', "proxy_pass http://127.0.0.1:1;",
	    4, qr/"proxy_pass" directive is not allowed here/],
	['proxy_pass twice', "location / { proxy_pass http://127.0.0.1:1;\n"
	    . "proxy_pass http://127.0.0.1:2; }", 5, qr/"proxy_pass" directive is duplicate/],
	['no scheme', "location / { proxy_pass 127.0.0.1:1; }", 4,
	    qr/invalid URL prefix|proxy_pass/],
	['https not supported here or a bad scheme', "location / { proxy_pass ftp://127.0.0.1:1; }",
	    4, qr/invalid URL prefix|proxy_pass/],
	# (a name that does not resolve is not tried: it would ask the
	# resolver, and these tests talk to 127.0.0.1 only)
	['port out of range', "location / { proxy_pass http://127.0.0.1:70000; }",
	    4, qr/invalid port|proxy_pass/],
	['empty host', "location / { proxy_pass http://:80; }", 4, qr/proxy_pass|no host/],
	['proxy_http_version 2.0', "location / { proxy_http_version 2.0; "
	    . "proxy_pass http://127.0.0.1:1; }", 4,
	    qr/invalid value "2\.0" in "proxy_http_version" directive/],
	['proxy_read_timeout x', "proxy_read_timeout x;", 4,
	    qr/"proxy_read_timeout" directive invalid value|invalid value/],
	['proxy_buffer_size x', "proxy_buffer_size 1q;", 4,
	    qr/"proxy_buffer_size" directive invalid value|invalid value/],
	['proxy_set_header with one argument', "proxy_set_header X;", 4,
	    qr/invalid number of arguments in "proxy_set_header" directive/],
	['proxy_intercept_errors maybe', "proxy_intercept_errors maybe;", 4,
	    qr/invalid value "maybe" in "proxy_intercept_errors" directive|must be "on" or "off"/],
	['proxy_pass_request_body 1', "proxy_pass_request_body 1;", 4,
	    qr/"proxy_pass_request_body"/],
	['proxy_ignore_headers Bogus', "proxy_ignore_headers Vary Bogus;", 4,
	    qr/invalid value "Bogus" in "proxy_ignore_headers" directive/],
	['proxy_next_upstream sometimes', "proxy_next_upstream error sometimes;",
	    4, qr/invalid value "sometimes" in "proxy_next_upstream" directive/],
	['proxy_buffers 1 4k', "proxy_buffers 1 4k;", 4,
	    qr/there must be at least 2 "proxy_buffers"/],
	['proxy_redirect with one odd word', "proxy_redirect sometimes;", 4,
	    qr/invalid value "sometimes" in "proxy_redirect" directive/],
	['unix socket without a path', "location / { proxy_pass http://unix:; }",
	    4, qr/no path in the unix domain socket/],
);

for my $c (@cases) {
	my ($name, $body, $line, $re) = @$c;
	my $text = "events {}\nhttp {\n    server { listen 127.0.0.1:$P;\n$body\n    }\n}\n";
	my ($code, $err, $path) = conf_test($text);
	is($code, 1, "$name: -t exits 1");
	like($err, qr/^portico: \[emerg\] \Q$path\E:$line: /m,
	    "$name: [emerg] FILE:$line") or diag($err);
	like($err, $re, "$name: the message") or diag($err);
	my $ng = nginx_test($text);
	is($ng, 1, "$name: nginx -t rejects it too") if defined $ng;
}

{
	# a good file passes, so the cases above can fail for their reason only
	my ($code, $err) = conf_test("events {}\nhttp {\n    server { listen 127.0.0.1:$P;\n"
	    . "proxy_read_timeout 5s; proxy_buffer_size 8k; proxy_http_version 1.1;\n"
	    . "proxy_set_header X-A \$host; proxy_hide_header X-B; proxy_pass_header Server;\n"
	    . "proxy_ignore_headers X-Accel-Redirect Vary Set-Cookie;\n"
	    . "proxy_next_upstream error timeout http_503 non_idempotent;\n"
	    . "location / { proxy_pass http://localhost:1/a/; }\n"
	    . "location ~ ^/r { proxy_pass http://127.0.0.1:1; }\n"
	    . "location = /e { proxy_pass http://[::1]:1/e; }\n"
	    . "    }\n}\n");
	is($code, 0, 'a good proxy configuration passes -t') or diag($err);
}

# ------------------------------------------------------------------
# inheritance at run time

my $up = PorticoUpstream->new(routes => {
	'/outer/slow' => sub { sleep 3; print { $_[0] } "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow" },
});
my $UP = $up->port;
my $rt = PorticoTest->new;
$rt->write_conf(<<"EOF");
worker_processes 1;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        proxy_read_timeout 1s;
        location /outer/ {
            proxy_pass http://127.0.0.1:$UP;
            location /outer/inner/ { return 200 "inner\\n"; }
            location /outer/slow { proxy_pass http://127.0.0.1:$UP; }
        }
        location ~ ^/re/ { proxy_pass http://127.0.0.1:$UP; }
        location /tokens/ {
            server_tokens off;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /maybe/ {
            proxy_set_header X-Maybe \$http_x_in;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
EOF
$rt->run;
my $RP = $rt->port(0);

sub get {
	my ($path, $extra) = @_;
	$up->clear;
	my $r = http_n($RP, "GET $path HTTP/1.1\r\nHost: h\r\n" . ($extra // '')
	    . "Connection: close\r\n\r\n", 1, timeout => 5);
	return $r->{resp}[0] // { status => 0, body => '', h => {} };
}

is(get('/outer/inner/x')->{body}, "inner\n", 'a nested location without '
    . 'proxy_pass does not inherit it');
like(get('/outer/x')->{body}, qr{^GET /outer/x HTTP/1\.0\r\n}, 'the outer '
    . 'location proxies');
{
	my $start = time;
	my $x = get('/outer/slow');
	is($x->{status}, 504, 'proxy_read_timeout inherited by a nested location');
	cmp_ok(time - $start, '<', 2.5, '... after 1s, not 3s');
}
like(get('/re/a%2Fb?x=1')->{body}, qr{^GET /re/a%2Fb\?x=1 HTTP/1\.0\r\n},
    'a regex location passes the target unchanged');
{
	get('/maybe/x');
	my ($r) = $up->wait_requests(1);
	ok(!exists $r->{h}{'x-maybe'}, 'proxy_set_header with a variable that is '
	    . 'empty: not sent');
	get('/maybe/y', "X-In: v\r\n");
	($r) = $up->wait_requests(1);
	is($r->{h}{'x-maybe'}, 'v', '... and sent when it is not');
	is($r->{h}{'x-in'}, 'v', '... beside the client field itself');
}

{
	my $x = get('/tokens/x');
	is($x->{h}{server}, 'portico', 'server_tokens off: "Server: portico" on '
	    . 'a proxied answer');
	like(get('/outer/x')->{h}{server}, qr{^portico/\d}, '... with the version '
	    . 'by default');
}

$rt->stop;
$up->stop;
done_testing();

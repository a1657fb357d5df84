#!/usr/bin/perl
# proxy_pass, when the upstream fails: refused (502), silent (504 after
# proxy_read_timeout), not reading the body (504 after
# proxy_send_timeout), closing early, answering garbage or an ambiguous
# framing (502, never passed on), too big a head (502); after the head has
# gone to the client, a broken body closes the client connection without
# a valid end.  Each with its line in the error log naming the upstream.
# Then proxy_intercept_errors, and $upstream_status for the failures.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use PorticoTest qw(http parse_response wait_until slurp);
use PorticoUpstream qw(http_n decode_chunked);

my $OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

# [ name, path, upstream's answer, error-log pattern ]: a 502 each
my @bad_head = (
	['closes at once', '/close0', sub { }, qr/upstream prematurely closed connection/],
	['closes inside the status line', '/closeline', "HTTP/1.1 20",
	    qr/upstream prematurely closed connection/],
	['closes inside the head', '/closehead',
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y",
	    qr/upstream prematurely closed connection/],
	['garbage status line', '/garbage', "garbage\r\n\r\n",
	    qr/upstream sent/],
	['HTML instead of a head', '/html', "<html><body>hi</body></html>\r\n\r\n",
	    qr/upstream sent/],
	['HTTP/0.9 style body', '/h09', "hello there, no head at all"],
	['four-digit status', '/st4', "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok"],
	['two-digit status', '/st2', "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok"],
	['status with letters', '/stx', "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"],
	['no space after the status', '/stsp', "HTTP/1.1 200\tOK\r\nContent-Length: 2\r\n\r\nok"],
	['HTTP/2.0 status line', '/v20', "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok"],
	['lower-case http', '/lc', "http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
	['ICY status line', '/icy', "ICY 200 OK\r\nContent-Length: 2\r\n\r\nok"],
	['bare LF head', '/lf', "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"],
	['bare LF after a header', '/lf2', "HTTP/1.1 200 OK\r\nX: a\nContent-Length: 2\r\n\r\nok"],
	['obs-fold in the head', '/fold', "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok"],
	['space before the colon', '/spcolon', "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"],
	['NUL in a header value', '/nul', "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 2\r\n\r\nok"],
	['header without a colon', '/nocolon', "HTTP/1.1 200 OK\r\nJunk\r\nContent-Length: 2\r\n\r\nok"],
	['Content-Length and Transfer-Encoding', '/clte',
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\r\n\r\n",
	    qr/upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time/],
	['Transfer-Encoding then Content-Length', '/tecl',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	    . "5\r\nhello\r\n0\r\n\r\n"],
	['two different Content-Length', '/cl2',
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	    qr/upstream sent duplicate header line: "Content-Length"/],
	['Content-Length list', '/cllist',
	    "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
	    qr/upstream sent invalid "Content-Length" header/],
	['negative Content-Length', '/clneg',
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello"],
	['Content-Length with a sign', '/clplus',
	    "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"],
	['hex Content-Length', '/clhex',
	    "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello"],
	['huge Content-Length', '/clhuge',
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nhello"],
	['Transfer-Encoding: gzip', '/gzip',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxxxx",
	    qr/upstream sent unknown "Transfer-Encoding"/],
	['Transfer-Encoding: gzip, chunked', '/gzipch',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"],
	['Transfer-Encoding: chunked, gzip', '/chgzip',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"],
	['Transfer-Encoding twice', '/te2',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
	['Transfer-Encoding: identity', '/teid',
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello"],
	['Transfer-Encoding in a 1.0 response', '/te10',
	    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
	['101 Switching Protocols', '/101',
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"],
	['a head bigger than proxy_buffer_size', '/big',
	    "HTTP/1.1 200 OK\r\n" . ("X-Long: " . ("a" x 990) . "\r\n") x 5
	    . "Content-Length: 2\r\n\r\nok", qr/upstream sent too big header/],
	['one header line bigger than proxy_buffer_size', '/bigline',
	    "HTTP/1.1 200 OK\r\nX-Long: " . ("b" x 5000) . "\r\nContent-Length: 2\r\n\r\nok",
	    qr/upstream sent too big header/],
	['a 1k head with proxy_buffer_size 512', '/small/mid',
	    "HTTP/1.1 200 OK\r\nX-Long: " . ("c" x 1000) . "\r\nContent-Length: 2\r\n\r\nok",
	    qr/upstream sent too big header/],
);

# [ name, path, what follows a valid head and first chunk, log, the data
# declared before the fault, which a 1.0 client (it gets the data
# unframed) may see beside "hello" ]: the
# head and "5\r\nhello\r\n" go first, then (0.3 s later, once portico has
# passed them on) the fault
my $CH = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
my @bad_body = (
	['bad chunk size', '/chunkbad', "zz\r\nmore\r\n0\r\n\r\n",
	    qr/upstream sent invalid chunked response/],
	['no CRLF after chunk data', '/chunknocrlf', "6\r\n worldXX0\r\n\r\n",
	    undef, 'hello world'],
	['bare LF in chunk framing', '/chunklf', "6\n world\r\n0\r\n\r\n"],
	['bare LF after chunk data', '/chunklf2', "6\r\n world\n0\r\n\r\n",
	    undef, 'hello world'],
	['chunk size overflow', '/chunkhuge', "fffffffffffffffffffff\r\nx\r\n0\r\n\r\n"],
	['negative chunk size', '/chunkneg', "-5\r\nworld\r\n0\r\n\r\n"],
	['chunk extension with a bare CR', '/chunkcr', "6;a=\rb\r\n world\r\n0\r\n\r\n"],
	['closed before the last chunk', '/chunkshort', "6\r\n wor",
	    qr/upstream prematurely closed connection/, 'hello wor'],
	['closed after a chunk, no last chunk', '/chunknolast', ""],
);
sub later {
	my ($rest) = @_;
	return sub {
		my ($s) = @_;
		print $s $CH;
		sleep 0.3;
		print $s $rest;
	};
}

my %routes = (
	(map { $_->[1] => $_->[2] } @bad_head),
	(map { $_->[1] => later($_->[2]) } @bad_body),
	'/chunkbad1' => $CH . "zz\r\nmore\r\n0\r\n\r\n",
	'/ok' => $OK,
	'/small/ok' => $OK,
	'/cl2same' => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	'/head3k' => "HTTP/1.1 200 OK\r\nX-Long: " . ("d" x 3000)
	    . "\r\nContent-Length: 2\r\n\r\nok",
	'/silent' => sub { sleep 10 },
	'/silentbody' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
		sleep 10;
	},
	'/noread' => { early => sub { sleep 10 } },
	'/early' => { early => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 413 Too Large\r\nContent-Length: 8\r\n"
		    . "Connection: close\r\n\r\ntoo big\n";
		shutdown($s, 1);
		sleep 3;
	} },
	'/short' => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly 10 b.",
	'/icpt/404' => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-Up: 1\r\n\r\nupstream!",
	'/icpt/500' => "HTTP/1.1 500 Oops\r\nContent-Length: 9\r\n\r\nupstream!",
	'/icpt/302' => "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
	'/icpt/200' => "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nupstream!",
	'/icpt/299' => "HTTP/1.1 299 Fine\r\nContent-Length: 9\r\n\r\nupstream!",
	'/raw404' => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nupstream!",
);
my $up = PorticoUpstream->new(routes => \%routes);
my $UP = $up->port;
my $REFUSED = PorticoTest::free_port();

my $t = PorticoTest->new;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    log_format up '\$request|\$status|\$upstream_addr|\$upstream_status';
    access_log logs/up.log up;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name localhost;
        client_max_body_size 200m;
        location / { proxy_pass http://127.0.0.1:$UP; }
        location /small/ {
            proxy_buffer_size 512;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /refused { proxy_pass http://127.0.0.1:$REFUSED; }
        location /silent {
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /noread {
            proxy_send_timeout 1s;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /icpt/ {
            proxy_intercept_errors on;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
EOF
$t->run;
my $P = $t->port(0);

sub req {
	my ($target, %o) = @_;
	return "GET $target HTTP/" . ($o{version} // '1.1')
	    . "\r\nHost: localhost\r\n"
	    . ($o{close} // 1 ? "Connection: close\r\n" : '') . "\r\n";
}

# the error-log lines that appeared while $code ran
sub new_log {
	my ($code) = @_;
	my $before = length $t->error_log;
	my @r = $code->();
	wait_until(sub { length($t->error_log) > $before }, 2);
	sleep 0.05;
	return (substr($t->error_log, $before), @r);
}

# ------------------------------------------------------------------
# before the head: 502 / 504

{
	my ($log, $r) = new_log(sub { http_n($P, req('/refused/x?q=1'), 1) });
	my $x = $r->{resp}[0];
	is($x && $x->{status}, 502, 'connection refused: 502');
	like($x && $x->{body}, qr{<h1>502 Bad Gateway</h1>}, '... the 502 page');
	like($log, qr{\[error\] .*connect\(\) failed \(111: Connection refused\)},
	    '... [error] connect() failed (111: Connection refused)');
	like($log, qr{upstream: "http://127\.0\.0\.1:$REFUSED/refused/x\?q=1"},
	    '... the error log names the upstream');
	like($log, qr{request: "GET /refused/x\?q=1 HTTP/1\.1"}, '... and the request');
}

{
	my $start = time;
	my ($log, $r) = new_log(sub { http_n($P, req('/silent'), 1, timeout => 5) });
	my $secs = time - $start;
	is($r->{resp}[0] && $r->{resp}[0]{status}, 504,
	    'an upstream that never answers: 504');
	ok($secs >= 0.9 && $secs < 3, sprintf('... after proxy_read_timeout 1s '
	    . '(%.2fs)', $secs));
	like($log, qr{\[error\] .*upstream timed out}, '... "upstream timed out"');
	like($log, qr{upstream: "http://127\.0\.0\.1:$UP/silent"},
	    '... naming the upstream');
	like($log, qr{while reading response header from upstream},
	    '... while reading response header from upstream');
}

{
	# an upstream that does not read the body: the request stalls
	my $size = 60 * 1024 * 1024;
	my $start = time;
	my ($log, $res) = new_log(sub {
		PorticoTest::http_batch($P, [ "POST /noread HTTP/1.1\r\nHost: localhost\r\n"
		    . "Content-Length: $size\r\nConnection: close\r\n\r\n"
		    . ("z" x $size) ], timeout => 6)
	});
	my ($x) = PorticoTest::split_responses($res->[0]{raw});
	ok($res->[0]{closed}, 'an upstream that does not read: closed '
	    . sprintf('(%.2fs)', $res->[0]{secs}));
	ok($res->[0]{secs} < 5, '... within the timeouts');
	like($log, qr{\[error\] .*upstream timed out.*upstream: "http://127\.0\.0\.1:$UP/noread"},
	    '... proxy_send_timeout: "upstream timed out", naming the upstream');
	like($log, qr{upstream timed out.*request: "POST /noread HTTP/1\.1"},
	    '... and the request line (not body bytes)') or
	    diag(($log =~ /(request: "[^"]{0,60})/)[0]);
	is($x && $x->{status}, 504, '... 504') or
	    diag('client got: ' . substr($res->[0]{raw}, 0, 200) . ' reset: '
	    . $res->[0]{reset});
}

{
	# an upstream that answers before it has read the body (a 413 to an
	# upload): nginx 1.22 relays that answer, with proxy_request_buffering
	# on or off
	my $size = 30 * 1024 * 1024;
	my ($log, $res) = new_log(sub {
		PorticoTest::http_batch($P, [ "POST /early HTTP/1.1\r\nHost: localhost\r\n"
		    . "Content-Length: $size\r\n\r\n" . ("z" x $size) ], timeout => 5)
	});
	my ($x) = PorticoTest::split_responses($res->[0]{raw});
	is($x && $x->{status}, 413, "an upstream's early answer to an upload is "
	    . 'relayed, as nginx does') or diag('client got: '
	    . substr($res->[0]{raw}, 0, 40) . "...\nlog: "
	    . substr($log, 0, 300));
	is($x && $x->{body}, "too big\n", '... with its body');
	ok($res->[0]{closed}, '... and the connection closed');
}

my %logfor;
for my $c (@bad_head) {
	my ($name, $path, undef, $re) = @$c;
	my ($log, $r) = new_log(sub { http_n($P, req($path), 1, wait_close => 1,
	    timeout => 3) });
	my $x = $r->{resp}[0];
	is($x && $x->{status}, 502, "$name: 502") or
	    diag("client got: " . substr($r->{raw}, 0, 120) . '...');
	is(scalar @{ $r->{resp} }, 1, "$name: one answer, nothing passed on");
	ok($r->{raw} !~ /\r\n\r\n.*\bok\b|hello|X-Long/s,
	    "$name: nothing of the upstream's answer reaches the client");
	like($log, qr{\[error\] .*upstream: "http://127\.0\.0\.1:$UP\Q$path\E"},
	    "$name: [error] naming the upstream");
	like($log, $re, "$name: log says $re") if $re;
	$logfor{$path} = $log;
}

{
	# as nginx, a 502 does not end the client's connection (only 400,
	# 413, 414, 500 and 501 do): the next request is answered
	my $r = http_n($P, req('/lf', close => 0) . req('/ok'), 2, timeout => 3,
	    wait_close => 1);
	is(scalar @{ $r->{resp} }, 2, 'after a 502 the client connection is '
	    . 'kept: the next request is answered') or
	    diag($r->{raw});
	like($r->{resp}[0]{head} // '', qr/^Connection: keep-alive\r$/mi,
	    '... the 502 says Connection: keep-alive');
	is($r->{resp}[1] && $r->{resp}[1]{status}, 200,
	    '... and the next answer is the upstream\'s');
}

# controls: the checks above can fail
{
	my $r = http_n($P, req('/ok'), 1);
	is($r->{resp}[0]{status}, 200, 'control: a valid answer is relayed');
	$r = http_n($P, req('/small/ok'), 1);
	is($r->{resp}[0]{body}, 'ok', 'control: proxy_buffer_size 512, small head');
	$r = http_n($P, req('/head3k'), 1);
	is($r->{resp}[0]{status}, 200, 'control: a 3k head fits the default 4k');
	is(length($r->{resp}[0]{h}{'x-long'} // ''), 3000, '... relayed whole');
	$r = http_n($P, req('/cl2same'), 1);
	is($r->{resp}[0]{status}, 200, 'two equal Content-Length: accepted');
	is($r->{resp}[0]{body}, 'hello', '... body');
	is((() = $r->{resp}[0]{head} =~ /^Content-Length:/mig), 1,
	    '... one Content-Length to the client');
}

# ------------------------------------------------------------------
# after the head: the client connection closes short

for my $c (@bad_body) {
	my ($name, $path, undef, $re, $world) = @$c;
	for my $v ('1.1', '1.0') {
		my ($log, $r) = new_log(sub { http_n($P, req($path, version => $v,
		    close => 0), 1, wait_close => 1, timeout => 3) });
		my $raw = $r->{raw};
		my $body = index($raw, "\r\n\r\n") >= 0 ?
		    substr($raw, index($raw, "\r\n\r\n") + 4) : '';
		ok($r->{closed}, "$name (HTTP/$v client): connection closed");
		if ($v eq '1.1') {
			like($raw, qr{^HTTP/1\.1 200 .*\r\nTransfer-Encoding: chunked\r\n}s,
			    "$name (HTTP/$v): the head had gone, chunked");
			ok(!(decode_chunked($body))[1],
			    "$name (HTTP/$v): no valid terminal chunk") or
			    diag("body: $body");
		} else {
			like($raw, qr{^HTTP/1\.1 200 }, "$name (HTTP/$v): the head had gone");
			ok($body eq 'hello' || $world && $body eq $world,
			    "$name (HTTP/$v): the data before the fault, "
			    . 'unframed, nothing past it') or
			    diag("body: $body");
		}
		like($log, qr{\[error\] .*upstream: "http://127\.0\.0\.1:$UP\Q$path\E"},
		    "$name (HTTP/$v): [error] naming the upstream");
		like($log, $re, "$name: log says $re") if $re && $v eq '1.1';
	}
}

{
	# the fault in the same packet as the head: the head has not gone
	# yet, so by the man page it is a 502
	my ($log, $r) = new_log(sub { http_n($P, req('/chunkbad1'), 1,
	    wait_close => 1, timeout => 3) });
	is($r->{resp}[0] && $r->{resp}[0]{status}, 502, 'bad chunk size in the '
	    . 'first packet, the head not yet sent: 502') or
	    diag('client got: "' . substr($r->{raw}, 0, 200) . '"');
	ok($r->{raw} !~ /hello/, '... nothing of the body passed on');
	like($log, qr{\[error\] .*upstream: "http://127\.0\.0\.1:$UP/chunkbad1"},
	    '... [error] naming the upstream');
}

{
	# with a length: the client sees the length, then a short body and
	# the close; the request pipelined behind is not answered
	my ($log, $r) = new_log(sub { http_n($P, req('/short', close => 0)
	    . req('/ok'), 2, wait_close => 1, timeout => 3) });
	my $raw = $r->{raw};
	like($raw, qr{^HTTP/1\.1 200 .*Content-Length: 100\r\n}s,
	    'upstream closes mid-body: the head had gone with its length');
	ok($r->{closed}, '... the client connection is closed');
	is(substr($raw, index($raw, "\r\n\r\n") + 4), 'only 10 b.',
	    '... after the 10 bytes that came, nothing more');
	unlike($raw, qr{HTTP/1\.1 200 OK\r\n.*HTTP/1\.1}s,
	    '... the next request is not answered');
	like($log, qr{\[error\] .*upstream prematurely closed connection.*upstream: "http://127\.0\.0\.1:$UP/short"},
	    '... [error] upstream prematurely closed connection');
}

{
	my $start = time;
	my ($log, $r) = new_log(sub { http_n($P, req('/silentbody', close => 0),
	    1, wait_close => 1, timeout => 5) });
	my $secs = time - $start;
	ok($r->{closed} && $secs < 4, sprintf('upstream silent mid-body: closed '
	    . 'after proxy_read_timeout (%.2fs)', $secs));
	ok($secs >= 0.9, '... not before it');
	is(substr($r->{raw}, index($r->{raw}, "\r\n\r\n") + 4), 'abc',
	    '... the 3 bytes that came, nothing more');
	like($log, qr{\[error\] .*upstream timed out}, '... "upstream timed out"');
}

# ------------------------------------------------------------------
# proxy_intercept_errors on

{
	my $r = http_n($P, req('/icpt/404'), 1);
	my $x = $r->{resp}[0];
	is($x->{status}, 404, 'intercept: 404');
	like($x->{body}, qr{<h1>404 Not Found</h1>}, "intercept: portico's own "
	    . '404 page');
	unlike($r->{raw}, qr/upstream!/, "intercept: not the upstream's body");
	ok(!exists $x->{h}{'x-up'}, "intercept: not the upstream's headers");
	like($x->{h}{server} // '', qr/^portico/, 'intercept: Server portico');

	$r = http_n($P, req('/icpt/500'), 1);
	like($r->{resp}[0]{body}, qr{<h1>500 Internal Server Error</h1>},
	    "intercept: 500 is portico's 500 page");
	$r = http_n($P, req('/icpt/302'), 1);
	is($r->{resp}[0]{status}, 302, 'intercept: 302 status');
	unlike($r->{raw}, qr/upstream!/, 'intercept: 302 replaced');
	$r = http_n($P, req('/icpt/200'), 1);
	is($r->{resp}[0]{body}, 'upstream!', 'intercept: a 200 is passed');
	$r = http_n($P, req('/icpt/299'), 1);
	is($r->{resp}[0]{body}, 'upstream!', 'intercept: a 299 is passed');
	$r = http_n($P, req('/raw404'), 1);
	is($r->{resp}[0]{body}, 'upstream!', 'intercept off: the upstream\'s 404');

	# the connection goes on after an intercepted answer
	$r = http_n($P, req('/icpt/404', close => 0) . req('/ok'), 2, timeout => 3);
	is(join(' ', map { $_->{status} } @{ $r->{resp} }), '404 200',
	    'intercept: the client connection goes on');
}

# ------------------------------------------------------------------
# the access log for the failures

{
	$t->stop;
	my $log = slurp($t->dir . '/logs/up.log');
	like($log, qr{^GET /refused/x\?q=1 HTTP/1\.1\|502\|127\.0\.0\.1:$REFUSED\|502$}m,
	    'refused: $upstream_addr and $upstream_status 502');
	like($log, qr{^GET /silent HTTP/1\.1\|504\|127\.0\.0\.1:$UP\|504$}m,
	    'timed out: $upstream_status 504');
	like($log, qr{^POST /noread HTTP/1\.1\|504\|127\.0\.0\.1:$UP\|504$}m,
	    'send timeout: $request intact, $upstream_status 504') or
	    diag(join("\n", grep { /noread|zzz/ } split /\n/, $log) =~ s/(z{20})z+/$1.../gr);
	like($log, qr{^GET /garbage HTTP/1\.1\|502\|127\.0\.0\.1:$UP\|502$}m,
	    'garbage: $upstream_status 502');
	like($log, qr{^GET /icpt/404 HTTP/1\.1\|404\|127\.0\.0\.1:$UP\|404$}m,
	    "intercepted: \$upstream_status is the upstream's 404");
}

# nginx, for the record: which of these it turns into 502 as well
SKIP: {
	skip 'nginx not installed', 1 unless PorticoTest::Nginx::available();
	my $ng = PorticoTest::Nginx->start(<<"EOF");
events {}
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { proxy_pass http://127.0.0.1:$UP; }
        location /icpt/ {
            proxy_intercept_errors on;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
EOF
	skip 'nginx did not start', 1 unless $ng;
	my @diff;
	for my $c (@bad_head) {
		next if $c->[1] =~ m{^/small/};
		my $r = http_n($ng->port, req($c->[1]), 1, timeout => 3);
		my $st = $r->{resp}[0] ? $r->{resp}[0]{status} : 'none';
		push @diff, "$c->[0] ($c->[1]): nginx $st, portico 502"
		    if $st ne '502';
	}
	my $r = http_n($ng->port, req('/icpt/404'), 1);
	push @diff, 'proxy_intercept_errors on without error_page: nginx passes '
	    . "the upstream's 404 body, portico answers its own page (man page)"
	    if ($r->{resp}[0]{body} // '') eq 'upstream!';
	diag("where nginx 1.22 differs (portico follows its man page):\n  "
	    . join("\n  ", @diff)) if @diff;
	pass('nginx compared (differences reported above)');
	$ng->stop;
}

$up->stop;
done_testing();

#!/usr/bin/perl
# proxy_pass, the response side: what the client gets for each framing of
# the upstream's answer (length, chunked, until close; to HTTP/1.1 and
# HTTP/1.0 clients), large bodies byte-exact, HEAD, 204, 304, interim 1xx
# skipped, header rules (Server/Date, proxy_hide_header,
# proxy_pass_header, hop-by-hop), the reason phrase, keep-alive and
# pipelining with the client across proxied requests, $upstream_addr and
# $upstream_status in the access log; then the same answers through nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time sleep);
use PorticoTest qw(http parse_response wait_until slurp);
use PorticoUpstream qw(http_n decode_chunked);

# a deterministic body of $n bytes
sub pattern {
	my ($n, $seed) = @_;
	my $unit = join('', map { chr(($_ * 31 + $seed) % 256) } 0 .. 4095);
	my $s = $unit x (int($n / 4096) + 1);
	return substr($s, 0, $n);
}

my $BIG = pattern(21 * 1024 * 1024 + 13, 1);
my $MID = pattern(3 * 1024 * 1024 + 5, 2);

sub send_slices {
	my ($s, $data, $size) = @_;
	for (my $o = 0; $o < length $data; $o += $size) {
		print $s substr($data, $o, $size);
	}
}

my %routes = (
	'/cl' => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: 1\r\n\r\nhello",
	'/cl0' => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	'/cl10' => "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nv1.0",
	'/chunked' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
	'/close' => "HTTP/1.1 200 OK\r\nX-Kind: close\r\n\r\nuntil the close",
	'/close10' => "HTTP/1.0 200 OK\r\n\r\nold style",
	'/big' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nContent-Length: " . length($BIG)
		    . "\r\n\r\n";
		send_slices($s, $BIG, 65536);
	},
	'/bigchunked' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
		for (my $o = 0; $o < length $MID; $o += 10000) {
			my $c = substr($MID, $o, 10000);
			printf $s "%x\r\n%s\r\n", length $c, $c;
		}
		print $s "0\r\n\r\n";
	},
	'/bigclose' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\n\r\n";
		send_slices($s, $MID, 30000);
	},
	'/head' => "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-H: 1\r\n\r\n",
	'/headchunked' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	'/204' => "HTTP/1.1 204 No Content\r\nX-N: 1\r\n\r\n",
	'/304' => "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
	'/interim' => "HTTP/1.1 100 Continue\r\n\r\n"
	    . "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	    . "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
	'/slowinterim' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 100 Continue\r\n\r\n";
		sleep 0.3;
		print $s "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew";
	},
	'/hdrs' => "HTTP/1.1 200 OK\r\nServer: upstream/9\r\n"
	    . "Date: Mon, 01 Jan 2001 00:00:00 GMT\r\nX-Pad: pad\r\n"
	    . "X-Accel-Buffering: no\r\nX-Secret: s\r\nX-Srv-Hidden: h\r\n"
	    . "Connection: keep-alive\r\nKeep-Alive: timeout=99\r\n"
	    . "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
	'/reason' => "HTTP/1.1 299 Custom Reason Here\r\nContent-Length: 0\r\n\r\n",
	'/reason404' => "HTTP/1.1 404 Not Here Either\r\nContent-Length: 4\r\n\r\nnope",
	'/noreason' => "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
	'/extra' => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	    . "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Injected: 1\r\n\r\ninjected",
	'/extrachunked' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . "5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n"
	    . "X-Injected: 1\r\n\r\ninjected",
	'/headbody' => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	'/204body' => "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
	'/304body' => "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello",
	# 100 fields in all: portico's limit (HTTP_MAX_HEADERS), one more
	# is a 502 (nginx has no count limit; the man page says so)
	'/manyhdrs' => "HTTP/1.1 200 OK\r\n"
	    . join('', map { "X-H$_: v$_\r\n" } 1 .. 99)
	    . "Content-Length: 2\r\n\r\nok",
	'/toomanyhdrs' => "HTTP/1.1 200 OK\r\n"
	    . join('', map { "X-H$_: v$_\r\n" } 1 .. 100)
	    . "Content-Length: 2\r\n\r\nok",
	'/emptyval' => "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Sp:   padded   \r\n"
	    . "Content-Length: 2\r\n\r\nok",
	'/slowbody' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab";
		sleep 0.2;
		print $s "cd";
		sleep 0.2;
		print $s "ef";
	},
);
my $up = PorticoUpstream->new(routes => \%routes);
my $UP = $up->port;

my $SERVER = <<"EOF";
    server {
        listen 127.0.0.1:%%LISTEN%%;
        server_name localhost;
        proxy_hide_header X-Srv-Hidden;
        location / { proxy_pass http://127.0.0.1:$UP; }
        location /hide/ {
            proxy_hide_header X-Secret;
            proxy_pass http://127.0.0.1:$UP/;
        }
        location /pass/ {
            proxy_pass_header Server;
            proxy_pass_header Date;
            proxy_pass_header X-Accel-Buffering;
            proxy_pass http://127.0.0.1:$UP/;
        }
        location /v11/ {
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:$UP/;
        }
        location /local { return 200 "local\\n"; }
    }
EOF

my $t = PorticoTest->new;
(my $pconf = $SERVER) =~ s/%%LISTEN%%/%%PORT_0%%/;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    log_format up '\$request|\$status|\$upstream_addr|\$upstream_status';
    access_log logs/up.log up;
$pconf
}
EOF
$t->run;
my $P = $t->port(0);

sub req {
	my ($target, %o) = @_;
	my $m = $o{method} // 'GET';
	my $v = $o{version} // '1.1';
	return "$m $target HTTP/$v\r\nHost: localhost\r\n"
	    . ($o{close} // 1 ? "Connection: close\r\n" : '') . "\r\n";
}

sub one {
	my ($target, %o) = @_;
	my $r = http_n($P, req($target, %o), 1, timeout => $o{timeout} // 5,
	    wait_close => $o{wait_close},
	    head => $o{method} && $o{method} eq 'HEAD' ? { 0 => 1 } : undef);
	return ($r, $r->{resp}[0] // { status => 0, h => {}, body => '',
	    head => '', line => '' });
}

# ------------------------------------------------------------------
# framings

{
	my ($r, $x) = one('/cl');
	is($x->{status}, 200, 'Content-Length: 200');
	is($x->{body}, 'hello', 'Content-Length: body');
	is($x->{h}{'content-length'}, 5, 'Content-Length: passed');
	is($x->{h}{'x-up'}, 1, 'upstream header passed');
	like($x->{line}, qr{^HTTP/1\.1 200 OK$}, 'status line');
	is(length $r->{raw}, index($r->{raw}, "\r\n\r\n") + 4 + 5,
	    'nothing after the body');

	($r, $x) = one('/cl0');
	is($x->{h}{'content-length'}, '0', 'Content-Length: 0 passed');
	is($x->{body}, '', 'empty body');

	($r, $x) = one('/cl10');
	like($x->{line}, qr{^HTTP/1\.1 200}, 'a 1.0 upstream: HTTP/1.1 to the client');
	is($x->{body}, 'v1.0', '... body');
}

{
	my ($r, $x) = one('/chunked', wait_close => 1);
	is($x->{h}{'transfer-encoding'}, 'chunked', 'chunked to a 1.1 client');
	ok(!exists $x->{h}{'content-length'}, '... without Content-Length');
	is($x->{body}, 'hello world', '... decoded bytes equal');
	my $raw = substr($r->{raw}, index($r->{raw}, "\r\n\r\n") + 4);
	my ($dec, $fin) = decode_chunked($raw);
	ok($fin, '... with its terminal chunk');
	ok($r->{closed}, '... Connection: close honoured');

	($r, $x) = one('/chunked', version => '1.0', close => 0);
	ok(!exists $x->{h}{'transfer-encoding'}, 'chunked to a 1.0 client: '
	    . 'no Transfer-Encoding');
	is($x->{body}, 'hello world', '... the body without chunk framing');
	ok($r->{closed}, '... and the connection closed at the end');
	like($x->{head}, qr/^Connection: close\r$/mi, '... Connection: close');
}

{
	my ($r, $x) = one('/close', close => 0);
	is($x->{h}{'transfer-encoding'}, 'chunked',
	    'body until close: a 1.1 client gets it chunked');
	is($x->{body}, 'until the close', '... decoded bytes equal');
	is($x->{h}{'x-kind'}, 'close', '... header passed');
	my $raw = substr($r->{raw}, index($r->{raw}, "\r\n\r\n") + 4);
	ok((decode_chunked($raw))[1], '... with its terminal chunk');

	($r, $x) = one('/close', version => '1.0', close => 0);
	ok(!exists $x->{h}{'transfer-encoding'} && !exists $x->{h}{'content-length'},
	    'body until close to a 1.0 client: no framing');
	is($x->{body}, 'until the close', '... close-delimited');
	ok($r->{closed}, '... closed');

	($r, $x) = one('/close10');
	is($x->{body}, 'old style', 'a 1.0 upstream without length');
}

{
	my $start = time;
	my ($r, $x) = one('/big', timeout => 20);
	is($x->{status}, 200, '21 MB response: 200');
	is(length $x->{body}, length $BIG, '21 MB response: every byte');
	ok(md5_hex($x->{body}) eq md5_hex($BIG), '21 MB response: byte-exact');
	note(sprintf('21 MB in %.2fs', time - $start));

	($r, $x) = one('/bigchunked', timeout => 10);
	ok($x->{body} eq $MID, '3 MB in 300+ chunks to a 1.1 client: byte-exact');
	($r, $x) = one('/bigchunked', version => '1.0', timeout => 10);
	ok($x->{body} eq $MID && $r->{closed},
	    '3 MB in chunks to a 1.0 client: dechunked, byte-exact');
	($r, $x) = one('/bigclose', timeout => 10);
	ok($x->{body} eq $MID, '3 MB until close to a 1.1 client: byte-exact');
	($r, $x) = one('/bigclose', version => '1.0', timeout => 10);
	ok($x->{body} eq $MID, '3 MB until close to a 1.0 client: byte-exact');
}

{
	my ($r, $x) = one('/slowbody');
	is($x->{body}, 'abcdef', 'a body arriving in pieces');
}

# ------------------------------------------------------------------
# no body

{
	my ($r, $x) = one('/head', method => 'HEAD');
	is($x->{status}, 200, 'HEAD: 200');
	is($x->{h}{'content-length'}, 1234, "HEAD: the upstream's Content-Length");
	is(length $r->{raw}, index($r->{raw}, "\r\n\r\n") + 4, 'HEAD: no body');
	my ($got) = $up->wait_requests(1);
	my @all = $up->requests;
	is($all[-1]{method}, 'HEAD', 'HEAD goes to the upstream as HEAD');
	$up->clear;

	# HEAD then GET on one connection: the next answer is not eaten
	my $two = http_n($P, req('/head', method => 'HEAD', close => 0)
	    . req('/cl'), 2, head => { 0 => 1 });
	is(join(' ', map { $_->{status} } @{ $two->{resp} }), '200 200',
	    'HEAD then GET on one connection');
	is($two->{resp}[1]{body}, 'hello', '... the GET answered whole');

	($r, $x) = one('/headchunked', method => 'HEAD');
	is(length $r->{raw}, index($r->{raw}, "\r\n\r\n") + 4,
	    'HEAD of a chunked resource: no body, not even a last chunk');
}

{
	my ($r, $x) = one('/204');
	is($x->{status}, 204, '204 relayed');
	ok(!exists $x->{h}{'content-length'}, '204: no Content-Length');
	ok(!exists $x->{h}{'transfer-encoding'}, '204: no Transfer-Encoding');
	is($x->{h}{'x-n'}, 1, '204: header passed');
	is(length $r->{raw}, index($r->{raw}, "\r\n\r\n") + 4, '204: no body');

	($r, $x) = one('/304');
	is($x->{status}, 304, '304 relayed');
	is($x->{h}{etag}, '"v1"', '304: ETag passed');
	ok(!exists $x->{h}{'transfer-encoding'}, '304: no Transfer-Encoding');
	is(length $r->{raw}, index($r->{raw}, "\r\n\r\n") + 4, '304: no body');

	# and the connection goes on after them
	my $k = http_n($P, req('/204', close => 0) . req('/304', close => 0)
	    . req('/cl'), 3);
	is(join(' ', map { $_->{status} } @{ $k->{resp} }), '204 304 200',
	    '204, 304, 200 on one connection');
	is($k->{resp}[2]{body}, 'hello', '... the last body intact');
}

{
	my ($r, $x) = one('/interim');
	is($x->{status}, 200, 'interim 100 and 103 from the upstream skipped');
	is(scalar @{ $r->{resp} }, 1, '... one answer to the client');
	is($x->{body}, 'final', '... the final body');
	($r, $x) = one('/slowinterim');
	is($x->{status}, 201, 'a 100 in its own packet skipped too');
	is($x->{body}, 'new', '... body');
}

{
	# an upstream that sends a body where none may be: never passed on,
	# and the next answer on the connection is not corrupted by it
	for my $c (['/headbody', 'HEAD', 200], ['/204body', 'GET', 204],
	    ['/304body', 'GET', 304]) {
		my ($path, $m, $st) = @$c;
		my $r = http_n($P, req($path, method => $m, close => 0)
		    . req('/cl'), 2, head => { 0 => 1 }, wait_close => 1,
		    timeout => 3);
		is(join(' ', map { $_->{status} } @{ $r->{resp} }), "$st 200",
		    "$m $path: then the next answer");
		is($r->{resp}[1] && $r->{resp}[1]{body}, 'hello',
		    "$m $path: the next body is its own");
		my $first = $r->{raw} =~ /^(.*?\r\n\r\n)/s ? $1 : '';
		ok(substr($r->{raw}, length $first) =~ /^HTTP\/1\.1 200 /,
		    "$m $path: nothing between the two answers");
	}
}

{
	# bytes after the end of the upstream's answer never reach the client
	for my $path ('/extra', '/extrachunked') {
		my $r = http_n($P, req($path, close => 0) . req('/cl'), 2,
		    wait_close => 1, timeout => 3);
		is(join(' ', map { $_->{body} } @{ $r->{resp} }), 'hello hello',
		    "$path: the answer, then the next one");
		unlike($r->{raw}, qr/injected|X-Injected/i,
		    "$path: what the upstream sent after its answer is dropped");
	}
}

# ------------------------------------------------------------------
# header rules

{
	my ($r, $x) = one('/manyhdrs');
	is($x->{status}, 200, '100 header lines from the upstream: 200');
	is(scalar(grep { /^x-h\d+$/ } keys %{ $x->{h} }), 99,
	    '... all 99 X-H passed');
	is($x->{h}{'x-h99'}, 'v99', '... the last one intact');
	($r, $x) = one('/toomanyhdrs');
	is($x->{status}, 502, '101 header lines: 502 (portico\'s limit of 100)');
	($r, $x) = one('/emptyval');
	ok(exists $x->{h}{'x-empty'} && $x->{h}{'x-empty'} eq '',
	    'a header with an empty value passed');
	is($x->{h}{'x-sp'}, 'padded', 'surrounding spaces of a value trimmed');
}

{
	my $r = http_n($P, "GET /cl HTTP/1.0\r\nHost: localhost\r\n\r\n", 1,
	    wait_close => 1, timeout => 3);
	is($r->{resp}[0]{body}, 'hello', 'a 1.0 client without keep-alive');
	ok($r->{closed}, '... closed after the answer');
	like($r->{resp}[0]{head}, qr/^Connection: close\r$/mi, '... Connection: close');
}

{
	my ($r, $x) = one('/hdrs');
	like($x->{h}{server}, qr{^portico}, "portico's Server, not the upstream's");
	is((() = $x->{head} =~ /^Server:/mig), 1, 'one Server');
	isnt($x->{h}{date}, 'Mon, 01 Jan 2001 00:00:00 GMT', "portico's Date");
	like($x->{h}{date}, qr/GMT$/, '... a date');
	is((() = $x->{head} =~ /^Date:/mig), 1, 'one Date');
	ok(!exists $x->{h}{'x-pad'}, 'X-Pad hidden');
	ok(!exists $x->{h}{'x-accel-buffering'}, 'X-Accel-* hidden');
	is($x->{h}{'x-secret'}, 's', 'other fields passed');
	ok(!exists $x->{h}{'x-srv-hidden'}, 'proxy_hide_header from the server');
	ok(!exists $x->{h}{'keep-alive'}, "the upstream's Keep-Alive not passed");
	like($x->{head}, qr/^Connection: close\r$/mi, "the upstream's Connection "
	    . 'not passed (the client asked close)');
	is((() = $x->{head} =~ /^Connection:/mig), 1, 'one Connection');
	is((() = $x->{head} =~ /^Set-Cookie:/mig), 2, 'both Set-Cookie lines');

	($r, $x) = one('/hide/hdrs');
	ok(!exists $x->{h}{'x-secret'}, 'proxy_hide_header X-Secret');
	is($x->{h}{'x-srv-hidden'}, 'h', "a level's own proxy_hide_header "
	    . 'replaces the inherited ones');
	ok(!exists $x->{h}{'x-pad'}, 'X-Pad still hidden');

	($r, $x) = one('/pass/hdrs');
	is($x->{h}{server}, 'upstream/9', "proxy_pass_header Server: the "
	    . "upstream's");
	is((() = $x->{head} =~ /^Server:/mig), 1, '... and only that one');
	is($x->{h}{date}, 'Mon, 01 Jan 2001 00:00:00 GMT',
	    "proxy_pass_header Date: the upstream's");
	is((() = $x->{head} =~ /^Date:/mig), 1, '... and only that one');
	is($x->{h}{'x-accel-buffering'}, 'no', 'proxy_pass_header X-Accel-...');
	ok(!exists $x->{h}{'x-pad'}, 'X-Pad still hidden');
}

{
	my ($r, $x) = one('/reason');
	is($x->{line}, 'HTTP/1.1 299 Custom Reason Here', 'reason phrase relayed');
	($r, $x) = one('/reason404');
	is($x->{line}, 'HTTP/1.1 404 Not Here Either', '404 reason relayed');
	is($x->{body}, 'nope', "404: the upstream's body (intercept off)");
	($r, $x) = one('/noreason');
	is($x->{status}, 200, 'an empty reason phrase');
}

# ------------------------------------------------------------------
# keep-alive with the client across proxied requests

{
	my @seq = ('/cl', '/chunked', '/close', '/204', '/cl0', '/interim',
	    '/local', '/cl');
	my @want = ('hello', 'hello world', 'until the close', '', '', 'final',
	    "local\n", 'hello');
	# one at a time on one connection
	my $s = PorticoTest::connect_port($P);
	my @got;
	for my $i (0 .. $#seq) {
		print $s req($seq[$i], close => $i == $#seq);
		my ($buf) = PorticoTest::read_sock($s, 5, sub {
			my @r = PorticoTest::split_responses($_[0]);
			@r && ($r[-1]{status} =~ /^(204|304)$/ ||
			    defined $r[-1]{h}{'content-length'} ||
			    ($r[-1]{h}{'transfer-encoding'} // '') =~ /chunked/);
		});
		my ($x) = PorticoTest::split_responses($buf);
		push @got, $x ? $x->{body} : '(none)';
	}
	my ($rest, $closed) = PorticoTest::read_sock($s, 3);
	is_deeply(\@got, \@want, 'eight requests, one connection, each answered');
	ok($closed, 'closed after the last, which asked for it');

	# pipelined in one write
	my $all = join('', map { req($seq[$_], close => $_ == $#seq) } 0 .. $#seq);
	my $r = http_n($P, $all, scalar @seq, timeout => 8);
	is_deeply([ map { $_->{body} } @{ $r->{resp} } ], \@want,
	    'the same eight pipelined in one write');
	ok(!grep({ ($_->{h}{connection} // '') ne 'keep-alive' }
	    @{ $r->{resp} }[0 .. $#seq - 1]), '... keep-alive on all but the last');

	# the upstream requests: each its own connection, in order
	$up->clear;
	$r = http_n($P, req('/cl', close => 0) x 5 . req('/cl'), 6);
	is(scalar @{ $r->{resp} }, 6, 'six proxied requests pipelined');
	my @u = $up->wait_requests(6);
	is(scalar(@u), 6, '... six upstream requests');
	my %conns = map { $_->{conn} => 1 } @u;
	is(scalar keys %conns, 6, '... each on its own upstream connection');
}

{
	# a 1.0 client with keep-alive asked: a length-delimited answer may
	# keep it, a close-delimited one may not
	my $r = http_n($P, "GET /cl HTTP/1.0\r\nHost: localhost\r\n"
	    . "Connection: keep-alive\r\n\r\nGET /close HTTP/1.0\r\n"
	    . "Host: localhost\r\nConnection: keep-alive\r\n\r\n", 2, timeout => 4);
	is(join(' ', map { $_->{status} } @{ $r->{resp} }), '200 200',
	    '1.0 keep-alive: two answers');
	is($r->{resp}[1]{body}, 'until the close', '... the second close-delimited');
	ok($r->{closed}, '... and the connection closed after it');
}

# ------------------------------------------------------------------
# the access log

{
	$t->stop;
	my $log = slurp($t->dir . '/logs/up.log');
	like($log, qr{^GET /cl HTTP/1\.1\|200\|127\.0\.0\.1:$UP\|200$}m,
	    '$upstream_addr and $upstream_status logged');
	like($log, qr{^GET /reason HTTP/1\.1\|299\|127\.0\.0\.1:$UP\|299$}m,
	    '$upstream_status 299');
	like($log, qr{^GET /reason404 HTTP/1\.1\|404\|127\.0\.0\.1:$UP\|404$}m,
	    '$upstream_status 404');
	like($log, qr{^GET /local HTTP/1\.1\|200\|-\|-$}m,
	    'a request not proxied: - and -');
	like($log, qr{^GET /interim HTTP/1\.1\|200\|127\.0\.0\.1:$UP\|200$}m,
	    '$upstream_status: the final status, not the interim one');
}

# ------------------------------------------------------------------
# nginx in front of the same stub: the same answers (Date and Server
# apart)

SKIP: {
	skip 'nginx not installed', 1 unless PorticoTest::Nginx::available();
	my $conf = $SERVER;
	$conf =~ s/%%LISTEN%%/%%PORT%%/;
	my $ng = PorticoTest::Nginx->start("events {}\nhttp {\n$conf\n}\n");
	skip 'nginx did not start', 1 unless $ng;
	my $tp = PorticoTest->new;
	$tp->write_conf("worker_processes 1;\nevents {}\nhttp {\n"
	    . ($SERVER =~ s/%%LISTEN%%/%%PORT_0%%/r) . "}\n");
	$tp->run;
	my $norm = sub {
		my ($x, $closed) = @_;
		return 'none' unless $x;
		my @h = sort grep { !/^(date|server):/ }
		    map { lc($_) =~ s/\s+$//r } split /\r\n/, $x->{head};
		return join("\n", $x->{line}, @h, 'body: ' . md5_hex($x->{body}),
		    $closed ? 'closed' : 'open');
	};
	# not compared: /interim (nginx 1.22 relays the upstream's 100 as
	# the answer and drops the rest; portico skips 1xx, as RFC 9110 15.2
	# lets a proxy do: asserted above)
	for my $c (['/cl'], ['/cl0'], ['/cl10'], ['/chunked'],
	    ['/chunked', version => '1.0', close => 0], ['/close', close => 0],
	    ['/close', version => '1.0', close => 0], ['/close10'],
	    ['/head', method => 'HEAD'], ['/204'], ['/304'],
	    ['/hdrs'], ['/hide/hdrs'], ['/pass/hdrs'], ['/reason'],
	    ['/reason404'], ['/noreason'], ['/v11/chunked'], ['/v11/close'],
	    ['/bigchunked', version => '1.0']) {
		my ($target, %o) = @$c;
		my $head = ($o{method} // '') eq 'HEAD' ? { 0 => 1 } : undef;
		my $a = http_n($tp->port(0), req($target, %o), 1, head => $head,
		    wait_close => 1, timeout => 2);
		my $b = http_n($ng->port, req($target, %o), 1, head => $head,
		    wait_close => 1, timeout => 2);
		my $desc = ($o{method} // 'GET') . " $target HTTP/"
		    . ($o{version} // '1.1');
		is($norm->($a->{resp}[0], $a->{closed}),
		    $norm->($b->{resp}[0], $b->{closed}),
		    "$desc: the client sees what nginx sends");
	}
	$tp->stop;
	$ng->stop;
}

$up->stop;
done_testing();

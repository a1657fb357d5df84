#!/usr/bin/perl
# Keep-alive: many requests on one connection, keepalive_requests,
# keepalive_timeout (idle close, 0, the Keep-Alive header), HTTP/1.0
# keep-alive, and the timeouts that close slow clients
# (client_header_timeout against slowloris, client_body_timeout).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use Time::HiRes qw(time sleep);
use PorticoTest qw(wait_until);

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
worker_processes 2;
events { worker_connections 256; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        keepalive_requests 100000;
        location / { return 200 "$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_2%%;
        keepalive_timeout 1s;
        location / { return 200 "$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_3%%;
        keepalive_timeout 0;
        location / { return 200 "$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_4%%;
        keepalive_timeout 10s 7s;
        location / { return 200 "$request_uri\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_5%%;
        client_header_timeout 1s;
        client_body_timeout 1s;
        location / { return 200 "$request_uri\n"; }
    }
}
EOF
$t->run;

sub req { "GET $_[0] HTTP/1.1\r\nHost: k\r\n" . ($_[1] // "") . "\r\n" }

# write @$reqs at once, read until as many answers came (or the peer
# closed, or $timeout); returns (answers, closed?)
sub pipeline {
	my ($s, $reqs, $timeout) = @_;
	print $s join('', @$reqs);
	my $n = @$reqs;
	my ($buf, $closed) = PorticoTest::read_sock($s, $timeout // 5, sub {
		return PorticoTest::count_responses($_[0]) >= $n;
	});
	return ([PorticoTest::split_responses($buf)], $closed);
}

# 10,000 requests on one connection, in pipelined batches of 100, every
# answer in order
{
	my $start = time;
	my $s = PorticoTest::connect_port($t->port(0));
	my ($got, $bad, $first_bad, $ka) = (0, 0, undef, 0);
	for my $b (0 .. 99) {
		my @n = map { $b * 100 + $_ } 1 .. 100;
		my ($r, $closed) = pipeline($s, [ map { req("/$_") } @n ]);
		for my $i (0 .. $#$r) {
			$got++;
			$ka++ if ($r->[$i]{h}{connection} // '') eq 'keep-alive';
			next if $r->[$i]{status} == 200 &&
			    $r->[$i]{body} eq "/$n[$i]\n";
			$bad++;
			$first_bad //= "request /$n[$i]: $r->[$i]{status} "
			    . "body '$r->[$i]{body}'";
		}
		last if $closed || @$r != 100;
	}
	close $s;
	is($got, 10000, '10,000 answers on one connection');
	is($bad, 0, 'each answer is its own request\'s, in order')
	    or diag("first wrong: $first_bad");
	is($ka, 10000, 'each says Connection: keep-alive');
	diag(sprintf('10,000 keep-alive requests in %.1f s', time - $start));
}

# keepalive_requests 1000 (the default): the 1000th answer closes
{
	my $s = PorticoTest::connect_port($t->port(1));
	my (@all, $closed);
	for my $b (0 .. 9) {
		my @n = map { $b * 100 + $_ } 1 .. 100;
		# one more behind the 1000th: it must not be answered
		push @n, 1001 if $b == 9;
		my ($r, $c) = pipeline($s, [ map { req("/$_") } @n ]);
		push @all, @$r;
		$closed = $c;
		last if $c;
	}
	my ($more, $eof) = PorticoTest::read_sock($s, 2);
	push @all, PorticoTest::split_responses($more);
	close $s;
	is(scalar @all, 1000, 'keepalive_requests 1000: 1000 answers, not 1001');
	is($all[999]{body}, "/1000\n", 'the last is the 1000th');
	is($all[999]{h}{connection}, 'close', 'the 1000th says Connection: close');
	is(scalar(grep { ($_->{h}{connection} // '') eq 'keep-alive' } @all[0 .. 998]),
	    999, 'the 999 before say keep-alive');
	ok($closed || $eof, 'the connection is closed after the 1000th');
}

# keepalive_timeout 1s: an idle connection is closed after about 1 s
{
	my $s = PorticoTest::connect_port($t->port(2));
	my ($r) = pipeline($s, [ req('/idle') ]);
	is($r->[0]{h}{connection}, 'keep-alive', 'keepalive_timeout 1s: kept alive');
	my ($buf, $closed, $secs) = PorticoTest::read_sock($s, 5);
	ok($closed, 'the idle connection is closed by the server')
	    or diag('still open after 5 s');
	ok($secs >= 0.8 && $secs <= 5, 'after 0.8 to 5 s')
	    or diag(sprintf('closed after %.2f s', $secs));
	is($buf, '', 'and nothing is sent before the close');
	close $s;
	# a connection used within the timeout stays open
	$s = PorticoTest::connect_port($t->port(2));
	my $ok = 1;
	for my $i (1 .. 3) {
		($r) = pipeline($s, [ req("/again$i") ]);
		$ok = 0 unless ($r->[0]{body} // '') eq "/again$i\n";
		sleep 0.5 if $i < 3;	# idle for half the timeout, on purpose
	}
	ok($ok, 'each request restarts the idle timeout');
	close $s;
}

# keepalive_timeout 0: no keep-alive at all
{
	my $s = PorticoTest::connect_port($t->port(3));
	my ($r, $closed) = pipeline($s, [ req('/a'), req('/b') ], 3);
	my ($more, $eof) = PorticoTest::read_sock($s, 2);
	push @$r, PorticoTest::split_responses($more);
	close $s;
	is(scalar @$r, 1, 'keepalive_timeout 0: one answer per connection');
	is($r->[0]{h}{connection}, 'close', 'it says Connection: close');
	ok($closed || $eof, 'and the connection is closed');
	my $raw = PorticoTest::http($t->port(3),
	    "GET /10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	like($raw, qr/\r\nConnection: close\r\n/,
	    'keepalive_timeout 0: HTTP/1.0 keep-alive is refused too');
}

# keepalive_timeout 10s 7s: "Keep-Alive: timeout=7"
{
	my $s = PorticoTest::connect_port($t->port(4));
	my ($r) = pipeline($s, [ req('/h') ]);
	close $s;
	is($r->[0]{h}{'keep-alive'}, 'timeout=7', 'Keep-Alive: timeout=7');
	is($r->[0]{h}{connection}, 'keep-alive', 'with Connection: keep-alive');
	$s = PorticoTest::connect_port($t->port(2));
	($r) = pipeline($s, [ req('/h') ]);
	close $s;
	ok(!exists $r->[0]{h}{'keep-alive'}, 'no Keep-Alive header without the '
	    . 'second argument');
}

# HTTP/1.0 with Connection: keep-alive
{
	my $s = PorticoTest::connect_port($t->port(1));
	my ($r, $closed) = pipeline($s, [ "GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" ]);
	is($r->[0]{h}{connection}, 'keep-alive',
	    'HTTP/1.0 keep-alive: answered with Connection: keep-alive');
	ok(!$closed, 'and kept open');
	($r, $closed) = pipeline($s, [ "GET /k2 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n" ]);
	is($r->[0]{body}, "/k2\n", 'a second HTTP/1.0 request on it is answered');
	($r, $closed) = pipeline($s, [ "GET /k3 HTTP/1.0\r\n\r\n" ]);
	is($r->[0]{h}{connection}, 'close', 'an HTTP/1.0 request without it closes');
	my (undef, $eof) = PorticoTest::read_sock($s, 2);
	ok($closed || $eof, 'closed');
	close $s;
}

# slowloris: a head trickled one byte every 200 ms is cut off by
# client_header_timeout 1s, while a normal client is served meanwhile
{
	my $head = "GET /slow HTTP/1.1\r\nHost: k\r\nX-Slow: " . ('s' x 100)
	    . "\r\n\r\n";
	my $s = PorticoTest::connect_port($t->port(5));
	$s->blocking(0);
	my $sel = IO::Select->new($s);
	my ($start, $sent, $buf, $closed, $closed_at) = (time, 0, '', 0);
	my ($other, $other_at);
	local $SIG{PIPE} = 'IGNORE';
	while (time - $start < 5 && !$closed) {
		if ($sent < length($head) && time >= $start + $sent * 0.2) {
			syswrite($s, substr($head, $sent, 1)) and $sent++;
		}
		if (!defined $other && time - $start > 0.4) {
			# the other client, while the slow one trickles
			my ($st, undef, $body) = PorticoTest::http_get($t->port(5), '/fast');
			$other = "$st $body";
			$other_at = time - $start;
		}
		next unless $sel->can_read(0.02);
		my $n = sysread($s, $buf, 4096, length $buf);
		if (!defined $n ? !$!{EAGAIN} : $n == 0) {
			$closed = 1;
			$closed_at = time - $start;
		}
	}
	close $s;
	ok($closed, 'slowloris: the trickling client is disconnected');
	ok($closed && $closed_at >= 0.8 && $closed_at <= 3,
	    'within client_header_timeout (1 s), not after 3 s')
	    or diag(sprintf('closed: %s after %.2f s, %d of %d bytes sent',
	    $closed ? 'yes' : 'no', $closed_at // time - $start, $sent,
	    length $head));
	ok($sent < length $head, 'before it could finish its head');
	unlike($buf, qr/^HTTP\/1\.1 200/, 'the trickled request is not answered');
	is($other, "200 /fast\n", 'a normal client is served meanwhile');
	ok(defined $other_at && (!$closed || $other_at < $closed_at),
	    'while the slow one was still connected');
	ok($t->wait_log(qr/\[info\] .*client timed out/, 3),
	    'the error log says "client timed out" at info');
}

# client_body_timeout 1s: a body that stops after 10 of its 100 bytes
{
	my $s = PorticoTest::connect_port($t->port(5));
	print $s "POST /body HTTP/1.1\r\nHost: k\r\nContent-Length: 100\r\n\r\n"
	    . ('b' x 10);
	my ($buf, $closed, $secs) = PorticoTest::read_sock($s, 5);
	close $s;
	ok($closed, 'client_body_timeout: a stalled body is cut off')
	    or diag('still open after 5 s');
	ok($secs >= 0.8 && $secs <= 4, 'after about 1 s')
	    or diag(sprintf('closed after %.2f s', $secs));
	# (with "return", the answer may come before the body, as in nginx)
	unlike($buf, qr/^HTTP\/1\.1 [45]/, 'no error answer to a slow body');
	ok($t->wait_log(qr/\[info\] .*client timed out.*request: "POST \/body/, 3),
	    'logged as "client timed out" with the request');
}

$t->stop;
done_testing();

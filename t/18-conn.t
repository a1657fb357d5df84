#!/usr/bin/perl
# Connection handling: lingering close (lingering_close, lingering_time,
# lingering_timeout), reset_timedout_connection, and the socket options
# of "listen".

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use Socket qw(SOL_SOCKET IPPROTO_TCP);
use Time::HiRes qw(time sleep);
use PorticoTest qw(wait_until);

$SIG{PIPE} = 'IGNORE';

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 64; }
http {
    client_max_body_size 1k;
    lingering_time 3s;
    lingering_timeout 1s;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lingering_close off;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_2%%;
        location / { lingering_close always; return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_3%%;
        client_header_timeout 1s;
        reset_timedout_connection on;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_4%%;
        client_header_timeout 1s;
        location / { return 200 "ok\n"; }
    }
}
EOF
$t->run;
my ($worker) = $t->wait_ready(1);
ok($worker, 'one worker');

# the worker's sockets with no client connected
sub socks { PorticoTest::sock_count($worker) }
my $idle = socks();
sub quiet { ok(wait_until(sub { socks() == $idle }, 10),
    'no connection left from before') }

sub upload_head { "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: $_[0]\r\n\r\n" }

# write up to $max bytes of body (non-blocking, for at most $secs, with
# $pause seconds between writes); returns (bytes written, the write
# error or '', seconds taken)
sub pour {
	my ($s, $max, $secs, $pause) = @_;
	$s->blocking(0);
	my $chunk = 'x' x 65536;
	my ($sent, $err) = (0, '');
	my $start = time;
	my $sel = IO::Select->new($s);
	while ($sent < $max && time < $start + $secs) {
		$sel->can_write(0.05) or next;
		my $n = syswrite($s, $chunk, $max - $sent < 65536 ?
		    $max - $sent : 65536);
		if (!defined $n) {
			next if $!{EAGAIN} || $!{EINTR};
			$err = "$!";
			last;
		}
		$sent += $n;
		sleep $pause if $pause;
	}
	return ($sent, $err, time - $start);
}

# a client uploading 4 MB to a 1k limit: lingering close drains the
# body, so every write succeeds and the 413 arrives intact, then a FIN
{
	my $s = PorticoTest::connect_port($t->port(0));
	print $s upload_head(8_000_000);
	my ($sent, $err) = pour($s, 4_000_000, 10);
	is($sent, 4_000_000, 'lingering close: the whole 4 MB of body is '
	    . 'accepted') or diag("write failed: $err");
	my ($buf, $closed) = PorticoTest::read_sock($s, 5);
	my $rerr = $!{ECONNRESET} ? 'reset' : '';
	my @r = PorticoTest::split_responses($buf);
	is(scalar @r, 1, 'one answer');
	is($r[0]{status}, 413, 'it is the 413');
	like($r[0]{body}, qr{<h1>413 Request Entity Too Large</h1>.*</html>}s,
	    'its body is complete');
	is($r[0]{h}{connection}, 'close', 'Connection: close');
	ok($closed && $rerr eq '', 'then a FIN, not a reset')
	    or diag("closed $closed, $rerr");
	close $s;
	ok($t->wait_log(qr/client intended to send too large body: 8000000/),
	    'the 413 is logged with its reason');
}

# the same with lingering_close off: the unread body makes the kernel
# reset the connection, which the uploading client sees (this is what
# the test above would see if the lingering were broken)
{
	my $s = PorticoTest::connect_port($t->port(1));
	print $s upload_head(8_000_000);
	my ($sent, $err) = pour($s, 4_000_000, 10);
	isnt($err, '', "lingering_close off: the upload is reset ($err)");
	ok($sent < 4_000_000, 'before the whole body is written');
	close $s;
}

# lingering_time bounds the whole drain: a client that never stops
# sending is cut off after about 3 s
{
	my $s = PorticoTest::connect_port($t->port(0));
	print $s upload_head(1_000_000_000_000);
	# about 6 MB/s: endless enough, and kind to a shared machine
	my ($sent, $err, $secs) = pour($s, 1_000_000_000_000, 15, 0.01);
	isnt($err, '', 'lingering_time: an endless upload is cut off');
	ok($secs >= 2.5 && $secs < 10, 'after about lingering_time (3 s)')
	    or diag(sprintf('after %.2f s, %d bytes', $secs, $sent));
	close $s;
}

# lingering_timeout bounds each wait: a client that reads the answer and
# then neither sends nor closes is closed after about 1 s
{
	quiet();
	my $base = socks();
	my $s = PorticoTest::connect_port($t->port(0));
	print $s upload_head(100_000) . ('x' x 2000);
	my ($buf, $closed) = PorticoTest::read_sock($s, 5);
	like($buf, qr/^HTTP\/1.1 413 /, 'lingering_timeout: the 413');
	ok($closed, 'and our FIN');
	my $start = time;
	ok(wait_until(sub { socks() == $base }, 8),
	    'the server closes the lingering connection');
	my $secs = time - $start;
	ok($secs >= 0.7 && $secs < 5, 'after about lingering_timeout (1 s)')
	    or diag(sprintf('after %.2f s', $secs));
	close $s;
}

# lingering_close on closes at once when the client has sent everything;
# always lingers even then
for my $case ([0, 'on', 0], [2, 'always', 1]) {
	my ($port, $mode, $lingers) = @$case;
	quiet();
	my $base = socks();
	my $s = PorticoTest::connect_port($t->port($port));
	print $s "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	my ($buf, $closed) = PorticoTest::read_sock($s, 5);
	like($buf, qr/^HTTP\/1.1 200 .*ok\n$/s, "lingering_close $mode: 200");
	my $start = time;
	ok(wait_until(sub { socks() == $base }, 8),
	    "lingering_close $mode: the server closes");
	my $secs = time - $start;
	if ($lingers) {
		ok($secs >= 0.7, 'after lingering_timeout')
		    or diag(sprintf('after %.2f s', $secs));
	} else {
		ok($secs < 0.5, 'at once') or diag(sprintf('after %.2f s', $secs));
	}
	close $s;
}

# reset_timedout_connection: a request head that stops half-way times
# out (client_header_timeout 1s); on: RST, off: FIN
for my $case ([3, 'on', 1], [4, 'off', 0]) {
	my ($port, $mode, $reset) = @$case;
	my $r = PorticoTest::http_batch($t->port($port),
	    ["GET / HTTP/1.1\r\nHost: a\r\n"], timeout => 6)->[0];
	ok($r->{closed}, "reset_timedout_connection $mode: closed on timeout");
	ok($r->{secs} >= 0.7, 'after client_header_timeout')
	    or diag("after $r->{secs} s");
	is($r->{reset}, $reset, $reset ? 'by an RST' : 'by a FIN');
	is($r->{raw}, '', 'nothing answered');
}

# a connection that never sent a byte is closed, not reset, as nginx
{
	my $r = PorticoTest::http_batch($t->port(3), [''], timeout => 6)->[0];
	ok($r->{closed} && !$r->{reset},
	    'reset_timedout_connection on: a silent connection gets a FIN');
}

$t->stop;

# the directives' values are checked
{
	my $c = PorticoTest->new;
	for my $bad ('lingering_close maybe;', 'lingering_time x;',
	    'lingering_timeout -1;', 'reset_timedout_connection yes;') {
		$c->write_conf("events {} http { server { listen "
		    . "127.0.0.1:1; $bad } }\n");
		my ($code, $out) = $c->run_cmd('-t');
		isnt($code, 0, "-t refuses \"$bad\"");
		like($out, qr/invalid value/, 'with "invalid value"')
		    or diag($out);
	}
}

done_testing;

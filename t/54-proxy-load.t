#!/usr/bin/perl
# proxy_pass under some load and with awkward clients: many proxied
# requests at once each get their own answer; pipelined requests with
# bodies each reach the upstream whole; a slow client slows the upstream
# reads (the worker's memory stays bounded) and still gets every byte; a
# client that goes away mid-answer, and every failure mode of t/52, leave
# no upstream socket open in the worker.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5 qw(md5_hex);
use IO::Select;
use Time::HiRes qw(time sleep);
use PorticoTest qw(http wait_until slurp);
use PorticoUpstream qw(http_n);

my $HUGE = do {
	my $unit = join('', map { chr(($_ * 13 + 7) % 256) } 0 .. 65535);
	$unit x 512;			# 32 MB
};
my $HUGE_MD5 = md5_hex($HUGE);

my %routes = (
	'/huge' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nContent-Length: " . length($HUGE)
		    . "\r\n\r\n";
		for (my $o = 0; $o < length $HUGE; $o += 262144) {
			print $s substr($HUGE, $o, 262144) or last;
		}
	},
	'/chunked' => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . "3\r\nabc\r\n0\r\n\r\n",
	'/close' => "HTTP/1.1 200 OK\r\n\r\nclosed body",
	'/silent' => sub { sleep 10 },
	'/garbage' => "garbage\r\n\r\n",
	'/ok' => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	'/short' => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
	'/badchunk' => sub {
		my ($s) = @_;
		print $s "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    . "3\r\nabc\r\n";
		sleep 0.2;
		print $s "zz\r\n";
	},
);
my $up = PorticoUpstream->new(routes => \%routes);
my $UP = $up->port;
my $REFUSED = PorticoTest::free_port();

my $t = PorticoTest->new;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 512; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        client_max_body_size 10m;
        location / {
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /silent {
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /refused { proxy_pass http://127.0.0.1:$REFUSED; }
    }
}
EOF
$t->run;
my $P = $t->port(0);
my ($w) = $t->wait_ready(1);
ok($w, 'one worker');

# sockets held by the worker when idle
my $idle = PorticoTest::sock_count($w);

# ------------------------------------------------------------------
# many at once

{
	$up->clear;
	my (@reqs, @want);
	for my $i (1 .. 60) {
		my $kind = $i % 4;
		if ($kind == 0) {
			my $body = "body-$i-" . ('x' x ($i * 37));
			push @reqs, "POST /echo/$i HTTP/1.1\r\nHost: h\r\nContent-Length: "
			    . length($body) . "\r\nConnection: close\r\n\r\n$body";
			push @want, [ "echo $i", qr{^POST /echo/$i HTTP/1\.1\r\n},
			    md5_hex($body) ];
		} elsif ($kind == 1) {
			push @reqs, "GET /echo/$i?q=$i HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
			push @want, [ "echo $i", qr{^GET /echo/$i\?q=$i HTTP/1\.1\r\n} ];
		} elsif ($kind == 2) {
			push @reqs, "GET /chunked HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
			push @want, [ 'chunked', 'abc' ];
		} else {
			push @reqs, "GET /close HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
			push @want, [ 'close', 'closed body' ];
		}
	}
	my $res = PorticoTest::http_batch($P, \@reqs, timeout => 10);
	my @bad;
	for my $i (0 .. $#reqs) {
		my ($x) = PorticoTest::split_responses($res->[$i]{raw});
		my ($what, $body, $md5) = @{ $want[$i] };
		my $ok = $x && $x->{status} == 200 && (ref $body ? $x->{body} =~ $body
		    : $x->{body} eq $body);
		$ok &&= ($x->{h}{'x-body-md5'} // '') eq $md5 if $md5;
		push @bad, "$i ($what): " . ($x ? "$x->{status} "
		    . substr($x->{body}, 0, 40) : 'no answer') unless $ok;
	}
	ok(!@bad, '60 proxied requests at once, each its own answer') or
	    diag(join("\n", @bad));
}

# ------------------------------------------------------------------
# pipelined requests with bodies

{
	$up->clear;
	my @bodies = ('a' x 10, 'b' x 70000, '', "c\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
	my $all = '';
	for my $i (0 .. $#bodies) {
		$all .= "POST /pipe/$i HTTP/1.1\r\nHost: h\r\nContent-Length: "
		    . length($bodies[$i]) . "\r\n\r\n$bodies[$i]";
	}
	my $chunked = "5\r\nhello\r\n0\r\n\r\n";
	$all .= "POST /pipe/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    . $chunked . "GET /pipe/last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	my $r = http_n($P, $all, 6, timeout => 8);
	is(scalar @{ $r->{resp} }, 6, 'six pipelined requests, four with bodies, '
	    . 'one chunked: six answers');
	my @u = $up->wait_requests(6);
	is(join(' ', map { $_->{target} } @u),
	    '/pipe/0 /pipe/1 /pipe/2 /pipe/3 /pipe/c /pipe/last',
	    '... the upstream got them in order, nothing more');
	is_deeply([ map { $_->{body} } @u ], [ @bodies, 'hello', '' ],
	    '... each with its own body');
}

# ------------------------------------------------------------------
# a slow client

sub rss_kb {
	my ($pid) = @_;
	return slurp("/proc/$pid/status") =~ /^VmRSS:\s+(\d+)/m ? $1 : 0;
}

{
	my $before = rss_kb($w);
	my $s = PorticoTest::connect_port($P);
	print $s "GET /huge HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	my ($buf) = PorticoTest::read_sock($s, 3, sub { length $_[0] > 1024 * 1024 });
	# the client stops reading; the upstream keeps sending
	sleep 1.5;
	my $during = rss_kb($w);
	cmp_ok($during - $before, '<', 8 * 1024, sprintf('a stalled client: the '
	    . 'worker does not buffer the answer (RSS %+d kB)', $during - $before));
	my ($rest, $closed) = PorticoTest::read_sock($s, 20, sub {
		length($_[0]) + length($buf) >= length($HUGE) + 100 &&
		    index($buf . $_[0], "\r\n\r\n") >= 0 &&
		    length($buf . $_[0]) - index($buf . $_[0], "\r\n\r\n") - 4 >=
		    length $HUGE;
	});
	$buf .= $rest;
	my $body = substr($buf, index($buf, "\r\n\r\n") + 4);
	is(length $body, length $HUGE, '... then gets all 32 MB');
	ok(md5_hex($body) eq $HUGE_MD5, '... byte-exact');
	close $s;
}

{
	# a client that reads a little at a time, with pauses
	my $s = PorticoTest::connect_port($P);
	print $s "GET /huge HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	my $buf = '';
	my $sel = IO::Select->new($s);
	my $end = time + 25;
	my $want;
	while (time < $end) {
		last unless $sel->can_read(2);
		my $n = sysread($s, $buf, 1024 * 1024, length $buf);
		last unless $n;
		sleep 0.01 if length($buf) < 4 * 1024 * 1024;
		my $e = index($buf, "\r\n\r\n");
		last if $e >= 0 && length($buf) - $e - 4 >= length $HUGE;
	}
	my $body = substr($buf, index($buf, "\r\n\r\n") + 4);
	ok(length($body) == length($HUGE) && md5_hex($body) eq $HUGE_MD5,
	    'a client reading in small steps gets every byte');
	close $s;
}

# ------------------------------------------------------------------
# no upstream socket left behind

sub settle {
	return wait_until(sub { PorticoTest::sock_count($w) <= $idle }, 5);
}

{
	ok(settle(), "back to the idle socket count ($idle)") or
	    diag('worker holds ' . PorticoTest::sock_count($w));

	# a client gone mid-answer
	for (1 .. 3) {
		my $s = PorticoTest::connect_port($P);
		print $s "GET /huge HTTP/1.1\r\nHost: h\r\n\r\n";
		PorticoTest::read_sock($s, 3, sub { length $_[0] > 200000 });
		close $s;
	}
	ok(settle(), 'clients gone mid-answer: the upstream sockets are closed')
	    or diag('worker holds ' . PorticoTest::sock_count($w)
	    . " sockets, idle $idle");

	# a client gone while portico waits for the upstream's head
	for (1 .. 3) {
		my $s = PorticoTest::connect_port($P);
		print $s "GET /silent HTTP/1.1\r\nHost: h\r\n\r\n";
		sleep 0.1;
		close $s;
	}
	ok(wait_until(sub { PorticoTest::sock_count($w) <= $idle }, 4),
	    'clients gone while waiting for the head: closed by the read '
	    . 'timeout at the latest') or diag('worker holds '
	    . PorticoTest::sock_count($w));

	# every failure mode, on kept-alive connections.  Before the answer's
	# head a 502 or 504 keeps the connection, as in nginx: the request
	# behind it is answered.  After the head, the connection is closed.
	my $next = "GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	my @before = map { "GET $_ HTTP/1.1\r\nHost: h\r\n\r\n$next" }
	    qw(/refused /garbage /silent);
	my @after = map { "GET $_ HTTP/1.1\r\nHost: h\r\n\r\n$next" }
	    qw(/short /badchunk);
	my $res = PorticoTest::http_batch($P, [ (@before) x 4, (@after) x 4 ],
	    timeout => 4);
	my @b = @$res[0 .. 11];
	my @a = @$res[12 .. 19];
	is(scalar(grep { $_->{closed} && $_->{raw} =~ /\r\n\r\nok\z/ } @b),
	    12, 'a failure before the head: the next request is answered');
	is(scalar(grep { $_->{closed} && $_->{raw} !~ /\r\n\r\nok\z/ } @a),
	    8, 'a failure after the head: the connection is closed');
	ok(settle(), 'and leaves no socket open in the worker') or
	    diag('worker holds ' . PorticoTest::sock_count($w)
	    . " sockets, idle $idle");

	my $r = http_n($P, "GET /chunked HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 1);
	is($r->{resp}[0]{body}, 'abc', 'the worker still serves');
	is_deeply([ $t->workers ], [ $w ], '... the same worker');
}

$t->stop;
$up->stop;
done_testing();

#!/usr/bin/perl
# Connections to upstream groups: keepalive (few upstream connections for
# many requests, counted by $connection in the upstream's own access
# log), keepalive_requests, one connection per request without it, an
# upstream that closes its idle connections (the next request still
# succeeds on a fresh one), and WebSocket through an upstream group:
# 101, bytes echoed both ways, the tunnel closed after proxy_read_timeout
# of silence.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use Time::HiRes qw(time);
use PorticoTest qw(wait_until slurp);
use PorticoUpstream;
use PorticoLB qw(ka_get tally);


sub scenario { PorticoTest::scenario(@_) }

# "$connection $connection_requests" lines of an upstream's access log
# (after the first $skip lines)
sub conns {
	my ($t, $name, $skip) = @_;
	my %c;
	my @l = grep { length } split /\n/, slurp($t->dir . "/logs/$name.log");
	for (@l[($skip // 0) .. $#l]) {
		my ($c, $n) = split / /;
		$c{$c} = $n if !defined $c{$c} || $n > $c{$c};
	}
	return \%c;
}

sub lines {
	my ($t, $name) = @_;
	return scalar(grep { length } split /\n/, slurp($t->dir . "/logs/$name.log"));
}

scenario('upstream keepalive' => sub {
	my ($t) = @_;
	my $stub = PorticoUpstream->new(routes => {
		# no "Connection: close", but the stub closes after each answer
		'/*' => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nstub",
	});
	my $sa = $stub->addr;
	$t->write_conf(<<"EOF");
worker_processes 1;
# a connection left behind must not hold the stop for long
worker_shutdown_timeout 3s;
events { worker_connections 256; }
http {
    log_format c '\$connection \$connection_requests';
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_1%%;
        access_log logs/up1.log c;
        return 200 "up";
    }
    server {
        listen 127.0.0.1:%%PORT_2%%;
        access_log logs/up2.log c;
        keepalive_timeout 300ms;
        return 200 "up2";
    }
    server {
        listen 127.0.0.1:%%PORT_4%%;
        access_log logs/up4.log c;
        keepalive_requests 5;
        return 200 "up4";
    }
    upstream ka { server 127.0.0.1:%%PORT_1%%; keepalive 4; }
    upstream five { server 127.0.0.1:%%PORT_4%%; keepalive 4; }
    upstream kt { server 127.0.0.1:%%PORT_1%%; keepalive 4; keepalive_timeout 400ms; }
    upstream stub2 { server $sa max_fails=0; server 127.0.0.1:%%PORT_1%%; keepalive 4; }
    upstream kr { server 127.0.0.1:%%PORT_1%%; keepalive 4; keepalive_requests 10; }
    upstream noka { server 127.0.0.1:%%PORT_1%%; }
    upstream short { server 127.0.0.1:%%PORT_2%%; keepalive 4; }
    upstream stub { server $sa; keepalive 4; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location /ka { proxy_pass http://ka; }
        location /kr { proxy_pass http://kr; }
        location /short { proxy_pass http://short; }
        location /stub { proxy_pass http://stub; }
        location /two { proxy_pass http://stub2; }
        location /five { proxy_pass http://five; }
        location /kt { proxy_pass http://kt; }
        location /noka {
            proxy_http_version 1.0;
            proxy_set_header Connection close;
            proxy_pass http://noka;
        }
    }
}
EOF
	$t->run;
	my @b = ka_get($t->port(0), '/ka', 200);
	is_deeply({ tally(@b) }, { up => 200 }, 'keepalive 4: 200 requests, 200 answers');
	wait_until(sub { lines($t, 'up1') >= 200 }, 3);
	my $c = conns($t, 'up1');
	my $skip;
	ok(keys(%$c) >= 1 && keys(%$c) <= 4,
	    '... over at most 4 upstream connections: ' . scalar(keys %$c));
	my ($most) = sort { $b <=> $a } values %$c;
	ok($most >= 50, "... one of them carried $most requests");

	# 5 clients at once, 40 requests each: still few connections
	$skip = lines($t, 'up1');
	my @kids;
	for (1 .. 5) {
		my $pid = fork // die;
		if (!$pid) {
			my @r = ka_get($t->port(0), '/ka', 40);
			POSIX::_exit((grep { $_ ne 'up' } @r) ? 1 : 0);
		}
		push @kids, $pid;
	}
	my $bad = 0;
	for (@kids) { waitpid($_, 0); $bad++ if $? }
	is($bad, 0, '5 clients at once, 40 requests each: all answered');
	wait_until(sub { lines($t, 'up1') >= $skip + 200 }, 3);
	$c = conns($t, 'up1', $skip);
	ok(keys(%$c) < 50, '... over fewer connections than one per 4 requests: '
	    . scalar(keys %$c));

	# keepalive_requests 10
	$skip = lines($t, 'up1');
	@b = ka_get($t->port(0), '/kr', 100);
	is_deeply({ tally(@b) }, { up => 100 }, 'keepalive_requests 10: 100 answers');
	wait_until(sub { lines($t, 'up1') >= $skip + 100 }, 3);
	$c = conns($t, 'up1', $skip);
	is(scalar(keys %$c), 10, '... over 10 upstream connections');
	is_deeply([ sort { $a <=> $b } values %$c ], [ (10) x 10 ],
	    '... of 10 requests each');

	# without keepalive
	$skip = lines($t, 'up1');
	@b = ka_get($t->port(0), '/noka', 100);
	is_deeply({ tally(@b) }, { up => 100 }, 'no keepalive: 100 answers');
	wait_until(sub { lines($t, 'up1') >= $skip + 100 }, 3);
	$c = conns($t, 'up1', $skip);
	is(scalar(keys %$c), 100, '... one upstream connection per request');

	# the upstream ends each connection after 5 requests ("Connection:
	# close" on the fifth answer)
	@b = ka_get($t->port(0), '/five', 20);
	is_deeply({ tally(@b) }, { up4 => 20 },
	    'an upstream with keepalive_requests 5: 20 of 20 answered');
	wait_until(sub { lines($t, 'up4') >= 20 }, 3);
	$c = conns($t, 'up4');
	is_deeply([ sort { $a <=> $b } values %$c ], [ (5) x 4 ],
	    '... on 4 upstream connections of 5 requests');

	# keepalive_timeout of the upstream block: the idle connection is
	# closed by portico (the upstream server would keep it 75s)
	my ($w) = $t->workers;
	my $base = PorticoTest::sock_count($w);
	my @kt = ka_get($t->port(0), '/kt', 2);
	is_deeply(\@kt, [ 'up', 'up' ], 'keepalive_timeout 400ms: answered');
	ok(PorticoTest::sock_count($w) > $base, '... the connection is kept');
	my $t0 = time;
	ok(wait_until(sub { PorticoTest::sock_count($w) <= $base }, 5),
	    '... then closed');
	my $secs = time - $t0;
	ok($secs > 0.25 && $secs < 1.5,
	    sprintf('... after about 400ms (%.2f s)', $secs));

	# the upstream closes its idle connections after 300ms
	$base = PorticoTest::sock_count($w);
	my @r = ka_get($t->port(0), '/short', 3);
	is_deeply(\@r, [ ('up2') x 3 ], 'an upstream with a short keepalive_timeout');
	ok(wait_until(sub { PorticoTest::sock_count($w) <= $base }, 5),
	    '... closes the kept connection; the worker lets it go');
	@r = ka_get($t->port(0), '/short', 3);
	is_deeply(\@r, [ ('up2') x 3 ], 'the next requests succeed');
	wait_until(sub { lines($t, 'up2') >= 6 }, 3);
	$c = conns($t, 'up2');
	is(scalar(keys %$c), 2, '... on a fresh connection');

	# the stub closes each connection right after its answer: a kept
	# connection may be dead when it is reused
	ok(wait_until(sub { PorticoTest::sock_count($w) <= $base }, 5),
	    'no connection open in the worker but its listening sockets');
	@r = ka_get($t->port(0), '/stub', 12, want_status => 1, timeout => 1);
	s/^200 // for @r;
	is_deeply({ tally(@r) }, { stub => 12 },
	    'an upstream that closes after each answer: 12 of 12 succeed')
	    or diag(join ' ', tally(@r));
	my @got = $stub->wait_requests(12, 2);
	is(scalar(@got), 12, '... the stub got each once');
	is(scalar(keys %{{ map { $_->{conn} => 1 } @got }}), 12,
	    '... each on a connection of its own');
	ok(wait_until(sub { PorticoTest::sock_count($w) <= $base }, 3),
	    '... and no connection is left open in the worker') or
	    diag('sockets: ' . PorticoTest::sock_count($w) . ", at first $base");
	is($got[0]{version}, 'HTTP/1.1', '... as HTTP/1.1');
	$stub->clear;
	@r = ka_get($t->port(0), '/two', 12, want_status => 1, timeout => 1);
	s/^200 // for @r;
	ok(!grep({ $_ ne 'stub' && $_ ne 'up' } @r),
	    'the same with a second peer in the group: 12 of 12 succeed')
	    or diag(join ' ', tally(@r));
	ok(!exists $got[0]{h}{connection}, '... without a Connection field')
	    or diag("Connection: $got[0]{h}{connection}");
	$t->stop;
	$stub->stop;
});

# ---------------------------------------------------------------------
scenario('WebSocket through an upstream group' => sub {
	my ($t) = @_;
	my $cf = $t->dir . '/ws-closed';
	my $ws_gone = sub { -e "$cf._ws_$_[0]" };
	my $ws = PorticoUpstream->new(routes => {
		'/ws/bye' => sub {
			my ($s) = @_;
			print $s "HTTP/1.1 101 Switching Protocols\r\n"
			    . "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye";
		},
		'/ws/*' => sub {
			my ($s, $req) = @_;
			print $s "HTTP/1.1 101 Switching Protocols\r\n"
			    . "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
			    . "srv-hello";
			my $sel = IO::Select->new($s);
			my $end = time + 10;
			while (time < $end) {
				next unless $sel->can_read(0.1);
				my $n = sysread($s, my $buf, 65536);
				last unless $n;
				print $s $buf;
			}
			# the tunnel closed: noted in a file
			open(my $fh, '>', "$cf." . ($req->{target} =~ s{/}{_}gr));
		},
	});
	my $wa = $ws->addr;
	$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    upstream wsg { server $wa; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /ws/ {
            proxy_pass http://wsg;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1s;
        }
    }
}
EOF
	$t->run;
	my $s = PorticoTest::connect_port($t->port(0));
	print $s "GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	    . "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    . "Sec-WebSocket-Version: 13\r\n\r\n";
	my ($buf) = PorticoTest::read_sock($s, 5, sub { $_[0] =~ /srv-hello$/ });
	like($buf, qr/^HTTP\/1\.1 101 /, '101 Switching Protocols');
	like($buf, qr/\r\nUpgrade: websocket\r\n/i, '... with Upgrade: websocket');
	like($buf, qr/\r\n\r\nsrv-hello$/, 'bytes from the upstream reach the client');
	my ($req) = $ws->wait_requests(1);
	is($req->{line}, 'GET /ws/chat HTTP/1.1', 'the upstream got HTTP/1.1');
	is($req->{h}{upgrade}, 'websocket', '... Upgrade: websocket');
	is($req->{h}{connection}, 'upgrade', '... Connection: upgrade');
	# both ways, a few sizes
	my $ok = 1;
	my $total = 0;
	for my $len (1, 5, 1000, 16384, 60000) {
		my $msg = join '', map { chr(32 + ($_ * 7 + $len) % 90) } 1 .. $len;
		print $s $msg;
		my ($e) = PorticoTest::read_sock($s, 5, sub { length($_[0]) >= $len });
		$ok = 0, diag("$len bytes: got " . length($e)) unless $e eq $msg;
		$total += $len;
	}
	ok($ok, "$total bytes echoed in 5 messages");
	# silence: proxy_read_timeout 1s closes the tunnel
	my $t0 = time;
	my ($rest, $closed, $secs) = PorticoTest::read_sock($s, 5);
	ok($closed, 'the idle tunnel is closed');
	ok($secs > 0.8 && $secs < 2.5, sprintf('... after proxy_read_timeout '
	    . '(%.2f s)', $secs));
	is($rest, '', '... without anything more');
	close $s;
	ok(wait_until(sub { $ws_gone->('chat') }, 3), '... and so is the upstream side');

	# the client ends a tunnel: the upstream side is closed at once
	my $up = "GET /ws/%s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	    . "Connection: Upgrade\r\n\r\n";
	$s = PorticoTest::connect_port($t->port(0));
	printf $s $up, 'client-ends';
	($buf) = PorticoTest::read_sock($s, 5, sub { $_[0] =~ /srv-hello$/ });
	like($buf, qr/^HTTP\/1\.1 101 .*srv-hello$/s, 'a second tunnel');
	close $s;
	ok(wait_until(sub { $ws_gone->('client-ends') }, 0.8),
	    'the client closes it: the upstream side is closed, before '
	    . 'proxy_read_timeout');
	# the upstream ends one: the client sees its last bytes, then the close
	$s = PorticoTest::connect_port($t->port(0));
	printf $s $up, 'bye';
	my ($bye, $eof, $secs2) = PorticoTest::read_sock($s, 5);
	like($bye, qr/^HTTP\/1\.1 101 .*\r\n\r\nbye$/s,
	    'the upstream sends "bye" and closes: the client gets it');
	ok($eof && $secs2 < 0.8, sprintf('... and the close (%.2f s)', $secs2));
	close $s;
	$t->stop;
	$ws->stop;
});


done_testing();

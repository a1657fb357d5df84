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

# Linux's numbers, which Socket does not all export
use constant {
	SO_SNDBUF => 7, SO_RCVBUF => 8, SO_KEEPALIVE => 9, SO_REUSEPORT => 15,
	TCP_KEEPIDLE => 4, TCP_KEEPINTVL => 5, TCP_KEEPCNT => 6,
	TCP_DEFER_ACCEPT => 9, TCP_FASTOPEN => 23,
};

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

# reset_timedout_connection on send_timeout: a client that stops reading
# (a tiny receive buffer, against sndbuf=1 on our side) times the answer
# out; on: RST, the rest of the answer dropped; off: what was sent, FIN
PorticoTest::scenario('send_timeout reset', sub {
	my ($t) = @_;
	$t->write_conf(<<'EOF');
worker_processes 1;
events {}
http {
    send_timeout 1s;
    server {
        listen 127.0.0.1:%%PORT_0%% sndbuf=1;
        reset_timedout_connection on;
        location / { return 200 "$http_pad$http_pad"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%% sndbuf=1;
        location / { return 200 "$http_pad$http_pad"; }
    }
}
EOF
	$t->run;
	my $timeouts = sub {
		my $n = () = $t->error_log =~ /client timed out while we were /g;
		return $n;
	};
	for my $case ([0, 'on', 1], [1, 'off', 0]) {
		my ($port, $mode, $reset) = @$case;
		socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0)
		    or die "socket: $!";
		setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack('i', 1));
		connect($s, Socket::pack_sockaddr_in($t->port($port),
		    Socket::inet_aton('127.0.0.1'))) or die "connect: $!";
		my $before = $timeouts->();
		syswrite($s, "GET / HTTP/1.1\r\nHost: a\r\nPad: " . ('p' x 3600)
		    . "\r\nConnection: close\r\n\r\n");
		ok(wait_until(sub { $timeouts->() > $before }, 5),
		    "reset_timedout_connection $mode: send_timeout expires");
		# read to the end: EOF, or the error that ends it
		my ($buf, $err, $end) = ('', 'no end', time + 5);
		my $sel = IO::Select->new($s);
		while (time < $end) {
			next unless $sel->can_read(0.05);
			my $r = sysread($s, $buf, 65536, length $buf);
			$err = defined $r ? '' : "$!";
			last if !defined $r || $r == 0;
		}
		close $s;
		like($buf, qr/^HTTP\/1.1 200 /, 'part of the answer arrived');
		ok(length $buf < 7200, 'not all of it')
		    or diag(length($buf) . ' bytes');
		if ($reset) {
			like($err, qr/reset/i, 'then an RST');
		} else {
			is($err, '', 'then a FIN');
		}
	}
	$t->stop;
});

# nginx, when installed, does the same with the same directives
SKIP: {
	skip('nginx is not installed', 6) unless PorticoTest::Nginx::available();
	my $ng = PorticoTest::Nginx->start(<<'EOF');
events {}
http {
    client_max_body_size 1k;
    lingering_time 3s;
    lingering_timeout 1s;
    client_header_timeout 1s;
    reset_timedout_connection on;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "ok\n"; }
        # nginx resets a 413 whose client stalls while its body is
        # discarded: that is a timeout too
        location /up { reset_timedout_connection off; return 200 "ok\n"; }
    }
}
EOF
	skip('nginx did not start', 6) unless $ng;
	my $s = PorticoTest::connect_port($ng->port);
	print $s upload_head(8_000_000);
	my ($sent, $err) = pour($s, 4_000_000, 10);
	is($sent, 4_000_000, 'nginx: the 4 MB upload is accepted too')
	    or diag("write failed: $err");
	my ($buf, $closed) = PorticoTest::read_sock($s, 5);
	my $reset = $!{ECONNRESET} ? 1 : 0;
	my @r = PorticoTest::split_responses($buf);
	is($r[0]{status}, 413, 'nginx: its 413 arrives');
	ok($closed && !$reset, 'nginx: then a FIN') or diag("closed $closed reset $reset: $!");
	close $s;
	my $r = PorticoTest::http_batch($ng->port,
	    ["GET / HTTP/1.1\r\nHost: a\r\n"], timeout => 6)->[0];
	ok($r->{closed} && $r->{reset},
	    'nginx: reset_timedout_connection on resets a half request');
	$r = PorticoTest::http_batch($ng->port, [''], timeout => 6)->[0];
	ok($r->{closed} && !$r->{reset},
	    'nginx: and closes a silent connection with a FIN');
	$ng->stop;
	pass('nginx compared');
}

# ---------------------------------------------------------------------
# listen options, read back from the workers' sockets

# the inodes of the sockets listening on $port (IPv4 and IPv6)
sub listen_inodes {
	my ($port) = @_;
	my @ino;
	for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
		for (split /\n/, PorticoTest::slurp($f)) {
			my @c = split ' ';
			next unless @c > 9 && $c[1] =~ /:([0-9A-F]{4})$/;
			push @ino, $c[9] if hex($1) == $port && $c[3] eq '0A';
		}
	}
	return sort @ino;
}

# the fds of process $pid that are sockets listening on $port:
# ([fd, inode], ...)
sub listen_fds {
	my ($pid, $port) = @_;
	my %ino = map { $_ => 1 } listen_inodes($port);
	opendir(my $d, "/proc/$pid/fd") or return ();
	my @fds;
	for my $fd (grep { /^\d+$/ } readdir $d) {
		my $l = readlink("/proc/$pid/fd/$fd") // '';
		push @fds, [$fd, $1] if $l =~ /^socket:\[(\d+)\]$/ && $ino{$1};
	}
	closedir $d;
	return @fds;
}

# getsockopt() on socket $fd of process $pid, through pidfd_getfd(2);
# undef when the kernel does not let us
sub peer_sockopt {
	my ($pid, $fd, $level, $name) = @_;
	my $pidfd = syscall(434, $pid + 0, 0);		# pidfd_open
	return undef if $pidfd < 0;
	my $mine = syscall(438, $pidfd, $fd + 0, 0);	# pidfd_getfd
	POSIX::close($pidfd);
	return undef if $mine < 0;
	open(my $fh, '+<&=', $mine) or return undef;
	my $v = getsockopt($fh, $level, $name);
	close $fh;
	return defined $v ? unpack('i', $v) : undef;
}

# the -t errors of "listen" parameters (write_conf adds an error_log line
# at the top: the second server is on line 4)
{
	my $c = PorticoTest->new;
	for my $case (['rcvbuf=x', qr/invalid rcvbuf "rcvbuf=x"/],
	    ['sndbuf=1q', qr/invalid sndbuf "sndbuf=1q"/],
	    ['fastopen=-2', qr/invalid fastopen "fastopen=-2"/],
	    ['backlog=0', qr/invalid backlog "backlog=0"/],
	    ['so_keepalive=500ms', qr/invalid so_keepalive value: "500ms"/],
	    ['so_keepalive=maybe', qr/invalid so_keepalive value: "maybe"/],
	    ['so_keepalive=::', qr/invalid so_keepalive value/],
	    ['so_keepalive=1:2:3:4', qr/invalid so_keepalive value/],
	    ['bogus', qr/invalid parameter "bogus"/]) {
		my ($arg, $re) = @$case;
		$c->write_conf("events {} http { server { listen "
		    . "127.0.0.1:1 $arg; } }\n");
		my ($code, $out) = $c->run_cmd('-t');
		isnt($code, 0, "-t refuses listen $arg");
		like($out, $re, 'with nginx\'s message') or diag($out);
	}
	# nginx: socket options once per address, one default server
	$c->write_conf(<<'EOF');
events {} http {
    server { listen 127.0.0.1:1 rcvbuf=8k; }
    server { listen 127.0.0.1:1 backlog=10; }
}
EOF
	my ($code, $out) = $c->run_cmd('-t');
	isnt($code, 0, '-t refuses two sets of options for one address');
	like($out, qr/portico.conf:4: duplicate listen options for 127\.0\.0\.1:1/,
	    'duplicate listen options for ..., at the second') or diag($out);
	$c->write_conf(<<'EOF');
events {} http {
    server { listen 127.0.0.1:1 default_server; }
    server { listen 127.0.0.1:1 default_server; }
}
EOF
	($code, $out) = $c->run_cmd('-t');
	isnt($code, 0, '-t refuses two default servers for one address');
	like($out, qr/portico.conf:4: a duplicate default server for 127\.0\.0\.1:1/,
	    'a duplicate default server for ...') or diag($out);
	$c->write_conf(<<'EOF');
events {} http {
    server { listen 127.0.0.1:1 rcvbuf=8k; }
    server { listen 127.0.0.1:1 default_server; }
    server { listen 127.0.0.1:2 reuseport deferred bind fastopen=0
        so_keepalive=on ipv6only=on; }
    server { listen 127.0.0.1:3 so_keepalive=off; }
    server { listen 127.0.0.1:4 so_keepalive=1m::; }
    server { listen 127.0.0.1:5 so_keepalive=:30s:; }
    server { listen 127.0.0.1:6 so_keepalive=::9; }
    server { listen 127.0.0.1:7 so_keepalive=30m sndbuf=0; }
    server { listen 127.0.0.1:8 so_keepalive=1:2; }
}
EOF
	($code, $out) = $c->run_cmd('-t');
	is($code, 0, '-t accepts options given once, and every parameter')
	    or diag($out);
}

PorticoTest::scenario('socket options', sub {
	my ($t) = @_;
	$t->write_conf(<<'EOF');
worker_processes 1;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%% rcvbuf=48k sndbuf=40k deferred
            so_keepalive=30s:10s:3 fastopen=16 backlog=100;
        location / { return 200 "options\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "plain\n"; }
    }
}
EOF
	$t->run;
	my ($w) = $t->wait_ready(1);
	my ($opt) = listen_fds($w, $t->port(0));
	my ($plain) = listen_fds($w, $t->port(1));
	ok($opt && $plain, 'the worker holds both listening sockets');
	SKIP: {
		skip('pidfd_getfd(2) is not available here', 10)
		    unless defined peer_sockopt($w, $opt->[0], SOL_SOCKET,
		    SO_RCVBUF);
		my $get = sub { peer_sockopt($w, $_[0][0], $_[1], $_[2]) };
		# Linux reports twice the size asked for
		is($get->($opt, SOL_SOCKET, SO_RCVBUF), 2 * 48 * 1024,
		    'rcvbuf=48k: SO_RCVBUF');
		is($get->($opt, SOL_SOCKET, SO_SNDBUF), 2 * 40 * 1024,
		    'sndbuf=40k: SO_SNDBUF');
		is($get->($opt, SOL_SOCKET, SO_KEEPALIVE), 1, 'so_keepalive: on');
		is($get->($opt, IPPROTO_TCP, TCP_KEEPIDLE), 30, 'idle 30 s');
		is($get->($opt, IPPROTO_TCP, TCP_KEEPINTVL), 10, 'interval 10 s');
		is($get->($opt, IPPROTO_TCP, TCP_KEEPCNT), 3, 'count 3');
		is($get->($opt, IPPROTO_TCP, TCP_FASTOPEN), 16, 'fastopen=16');
		cmp_ok($get->($opt, IPPROTO_TCP, TCP_DEFER_ACCEPT), '>', 0,
		    'deferred: TCP_DEFER_ACCEPT');
		is($get->($plain, SOL_SOCKET, SO_KEEPALIVE) . ' ' .
		    $get->($plain, IPPROTO_TCP, TCP_DEFER_ACCEPT) . ' ' .
		    $get->($plain, IPPROTO_TCP, TCP_FASTOPEN), '0 0 0',
		    'without options: none of them');
		is($get->($plain, SOL_SOCKET, SO_REUSEPORT), 0, 'nor reuseport');
	}
	SKIP: {
		my $ss = `ss -tln 2>/dev/null`;
		skip('no ss(8)', 1) unless $ss =~ /LISTEN/;
		my $p = $t->port(0);
		like($ss, qr/LISTEN\s+\d+\s+100\s+127\.0\.0\.1:$p\s/,
		    'backlog=100: the accept queue ss(8) shows');
	}
	# deferred: the connection is accepted when its request arrives
	my (undef, undef, $body) = PorticoTest::http_get($t->port(0), '/');
	is($body, "options\n", 'a request on the socket with options');
	$t->stop;
});

# reuseport: a socket per worker, kept across a reload and handed over
# in a binary upgrade
PorticoTest::scenario('reuseport', sub {
	my ($t) = @_;
	$t->write_conf(<<'EOF');
worker_processes 2;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;
        location / { return 200 "pid $pid\n"; }
    }
}
EOF
	$t->run;
	my $port = $t->port(0);
	my @w = $t->wait_ready(2);
	is(scalar @w, 2, 'two workers');
	my @ino = listen_inodes($port);
	is(scalar @ino, 2, 'reuseport: two sockets listen on the port');
	my $each_own = sub {
		my @own = map { [ map { $_->[1] } listen_fds($_, $port) ] } @_;
		return @own == 2 && @{ $own[0] } == 1 && @{ $own[1] } == 1 &&
		    $own[0][0] ne $own[1][0];
	};
	ok($each_own->(@w), 'each worker holds one of them, not the same');
	SKIP: {
		my $v = peer_sockopt($w[0], (listen_fds($w[0], $port))[0][0],
		    SOL_SOCKET, SO_REUSEPORT);
		skip('pidfd_getfd(2) is not available here', 1) unless defined $v;
		is($v, 1, 'SO_REUSEPORT is set');
	}
	# the kernel spreads connections over the sockets by their ports
	my $answered = sub {
		my %pids;
		for (1 .. 40) {
			my (undef, undef, $b) = PorticoTest::http_get($port, '/');
			$pids{$1}++ if ($b // '') =~ /^pid (\d+)/;
		}
		return [sort keys %pids];
	};
	is_deeply($answered->(), [sort @w],
	    'both workers answer, each from its socket');

	# reload: the same two sockets, one to each new worker
	$t->signal('HUP');
	my @nw;
	ok(wait_until(sub {
		@nw = $t->workers;
		return 0 unless @nw == 2;
		my %old = map { $_ => 1 } @w;
		return !grep { $old{$_} } @nw;
	}), 'reload: two new workers');
	ok(wait_until(sub { !grep { PorticoTest::alive($_) } @w }),
	    'the old workers are gone');
	is_deeply([listen_inodes($port)], \@ino, 'reload: the sockets are kept');
	ok($each_own->(@nw), 'one to each new worker');
	is_deeply($answered->(), [sort @nw], 'both new workers answer');

	# binary upgrade: the new master adopts both sockets
	my $old = $t->{pid};
	my $oldbin = $t->pid_file . '.oldbin';
	$t->signal('USR2');
	my ($new, @uw);
	ok(wait_until(sub {
		$new = $t->master_pid;
		return 0 unless -e $oldbin && $new && $new != $old;
		@uw = $t->workers($new);
		return @uw == 2 && $each_own->(@uw);
	}), 'upgrade: a new master, each of its workers with one socket');
	$t->signal('QUIT', $old);
	ok($t->wait_exit($old), 'the old master retires');
	$t->{pid} = $new;
	$t->{child} = undef;
	is_deeply([listen_inodes($port)], \@ino,
	    'upgrade: the same two sockets listen');
	is_deeply($answered->(), [sort @uw],
	    'both workers of the new master answer');
	unlike($t->error_log, qr/\[emerg\]/, 'no error on the way');
	$t->stop;
});

# IPv6 end to end, when the machine has ::1
SKIP: {
	require IO::Socket::IP;
	my $probe = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
	    Listen => 1);
	skip('no IPv6 loopback here', 5) unless $probe;
	close $probe;
	PorticoTest::scenario('ipv6', sub {
		my ($t) = @_;
		$t->write_conf(<<'EOF');
events {}
http {
    server {
        listen [::1]:%%PORT_0%%;
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "$remote_addr\n"; }
    }
}
EOF
		my $p = $t->port(0);
		$t->not_listening(0);
		$t->port(1);
		$t->run;
		my $s;
		ok(wait_until(sub {
			$s = IO::Socket::IP->new(PeerHost => '::1',
			    PeerPort => $p, Timeout => 2);
		}), 'connect to [::1]:port');
		print $s "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
		my ($buf) = PorticoTest::read_sock($s, 5);
		my @r = PorticoTest::split_responses($buf);
		is($r[0]{status}, 200, 'answered over IPv6');
		is($r[0]{body}, "::1\n", '$remote_addr is ::1');
		ok(!PorticoTest::port_open($p), 'the IPv6 socket takes no IPv4 '
		    . '(ipv6only=on)');
		$t->stop;
	});
}

# worker_connections all taken by clients that send nothing: the next
# client still gets in, an idle keep-alive connection going first, then
# the oldest stalled one
{
	my $w = PorticoTest->new;
	$w->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 4; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "ok\n"; }
    }
}
EOF
	$w->allow_log(qr/worker_connections are not enough/);
	$w->run;
	my $port = $w->port(0);
	my ($wk) = $w->wait_ready(1);
	my $base = PorticoTest::sock_count($wk);
	# one keep-alive connection, idle after its answer
	my $ka = PorticoTest::connect_port($port);
	print $ka "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	my ($buf) = PorticoTest::read_sock($ka, 5, sub { $_[0] =~ /ok\n/ });
	like($buf, qr/^HTTP\/1.1 200/, 'a keep-alive answer');
	# three silent ones fill the rest: the server has them all
	my @silent = map { PorticoTest::connect_port($port) } 1 .. 3;
	ok(wait_until(sub { PorticoTest::sock_count($wk) == $base + 4 }, 10),
	    'four client connections open');
	for my $n (1 .. 2) {
		if ($n == 2) {
			# client 1's slot is free again: a fourth silent one
			push @silent, PorticoTest::connect_port($port);
			ok(wait_until(sub { PorticoTest::sock_count($wk) ==
			    $base + 4 }, 10), 'four silent connections open');
		}
		my $c = PorticoTest::connect_port($port);
		print $c "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
		my ($r) = PorticoTest::read_sock($c, 5);
		like($r // '', qr/^HTTP\/1.1 200/, "client $n answered with every "
		    . "slot taken");
	}
	my $log = $w->error_log;
	like($log, qr/worker_connections are not enough, closing an idle /,
	    'the idle keep-alive connection went first');
	like($log, qr/worker_connections are not enough, closing the oldest /,
	    'then the oldest silent one');
	my $got = sysread($ka, my $x, 100);
	ok(defined $got && $got == 0, 'the idle connection was closed');
	$got = sysread($silent[0], $x, 100);
	ok(defined $got && $got == 0, 'the oldest silent one was closed');
	my (undef, $closed) = PorticoTest::read_sock($silent[3], 0.2);
	ok(!$closed, 'the newest silent one is still open');
	$w->stop;
}

done_testing;

#!/usr/bin/perl
# The system calls a client connection costs, as strace sees them on the
# worker: TCP_NODELAY is set before a connection's second write and not
# before (a connection answered in one write and closed never needs
# it), and the FIONREAD check before a close is skipped when the client
# itself said "close".  The proxy's writes to the client follow the same
# rule (answers on a keep-alive connection, a streamed answer), and a TLS
# connection gets TCP_NODELAY at accept, before the handshake's first
# write.  Each case ends with a request for a file named after it, whose
# failed open() marks the end of the case in the trace.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);
use PorticoTest qw(http wait_until slurp);
use PorticoTLS;
use PorticoUpstream;

$SIG{PIPE} = 'IGNORE';

system('strace -V >/dev/null 2>&1') == 0 or
    plan skip_all => 'strace is not installed (./configure --install-deps)';

# the upstream: its default answer echoes the request head; /px-big/
# answers 4 MB, which the proxy passes on in many writes
my $BIG = 4 << 20;
my $up = PorticoUpstream->new(routes => {
	'/px-big/*' => "HTTP/1.1 200 OK\r\nContent-Length: $BIG\r\n\r\n"
	    . ('y' x $BIG),
});
my $UP = $up->addr;

# TLS when there is an openssl 3 command to make the certificate with
my $pki = PorticoTLS::have_openssl() ? PorticoTLS::pki() : undef;
my $tls_server = !$pki ? '' : <<"EOF";
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        ssl_certificate ${\ $pki->path('default.test.chain.crt') };
        ssl_certificate_key ${\ $pki->path('rsa.key') };
        location = /ok { return 200 "tls\\n"; }
    }
EOF

my $t = PorticoTest->new;
my $dir = $t->dir;
mkdir "$dir/html";
chmod 0755, "$dir/html";
$t->write_file('html/big', 'x' x (4 << 20));
chmod 0644, "$dir/html/big";
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    root $dir/html;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location = /ok { return 200 "ok\\n"; }
        location = /once { keepalive_requests 1; return 200 "once\\n"; }
        location /nodelay-off/ { tcp_nodelay off; alias $dir/html/; }
        location /px/ { proxy_pass http://$UP; }
        location /px-big/ { proxy_buffering off; proxy_pass http://$UP; }
        location /px-off/ { tcp_nodelay off; proxy_pass http://$UP; }
        location /upka/ {
            proxy_pass http://upka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    # a kept upstream connection, served by this same worker
    upstream upka { server 127.0.0.1:%%PORT_2%%; keepalive 4; }
    server {
        listen 127.0.0.1:%%PORT_2%%;
        return 200 "up\\n";
    }
$tls_server}
EOF
$t->run;
my ($worker) = $t->wait_ready(1);
ok($worker, 'one worker');
my $port = $t->port(0);

my $trace = "$dir/strace.out";
my $strace = fork // die "fork: $!";
if ($strace == 0) {
	open(STDERR, '>', "$dir/strace.err");
	exec('strace', '-f', '-qq', '-e', 'trace=setsockopt,ioctl,open,openat,'
	    . 'accept,accept4,close,write,writev,sendfile,sendmsg,sendto,'
	    . 'read,connect',
	    '-o', $trace, '-p', $worker) or POSIX::_exit(127);
}
my $attached = wait_until(sub {
	slurp("/proc/$worker/status") =~ /^TracerPid:\s+[1-9]/m;
}, 10);
unless ($attached) {
	kill 'KILL', $strace;
	waitpid($strace, 0);
	$t->stop;
	plan skip_all => 'strace cannot attach to the worker here: '
	    . slurp("$dir/strace.err");
}

# the trace from the last mark to the request for /mark-NAME
my $seen = 0;
sub case_trace {
	my ($name) = @_;
	my $r = http($port, "GET /mark-$name HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n");
	like($r // '', qr{^HTTP/1\.1 404 }, "$name: the mark is answered");
	my $text;
	ok(wait_until(sub {
		$text = slurp($trace);
		return $text =~ /mark-\Q$name\E/;
	}, 10), "$name: the mark is in the trace");
	$text =~ /mark-\Q$name\E[^\n]*\n/g;
	my $end = pos($text) // length $text;
	my $part = substr($text, $seen, $end - $seen);
	$seen = $end;
	return $part;
}
sub nodelay { scalar(() = $_[0] =~ /TCP_NODELAY, \[1\]/g) }
sub nodelay_off { scalar(() = $_[0] =~ /TCP_NODELAY, \[0\]/g) }
sub fionread { scalar(() = $_[0] =~ /FIONREAD/g) }

# what the worker did on the connection from the client port $cport, in
# order, from its accept to its close: W a write (write, writev,
# sendfile, sendmsg, sendto), N TCP_NODELAY set, n cleared
sub conn_events {
	my ($tr, $cport) = @_;
	$tr =~ /^(?:\d+\s+)?accept4?\([^\n]*sin_port=htons\($cport\)[^\n]*
	    =\s+(\d+)\n/mgx or return ('no accept');
	my $fd = $1;
	my @ev;
	while ($tr =~ /\G([^\n]*)\n/gc) {
		my $l = $1;
		next unless $l =~ /^(?:\d+\s+)?(\w+)\($fd[,)]/;
		my $call = $1;
		last if $call eq 'close';
		push @ev, 'W' if $call =~ /^(?:write|writev|sendfile|sendfile64|
		    sendmsg|sendto)$/x;
		push @ev, $1 ? 'N' : 'n'
		    if $call eq 'setsockopt' && $l =~ /TCP_NODELAY, \[(\d)\]/;
	}
	return @ev;
}
# the same as a string, a run of writes as one "W+"
sub conn_shape { join(' ', conn_events(@_)) =~ s/W(?: W)+/W+/gr }
sub conn_writes { scalar grep { $_ eq 'W' } conn_events(@_) }

# requests sent one at a time on one connection, each once the answer
# before it is in; returns (the client's port, [ the answers ])
sub exchange {
	my ($port, @reqs) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 5) or return (0, []);
	binmode $s;
	my $me = $s->sockport;
	my $sel = IO::Select->new($s);
	my ($buf, $eof, @r) = ('', 0);
	my $end = time + 10;
	for my $i (0 .. $#reqs) {
		(syswrite($s, $reqs[$i]) // -1) == length $reqs[$i] or last;
		while (!$eof && time < $end &&
		    (@r = PorticoTest::split_responses($buf)) <= $i) {
			next unless $sel->can_read(0.1);
			$eof = 1 unless sysread($s, $buf, 262144, length $buf);
		}
	}
	close $s;
	return ($me, [ PorticoTest::split_responses($buf) ]);
}

case_trace('start');

# one answer, one write, then the close the client asked for
for my $req ("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /ok HTTP/1.0\r\n\r\n") {
	like(http($port, $req) // '', qr{^HTTP/1\.1 200 .*\r\n\r\nok\n\z}s,
	    'a request that says close is answered');
}
my $tr = case_trace('close');
is(nodelay($tr), 0, 'no TCP_NODELAY for a connection written once');
is(fionread($tr), 0, 'no FIONREAD when the client said close');

# keep-alive: the second answer's write sets it, once
my $r = http($port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(scalar(() = ($r // '') =~ /^HTTP\/1\.1 200 /mg), 3,
    'three answers on one connection');
$tr = case_trace('keepalive');
is(nodelay($tr), 1, 'TCP_NODELAY set once, before the second answer');

# the server ends the connection (keepalive_requests 1): the client may
# have sent more, so it looks before it closes
$r = http($port, "GET /once HTTP/1.1\r\nHost: x\r\n\r\n");
like($r // '', qr{^HTTP/1\.1 200 .*Connection: close\r\n.*once\n\z}s,
    'keepalive_requests 1: answered and closed');
$tr = case_trace('server-close');
is(fionread($tr), 1, 'FIONREAD before a close the client did not ask for');
is(nodelay($tr), 0, 'still no TCP_NODELAY: one write');

# a file that takes several sendfile() calls: set before the second
$r = http($port, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(length($r // '') > (4 << 20), 1, 'the 4 MB file arrives');
$tr = case_trace('file');
is(nodelay($tr), 1, 'a file in several writes: TCP_NODELAY set once');

# tcp_nodelay off: not set while the file goes; on for the next answer
$r = http($port, "GET /nodelay-off/big HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
like($r // '', qr{\r\n\r\nok\n\z}, 'tcp_nodelay off: the file, then ok');
$tr = case_trace('nodelay-off');
my @opts = $tr =~ /TCP_NODELAY, \[(\d)\]/g;
is("@opts", '1', 'tcp_nodelay off: not set for the file, set after it');

# the proxy: three answers on a keep-alive connection, one write each;
# set before the second, once
my ($cport, $resp) = exchange($port,
    "GET /px/1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /px/2 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /px/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(join(' ', map { "$_->{status}:" . ($_->{body} =~ m{^GET (\S+)} ? $1 : '')
    } @$resp), '200:/px/1 200:/px/2 200:/px/3',
    'proxy: three answers from the upstream on one connection');
$tr = case_trace('proxy-keepalive');
is(conn_shape($tr, $cport), 'W N W+',
    'proxy, keep-alive: TCP_NODELAY set once, before the second write');

# a 4 MB answer streamed (proxy_buffering off): set before the second write
($cport, $resp) = exchange($port,
    "GET /px-big/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(length($resp->[0]{body} // ''), $BIG, 'proxy: the 4 MB answer arrives');
$tr = case_trace('proxy-big');
cmp_ok(conn_writes($tr, $cport), '>', 2,
    'proxy: the answer took several writes');
is(conn_shape($tr, $cport), 'W N W+',
    'proxy, streamed: TCP_NODELAY set once, before the second write');

# tcp_nodelay off: the proxy's answers never set it, as in nginx
($cport, $resp) = exchange($port,
    "GET /px-off/1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /px-off/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(scalar(@$resp), 2, 'proxy, tcp_nodelay off: two answers');
$tr = case_trace('proxy-off');
is(conn_shape($tr, $cport), 'W+',
    'proxy, tcp_nodelay off: TCP_NODELAY never set');

# a kept upstream connection waits for its answer's edge: no read right
# after the request that could only find nothing (the upstream is this
# worker, so it cannot have answered yet)
($cport, $resp) = exchange($port,
    "GET /upka/1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /upka/2 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /upka/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(join(' ', map { "$_->{status}:$_->{body}" } @$resp), "200:up\n 200:up\n "
    . "200:up\n", 'upstream keep-alive: three answers');
$tr = case_trace('upka');
my $upport = $t->port(2);
my @ufd = $tr =~ /^(?:\d+\s+)?connect\((\d+), [^\n]*htons\($upport\)/mg;
is(scalar(@ufd), 1, 'upstream keep-alive: one connection for three requests');
my $ufd = $ufd[0] // -1;
my @again = $tr =~ /^(?:\d+\s+)?read\($ufd, [^\n]*= -1 EAGAIN/mg;
is(scalar(@again), 0, 'upstream keep-alive: no read of it finds nothing');

# TLS: set at accept, before the handshake's first write
SKIP: {
	skip('no OpenSSL 3 command to make a certificate with', 4) unless $pki;
	my ($s, $err) = PorticoTLS::tls_connect($t->port(1));
	my ($me, $buf) = (0, '');
	if ($s) {
		$me = $s->sockport;
		PorticoTLS::tls_write($s, "GET /ok HTTP/1.1\r\nHost: x\r\n"
		    . "Connection: close\r\n\r\n")
		    and ($buf) = PorticoTLS::tls_read($s, 5);
		close $s;
	}
	like($buf, qr{^HTTP/1\.1 200 .*\r\n\r\ntls\n\z}s, 'TLS: answered')
	    or diag($err // '');
	$tr = case_trace('tls');
	is(conn_shape($tr, $me), 'N W+',
	    'TLS: TCP_NODELAY set at accept, before any write, once');
}

kill 'INT', $strace;
waitpid($strace, 0);
$t->stop;
done_testing;

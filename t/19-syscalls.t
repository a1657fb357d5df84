#!/usr/bin/perl
# The system calls a client connection costs, as strace sees them on the
# worker: TCP_NODELAY is set before a connection's second write and not
# before (a connection answered in one write and closed never needs
# it), and the FIONREAD check before a close is skipped when the client
# itself said "close".  Each case ends with a request for a file named
# after it, whose failed open() marks the end of the case in the trace.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX qw(:sys_wait_h);
use PorticoTest qw(http wait_until slurp);

$SIG{PIPE} = 'IGNORE';

system('strace -V >/dev/null 2>&1') == 0 or
    plan skip_all => 'strace is not installed (./configure --install-deps)';

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
    }
}
EOF
$t->run;
my ($worker) = $t->wait_ready(1);
ok($worker, 'one worker');
my $port = $t->port(0);

my $trace = "$dir/strace.out";
my $strace = fork // die "fork: $!";
if ($strace == 0) {
	open(STDERR, '>', "$dir/strace.err");
	exec('strace', '-f', '-qq', '-e', 'trace=setsockopt,ioctl,open,openat',
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

kill 'INT', $strace;
waitpid($strace, 0);
$t->stop;
done_testing;

#!/usr/bin/perl
# master_process off: one process serves, answers QUIT gracefully,
# reopens logs, and says that it cannot reload.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http http_get wait_until);

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
master_process off;
worker_processes 4;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "single $pid\n"; }
    }
}
EOF
$t->run;
my $pid = $t->{pid};
my (undef, undef, $b) = http_get($t->port(0), '/');
is($b, "single $pid\n", 'the master process itself answers');
my @w = $t->workers;
is(scalar @w, 0, 'no worker processes');
like(PorticoTest::slurp("/proc/$pid/cmdline"), qr/^portico: single process/,
    'process title');

$t->signal('HUP');
ok(wait_until(sub { $t->error_log =~ /signal 1 ignored: with master_process off/ }),
    'HUP is refused with a reason');
(undef, undef, $b) = http_get($t->port(0), '/');
is($b, "single $pid\n", 'still serving after HUP');

rename($t->dir . '/logs/error.log', $t->dir . '/logs/error.log.1');
$t->signal('USR1');
ok(wait_until(sub { -e $t->dir . '/logs/error.log' }), 'USR1 reopens the log');

# QUIT finishes a request in progress first: the connection is accepted
# (a first answer came back), the second request is half sent
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0))
    or die;
print $s "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
my $first = '';
sysread($s, $first, 4096);
like($first, qr/Connection: keep-alive/, 'first answer keeps the connection');
print $s "GET / HTTP/1.1\r\nHost: x\r\n";
$t->signal('QUIT');
ok(wait_until(sub { $t->error_log =~ /gracefully shutting down/ }),
    'QUIT received');
print $s "\r\n";
local $/;
my $resp = <$s>;
like($resp, qr/^HTTP\/1.1 200 .*Connection: close.*single $pid/s,
    'the request in flight at QUIT is answered, with Connection: close');
ok($t->wait_exit($pid), 'then the process exits');
ok(!-e $t->pid_file, 'pid file removed');
$t->{pid} = undef;
$t->check_log;
done_testing();

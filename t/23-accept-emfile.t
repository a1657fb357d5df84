#!/usr/bin/perl
# A worker out of file descriptors (worker_rlimit_nofile) pauses
# accepting for half a second after accept4() fails with EMFILE, as
# nginx does, instead of retrying on a listener that stays readable: one
# [crit] line per pause, not a spin (1.9 million lines in 90 s before).
# Once connections close it accepts again.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use PorticoTest qw(http_get wait_until);

my $t = PorticoTest->new;
$t->write_conf(<<"EOF");
worker_processes 1;
worker_rlimit_nofile 48;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_0%% backlog=512;
        location / { return 200 "ok\\n"; }
    }
}
EOF
$t->run;
$t->allow_log(qr/accept4\(\) failed/);
my $P = $t->port(0);
my ($st) = http_get($P, '/');
is($st, 200, 'served before the descriptors run out');

# more connections than the worker has descriptors for
my @held;
for (1 .. 80) {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$P",
	    Proto => 'tcp', Timeout => 5) or last;
	push @held, $s;
}
is(scalar(@held), 80, '80 connections made (the backlog holds them)');
my $crit = sub {
	my @l = $t->error_log =~ /\[crit\][^\n]*accept4\(\) failed/g;
	return scalar @l;
};
ok(wait_until(sub { $crit->() >= 1 }, 10),
    'accept4() fails with EMFILE, logged at crit');
like($t->error_log, qr/accept4\(\) failed \(24: /, '... errno 24');
# over the next second: a line per half-second pause, not a spin
my $before = $crit->();
sleep 1;
my $lines = $crit->() - $before;
cmp_ok($lines, '<=', 6, "one line per pause: $lines in a second");

close $_ for @held;
@held = ();
my $ok = wait_until(sub {
	my ($s) = http_get($P, '/');
	return ($s // 0) == 200;
}, 10);
ok($ok, 'the connections gone, it accepts and answers again');
$t->stop;
done_testing;

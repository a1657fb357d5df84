#!/usr/bin/perl
# A worker that keeps dying at start-up is respawned with a doubling
# delay, not in a loop; a reload with a working config brings the
# workers back.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get wait_until);

my $t = PorticoTest->new;
my $conf = <<'EOF';
worker_processes 1;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "up\n"; }
    }
}
EOF
# too few descriptors for a worker to create its epoll instance: each
# worker exits at once with code 2
$t->write_conf("worker_rlimit_nofile 5;\n" . $conf);
$t->not_listening(0);
$t->run;
$t->allow_log(qr/epoll_create1\(\) failed|exited with code 2|keeps exiting/);

ok(wait_until(sub { $t->error_log =~ /respawning in 1600 ms/ }, 15),
    'respawn delay grows to 1600 ms');
my $log = $t->error_log;
my @delays = $log =~ /respawning in (\d+) ms/g;
is_deeply([@delays[0 .. 4]], [100, 200, 400, 800, 1600],
    'the delay doubles from 100 ms');
my $starts = () = $log =~ /start worker process/g;
cmp_ok($starts, '<=', 8, "at most 8 worker starts before the 1600 ms delay ($starts)");
like($log, qr/epoll_create1\(\) failed \(24: Too many open files\)/,
    'the worker says why it failed');

# the fixed config, by reload: workers start and stay
$t->write_conf($conf);
$t->signal('HUP');
ok(wait_until(sub { (http_get($t->port(0), '/'))[2] eq "up\n" }, 10),
    'a reload with a working config serves again');
my @w = $t->workers;
is(scalar @w, 1, 'one worker');
my $after = (split /reconfigured: generation 2/, $t->error_log, 2)[1] // '';
unlike($after, qr/worker process \d+ exited/, 'no worker exited after the reload');

$t->stop;
done_testing();

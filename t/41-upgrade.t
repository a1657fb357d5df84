#!/usr/bin/perl
# Binary upgrade (USR2, WINCH, QUIT) and its rollback under continuous
# load: not one request may fail.  A new binary that fails to start
# leaves the old one serving with its pid file back in place.

use strict;
use warnings;
use lib 't/lib';
use File::Copy qw(copy);
use Test::More;
use PorticoTest qw(http_get wait_until slurp);
use PorticoLoad;

my $t = PorticoTest->new;
my $dir = $t->dir;

# run a copy, so that the test can replace the file on disk as an
# upgrade does
mkdir "$dir/sbin";
sub install_binary {
	copy($PorticoTest::BIN, "$dir/sbin/portico.new") or die "copy: $!";
	chmod 0755, "$dir/sbin/portico.new";
	rename("$dir/sbin/portico.new", "$dir/sbin/portico") or die "rename: $!";
}
install_binary();
$PorticoTest::BIN = "$dir/sbin/portico";

my $conf = <<'EOF';
worker_processes 2;
events { worker_connections 256; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "pid $pid\n"; }
    }
}
EOF
$t->write_conf($conf);
$t->run;
my $port = $t->port(0);
my $pidfile = $t->pid_file;
my $oldbin = "$pidfile.oldbin";

sub nworkers { my @w = $t->workers($_[0]); return scalar @w }

sub serving_from {
	my ($master) = @_;
	my %w = map { $_ => 1 } $t->workers($master);
	return wait_until(sub {
		my (undef, undef, $b) = http_get($port, '/');
		$b =~ /^pid (\d+)/ && $w{$1};
	});
}

sub start_load {
	return (PorticoLoad->start($t, port => $port, conns => 32),
	    PorticoLoad->start($t, port => $port, conns => 64, think => 3),
	    PorticoLoad->start($t, port => $port, conns => 8, close_each => 1));
}

sub check_load {
	my ($what, @loads) = @_;
	for my $l (@loads) {
		my $r = $l->finish;
		diag("$what: " . PorticoLoad::report($r));
		cmp_ok($r->{requests}, '>', 1000, "$what: the load ran");
		is($r->{failed}, 0, "$what: no request failed") or diag(explain($r));
	}
}

# 1. upgrade and commit, under load
my @loads = start_load();
ok($_->wait_requests(500), 'load running') for @loads;
my $old = $t->{pid};
my @old_workers = $t->workers($old);
install_binary();
$t->signal('USR2', $old);
ok(wait_until(sub { -e $oldbin }), 'pid file renamed to .oldbin');
is($t->master_pid($oldbin), $old, '.oldbin holds the old master');
my $new;
ok(wait_until(sub {
	$new = $t->master_pid;
	$new && $new != $old && kill(0, $new) && nworkers($new) == 2;
}), 'new master wrote the pid file and started its workers');
like(readlink("/proc/$new/exe"), qr{/sbin/portico$},
    'new master runs the file now on disk');
like(readlink("/proc/$old/exe") // '', qr/\(deleted\)$/,
    'old master runs the replaced file');
ok(serving_from($new), 'new workers answer');

# a second USR2 while an upgrade is in progress is ignored
$t->signal('USR2', $old);
ok(wait_until(sub { $t->error_log =~ /USR2 ignored/ }),
    'second USR2 during the upgrade is ignored, and logged');
is($t->master_pid($oldbin), $old, '.oldbin untouched by the second USR2');

ok($_->wait_requests(500), 'load continues with both generations') for @loads;
$t->signal('WINCH', $old);
ok(wait_until(sub { !grep { kill 0, $_ } @old_workers }),
    'WINCH: old workers exited');
ok(kill(0, $old), 'old master still there after WINCH');
ok($_->wait_requests(500), 'load continues after WINCH') for @loads;
$t->signal('QUIT', $old);
ok($t->wait_exit($old), 'QUIT: old master exited');
ok(!-e $oldbin, '.oldbin removed');
is($t->master_pid, $new, 'pid file holds the new master');
$t->{pid} = $new;
$t->{child} = undef;
ok($_->wait_requests(500), 'load continues after the commit') for @loads;
check_load('upgrade', @loads);

# 2. upgrade and roll back, under load
@loads = start_load();
ok($_->wait_requests(500), 'load running') for @loads;
$old = $new;
@old_workers = $t->workers($old);
$t->signal('USR2', $old);
ok(wait_until(sub {
	$new = $t->master_pid;
	-e $oldbin && $new && $new != $old && kill(0, $new)
	    && nworkers($new) == 2;
}), 'second upgrade: new master running');
$t->signal('WINCH', $old);
ok(wait_until(sub { !grep { kill 0, $_ } @old_workers }),
    'WINCH: old workers exited');
ok($_->wait_requests(500), 'load served by the new workers alone') for @loads;
# roll back: HUP to the old master restarts its workers, QUIT to the new
$t->signal('HUP', $old);
ok(wait_until(sub { nworkers($old) == 2 }), 'HUP: old workers back');
my @new_workers = $t->workers($new);
$t->signal('QUIT', $new);
ok(wait_until(sub { !kill(0, $new) && !grep { kill 0, $_ } @new_workers }),
    'QUIT: new master and its workers exited');
ok(wait_until(sub { ($t->master_pid // 0) == $old && !-e $oldbin }),
    'pid file restored to the old master');
ok(serving_from($old), 'old master serves again');
ok($_->wait_requests(500), 'load continues after the rollback') for @loads;
check_load('rollback', @loads);

# 3. a new binary that cannot start: the old one keeps serving
$t->write_conf($conf . "bogus_directive;\n");
$t->signal('USR2', $old);
ok(wait_until(sub { $t->error_log =~ /new binary process \d+ exited with code 1/ }),
    'the failed new master is noticed');
ok(wait_until(sub { ($t->master_pid // 0) == $old && !-e $oldbin }),
    'pid file restored after the failed upgrade');
ok(serving_from($old), 'old master still serves');
$t->allow_log(qr/new binary process \d+ exited with code 1/);

$t->stop;
done_testing();

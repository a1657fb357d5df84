#!/usr/bin/perl
# The LSB init script (conf/portico.init.in, as make install writes it):
# start, status, reload and upgrade under load with zero failed
# requests, reopen, configtest, stop.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get wait_until slurp);
use PorticoLoad;

my $t = PorticoTest->new;
my $dir = $t->dir;
my $bin = PorticoTest::bin();

my $conf = <<'EOF';
pid %%DIR%%/logs/portico.pid;
error_log %%DIR%%/logs/error.log info;
worker_processes 2;
events { worker_connections 256; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "GEN $pid\n"; }
    }
}
EOF
sub conf_gen { (my $c = $conf) =~ s/GEN/$_[0]/; $t->write_conf($c) }
conf_gen('one');

# the script as make install writes it
my $script = slurp('conf/portico.init.in');
$script =~ s/\@SBIN\@/$bin/g;
$script =~ s/\@PREFIX\@/$dir/g;
$script =~ s/\@CONF\@/$dir\/portico.conf/g;
$script =~ s/\@PID\@/$dir\/logs\/portico.pid/g;
$t->write_file('portico.init', $script);
my $init = "$dir/portico.init";
$t->env_setup;

sub init {
	my ($action) = @_;
	my $out = `sh $init $action 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = init('status');
is($rc, 3, 'status before start: not running (3)');
($rc, $out) = init('configtest');
is($rc, 0, 'configtest passes') or diag($out);
like($out, qr/test is successful/, 'configtest output');

($rc, $out) = init('start');
is($rc, 0, 'start') or diag($out);
ok(wait_until(sub { $t->listening }), 'listening after start');
my $master = $t->master_pid;
$t->{pid} = $master;
ok($master && kill(0, $master), 'master running, pid file written');
($rc, $out) = init('status');
is($rc, 0, 'status: running');
like($out, qr/\b$master\b/, 'status names the pid');
($rc, $out) = init('start');
is($rc, 0, 'start when running succeeds');
is($t->master_pid, $master, 'and starts nothing new');

my $port = $t->port(0);
my @loads = (PorticoLoad->start($t, port => $port, conns => 32),
    PorticoLoad->start($t, port => $port, conns => 32, think => 3));
ok($_->wait_requests(500), 'load running') for @loads;

conf_gen('two');
($rc, $out) = init('reload');
is($rc, 0, 'reload') or diag($out);
ok(wait_until(sub { (http_get($port, '/'))[2] =~ /^two / }),
    'reload: new configuration serves');

# a broken config: reload refuses before signalling
$t->write_conf($conf . "nonsense;\n");
($rc, $out) = init('reload');
isnt($rc, 0, 'reload with a broken config fails');
like($out, qr/unknown directive "nonsense"/, 'and says why');
is($t->master_pid, $master, 'the master is the same');
conf_gen('three');

($rc, $out) = init('upgrade');
is($rc, 0, 'upgrade') or diag($out);
my $new = $t->master_pid;
isnt($new, $master, 'upgrade: a new master');
ok(!kill(0, $master), 'upgrade: the old master is gone');
ok(!-e "$dir/logs/portico.pid.oldbin", 'upgrade: no .oldbin left');
$t->{pid} = $new;
ok(wait_until(sub { (http_get($port, '/'))[2] =~ /^three / }),
    'upgrade: the new master read the current config');
ok($_->wait_requests(500), 'load continues after the upgrade') for @loads;

for my $l (@loads) {
	my $r = $l->finish;
	diag('init reload + upgrade: ' . PorticoLoad::report($r));
	is($r->{failed}, 0, 'no request failed across reload and upgrade')
	    or diag(explain($r));
}

rename("$dir/logs/error.log", "$dir/logs/error.log.1");
($rc, $out) = init('reopen');
is($rc, 0, 'reopen');
ok(wait_until(sub { -e "$dir/logs/error.log" }), 'reopen: a new error log');

($rc, $out) = init('stop');
is($rc, 0, 'stop') or diag($out);
ok(!kill(0, $new), 'stop: master gone');
($rc, $out) = init('status');
is($rc, 3, 'status after stop: not running');
$t->{pid} = undef;

$t->{log_checked} = 0;
$t->check_log;
done_testing();

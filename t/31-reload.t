#!/usr/bin/perl
# Reload (HUP and -s reload): new answers from new workers, old workers
# gone, nothing lost on the way; a broken file changes nothing; listening
# ports added and removed.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get wait_until);
use Time::HiRes qw(sleep);
*scenario = \&PorticoTest::scenario;

*gone = \&PorticoTest::gone;
*port_open = \&PorticoTest::port_open;

sub conf {
	my ($version, %o) = @_;
	my $workers = $o{workers} // 2;
	my $wc = $o{connections} // 64;
	my $servers = '';
	for my $n (@{ $o{ports} // [0] }) {
		$servers .= <<"EOF";
    server {
        listen 127.0.0.1:%%PORT_$n%%;
        location / { return 200 "$version port$n pid=\$pid\\n"; }
    }
EOF
	}
	return "worker_processes $workers;\nevents { worker_connections $wc; }\n"
	    . "http {\n$servers}\n";
}

sub body_of {
	my ($port) = @_;
	my ($st, undef, $body) = http_get($port, '/');
	return $st == 200 ? $body : "status $st";
}

scenario('reload', sub {
	my ($t) = @_;
	my $conf = $t->write_conf(conf('v1'));
	$t->run;
	my $m = $t->master_pid;
	my $p0 = $t->port(0);
	my @old = $t->wait_ready(2);
	is(scalar @old, 2, 'two workers');
	my ($old_keeper) = $t->children('keeper');
	like(body_of($p0), qr/^v1 port0 pid=\d+\n$/, 'v1 answers');

	# HUP: poll until the new text is served, with every answer on the way a
	# good one
	$t->write_conf(conf('v2'));
	$t->signal('HUP');
	my (%seen, $last);
	wait_until(sub {
		$last = body_of($p0);
		$seen{ $last =~ /^(v[12]) port0 pid=\d+\n$/ ? $1 : $last }++;
		return $last =~ /^v2 /;
	}, 10);
	like($last, qr/^v2 port0 pid=(\d+)\n$/, 'HUP: the new text is served');
	is_deeply([grep { !/^v[12]$/ } sort keys %seen], [],
	    'HUP: every request during the reload was answered');
	my @new = $t->wait_ready(2);
	is(scalar @new, 2, 'HUP: two workers after the reload');
	ok(!grep({ my $n = $_; grep { $_ == $n } @old } @new),
	    'HUP: the workers are new processes') or diag("old @old, new @new");
	ok(PorticoTest::wait_gone(\@old, 10), 'HUP: the old workers exit');
	my ($who) = $last =~ /pid=(\d+)/;
	ok(grep({ $_ == $who } @new), 'HUP: a new worker answered');
	my ($new_keeper) = $t->children('keeper');
	ok($new_keeper && $new_keeper != $old_keeper && gone($old_keeper),
	    'HUP: one keeper, a new one');
	is($t->master_pid, $m, 'HUP: the master stays');
	my $log = $t->error_log;
	like($log, qr/\[notice\] $m#0: signal received, reconfiguring$/m,
	    'HUP: logged');
	like($log, qr/\[notice\] $m#0: reconfigured: generation 2$/m,
	    'HUP: the new generation is logged');
	for my $w (@old) {
		like($log, qr/\[notice\] $w#0: gracefully shutting down$/m,
		    "HUP: old worker $w stops gracefully");
		like($log, qr/\[notice\] $m#0: worker process $w exited with code 0$/m,
		    "HUP: old worker $w exits cleanly");
	}

	# a broken file: the error is logged with file:line, nothing changes
	{
		my $text = conf('v3');
		$text =~ s/(location \/ \{)/oops_directive on;\n        $1/;
		$t->write_conf($text);
		my $file = PorticoTest::slurp($conf);
		my $line = 1 + (() = substr($file, 0, index($file, 'oops')) =~ /\n/g);
		$t->signal('HUP');
		ok($t->wait_log(qr/reload failed/, 10), 'broken HUP: a failure is logged');
		$log = $t->error_log;
		my $want = "[error] $m#0: reload failed: the configuration has "
		    . "errors, keeping the running one";
		like($log, qr/\Q$want\E$/m,
		    'broken HUP: the master keeps the running configuration');
		like($log, qr/\[emerg\] $m#0: \Q$conf\E:$line: unknown directive "oops_directive"$/m,
		    'broken HUP: the error with file:line');
		like(body_of($p0), qr/^v2 port0 /, 'broken HUP: the old answers are served');
		is_deeply([$t->workers], [@new], 'broken HUP: the same workers');
		is_deeply([$t->children('keeper')], [$new_keeper], 'broken HUP: the same keeper');
	}

	# add a listening port, then remove the first one
	{
		$t->write_conf(conf('v4', ports => [0, 1]));
		my $p1 = $t->port(1);
		ok(!port_open($p1), 'add port: not open before the reload');
		$t->signal('HUP');
		ok(wait_until(sub { port_open($p1) && body_of($p1) =~ /^v4 port1 / }, 10),
		    'add port: the new port answers');
		# old workers may take a connection or two before their QUIT
		ok(wait_until(sub { body_of($p0) =~ /^v4 port0 / }, 10),
		    'add port: the old port has the new text');
		@new = $t->wait_ready(2);

		$t->write_conf(conf('v5', ports => [1]));
		$t->signal('HUP');
		ok(wait_until(sub { !port_open($p0) }, 5),
		    'remove port: the old port stops answering');
		ok(wait_until(sub { body_of($p1) =~ /^v5 port1 / }, 10),
		    'remove port: the other port has the new text');
		@new = $t->wait_ready(2);
	}

	# -s reload works as HUP (and worker_processes changes too)
	{
		my $p1 = $t->port(1);
		@old = @new;
		$t->write_conf(conf('v6', ports => [1], workers => 3));
		my ($code, $out, $err) = $t->run_cmd3('-s', 'reload');
		is($code, 0, '-s reload exits 0');
		is($out . $err, '', '-s reload prints nothing');
		ok(wait_until(sub { body_of($p1) =~ /^v6 port1 / }, 10),
		    '-s reload: the new text is served');
		@new = $t->wait_ready(3);
		is(scalar @new, 3, '-s reload: three workers now');
		ok(PorticoTest::wait_gone(\@old, 10), '-s reload: the old workers exit');
		is($t->master_pid, $m, '-s reload: the master stays');
	}

	# reloads in quick succession: the workers of one reload are told to stop
	# by the next one while they may still be starting (a large
	# worker_connections makes their start-up take a few milliseconds); they
	# must stop, not die of the signal
	{
		my $p1 = $t->port(1);
		$t->write_conf(conf('quick', ports => [1], workers => 4,
		    connections => 100000));
		for (1 .. 5) {
			$t->signal('HUP');
			sleep(0.01);
		}
		ok(wait_until(sub { body_of($p1) =~ /^quick port1 / }, 10),
		    'quick reloads: the new text is served');
		@new = $t->wait_ready(4);
		is(scalar @new, 4, 'quick reloads: four workers in the end');
		my @died = $t->error_log =~ /^.*exited on signal.*$/mg;
		is_deeply(\@died, [], 'quick reloads: no child died of a signal');
		# reported just above; let $t->stop check the rest of the log
		$t->allow_log(qr/exited on signal/);
	}

	$t->stop;
});

done_testing();

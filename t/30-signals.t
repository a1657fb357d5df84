#!/usr/bin/perl
# Processes and signals: daemon mode, -s stop / quit / reopen, a worker
# killed with -9, graceful stop with requests in flight and idle
# keep-alive connections, worker_shutdown_timeout, fast stop.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use List::Util qw(min);
use PorticoTest qw(http http_get parse_response wait_until slurp);
*scenario = \&PorticoTest::scenario;

*gone = \&PorticoTest::gone;
*proc_title = \&PorticoTest::proc_title;
*connect_port = \&PorticoTest::connect_port;
*read_sock = \&PorticoTest::read_sock;
*port_open = \&PorticoTest::port_open;
*sock_count = \&PorticoTest::sock_count;

sub conf {
	my ($workers, $extra) = @_;
	$extra //= '';
	return <<"EOF";
worker_processes $workers;
$extra
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "pid=\$pid\\n"; }
    }
}
EOF
}

sub one_response { PorticoTest::count_responses($_[0]) >= 1 }

# a connection whose request head is half sent, once the worker holds it
sub half_request {
	my ($t, $worker) = @_;
	my $before = sock_count($worker);
	my $s = connect_port($t->port(0)) or die "connect: $!";
	print $s "GET /slow HTTP/1.1\r\nHost: slow.test\r\n";
	ok(wait_until(sub { sock_count($worker) > $before }, 5),
	    'the worker accepted the connection');
	return $s;
}

# a keep-alive connection that has had one answer and is now idle
sub idle_keepalive {
	my ($t) = @_;
	my $s = connect_port($t->port(0)) or die "connect: $!";
	print $s "GET /first HTTP/1.1\r\nHost: ka.test\r\n\r\n";
	my ($buf) = read_sock($s, 5, \&one_response);
	my (undef, $h) = parse_response($buf);
	is($h->{connection}, 'keep-alive', 'a keep-alive connection');
	return $s;
}

my $nobody = getpwnam('nobody');

# daemon mode, then -s stop
scenario('daemon mode', sub {
	my ($t) = @_;
	my $conf = $t->write_conf(conf(2));
	my $dir = $t->dir;
	$t->run(daemon => 1);
	my $m = $t->master_pid;
	is(slurp($t->pid_file), "$m\n", 'daemon: the pid file holds the pid');
	my ($state, $ppid, $pgrp, $sid) = PorticoTest::proc_stat($m);
	isnt($ppid, $$, 'daemon: the master is not our child');
	is($sid, $m, 'daemon: the master leads its own session');
	like(proc_title($m), qr{^portico: master process \S*portico -p \Q$dir\E/ -c \Q$conf\E$},
	    'daemon: master title');
	my @w = $t->wait_ready(2);
	is(scalar @w, 2, 'daemon: two workers');
	is_deeply([map { proc_title($_) } @w], [('portico: worker process') x 2],
	    'daemon: worker titles');
	my @k = $t->children('keeper');
	is(scalar @k, 1, 'daemon: one keeper');
	is(proc_title($k[0] // 0), 'portico: keeper process', 'daemon: keeper title');
	my $uid = $< == 0 ? $nobody : $<;
	is_deeply([map { PorticoTest::proc_uid($_) } $m, @w, @k],
	    [$<, ($uid) x (@w + @k)],
	    $< == 0 ? 'daemon: workers and keeper run as nobody'
	    : 'daemon: all run as the user');
	is(slurp("$dir/stderr.log"), '', 'daemon: nothing printed at start');
	my ($st, undef, $body) = http_get($t->port(0), '/');
	is($st, 200, 'daemon: answers');
	my ($who) = $body =~ /^pid=(\d+)$/;
	ok($who && grep({ $_ == $who } @w), 'daemon: a worker answered');

	my ($code, $out, $err) = $t->run_cmd3('-s', 'stop');
	is($code, 0, '-s stop exits 0');
	is($out . $err, '', '-s stop prints nothing');
	ok(PorticoTest::wait_gone([$m, @w, @k], 10), '-s stop: every process is gone');
	ok(!-e $t->pid_file, '-s stop: the pid file is removed');
	ok(!port_open($t->port(0)), '-s stop: the port is closed');
	my $log = $t->error_log;
	like($log, qr/\[notice\] $m#0: signal received, exiting$/m,
	    '-s stop: the master logs the fast stop');
	like($log, qr/\[notice\] $m#0: exit$/m, '-s stop: the master logs its exit');
	$t->stop;
});

# -s quit: graceful
scenario('-s quit', sub {
	my ($t) = @_;
	$t->write_conf(conf(2));
	$t->run;
	my $m = $t->master_pid;
	my @w = $t->wait_ready(2);
	is(scalar @w, 2, '-s quit: two workers');
	my ($code, $out, $err) = $t->run_cmd3('-s', 'quit');
	is($code, 0, '-s quit exits 0');
	is($out . $err, '', '-s quit prints nothing');
	ok($t->wait_exit($m, 10), '-s quit: the master exits');
	ok(PorticoTest::wait_gone(\@w, 5), '-s quit: the workers are gone');
	ok(!-e $t->pid_file, '-s quit: the pid file is removed');
	my $log = $t->error_log;
	like($log, qr/\[notice\] $m#0: signal received, shutting down$/m,
	    '-s quit: the master logs the graceful stop');
	for my $w (@w) {
		like($log, qr/$w#0: gracefully shutting down\n.*$w#0: exit$/ms,
		    "-s quit: worker $w shuts down gracefully and exits");
	}
	$t->stop;
});

# -s reopen after the log was renamed, twice (as logrotate does)
scenario('-s reopen after the log was renamed', sub {
	my ($t) = @_;
	$t->write_conf(conf(1));
	$t->run;
	my $m = $t->master_pid;
	my ($w) = $t->wait_ready(1) or die 'no worker';
	my $dir = $t->dir;
	my $log = "$dir/logs/error.log";
	my $n = 0;
	my $logged = qr{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[info\] $w#0: }m;
	$logged = qr{$logged\Qclient sent HTTP/1.1 request without "Host" header\E}m;
	$logged = qr{$logged.*, request: "GET /reopen-\d+ HTTP/1.1"$}m;
	for my $round (1, 2) {
		rename($log, "$log.$round") or die "rename: $!";
		my ($code, $out, $err) = $t->run_cmd3('-s', 'reopen');
		is($code, 0, "reopen $round: -s reopen exits 0");
		is($out . $err, '', "reopen $round: -s reopen prints nothing");
		ok(wait_until(sub { -e $log }, 5),
		    "reopen $round: a new error.log appears");
		ok(wait_until(sub { (stat $log)[4] == $nobody }, 2),
		    "reopen $round: the new log belongs to the workers' user")
		    if $< == 0;
		# the worker reopens after the master: poll with requests that
		# log at info, each with its own uri
		ok(wait_until(sub {
			$n++;
			http($t->port(0), "GET /reopen-$n HTTP/1.1\r\n\r\n");
			slurp($log) =~ $logged;
		}, 3), "reopen $round: the worker writes to the new log");
		my $old = slurp("$log.$round");
		like($old, qr/$m#0: signal received, reopening logs$/m,
		    "reopen $round: the old log saw the signal");
		# requests sent before the worker reopened went to the old log;
		# none after the first one that reached the new log
		my @in_new = slurp($log) =~ m{GET /reopen-(\d+) }g;
		my @in_old = $old =~ m{GET /reopen-(\d+) }g;
		my $since = min(@in_new) // 0;
		my @late = grep { $_ >= $since } @in_old;
		ok(@in_new && !@late, "reopen $round: then nothing more in the old log")
		    or diag("in the new log: @in_new; in the old log: @in_old");
		my @bad = grep { /\[(alert|crit)\]/ } split /\n/, $old;
		ok(!@bad, "reopen $round: the old log is clean")
		    or diag(join("\n", @bad));
	}
	$t->run_cmd3('-s', 'reopen');
	ok($t->wait_log(qr/\[notice\] $m#0: signal received, reopening logs$/m, 5),
	    'reopen: the master writes to the new log');
	$t->stop;
});

# kill -9 of a worker: it is respawned, logged, and requests go on
scenario('kill -9 of a worker', sub {
	my ($t) = @_;
	$t->write_conf(conf(2));
	$t->run;
	my $m = $t->master_pid;
	my @w = $t->wait_ready(2);
	is(scalar @w, 2, 'kill -9: two workers');
	$t->allow_log(qr/\[alert\] $m#0: worker process $w[0] exited on signal 9$/);
	kill('KILL', $w[0]);
	my @n;
	ok(wait_until(sub {
		@n = $t->workers;
		@n == 2 && !grep { $_ == $w[0] } @n;
	}, 10), 'kill -9: a new worker replaces the killed one') or diag("@n");
	# set up before it gets requests, and the QUIT of $t->stop
	@n = $t->wait_ready(2);
	my ($new) = grep { $_ != $w[1] } @n;
	ok($new && $new != $w[0], "kill -9: the new worker has a new pid");
	my $log = $t->error_log;
	like($log, qr/\[alert\] $m#0: worker process $w[0] exited on signal 9$/m,
	    'kill -9: the master logs the death at alert');
	like($log, qr/\[notice\] $m#0: start worker process $new$/m,
	    'kill -9: the master logs the new worker');
	my %ok;
	for (1 .. 10) {
		my ($st, undef, $body) = http_get($t->port(0), "/$_");
		$ok{$st == 200 && $body =~ /^pid=(\d+)$/ && grep({ $_ == $1 } @n)
		    ? 'ok' : "$st $body"}++;
	}
	is_deeply(\%ok, { ok => 10 }, 'kill -9: every request answered by a live worker');
	ok(!gone($m), 'kill -9: the master is still there');
	$t->stop;
});

# graceful stop waits for a request in flight, however slow, and closes
# the connection after answering it
scenario('graceful stop waits for a request in flight', sub {
	my ($t) = @_;
	$t->write_conf(conf(1));
	$t->run;
	my $m = $t->master_pid;
	my ($w) = $t->wait_ready(1) or die 'no worker';
	my $s = half_request($t, $w);
	$t->signal('QUIT');
	my $t0 = time;
	ok($t->wait_log(qr/$w#0: gracefully shutting down$/m, 5),
	    'QUIT: the worker begins its graceful stop');
	ok(wait_until(sub { !port_open($t->port(0)) }, 5),
	    'QUIT: no new connection is accepted');
	# longer than the 1s given to idle keep-alive connections
	sleep(1.3 - (time - $t0)) if time - $t0 < 1.3;
	ok(!gone($m) && !gone($w), 'QUIT: master and worker wait for the request');
	print $s "X-Late: yes\r\n\r\n";
	my ($buf, $closed) = read_sock($s, 5);
	close $s;
	my ($st, $h, $body) = parse_response($buf);
	is($st, 200, 'QUIT: the slow request is answered');
	is($body, "pid=$w\n", 'QUIT: by the stopping worker');
	is($h->{connection}, 'close', 'QUIT: with Connection: close');
	ok($closed, 'QUIT: then the connection is closed');
	is(PorticoTest::count_responses($buf), 1, 'QUIT: one answer only');
	ok($t->wait_exit($m, 2), 'QUIT: then the master exits');
	ok(!-e $t->pid_file, 'QUIT: pid file removed');
	$t->stop;
});

# worker_shutdown_timeout bounds a graceful stop
scenario('worker_shutdown_timeout bounds a graceful stop', sub {
	my ($t) = @_;
	$t->write_conf(conf(1, 'worker_shutdown_timeout 1s;'));
	$t->run;
	my $m = $t->master_pid;
	my ($w) = $t->wait_ready(1) or die 'no worker';
	my $s = half_request($t, $w);
	my $t0 = time;
	$t->signal('QUIT');
	my ($buf, $closed) = read_sock($s, 5);
	my $took = time - $t0;
	ok($closed, 'worker_shutdown_timeout: the stuck connection is closed');
	is($buf, '', 'worker_shutdown_timeout: without an answer');
	ok($took > 0.9 && $took < 3, 'worker_shutdown_timeout: after about 1s')
	    or diag("took $took s");
	ok($t->wait_exit($m, 5), 'worker_shutdown_timeout: the master exits');
	ok(time - $t0 < 4, 'worker_shutdown_timeout: all gone within the bound');
	like($t->error_log, qr/$w#0: worker_shutdown_timeout: closing 1 connection\(s\)$/m,
	    'worker_shutdown_timeout: logged');
	$t->stop;
});

# TERM: fast stop, every connection closed at once
scenario('TERM', sub {
	my ($t) = @_;
	$t->write_conf(conf(1));
	$t->run;
	my $m = $t->master_pid;
	my ($w) = $t->wait_ready(1) or die 'no worker';
	my $idle = idle_keepalive($t);
	my $s = half_request($t, $w);
	my $t0 = time;
	$t->signal('TERM');
	my ($buf, $closed, $took) = read_sock($s, 5);
	ok($closed && $took < 0.9, 'TERM: a request in flight is closed at once')
	    or diag("closed $closed after $took s");
	is($buf, '', 'TERM: without an answer');
	($buf, $closed, $took) = read_sock($idle, 5);
	ok($closed && time - $t0 < 0.9, 'TERM: an idle keep-alive is closed at once')
	    or diag("closed $closed after $took s");
	ok($t->wait_exit($m, 5), 'TERM: the master exits');
	ok(time - $t0 < 2, 'TERM: quickly') or diag(time - $t0);
	ok(!-e $t->pid_file, 'TERM: pid file removed');
	like($t->error_log, qr/\[notice\] $m#0: signal received, exiting$/m,
	    'TERM: logged');
	$t->stop;
});

# QUIT and idle keep-alive connections: a request sent just after the stop
# began is answered (Connection: close); a connection that stays silent is
# closed after about 1s
scenario('QUIT and idle keep-alive connections', sub {
	my ($t) = @_;
	$t->write_conf(conf(1));
	$t->run;
	my $m = $t->master_pid;
	my ($w) = $t->wait_ready(1) or die 'no worker';
	my $busy = idle_keepalive($t);
	my $quiet = idle_keepalive($t);
	my $t0 = time;
	$t->signal('QUIT');
	ok($t->wait_log(qr/$w#0: gracefully shutting down$/m, 2),
	    'idle keep-alive: the worker begins its stop');
	sleep(0.2 - (time - $t0)) if time - $t0 < 0.2;
	print $busy "GET /next HTTP/1.1\r\nHost: ka.test\r\n\r\n";
	my ($buf, $closed) = read_sock($busy, 5);
	close $busy;
	my ($st, $h, $body) = parse_response($buf);
	is($st, 200, 'idle keep-alive: the request 200ms after QUIT is answered');
	is($body, "pid=$w\n", 'idle keep-alive: by the stopping worker');
	is($h->{connection}, 'close', 'idle keep-alive: with Connection: close');
	ok($closed, 'idle keep-alive: then closed');
	($buf, $closed) = read_sock($quiet, 5);
	my $took = time - $t0;
	ok($closed, 'idle keep-alive: a silent connection is closed');
	is($buf, '', 'idle keep-alive: without a byte');
	ok($took > 0.8 && $took < 2.5, 'idle keep-alive: after about 1s')
	    or diag("took $took s");
	ok($t->wait_exit($m, 2), 'idle keep-alive: then the master exits');
	$t->stop;
});

# a QUIT that arrives while the children are still starting: they must
# still stop gracefully, not die of the signal's default action
scenario('a QUIT that arrives while the children are still starting', sub {
	my ($t) = @_;
	# a large worker_connections makes the children's start-up take a
	# few milliseconds
	(my $text = conf(4)) =~ s/worker_connections 64/worker_connections 100000/;
	$t->write_conf($text);
	my $bad = 0;
	for my $round (1 .. 3) {
		unlink($t->pid_file, $t->dir . '/logs/error.log');
		$t->env_setup;
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			open(STDIN, '<', '/dev/null');
			open(STDOUT, '>>', $t->dir . '/stderr.log');
			open(STDERR, '>&', \*STDOUT);
			exec($t->cmd('-g', 'daemon off;')) or POSIX::_exit(127);
		}
		my $end = time + 10;
		sleep 0.001 until -s $t->pid_file || time > $end;
		kill('QUIT', $pid);
		my $exited = wait_until(sub {
			waitpid($pid, POSIX::WNOHANG()) == $pid;
		}, 10);
		unless ($exited) {
			kill('KILL', $pid);
			waitpid($pid, 0);
		}
		ok($exited, "QUIT at start-up $round: the master exits");
		my @died = $t->error_log =~ /^.*exited on signal.*$/mg;
		$bad++ if @died;
		diag("round $round: @died") if @died;
	}
	is($bad, 0, 'QUIT at start-up: no child died of the signal');
	$t->sanitizer_clean;
});

done_testing();

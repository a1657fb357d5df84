#!/usr/bin/perl
# The health of upstream peers.  Passive: max_fails=1 marks a refused
# peer for fail_timeout in the shared health zone, so with two workers it
# costs one failed attempt in all, the request itself retried on the
# live peer ($upstream_addr "dead, live", $upstream_status "502, 200"),
# and a reload keeps it.  Retries: proxy_next_upstream_tries,
# proxy_next_upstream off, POST and non_idempotent, http_503 (retried,
# and passed through from the last peer), proxy_next_upstream_timeout.
# Active: health_check in the upstream block, run by the keeper (status
# and match=body=~), kept across a reload.  And a peer killed under load:
# no client sees an error.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use PorticoTest qw(http parse_response wait_until slurp);
use PorticoUpstream;
use PorticoLoad;
use PorticoLB qw(ka_get tally reload_wait);

my $OK1 = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";

sub scenario { PorticoTest::scenario(@_) }

# the proxy's access log: "$upstream_addr|$upstream_status|$status|$pid"
sub lb_log {
	my ($t) = @_;
	return grep { length } split /\n/, slurp($t->dir . '/logs/lb.log');
}

sub count_fail {
	my ($t) = @_;
	my @n = $t->error_log =~ /connect\(\) failed \(111: Connection refused\) while connecting to upstream/g;
	return scalar @n;
}

sub get {
	my ($t, $path, %o) = @_;
	my $m = $o{method} // 'GET';
	my $body = $o{body} // '';
	my $req = "$m $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
	$req .= "Content-Length: " . length($body) . "\r\n" if $m eq 'POST';
	return parse_response(http($t->port(0), "$req\r\n$body"));
}

# ---------------------------------------------------------------------
scenario('passive health, two workers' => sub {
	my ($t) = @_;
	$t->not_listening(2);
	my $conf = <<'EOF';
worker_processes 2;
events { worker_connections 256; }
http {
    log_format lb '$upstream_addr|$upstream_status|$status|$pid';
    server { listen 127.0.0.1:%%PORT_1%%; access_log off; return 200 "live"; }
    upstream u {
        server 127.0.0.1:%%PORT_2%% max_fails=1 fail_timeout=30s;
        server 127.0.0.1:%%PORT_1%% max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;
        access_log logs/lb.log lb;
        location / { proxy_pass http://u; }
    }
}
EOF
	$t->write_conf($conf);
	$t->run;
	my ($dead, $live) = map { '127.0.0.1:' . $t->port($_) } 2, 1;
	my ($st, undef, $body) = get($t, '/');
	is("$st $body", '200 live', 'the first request, to the dead peer first, '
	    . 'is retried on the live one');
	is(count_fail($t), 1, 'one connect() failure');
	my @log = lb_log($t);
	like($log[0] // '', qr/^\Q$dead, $live|502, 200|200|\E/,
	    '$upstream_addr "dead, live", $upstream_status "502, 200"');
	# 4 batches of 20 connections at once: reuseport spreads them over
	# both workers
	my @res;
	for (1 .. 4) {
		push @res, map { join ' ', (parse_response($_->{raw}))[0, 2] }
		    @{ PorticoTest::http_batch($t->port(0), [ ("GET / HTTP/1.1\r\n"
		    . "Host: localhost\r\nConnection: close\r\n\r\n") x 20 ]) };
	}
	is_deeply({ tally(@res) }, { '200 live' => 80 }, '80 more: all 200');
	wait_until(sub { lb_log($t) >= 81 }, 5);
	@log = lb_log($t);
	my %pids = map { (split /\|/)[3] => 1 } @log;
	is(scalar(keys %pids), 2, 'both workers served requests');
	is(count_fail($t), 1, 'still one connect() failure in all: the other '
	    . 'worker knew the peer was down');
	is(scalar(grep { !/^\Q$live|200|200|\E/ } @log[1 .. $#log]), 0,
	    'every later request went to the live peer alone');
	ok(reload_wait($t, undef, 2), 'reloaded (HUP)');
	@res = ();
	for (1 .. 2) {
		push @res, map { join ' ', (parse_response($_->{raw}))[0, 2] }
		    @{ PorticoTest::http_batch($t->port(0), [ ("GET / HTTP/1.1\r\n"
		    . "Host: localhost\r\nConnection: close\r\n\r\n") x 20 ]) };
	}
	is_deeply({ tally(@res) }, { '200 live' => 40 }, 'after it: all 200');
	is(count_fail($t), 1, 'no new failure: the reload kept the health state');
	$t->stop;
});

scenario('fail_timeout' => sub {
	my ($t) = @_;
	$t->not_listening(2);
	$t->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    server { listen 127.0.0.1:%%PORT_1%%; return 200 "live"; }
    upstream u {
        server 127.0.0.1:%%PORT_2%% max_fails=1 fail_timeout=1s;
        server 127.0.0.1:%%PORT_1%% max_fails=1 fail_timeout=1s;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://u; }
    }
}
EOF
	$t->run;
	my @b = ka_get($t->port(0), '/', 2);
	is_deeply(\@b, [ 'live', 'live' ], 'the dead peer is tried, then skipped');
	is(count_fail($t), 1, 'one connect() failure');
	my $t0 = time;
	my @all;
	ok(wait_until(sub { push @all, ka_get($t->port(0), '/', 1);
	    count_fail($t) >= 2 }, 5), 'the dead peer is tried again');
	my $secs = time - $t0;
	ok($secs > 0.8 && $secs < 2.5,
	    sprintf('... once fail_timeout=1s has passed (%.2f s)', $secs));
	is(count_fail($t), 2, '... once');
	is(scalar(grep { $_ ne 'live' } @all), 0,
	    'every request answered by the live peer (' . scalar(@all) . ')');
	$t->stop;
});

# ---------------------------------------------------------------------
scenario('retries and their limits' => sub {
	my ($t) = @_;
	$t->not_listening($_) for 2 .. 4;
	my $close = PorticoUpstream->new(routes => { '/*' => sub { } });
	my @x503 = map {
		my $n = $_;
		PorticoUpstream->new(routes => { '/*' =>
		    "HTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nx$n" })
	} 1, 2;
	my @silent = map { PorticoUpstream->new(routes => {
		'/*' => sub { sleep 3 } }) } 1 .. 3;
	my ($c, $s1, $s2) = map { $_->addr } $close, @x503;
	my $sil = join '', map { "server " . $_->addr . " max_fails=0;\n" }
	    @silent;
	$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    log_format lb '\$upstream_addr|\$upstream_status|\$status|\$pid';
    server { listen 127.0.0.1:%%PORT_1%%; access_log off; return 200 "live"; }
    upstream dead3 {
        server 127.0.0.1:%%PORT_2%% max_fails=0;
        server 127.0.0.1:%%PORT_3%% max_fails=0;
        server 127.0.0.1:%%PORT_4%% max_fails=0;
    }
    upstream mixed {
        server 127.0.0.1:%%PORT_2%% max_fails=0;
        server 127.0.0.1:%%PORT_1%% max_fails=0;
    }
    upstream closer { server $c max_fails=0; server 127.0.0.1:%%PORT_1%%; }
    upstream busy { server $s1 max_fails=0; server 127.0.0.1:%%PORT_1%%; }
    upstream busy2 { server $s1 max_fails=0; server $s2 max_fails=0; }
    upstream silent { $sil }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        access_log logs/lb.log lb;
        proxy_read_timeout 500ms;
        location /tries { proxy_next_upstream_tries 2; proxy_pass http://dead3; }
        location /all { proxy_pass http://dead3; }
        location /off { proxy_next_upstream off; proxy_pass http://mixed; }
        location /on { proxy_pass http://mixed; }
        location /close { proxy_pass http://closer; }
        location /nonidem {
            proxy_next_upstream error timeout non_idempotent;
            proxy_pass http://closer;
        }
        location /503 { proxy_next_upstream error http_503; proxy_pass http://busy; }
        location /503last { proxy_next_upstream error http_503; proxy_pass http://busy2; }
        location /503no { proxy_pass http://busy; }
        location /nut {
            proxy_next_upstream error timeout;
            proxy_next_upstream_timeout 800ms;
            proxy_pass http://silent;
        }
        location /nonut { proxy_next_upstream error timeout; proxy_pass http://silent; }
    }
}
EOF
	$t->run;
	my ($live, @dead) = map { '127.0.0.1:' . $t->port($_) } 1 .. 4;
	my $last = sub { (lb_log($t))[-1] // '' };
	my $wait_log = sub { my $n = $_[0]; wait_until(sub { lb_log($t) >= $n }, 3) };
	my $nlog = 0;

	# proxy_next_upstream_tries 2, three dead peers
	my $f0 = count_fail($t);
	my ($st) = get($t, '/tries');
	is($st, 502, 'tries 2, all three peers dead: 502');
	$wait_log->(++$nlog);
	like($last->(), qr/^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|502, 502\|502\|/,
	    '... after exactly two tries') or diag($last->());
	is(count_fail($t) - $f0, 2, '... two connect() failures');
	($st) = get($t, '/all');
	is($st, 502, 'without a limit: 502');
	$wait_log->(++$nlog);
	like($last->(), qr/^[^,|]+, [^,|]+, [^,|]+\|502, 502, 502\|502\|/,
	    '... after all three') or diag($last->());

	# off: the dead peer's turn is a 502 at once
	my @r = map { my @x = get($t, '/off'); $x[0] == 502 ? 502 : "@x[0, 2]" }
	    1 .. 6;
	$wait_log->($nlog += 6);
	my @l = (lb_log($t))[-6 .. -1];
	is_deeply({ tally(@r) }, { 502 => 3, '200 live' => 3 },
	    'proxy_next_upstream off: the dead peer\'s turns are 502s') or
	    diag("@r");
	is(scalar(grep { /^\Q$dead[0]|502|502|\E/ } @l), 3,
	    '... each after one try of the dead peer') or diag(join "\n", @l);
	@r = map { join ' ', (get($t, '/on'))[0, 2] } 1 .. 6;
	$wait_log->($nlog += 6);
	is_deeply({ tally(@r) }, { '200 live' => 6 },
	    'the default (error timeout): all 200');

	# an upstream that takes the request and closes without an answer
	@r = map { join ' ', (get($t, '/close'))[0, 2] } 1 .. 6;
	$wait_log->($nlog += 6);
	is_deeply({ tally(@r) }, { '200 live' => 6 },
	    'GET: the closing peer\'s turns go on to the next');
	my @got = $close->take(1);
	ok(@got >= 1, 'the closing peer got its turns (' . scalar(@got) . ')');
	@r = map { join ' ', (get($t, '/close', method => 'POST', body => 'x'))[0] }
	    1 .. 6;
	$wait_log->($nlog += 6);
	@got = $close->take(1);
	my %n = tally(@r);
	ok(($n{502} // 0) >= 1 && ($n{502} // 0) == @got,
	    'POST: not sent twice: a 502 for each POST the closing peer got')
	    or diag("@r; the peer got " . scalar(@got));
	@r = map { join ' ', (get($t, '/nonidem', method => 'POST', body => 'x'))[0, 2] }
	    1 .. 6;
	$wait_log->($nlog += 6);
	@got = $close->take(1);
	is_deeply({ tally(@r) }, { '200 live' => 6 },
	    'POST with non_idempotent: retried, all 200');
	ok(@got >= 1, '... after the closing peer got them ('
	    . scalar(@got) . ')');

	# http_503
	@r = map { join ' ', (get($t, '/503'))[0, 2] } 1 .. 6;
	$wait_log->($nlog += 6);
	@l = (lb_log($t))[-6 .. -1];
	is_deeply({ tally(@r) }, { '200 live' => 6 },
	    'http_503: a 503 goes on to the next peer');
	ok(grep({ /^\Q$s1, $live|503, 200|200|\E/ } @l) >= 1,
	    '... $upstream_status "503, 200"') or diag(join "\n", @l);
	my ($st5, $h5, $b5) = get($t, '/503last');
	$wait_log->(++$nlog);
	is("$st5 $b5", '503 ' . ($last->() =~ /^\Q$s1\E,/ ? 'x2' : 'x1'),
	    'both peers 503: the last one\'s 503 is passed on');
	like($last->(), qr/^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|503, 503\|503\|/,
	    '... after both were tried') or diag($last->());
	@r = map { join ' ', (get($t, '/503no'))[0, 2] } 1 .. 4;
	$wait_log->($nlog += 4);
	@l = (lb_log($t))[-4 .. -1];
	%n = tally(@r);
	ok(($n{'503 x1'} // 0) >= 1 && ($n{'503 x1'} // 0) + ($n{'200 live'} // 0) == 4,
	    'without http_503 the 503 is passed on') or diag("@r");
	is(scalar(grep { /\|503\|/ && !/^\Q$s1|503|503|\E/ } @l), 0,
	    '... at once, after one try') or diag(join "\n", @l);

	# proxy_next_upstream_timeout: 500ms per try, 800ms in all
	my $t0 = time;
	($st) = get($t, '/nut');
	my $secs = time - $t0;
	$wait_log->(++$nlog);
	is($st, 504, 'three silent peers: 504');
	like($last->(), qr/^[^,|]+, [^,|]+\|504, 504\|504\|/,
	    'proxy_next_upstream_timeout 800ms: two tries of 500ms, no third')
	    or diag($last->());
	ok($secs > 0.9 && $secs < 1.4, sprintf('... in %.2f s', $secs));
	$t0 = time;
	($st) = get($t, '/nonut');
	$secs = time - $t0;
	$wait_log->(++$nlog);
	like($last->(), qr/^[^,|]+, [^,|]+, [^,|]+\|504, 504, 504\|504\|/,
	    'without it: all three tried') or diag($last->());
	ok($secs > 1.4 && $secs < 2.2, sprintf('... in %.2f s', $secs));
	$t->stop;
	$_->stop for $close, @x503, @silent;
});

# ---------------------------------------------------------------------
# a stub whose /health answers by a file of the test dir: absent, 500;
# else 200 with the file's content as the body
sub health_stub {
	my ($t, $name) = @_;
	my $f = $t->dir . "/health-$name";
	return PorticoUpstream->new(routes => {
		'/health' => sub {
			my ($s) = @_;
			if (-e $f) {
				my $b = slurp($f);
				print $s "HTTP/1.1 200 OK\r\nContent-Length: "
				    . length($b) . "\r\n\r\n$b";
			} else {
				print $s "HTTP/1.1 500 Bad\r\nContent-Length: 3\r\n\r\nbad";
			}
		},
		'/*' => "$OK1$name",
	});
}

sub set_health {
	my ($t, $name, $body) = @_;
	my $f = $t->dir . "/health-$name";
	if (!defined $body) {
		unlink $f;
		return;
	}
	open(my $fh, '>', "$f.tmp") or die;
	print $fh $body;
	close $fh;
	rename("$f.tmp", $f);
}

sub traffic {
	my ($stub) = @_;
	return grep { $_->{target} ne '/health' } $stub->requests;
}

sub checks {
	my ($stub) = @_;
	return grep { $_->{target} eq '/health' } $stub->requests;
}

scenario('active health checks' => sub {
	my ($t) = @_;
	my $s = health_stub($t, 's');
	my $m = health_stub($t, 'm');
	my ($sa, $ma) = ($s->addr, $m->addr);
	$t->write_conf(<<"EOF");
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "live"; }
        location = /health { return 200 "ok"; }
    }
    upstream hs {
        server $sa;
        server 127.0.0.1:%%PORT_1%%;
        health_check interval=300ms fails=1 passes=1 uri=/health;
    }
    upstream hm {
        server $ma;
        server 127.0.0.1:%%PORT_1%%;
        health_check interval=300ms uri=/health match=body=~^ok\$;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /s { proxy_pass http://hs; }
        location /m { proxy_pass http://hm; }
    }
}
EOF
	set_health($t, 'm', 'not ok');
	$t->run;
	my $down = sub {
		my ($addr, $u) = @_;
		my @n = $t->error_log =~ /health check of \Q$addr\E in upstream "$u" failed: [^\n]*the server is down/g;
		return scalar @n;
	};
	my $up = sub {
		my ($addr, $u) = @_;
		my @n = $t->error_log =~ /health check of \Q$addr\E in upstream "$u" passed: the server is up/g;
		return scalar @n;
	};
	ok(wait_until(sub { $down->($sa, 'hs') }, 5),
	    'the keeper logs "the server is down" for the peer whose /health is 500');
	like($t->error_log, qr/health check of \Q$sa\E in upstream "hs" failed: status 500: the server is down/,
	    '... with the status');
	my @b = ka_get($t->port(0), '/s', 60);
	is_deeply({ tally(@b) }, { live => 60 }, 'no request goes to it');
	is(scalar(traffic($s)), 0, '... the peer got health checks only');
	ok(scalar(checks($s)) >= 1, '... which it did get');
	like((checks($s))[0]{h}{'user-agent'} // '', qr/portico health check/,
	    'the check: a GET with portico\'s User-Agent');

	set_health($t, 's', 'fine');
	ok(wait_until(sub { $up->($sa, 'hs') }, 5), '/health 200: "the server is up"');
	@b = ka_get($t->port(0), '/s', 60);
	my %n = tally(@b);
	ok(($n{s} // 0) >= 20 && ($n{live} // 0) >= 20,
	    'it gets traffic again') or diag(join ' ', %n);

	# match=body=~
	ok(wait_until(sub { $down->($ma, 'hm') }, 5),
	    'match=body=~^ok$: 200 with the body "not ok" is a failure');
	like($t->error_log, qr/health check of \Q$ma\E in upstream "hm" failed: status 200 or a body that does not match: the server is down/,
	    '... logged so');
	$m->clear;
	@b = ka_get($t->port(0), '/m', 40);
	is_deeply({ tally(@b) }, { live => 40 }, '... and it gets no request')
	    or diag(join ' ', tally(@b));
	is(scalar(traffic($m)), 0, '... none at all');
	set_health($t, 'm', 'ok');
	ok(wait_until(sub { $up->($ma, 'hm') }, 5), 'body "ok": up again');
	@b = ka_get($t->port(0), '/m', 40);
	%n = tally(@b);
	ok(($n{m} // 0) >= 10, 'and it gets traffic') or diag(join ' ', %n);

	# down again, then a reload: the state is kept
	set_health($t, 's', undef);
	ok(wait_until(sub { $down->($sa, 'hs') == 2 }, 5), 's down again');
	$s->clear;
	ok(reload_wait($t, undef, 2), 'reloaded (HUP)');
	@b = ka_get($t->port(0), '/s', 60);
	is_deeply({ tally(@b) }, { live => 60 },
	    'after the reload: still no request to it');
	ok(wait_until(sub { checks($s) >= 3 }, 5),
	    'the new keeper checks it');
	is(scalar(traffic($s)), 0, 'the peer got checks only');
	is($down->($sa, 'hs'), 2, 'no new "down" line: it was down already');
	is($up->($sa, 'hs'), 1, 'and no "up" line');

	# health_check gone: nothing would bring it back, so it is back
	my $conf = PorticoTest::slurp($t->conf_path);
	$conf =~ s/(upstream hs \{[^}]*?)\n\s*health_check[^\n]*/$1/
	    or die 'no health_check in hs';
	ok(reload_wait($t, $conf, 2), 'reloaded without health_check in hs');
	@b = ka_get($t->port(0), '/s', 60);
	%n = tally(@b);
	ok(($n{s} // 0) >= 20 && ($n{live} // 0) >= 20,
	    'the peer its checks took out gets traffic again')
	    or diag(join ' ', %n);
	my (undef, $tab) = $t->capture([ PorticoTest::bin(), '-p',
	    $t->dir . '/', '-c', $t->conf_path, '-a', 'health' ]);
	like($tab, qr/^hs\s+\Q$sa\E\s+up\s/m, '... and -a health says up')
	    or diag($tab);
	$t->stop;
	$_->stop for $s, $m;
});

scenario('health checks of a silent and a refused peer' => sub {
	my ($t) = @_;
	my $slow = PorticoUpstream->new(routes => {
		'/health' => sub { sleep 2 },
		'/*' => "${OK1}x",
	});
	my $sl = $slow->addr;
	$t->not_listening(2);
	$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    server { listen 127.0.0.1:%%PORT_1%%; return 200 "live"; }
    upstream hx {
        server $sl;
        server 127.0.0.1:%%PORT_2%%;
        server 127.0.0.1:%%PORT_1%%;
        health_check interval=300ms uri=/health;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://hx; }
    }
}
EOF
	$t->run;
	my $dead = '127.0.0.1:' . $t->port(2);
	ok($t->wait_log(qr/health check of \Q$sl\E in upstream "hx" failed: the answer timed out: the server is down/, 5),
	    'a /health that does not answer within the interval: down');
	ok($t->wait_log(qr/health check of \Q$dead\E in upstream "hx" failed: connect\(\) failed \(111: Connection refused\): the server is down/, 5),
	    'a refused check: down');
	unlike($t->error_log, qr/127\.0\.0\.1:\Q${\ $t->port(1)}\E in upstream "hx" failed/,
	    'the live peer passes');
	my $f0 = () = $t->error_log =~ /while connecting to upstream/g;
	my @b = ka_get($t->port(0), '/', 60);
	is_deeply({ tally(@b) }, { live => 60 }, 'all traffic to the live peer');
	is(scalar(traffic($slow)), 0, 'none to the silent one');
	my $f1 = () = $t->error_log =~ /while connecting to upstream/g;
	is($f1 - $f0, 0, 'no request tried the refused one');
	$t->stop;
	$slow->stop;
});

scenario('health_check port=' => sub {
	my ($t) = @_;
	my $s = health_stub($t, 's');	# its own /health: 500
	my $sa = $s->addr;
	$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    server { listen 127.0.0.1:%%PORT_1%%; return 200 "live"; }
    server {
        listen 127.0.0.1:%%PORT_3%%;
        access_log logs/hc.log;
        location = /health { return 200 "ok"; }
    }
    upstream hp {
        server $sa;
        server 127.0.0.1:%%PORT_1%%;
        health_check interval=300ms uri=/health port=%%PORT_3%%;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://hp; }
    }
}
EOF
	$t->run;
	my $hits = sub { scalar(() = slurp($t->dir . '/logs/hc.log') =~ /GET \/health /g) };
	ok(wait_until(sub { $hits->() >= 6 }, 5),
	    'port=: the checks go to that port (' . $hits->() . ')');
	is(scalar(checks($s)), 0, '... not to the server\'s own');
	unlike($t->error_log, qr/the server is down/, 'both pass');
	my @b = ka_get($t->port(0), '/', 40);
	is_deeply({ tally(@b) }, { s => 20, live => 20 }, 'both get traffic');
	$t->stop;
	$s->stop;
});

# ---------------------------------------------------------------------
scenario('health state across a binary upgrade' => sub {
	my ($t) = @_;
	local $PorticoTest::BIN = PorticoTest::abs_bin();
	my $s = health_stub($t, 's');	# /health: 500
	my $sa = $s->addr;
	$t->not_listening(2);
	$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "live"; }
        location = /health { return 200 "ok"; }
    }
    upstream p {
        server 127.0.0.1:%%PORT_2%% max_fails=1 fail_timeout=30s;
        server 127.0.0.1:%%PORT_1%% max_fails=1 fail_timeout=30s;
    }
    upstream a {
        server $sa;
        server 127.0.0.1:%%PORT_1%%;
        health_check interval=300ms uri=/health;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /p { proxy_pass http://p; }
        location /a { proxy_pass http://a; }
    }
}
EOF
	$t->run;
	my $down = sub { scalar(() = $t->error_log =~ /health check of \Q$sa\E in upstream "a" failed: .*the server is down/g) };
	ok(wait_until(sub { $down->() == 1 }, 5), 'the active check marks s down');
	my @b = ka_get($t->port(0), '/p', 3);
	is_deeply(\@b, [ ('live') x 3 ], 'the dead peer of "p" tried once');
	is(count_fail($t), 1, '... one connect() failure');
	my $old = $t->{pid};
	my $oldbin = $t->pid_file . '.oldbin';
	$t->signal('USR2');
	my $new;
	ok(wait_until(sub {
		$new = $t->master_pid;
		my @w = $new ? $t->workers($new) : ();
		my @k = $new ? $t->children('keeper', $new) : ();
		-e $oldbin && $new && $new != $old && @w == 1 && @k == 1;
	}), 'USR2: a new master with its worker and keeper') or do {
		$t->stop;
		return;
	};
	$t->signal('WINCH', $old);
	$t->signal('QUIT', $old);
	ok($t->wait_exit($old), 'the old master quit');
	$t->{pid} = $new;
	$t->{child} = undef;
	$s->clear;
	@b = map { (PorticoTest::http_get($t->port(0), $_))[2] } ('/p', '/a') x 20;
	is_deeply({ tally(@b) }, { live => 40 },
	    'after the upgrade: no request to either unhealthy peer');
	is(count_fail($t), 1, 'no new connect() failure: the passive state was kept');
	ok(wait_until(sub { checks($s) >= 3 }, 5), 'the new keeper checks s');
	is(scalar(traffic($s)), 0, '... which gets no request');
	is($down->(), 1, 'and no new "down" line: the active state was kept');
	$t->stop;
	$s->stop;
});

# ---------------------------------------------------------------------
scenario('a peer killed under load' => sub {
	my ($t) = @_;
	my $a = PorticoTest->new;
	$a->write_conf(<<'EOF');
worker_processes 1;
events {}
http { access_log off; server { listen 127.0.0.1:%%PORT_0%%; return 200 "a"; } }
EOF
	$a->run;
	my $aport = $a->port(0);
	$t->write_conf(<<"EOF");
worker_processes 2;
events { worker_connections 512; }
http {
    access_log off;
    server { listen 127.0.0.1:%%PORT_1%%; return 200 "b"; }
    upstream u {
        server 127.0.0.1:$aport max_fails=1 fail_timeout=10s;
        server 127.0.0.1:%%PORT_1%%;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://u; }
    }
}
EOF
	$t->run;
	my $load = PorticoLoad->start($t, port => $t->port(0), conns => 8,
	    seconds => 20);
	ok($load->wait_requests(2000), 'load running');
	my @procs = ($a->{pid}, $a->workers, $a->children('keeper'));
	kill('KILL', @procs);
	$a->{pid} = undef;
	ok(PorticoTest::wait_gone(\@procs, 5), 'peer a killed (SIGKILL)');
	ok($load->wait_requests(3000), 'load goes on');
	my $r = $load->finish;
	is($r->{failed}, 0, 'no client saw an error: ' . PorticoLoad::report($r));
	ok(($r->{bodies}{a} // 0) > 0 && ($r->{bodies}{b} // 0) > 3000,
	    'both served before the kill, b alone after it')
	    or diag(join ' ', %{ $r->{bodies} });
	$t->stop;
});


done_testing();

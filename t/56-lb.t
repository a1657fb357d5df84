#!/usr/bin/perl
# Balancing through the real binary: proxy_pass to an upstream {} group
# whose servers are portico's own "return 200 NAME" servers (each answer
# names the peer), counted over thousands of keep-alive requests.
# Smooth weighted round-robin (shares and the exact a a b a c a a
# interleaving), least_conn, ip_hash, hash, hash consistent (a reload
# that removes a server moves only its keys), random, random two
# least_conn, backup, down, max_conns.  ip_hash, hash and hash consistent
# are also compared with nginx, key by key, when nginx is installed.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Select;
use Time::HiRes qw(time);
use PorticoTest qw(wait_until slurp);
use PorticoUpstream;
use PorticoLB qw(ka_get tally reload_wait hold_request);

my @NAMES = qw(a b c d);

# the config: name servers a.. on PORT_1.., the proxy on PORT_0; $ups is
# the body of "upstream u", where %%a%% stands for a's address
sub conf {
	my ($ups, %o) = @_;
	my $n = $o{names} // 3;
	my $names = join('', map {
		"    server { listen 127.0.0.1:%%PORT_" . ($_ + 1) . "%%; "
		    . "return 200 \"$NAMES[$_]\"; }\n" } 0 .. $n - 1);
	$ups =~ s/%%([a-d])%%/'127.0.0.1:%%PORT_' . (1 + ord($1) - ord('a')) . '%%'/ge;
	my $wp = $o{workers} // 1;
	# with two workers, reuseport spreads the connections over both, and
	# the proxy's access log names the worker of each request
	my ($rp, $log) = $wp > 1 ? (' reuseport', "access_log logs/p.log p;")
	    : ('', '');
	return <<"EOF";
worker_processes $wp;
events { worker_connections 256; }
http {
    access_log off;
    log_format p '\$pid \$upstream_addr';
$names
    upstream u {
$ups
    }
    server {
        listen 127.0.0.1:%%PORT_0%%$rp;
        $log
        location / { proxy_pass http://u; }
    }
}
EOF
}

# the workers named in the proxy's access log
sub log_pids {
	my ($t) = @_;
	my %p = map { (split / /)[0] => 1 } grep { length }
	    split /\n/, slurp($t->dir . '/logs/p.log');
	return scalar keys %p;
}

# $n requests, each on a connection of its own
sub each_new {
	my ($t, $n) = @_;
	return map { my @r = PorticoTest::http_get($t->port(0), '/');
	    $r[0] == 200 ? $r[2] : "ERR $r[0]" } 1 .. $n;
}

sub start {
	my ($t, $ups, %o) = @_;
	my $text = conf($ups, %o);
	$t->write_conf($text);
	$t->not_listening($_) for @{ $o{dead} // [] };
	$t->run;
	return $text;
}

# the share of each name among @b, as "a=0.714 b=0.143 ..."
sub shares {
	my (@b) = @_;
	my %n = tally(@b);
	return join(' ', map { sprintf('%s=%.3f', $_, $n{$_} / @b) }
	    sort keys %n);
}

sub within {
	my ($b, $want, $tol, $name) = @_;
	my %n = tally(@$b);
	my $ok = 1;
	for my $k (keys %$want) {
		my $got = ($n{$k} // 0) / @$b;
		$ok = 0 if abs($got - $want->{$k}) > $tol;
	}
	$ok = 0 if grep { !exists $want->{$_} } keys %n;
	ok($ok, $name) or diag('got ' . shares(@$b));
}

# an nginx running the same upstream block in front of the same name
# servers: its choice per request, for comparison
sub nginx_for {
	my ($t, $ups) = @_;
	return undef unless PorticoTest::Nginx::available();
	$ups =~ s/%%([a-d])%%/'127.0.0.1:' . $t->port(1 + ord($1) - ord('a'))/ge;
	return PorticoTest::Nginx->start(<<"EOF");
events {}
http {
    upstream u {
$ups
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { proxy_pass http://u; }
    }
}
EOF
}

# hold one request open on the stub $st (a peer that answers /hold only
# when released): requests are sent until one of them reaches it; those
# that another peer answered at once are dropped
sub hold_on_stub {
	my ($t, $st) = @_;
	for (1 .. 60) {
		my $s = hold_request($t->port(0), '/hold');
		my $sel = IO::Select->new($s);
		my $where = wait_until(sub {
			return 'stub' if grep { $_->{target} eq '/hold' }
			    $st->requests;
			return 'other' if $sel->can_read(0);
			return 0;
		}, 3);
		return $s if $where eq 'stub';
		close $s;
	}
	return undef;
}

sub holder_stub {
	my ($t) = @_;
	my $rel = $t->dir . '/release';
	return PorticoUpstream->new(routes => {
		'/' => "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nh",
		'/hold' => sub {
			my ($s) = @_;
			wait_until(sub { -e $rel }, 15);
			print $s "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nheld";
		},
	});
}

sub release {
	my ($t, $held) = @_;
	open(my $fh, '>', $t->dir . '/release') or die;
	close $fh;
	my ($buf) = PorticoTest::read_sock($held, 5, sub { $_[0] =~ /held$/ });
	close $held;
	return $buf =~ /^HTTP\/1\.1 200 .*held$/s;
}


# ---------------------------------------------------------------------
scenario('weighted round-robin' => sub {
	my ($t) = @_;
	start($t, "server %%a%% weight=5;\nserver %%b%%;\nserver %%c%%;");
	my @b = ka_get($t->port(0), '/', 7000);
	is(join('', @b[0 .. 13]), 'aabacaa' x 2,
	    'weights 5:1:1: the smooth interleaving a a b a c a a');
	within(\@b, { a => 5 / 7, b => 1 / 7, c => 1 / 7 }, 0.02,
	    '7000 requests: shares 5/7, 1/7, 1/7 within 2%');
	my %n = tally(@b);
	is_deeply(\%n, { a => 5000, b => 1000, c => 1000 },
	    'and exactly 5000, 1000, 1000 (one worker)');
	$t->stop;
});

scenario('weighted round-robin, two workers' => sub {
	my ($t) = @_;
	start($t, "server %%a%% weight=5;\nserver %%b%%;\nserver %%c%%;",
	    workers => 2);
	my @b;
	push @b, ka_get($t->port(0), '/', 700) for 1 .. 6;
	within(\@b, { a => 5 / 7, b => 1 / 7, c => 1 / 7 }, 0.02,
	    'two workers, 4200 requests on 6 connections: shares within 2%');
	$t->stop;
});

# ---------------------------------------------------------------------
scenario('down' => sub {
	my ($t) = @_;
	start($t, "server %%a%%;\nserver %%b%% down;\nserver %%c%%;");
	my @b = ka_get($t->port(0), '/', 600);
	my %n = tally(@b);
	is($n{b} // 0, 0, 'a server marked down gets no request');
	is_deeply(\%n, { a => 300, c => 300 }, 'the others share them evenly');
	$t->stop;
});

# ---------------------------------------------------------------------
scenario('backup' => sub {
	my ($t) = @_;
	start($t, "server %%a%%;\nserver %%b%%;\nserver %%c%% backup;");
	my @b = ka_get($t->port(0), '/', 600);
	my %n = tally(@b);
	is_deeply(\%n, { a => 300, b => 300 },
	    'the backup gets nothing while the primaries are up');
	$t->stop;
});

scenario('backup when the primaries are down' => sub {
	my ($t) = @_;
	# ports 5 and 6: nothing listens there
	start($t, "server 127.0.0.1:%%PORT_5%%;\nserver 127.0.0.1:%%PORT_6%%;\n"
	    . "server %%c%% backup;", dead => [5, 6]);
	my @b = ka_get($t->port(0), '/', 200);
	my %n = tally(@b);
	is_deeply(\%n, { c => 200 },
	    'both primaries refused: every request answered by the backup');
	my @fails = $t->error_log =~ /connect\(\) failed/g;
	ok(@fails >= 2 && @fails <= 4,
	    'each dead primary tried about once (max_fails=1): '
	    . scalar(@fails) . ' connect() failures');
	$t->stop;
});

# ---------------------------------------------------------------------
scenario('least_conn' => sub {
	my ($t) = @_;
	my $st = holder_stub($t);
	start($t, "least_conn;\nserver " . $st->addr . ";\nserver %%b%%;");
	my $held = hold_on_stub($t, $st);
	ok($held, 'a request held open on the stub peer') or return;
	$st->clear;
	my @b = ka_get($t->port(0), '/', 400);
	my %n = tally(@b);
	is_deeply(\%n, { b => 400 },
	    'least_conn: while the stub holds one connection, all go to b');
	is(scalar($st->requests), 0, '... and the stub got none of them');
	ok(release($t, $held), 'the held request is answered');
	@b = ka_get($t->port(0), '/', 200);
	within(\@b, { h => 0.5, b => 0.5 }, 0.1,
	    'once it is released, both share the requests');
	$t->stop;
	$st->stop;
});

scenario('least_conn, two workers' => sub {
	my ($t) = @_;
	my $st = holder_stub($t);
	start($t, "least_conn;\nserver " . $st->addr . ";\nserver %%b%%;",
	    workers => 2);
	my $held = hold_on_stub($t, $st);
	ok($held, 'a request held open on the stub peer') or return;
	$st->clear;
	my @b = each_new($t, 60);
	is_deeply({ tally(@b) }, { b => 60 },
	    'least_conn counts connections across workers: 60 requests on '
	    . 'new connections, all to b');
	ok(wait_until(sub { log_pids($t) == 2 }, 3), '... served by both workers');
	ok(release($t, $held), 'the held request is answered');
	$t->stop;
	$st->stop;
});

scenario('max_conns' => sub {
	my ($t) = @_;
	my $st = holder_stub($t);
	start($t, "server " . $st->addr . " max_conns=1;\nserver %%b%%;");
	my $held = hold_on_stub($t, $st);
	ok($held, 'a request held open on the stub peer (max_conns=1)')
	    or return;
	$st->clear;
	my @b = ka_get($t->port(0), '/', 300);
	my %n = tally(@b);
	is_deeply(\%n, { b => 300 },
	    'max_conns=1 reached: round-robin skips the stub');
	ok(release($t, $held), 'the held request is answered');
	@b = ka_get($t->port(0), '/', 200);
	within(\@b, { h => 0.5, b => 0.5 }, 0.05,
	    'below max_conns again: both get requests');
	$t->stop;
	$st->stop;
});

# ---------------------------------------------------------------------
scenario('max_conns, two workers' => sub {
	my ($t) = @_;
	my $st = holder_stub($t);
	start($t, "server " . $st->addr . " max_conns=1;\nserver %%b%%;",
	    workers => 2);
	my $held = hold_on_stub($t, $st);
	ok($held, 'a request held open on the stub peer (max_conns=1)')
	    or return;
	$st->clear;
	my @b = each_new($t, 60);
	is_deeply({ tally(@b) }, { b => 60 },
	    'max_conns counts across workers: 60 requests on new connections, '
	    . 'all to b');
	ok(wait_until(sub { log_pids($t) == 2 }, 3), '... served by both workers');
	ok(release($t, $held), 'the held request is answered');
	$t->stop;
	$st->stop;
});

scenario('random' => sub {
	my ($t) = @_;
	start($t, "random;\nserver %%a%% weight=5;\nserver %%b%%;\nserver %%c%%;");
	my @b = ka_get($t->port(0), '/', 7000);
	within(\@b, { a => 5 / 7, b => 1 / 7, c => 1 / 7 }, 0.03,
	    'random, weights 5:1:1: shares within 3% over 7000');
	isnt(join('', @b[0 .. 69]), 'aabacaa' x 10,
	    'not the round-robin sequence');
	my %n = tally(@b);
	ok($n{a} != 5000 || $n{b} != 1000,
	    'not the exact round-robin counts');
	$t->stop;
});

scenario('random two least_conn' => sub {
	my ($t) = @_;
	my $st = holder_stub($t);
	start($t, "random two least_conn;\nserver " . $st->addr
	    . ";\nserver %%b%%;\nserver %%c%%;");
	my $held = hold_on_stub($t, $st);
	ok($held, 'a request held open on the stub peer') or return;
	$st->clear;
	my @b = ka_get($t->port(0), '/', 900);
	within(\@b, { b => 0.5, c => 0.5 }, 0.08,
	    'random two: the busy stub is never chosen over an idle peer');
	is(scalar($st->requests), 0, '... it got none of 900 requests');
	ok(release($t, $held), 'the held request is answered');
	@b = ka_get($t->port(0), '/', 900);
	within(\@b, { h => 1 / 3, b => 1 / 3, c => 1 / 3 }, 0.08,
	    'all idle: the three share the requests');
	$t->stop;
	$st->stop;
});

# ---------------------------------------------------------------------
scenario('ip_hash' => sub {
	my ($t) = @_;
	my $ups = "ip_hash;\nserver %%a%%;\nserver %%b%%;\nserver %%c%%;";
	start($t, $ups);
	my @b;
	push @b, ka_get($t->port(0), '/', 50) for 1 .. 10;
	my %n = tally(@b);
	is(scalar(keys %n), 1, 'ip_hash: 500 requests from 127.0.0.1 on 10 '
	    . 'connections, one peer') or diag(shares(@b));
	my ($peer) = keys %n;
	my @again = ka_get($t->port(0), '/', 50);
	is_deeply({ tally(@again) }, { $peer => 50 }, 'stable');
	SKIP: {
		my $ng = nginx_for($t, $ups) or skip('no nginx', 1);
		my @ng = ka_get($ng->port, '/', 20);
		is_deeply({ tally(@ng) }, { $peer => 20 },
		    "the same peer as nginx ($peer)");
		$ng->stop;
	}
	# that peer marked down: it keeps its place, the client goes to
	# another one, always the same
	my $ups2 = $ups =~ s/(server %%$peer%%);/$1 down;/r;
	ok(reload_wait($t, conf($ups2)), "reloaded with $peer down");
	@b = ();
	push @b, ka_get($t->port(0), '/', 50) for 1 .. 4;
	%n = tally(@b);
	my ($other) = keys %n;
	ok(keys(%n) == 1 && $other ne $peer,
	    "$peer down: all 200 requests to one other peer") or diag(shares(@b));
	SKIP: {
		my $ng = nginx_for($t, $ups2) or skip('no nginx', 1);
		my @ng = ka_get($ng->port, '/', 20);
		is_deeply({ tally(@ng) }, { $other => 20 },
		    "... the same as nginx's ($other)");
		$ng->stop;
	}
	$t->stop;
});

my @KEYS = map { "/?k=key$_" } 1 .. 1000;

scenario('hash $arg_k' => sub {
	my ($t) = @_;
	my $ups = "hash \$arg_k;\nserver %%a%%;\nserver %%b%%;\nserver %%c%%;";
	start($t, $ups);
	my @b = ka_get($t->port(0), \@KEYS);
	my %n = tally(@b);
	ok(3 == keys %n && !grep({ $_ < 200 } values %n),
	    '1000 keys spread over the 3 peers, each at least 20%')
	    or diag(shares(@b));
	my @again = ka_get($t->port(0), \@KEYS);
	is_deeply(\@again, \@b, 'the same key goes to the same peer');
	my @one = ka_get($t->port(0), '/?k=fixed', 100);
	is(scalar(keys %{{ tally(@one) }}), 1, 'one key, 100 times: one peer');
	my @empty = ka_get($t->port(0), '/', 300);
	is_deeply({ tally(@empty) }, { a => 100, b => 100, c => 100 },
	    'an empty key: round-robin');
	SKIP: {
		my $ng = nginx_for($t, $ups) or skip('no nginx', 1);
		my @ng = ka_get($ng->port, \@KEYS);
		my @diff = grep { $ng[$_] ne $b[$_] } 0 .. $#KEYS;
		is(scalar(@diff), 0, 'every key on the same peer as with nginx')
		    or diag(scalar(@diff) . " differ, first $KEYS[$diff[0]]: "
		    . "portico $b[$diff[0]], nginx $ng[$diff[0]]");
		$ng->stop;
	}
	$t->stop;
});

scenario('hash $arg_k consistent' => sub {
	my ($t) = @_;
	my $ups = "hash \$arg_k consistent;\nserver %%a%%;\nserver %%b%%;\n"
	    . "server %%c%%;\nserver %%d%%;";
	start($t, $ups, names => 4);
	my @b = ka_get($t->port(0), \@KEYS);
	my %n = tally(@b);
	ok(4 == keys %n && !grep({ $_ < 100 } values %n),
	    '1000 keys spread over the 4 peers, each at least 10%')
	    or diag(shares(@b));
	SKIP: {
		my $ng = nginx_for($t, $ups) or skip('no nginx', 1);
		my @ng = ka_get($ng->port, \@KEYS);
		my @diff = grep { $ng[$_] ne $b[$_] } 0 .. $#KEYS;
		is(scalar(@diff), 0, 'every key on the same peer as with nginx')
		    or diag(scalar(@diff) . " differ, first $KEYS[$diff[0]]: "
		    . "portico $b[$diff[0]], nginx $ng[$diff[0]]");
		$ng->stop;
	}
	# d leaves the group (its server block stays: it still answers)
	my $text = conf("hash \$arg_k consistent;\nserver %%a%%;\n"
	    . "server %%b%%;\nserver %%c%%;", names => 4);
	ok(reload_wait($t, $text), 'reloaded without d');
	my @after = ka_get($t->port(0), \@KEYS);
	my @moved = grep { $after[$_] ne $b[$_] } 0 .. $#KEYS;
	my @bad = grep { $b[$_] ne 'd' } @moved;
	is(scalar(grep { $_ eq 'd' } @after), 0, 'd gets no key');
	ok(@moved < 350, 'fewer than 35% of the keys moved: '
	    . scalar(@moved));
	is(scalar(@bad), 0, 'only the keys that were on d moved')
	    or diag(scalar(@bad) . " others moved, e.g. $KEYS[$bad[0]]: "
	    . "$b[$bad[0]] -> $after[$bad[0]]");
	SKIP: {
		my $ng = nginx_for($t, "hash \$arg_k consistent;\nserver %%a%%;\n"
		    . "server %%b%%;\nserver %%c%%;") or skip('no nginx', 1);
		my @ng = ka_get($ng->port, \@KEYS);
		my @diff = grep { $ng[$_] ne $after[$_] } 0 .. $#KEYS;
		is(scalar(@diff), 0, '... each to the same peer as with nginx')
		    or diag(scalar(@diff) . " differ, first $KEYS[$diff[0]]: "
		    . "portico $after[$diff[0]], nginx $ng[$diff[0]]");
		$ng->stop;
	}
	$t->stop;
});

scenario('weighted round-robin, as nginx' => sub {
	my ($t) = @_;
	my $ups = "server %%a%% weight=3;\nserver %%b%% weight=2;\nserver %%c%%;";
	SKIP: {
		my $ng = nginx_for($t, $ups) or skip('no nginx', 1);
		start($t, $ups);
		my $p = join '', ka_get($t->port(0), '/', 60);
		my $n = join '', ka_get($ng->port, '/', 60);
		is($p, $n, "weights 3:2:1: the sequence of 60 answers is nginx's");
		$ng->stop;
		$t->stop;
	}
});

# the hash methods with weights and a server marked down, key by key
# against nginx
for my $ups ("hash \$arg_k;\nserver %%a%% weight=3;\nserver %%b%%;\nserver %%c%% weight=2;",
    "hash \$arg_k consistent;\nserver %%a%% weight=2;\nserver %%b%%;\nserver %%c%%;",
    "hash \$arg_k;\nserver %%a%%;\nserver %%b%% down;\nserver %%c%%;",
    "hash \$arg_k consistent;\nserver %%a%%;\nserver %%b%% down;\nserver %%c%%;",
    "ip_hash;\nserver %%a%% weight=2;\nserver %%b%%;\nserver %%c%% weight=3;") {
	(my $name = $ups) =~ s/\n/ /g;
	$name =~ s/%%(\w)%%/$1/g;
	scenario($name => sub {
		my ($t) = @_;
		SKIP: {
			my $ng = nginx_for($t, $ups) or skip('no nginx', 1);
			start($t, $ups);
			my @b = ka_get($t->port(0), \@KEYS);
			my @ng = ka_get($ng->port, \@KEYS);
			my @diff = grep { $ng[$_] ne $b[$_] } 0 .. $#KEYS;
			is(scalar(@diff), 0, "$name: every key to the same peer "
			    . 'as with nginx') or diag(scalar(@diff)
			    . " differ, first $KEYS[$diff[0]]: portico "
			    . "$b[$diff[0]], nginx $ng[$diff[0]]; portico "
			    . shares(@b) . '; nginx ' . shares(@ng));
			$ng->stop;
			$t->stop;
		}
	});
}


done_testing();

sub scenario { PorticoTest::scenario(@_) }

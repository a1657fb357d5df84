#!/usr/bin/perl
# portico -a health: the table of upstream peers that the workers and the
# keeper share.  A dead peer is found down by the active check before any
# request reaches it, a live one counts its requests, both workers see one
# table, and the table survives a reload.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(bin http_get wait_until);

my $t = PorticoTest->new;
my $dead = PorticoTest::free_port();
$t->write_conf(<<"EOF");
worker_processes 2;
events {}
http {
    access_log off;
    upstream be {
        server 127.0.0.1:%%PORT_1%%;
        server 127.0.0.1:$dead;
        health_check interval=200ms uri=/health;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://be; }
    }
    # the live peer, in the same portico
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "live\\n"; }
    }
}
EOF
$t->run;
my $P = $t->port(0);
my $live = '127.0.0.1:' . $t->port(1);

sub table {
	my ($code, $out) = $t->capture([ bin(), '-p', $t->dir . '/', '-c',
	    $t->conf_path, '-a', 'health' ]);
	my %row;
	for (split /\n/, $out) {
		my @f = split ' ';
		next unless @f >= 3 && $f[0] eq 'be';
		$row{ $f[1] } = { state => $f[2], fails => $f[3],
		    requests => $f[5], responses => $f[6] };
	}
	return ($code, \%row, $out);
}

my ($code, $row, $out);
ok(wait_until(sub {
	($code, $row, $out) = table();
	return $row->{"127.0.0.1:$dead"} &&
	    $row->{"127.0.0.1:$dead"}{state} eq 'down';
}, 10), 'the keeper finds the dead peer down') or diag($out);
is($code, 0, 'portico -a health exits 0');
is($row->{$live}{state}, 'up', 'the live peer is up');
is($row->{"127.0.0.1:$dead"}{requests}, 0,
    '... before any request was sent to the dead one');
like($t->error_log, qr/\[warn\] .*health check of 127\.0\.0\.1:$dead in upstream "be" failed: connect\(\) failed.*the server is down/,
    'the keeper logs the change of state');

# every request goes to the live peer, whichever worker takes it
my $ok = 0;
for (1 .. 20) {
	my (undef, undef, $body) = http_get($P, "/x$_");
	$ok++ if defined $body && $body eq "live\n";
}
is($ok, 20, 'twenty requests, all answered by the live peer');
($code, $row, $out) = table();
is($row->{$live}{requests}, 20, 'the table counts them, whichever worker sent them')
    or diag($out);
is($row->{$live}{responses}, 20, '... and their answers');
is($row->{"127.0.0.1:$dead"}{requests}, 0, 'none went to the dead peer');
unlike($t->error_log, qr/connect\(\) failed.*while connecting to upstream/,
    'no client request met the dead peer');

# a reload keeps the table
$t->signal('HUP');
ok(wait_until(sub { $t->error_log =~ /reconfigured/ }, 10), 'reloaded');
($code, $row, $out) = table();
is($row->{$live}{requests}, 20, 'the counts survive the reload') or diag($out);
is($row->{"127.0.0.1:$dead"}{state}, 'down', '... and so does the state');

# unknown command
my ($c2, $o2, $e2) = $t->capture([ bin(), '-p', $t->dir . '/', '-c',
    $t->conf_path, '-a', 'nonsense' ]);
is($c2, 1, 'an unknown admin command exits 1');
like($e2, qr/unknown admin command "nonsense"/, '... and says so');

$t->stop;
done_testing();

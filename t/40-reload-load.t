#!/usr/bin/perl
# Reloads under continuous keep-alive load: not one request may fail.
# A stopping worker must neither close a keep-alive connection under a
# request already on the wire, nor lose a connection waiting in the
# listen queue.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get wait_until);
use PorticoLoad;

my $RELOADS = 8;

my $t = PorticoTest->new;
my $conf = <<'EOF';
worker_processes 2;
events { worker_connections 256; }
http {
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "generation GEN\n"; }
    }
}
EOF
(my $c = $conf) =~ s/GEN/0/;
$t->write_conf($c);
$t->run;
my $port = $t->port(0);

# Three kinds of client: keep-alive back to back; keep-alive with a pause
# of 0-3 ms before each request, as real clients have, so that connections
# are idle when a worker is told to stop (closing those under a request on
# the wire is how nginx fails here); and a new connection per request,
# which has to survive the hand-over of the listen queue.
my $load = PorticoLoad->start($t, port => $port, conns => 32);
my $think = PorticoLoad->start($t, port => $port, conns => 64, think => 3);
my $churn = PorticoLoad->start($t, port => $port, conns => 8,
    close_each => 1);
ok($load->wait_requests(2000), 'keep-alive load is running');
ok($think->wait_requests(1000), 'keep-alive load with pauses is running');
ok($churn->wait_requests(500), 'connection churn is running');

for my $gen (1 .. $RELOADS) {
	my @old = $t->workers;
	($c = $conf) =~ s/GEN/$gen/;
	$t->write_conf($c);
	$t->signal('HUP');
	ok(wait_until(sub {
		my (undef, undef, $b) = http_get($port, '/');
		$b eq "generation $gen\n";
	}), "generation $gen serves");
	ok(wait_until(sub { !grep { kill 0, $_ } @old }),
	    "old workers of generation " . ($gen - 1) . " exited");
	ok($load->wait_requests(5000) && $think->wait_requests(2000) &&
	    $churn->wait_requests(500), "load continues after reload $gen");
}

for my $l ([keepalive => $load], [pauses => $think], [churn => $churn]) {
	my ($name, $r) = ($l->[0], $l->[1]->finish);
	diag("$name: " . PorticoLoad::report($r));
	cmp_ok($r->{requests}, '>', 4000, "$name load sent many requests");
	is($r->{failed}, 0, "$name: no request failed across $RELOADS reloads")
	    or diag(explain($r));
	ok($r->{bodies}{'generation 0 '} && $r->{bodies}{"generation $RELOADS "},
	    "$name load saw the first and the last generation");
}

$t->stop;
done_testing();

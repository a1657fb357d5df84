package PorticoLB;

# Helpers for the load-balancing tests (t/56-lb.t, t/57-lb-health.t,
# t/58-ups-keepalive.t):
#
#   my @b = ka_get($port, [ '/?k=1', '/?k=2' ]);    # bodies, in order
#   my @r = ka_get($port, '/', 500);                # 500 times '/'
#   my @s = ka_get($port, '/', 5, want_status => 1);
#   my %n = tally(@b);                              # body => count
#   reload_wait($t, $conf_text, $nworkers);         # HUP, new workers up
#
# ka_get sends the requests one after the other on a keep-alive
# connection (a new one when the answer closes it) and returns, per
# request, the body, or "ERR <status>" for a status other than 200 (with
# want_status => 1, "<status> <body>" for every answer).

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use PorticoTest qw(wait_until);

our @EXPORT_OK = qw(ka_get tally reload_wait hold_request);

sub connect_to {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 5) or die "connect $port: $!";
	binmode $s;
	$s->autoflush(1);
	return $s;
}

# one response from $s, reading into $$buf: (status, body, close?)
sub read_one {
	my ($s, $buf, $timeout) = @_;
	my $sel = IO::Select->new($s);
	my $end = time + $timeout;
	for (;;) {
		my $e = index($$buf, "\r\n\r\n");
		if ($e >= 0) {
			my $head = substr($$buf, 0, $e + 4);
			my ($st) = $head =~ /^HTTP\/1\.\d (\d{3})/;
			my $len = $head =~ /\r\nContent-Length:\s*(\d+)/i ? $1 : 0;
			my $close = $head =~ /\r\nConnection:\s*close/i ? 1 : 0;
			if (length($$buf) >= $e + 4 + $len) {
				substr($$buf, 0, $e + 4, '');
				my $body = substr($$buf, 0, $len, '');
				return ($st // 0, $body, $close);
			}
		}
		return (0, '', 1) if time > $end;
		next unless $sel->can_read(0.2);
		my $n = sysread($s, $$buf, 65536, length $$buf);
		return (0, '', 1) unless $n;
	}
}

sub ka_get {
	my ($port, $paths, @rest) = @_;
	my $n = ref $paths ? undef : shift @rest;
	my %o = @rest;
	my @paths = ref $paths ? @$paths : (($paths) x $n);
	local $SIG{PIPE} = 'IGNORE';
	my @out;
	my $s;
	my $buf = '';
	for my $p (@paths) {
		$s //= connect_to($port);
		my $req = "GET $p HTTP/1.1\r\nHost: localhost\r\n\r\n";
		syswrite($s, $req);
		my ($st, $body, $close) = read_one($s, \$buf, $o{timeout} // 10);
		if ($o{want_status}) {
			push @out, "$st $body";
		} else {
			push @out, $st == 200 ? $body : "ERR $st";
		}
		if ($close || $st == 0) {
			close $s;
			$s = undef;
			$buf = '';
		}
	}
	close $s if $s;
	return @out;
}

sub tally {
	my %n;
	$n{$_}++ for @_;
	return %n;
}

# rewrite the config, HUP, and wait until $n new workers run and none of
# the old ones is left
sub reload_wait {
	my ($t, $conf, $n) = @_;
	my %old = map { $_ => 1 } $t->workers;
	$t->write_conf($conf) if defined $conf;
	$t->signal('HUP');
	return wait_until(sub {
		my @w = $t->workers;
		return @w == ($n // 1) && !grep { $old{$_} } @w;
	}, 10);
}

# a request left open: returns the socket after the request went out
sub hold_request {
	my ($port, $path) = @_;
	my $s = connect_to($port);
	syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
	return $s;
}

1;

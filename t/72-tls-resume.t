#!/usr/bin/perl
# TLS session resumption: by ticket (TLS 1.3 and 1.2) on a connection
# accepted by another worker than the one that issued it, and across a
# reload (portico keeps its ticket keys in a shared zone; with
# ssl_session_ticket_key files nginx does too); by session ID through
# ssl_session_cache shared with the tickets off; not at all with neither;
# not after ssl_session_timeout; $ssl_session_reused; openssl s_client
# -reconnect and -sess_out / -sess_in.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx, but for the
# resumption across a reload without a ticket key file (portico-only).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use PorticoTLS qw(pki tls_get session s_client portico_only);

my $pki = pki();
my $t = PorticoTLS->target;

# the ticket key file: 80 bytes, as nginx takes them
{
	open(my $fh, '>', $t->dir . '/ticket.key') or die;
	binmode $fh;
	print $fh join('', map { chr(int(rand(256))) } 1 .. 80);
	close $fh;
	chmod 0644, $t->dir . '/ticket.key';
}

my $CERT = <<'EOF';
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "$pid|$ssl_session_reused|$ssl_protocol\n"; }
EOF
# reuseport on the addresses probed across workers: the kernel spreads
# new connections over the workers' own sockets, where one shared
# socket may hand an idle server's connections all to one worker
$t->write_conf(<<"EOF");
worker_processes 2;
events { worker_connections 64; }
http {
    # tickets (the default)
    server {
        listen 127.0.0.1:%%PORT_0%% ssl reuseport;
$CERT
    }
    # session IDs in the shared cache, no tickets
    server {
        listen 127.0.0.1:%%PORT_1%% ssl reuseport;
        ssl_session_tickets off;
        ssl_session_cache shared:SSL:1m;
        ssl_session_timeout 10m;
$CERT
    }
    # neither
    server {
        listen 127.0.0.1:%%PORT_2%% ssl;
        ssl_session_tickets off;
$CERT
    }
    # tickets from a key file
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
        ssl_session_ticket_key %%DIR%%/ticket.key;
$CERT
    }
    # short-lived sessions
    server {
        listen 127.0.0.1:%%PORT_4%% ssl;
        ssl_session_timeout 1s;
$CERT
    }
}
EOF
$t->run;
my @workers = $t->wait_workers(2);
is(scalar @workers, 2, 'two workers');

# one request: (pid, reused by $ssl_session_reused, reused as the client
# saw it, protocol)
sub probe {
	my ($port, $sess) = @_;
	my $r = tls_get($port, '/', session => $sess);
	my ($pid, $reused, $proto) = split /\|/, $r->{body} // '';
	chomp $proto if defined $proto;
	return { pid => $pid // 0, var => $reused // '', client => $r->{reused},
	    proto => $proto // '', error => $r->{error} };
}

# pairs of connections, each pair with a fresh client session: the first
# makes the session, the second resumes it; until the second lands on
# another worker than the first (bounded).  Returns the pairs seen.
sub across_workers {
	my ($port, $version) = @_;
	my @pairs;
	for (1 .. 60) {
		my $sess = session(version => $version);
		my $a = probe($port, $sess);
		my $b = probe($port, $sess);
		push @pairs, [ $a, $b ];
		last if $a->{pid} && $b->{pid} && $a->{pid} != $b->{pid};
	}
	return @pairs;
}

for my $c ([ 0, 'TLSv1_3', 'tickets, TLS 1.3' ], [ 0, 'TLSv1_2', 'tickets, TLS 1.2' ],
    [ 1, 'TLSv1_2', 'session cache, TLS 1.2' ]) {
	my ($n, $version, $name) = @$c;
	my @pairs = across_workers($t->port($n), $version);
	my ($a, $b) = @{ $pairs[-1] };
	(my $want = $version) =~ s/_/./;
	is($a->{proto}, $want, "$name: negotiated") or diag($a->{error});
	is($a->{var}, '.', "$name: a first connection is not resumed ('.')");
	isnt($a->{pid}, $b->{pid}, "$name: a second connection on another worker")
	    or diag(scalar(@pairs) . ' pairs, all on one worker');
	is($b->{var}, 'r', "$name: resumed there (\$ssl_session_reused 'r')");
	ok($b->{client}, "$name: ... as the client sees it");
	my @not = grep { $_->[1]{var} ne 'r' } @pairs;
	is(scalar @not, 0, "$name: every second connection resumed, on either worker");
}

# neither tickets nor a cache
{
	my $sess = session(version => 'TLSv1_2');
	my $a = probe($t->port(2), $sess);
	my $b = probe($t->port(2), $sess);
	is("$a->{var} $b->{var}", '. .', 'no tickets, no cache: nothing resumed (TLS 1.2)');
	$sess = session(version => 'TLSv1_3');
	$a = probe($t->port(2), $sess);
	$b = probe($t->port(2), $sess);
	is("$a->{var} $b->{var}", '. .', '... nor TLS 1.3');
}

# openssl s_client: -reconnect with session IDs, -sess_out/-sess_in with
# tickets
{
	my ($code, $out) = s_client($t->port(1), [ '-tls1_2', '-no_ticket',
	    '-reconnect' ]);
	my $reused = () = $out =~ /^Reused, TLSv1\.2/mg;
	is($reused, 5, 's_client -reconnect: the 5 reconnections reuse the session ID');
	like($out, qr/^\s*Session-ID: [0-9A-F]{64}$/m, '... a session ID');
	my $sf = $pki->dir . "/sess.$$";
	($code, $out) = s_client($t->port(0), [ '-tls1_3', '-sess_out', $sf ]);
	like($out, qr/^New, TLSv1\.3/m, 's_client -sess_out: a new session');
	($code, $out) = s_client($t->port(0), [ '-tls1_3', '-sess_in', $sf ]);
	like($out, qr/^Reused, TLSv1\.3/m, 's_client -sess_in: resumed');
	like($out, qr/\|r\|TLSv1\.3/, '... and $ssl_session_reused says so');
	unlink $sf;
}

# ssl_session_timeout 1s: gone after it
{
	my $sess = session(version => 'TLSv1_3');
	my $a = probe($t->port(4), $sess);
	my $b = probe($t->port(4), $sess);
	is("$a->{var} $b->{var}", '. r', 'ssl_session_timeout 1s: resumed at once');
	# waiting out a timeout is all there is to wait for
	sleep 2.2;
	my $c = probe($t->port(4), $sess);
	is($c->{var}, '.', '... not after 2 s');
}

# across a reload: the tickets of the old workers open on the new ones
{
	my $s0 = session(version => 'TLSv1_3');
	my $s2 = session(version => 'TLSv1_2');
	my $s3 = session(version => 'TLSv1_3');
	my $a0 = probe($t->port(0), $s0);
	my $a2 = probe($t->port(0), $s2);
	my $a3 = probe($t->port(3), $s3);
	is("$a0->{var}$a2->{var}$a3->{var}", '...', 'before the reload: new sessions');
	my %old = map { $_ => 1 } @workers;
	my @new = $t->reload(2);
	is(scalar @new, 2, 'HUP: two new workers, the old ones gone');
	my $b3 = probe($t->port(3), $s3);
	ok($b3->{pid} && !$old{ $b3->{pid} }, 'served by a new worker');
	is($b3->{var}, 'r', 'ssl_session_ticket_key file: resumed across the reload');
	SKIP: {
		portico_only(2, 'ticket keys kept across a reload without a key file');
		my $b0 = probe($t->port(0), $s0);
		is($b0->{var}, 'r', 'tickets, TLS 1.3: resumed across the reload');
		my $b2 = probe($t->port(0), $s2);
		is($b2->{var}, 'r', 'tickets, TLS 1.2: resumed across the reload');
	}
}

# across a binary upgrade (USR2, then WINCH and QUIT to the old master):
# the new master maps the same ticket zone
SKIP: {
	portico_only(5, 'ticket keys kept across a binary upgrade');
	my $s0 = session(version => 'TLSv1_3');
	my $s2 = session(version => 'TLSv1_2');
	my $a0 = probe($t->port(0), $s0);
	my $a2 = probe($t->port(0), $s2);
	is("$a0->{var}$a2->{var}", '..', 'before the upgrade: new sessions');
	my $old = $t->{pid};
	my $oldbin = $t->pid_file . '.oldbin';
	$t->signal('USR2', $old);
	my $new;
	ok(PorticoTest::wait_until(sub {
		$new = -e $oldbin && $t->master_pid;
		my @w = $new ? $t->workers($new) : ();
		$new && $new != $old && @w == 2;
	}, 10), 'USR2: a new master and its workers');
	$t->signal('WINCH', $old);
	$t->signal('QUIT', $old);
	ok($t->wait_exit($old), 'the old master exited');
	$t->{pid} = $new;
	$t->{child} = undef;
	my $b0 = probe($t->port(0), $s0);
	is($b0->{var}, 'r', 'tickets, TLS 1.3: resumed by the new binary');
	my $b2 = probe($t->port(0), $s2);
	is($b2->{var}, 'r', 'tickets, TLS 1.2: resumed by the new binary');
}

$t->stop;
done_testing();

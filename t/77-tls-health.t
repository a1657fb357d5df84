#!/usr/bin/perl
# Active health checks of an upstream that proxy_pass https:// goes to:
# the keeper checks it over TLS, with that location's proxy_ssl_*
# settings.  A check in plain HTTP would find the TLS peer broken.  The
# same for an upstream that only proxy_pass https://$variable reaches.
# Portico-only (health_check is portico's own).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(bin http_get wait_until);
use PorticoTLS qw(pki);

pki();
my $t = PorticoTLS->target;
PorticoTLS::portico_only(0, 'health_check') if $ENV{PORTICO_TEST_NGINX};
my $dead = PorticoTest::free_port();
$t->write_conf(<<"EOF");
worker_processes 1;
events {}
http {
    access_log off;
    upstream be {
        server 127.0.0.1:%%PORT_1%%;
        server 127.0.0.1:$dead;
        health_check interval=200ms uri=/health;
    }
    upstream be2 {
        server 127.0.0.1:%%PORT_2%%;
        health_check interval=200ms uri=/health;
    }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            proxy_pass https://be;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name default.test;
        }
        location /v/ {
            set \$b be2;
            proxy_pass https://\$b;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name default.test;
        }
    }
    # the TLS peer, in the same portico
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        listen 127.0.0.1:%%PORT_2%% ssl;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location = /health { return 200 "fine \$https\\n"; }
        location / { return 200 "tls peer\\n"; }
    }
}
EOF
$t->run;
my $live = '127.0.0.1:' . $t->port(1);

# the table: peer => [ state, last check ]
sub table {
	my ($ups, $tt) = @_;
	$ups //= 'be';
	$tt //= $t;
	my ($code, $out) = $tt->capture([ bin(), '-p', $tt->dir . '/', '-c',
	    $tt->conf_path, '-a', 'health' ]);
	my %row;
	for (split /\n/, $out) {
		my @f = split ' ';
		$row{ $f[1] } = [ $f[2], join(' ', @f[7 .. $#f]) ]
		    if @f >= 8 && $f[0] eq $ups;
	}
	return (\%row, $out);
}

my ($row, $out);
ok(wait_until(sub {
	($row, $out) = table();
	return ($row->{"127.0.0.1:$dead"}[0] // '') eq 'down';
}, 10), 'the dead peer is found down') or diag($out);
# wait until the peer of the group was checked twice at least: its
# "last check ... ago" goes down once
sub checked_twice {
	my ($ups, $peer, $tt) = @_;
	my $prev;
	return wait_until(sub {
		($row, $out) = table($ups, $tt);
		my ($ago) = ($row->{$peer}[1] // '') =~ /^([\d.]+)s ago/;
		return 0 unless defined $ago;
		my $again = defined $prev && $ago < $prev;
		$prev = $ago;
		return $again;
	}, 10);
}
ok(checked_twice('be', $live), 'the TLS peer was checked twice')
    or diag($out);
is($row->{$live}[0], 'up', 'the TLS peer is up: checked over TLS')
    or diag($out);
for (1 .. 4) {
	my ($st, undef, $body) = http_get($t->port(0), '/x');
	is("$st $body", "200 tls peer\n", "request $_ reaches the TLS peer");
}

# be2: no proxy_pass names it as written; the https:// one with a
# variable makes its checks TLS ones
my $live2 = '127.0.0.1:' . $t->port(2);
ok(checked_twice('be2', $live2), 'be2: the TLS peer was checked twice')
    or diag($out);
is($row->{$live2}[0], 'up', 'be2: up, checked over TLS') or diag($out);
my ($st, undef, $body) = http_get($t->port(0), '/v/x');
is("$st $body", "200 tls peer\n", 'proxy_pass https://$b reaches it');
$t->stop;

# a proxy_pass http:// with variables too: a group nothing names as
# written may be a plain one, and is checked in plain HTTP
my $t2 = PorticoTLS->target;
$t2->write_conf(<<"EOF");
worker_processes 1;
events {}
http {
    access_log off;
    upstream plain { server 127.0.0.1:%%PORT_1%%; health_check interval=200ms; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /s/ {
            set \$u plain;
            proxy_pass https://\$u;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
        }
        location /p/ { set \$u plain; proxy_pass http://\$u; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 200 "plain peer\\n"; }
    }
}
EOF
$t2->run;
my $plain = '127.0.0.1:' . $t2->port(1);
ok(checked_twice('plain', $plain, $t2), 'plain: the peer was checked twice')
    or diag($out);
is($row->{$plain}[0], 'up', 'plain: up, checked in plain HTTP') or diag($out);
($st, undef, $body) = http_get($t2->port(0), '/p/x');
is("$st $body", "200 plain peer\n", 'proxy_pass http://$u reaches it');
$t2->stop;
done_testing;

#!/usr/bin/perl
# Upstream TLS sessions are offered again only under the settings they
# were made with: OpenSSL checks nothing of a resumed session, so a
# session made where proxy_ssl_verify is off must not open the way to
# the same peer where it is on (with a CA that does not verify it), and
# one made under one proxy_ssl_name not under another.  Both locations
# share one upstream block, so the peer is the same.  Portico-only:
# nginx keeps one session per peer.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get);
use PorticoTLS qw(pki);

pki();
my $up = PorticoTLS::Upstream->new;
my $UP = $up->port;
my $t = PorticoTLS->target;
PorticoTLS::portico_only(0, 'sessions per TLS settings')
    if $ENV{PORTICO_TEST_NGINX};
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    upstream be { server 127.0.0.1:$UP; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /loose/ { proxy_pass https://be; }
        location /strict/ {
            proxy_pass https://be;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/clientca.crt;
            proxy_ssl_name backend.test;
        }
        location /good/ {
            proxy_pass https://be;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name backend.test;
        }
        location /other/ {
            proxy_pass https://be;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name other.test;
        }
    }
}
EOF
$t->allow_log(qr/upstream SSL certificate/);
$t->run;
my $P = $t->port(0);

sub via {
	my ($path) = @_;
	$up->clear;
	my ($st) = http_get($P, $path);
	my ($req) = $st == 200 ? $up->take(1) : ();
	return ($st, $req);
}

my ($st, $req) = via('/loose/a');
is($st, 200, 'no verification: served');
($st, $req) = via('/loose/b');
is($req && $req->{tls}{reused}, 1, '... and the next connection resumes');
($st) = via('/strict/a');
is($st, 502, 'the same peer, verified with a CA that does not sign it: '
    . '502, the session of /loose/ not offered');
($st, $req) = via('/good/a');
is($st, 200, 'verified by the right CA and name: served');
($st) = via('/other/a');
is($st, 502, 'the same settings but another proxy_ssl_name: 502, the '
    . 'session made for backend.test not offered');
($st, $req) = via('/good/b');
is($req && $req->{tls}{reused}, 1, 'the verified session resumes where it '
    . 'was made');
$t->stop;
done_testing;

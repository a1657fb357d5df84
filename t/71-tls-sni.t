#!/usr/bin/perl
# TLS SNI: the certificate of the server that server_name matches (exact,
# leading wildcard, regex), per listen address; the default_server's when
# the client sends no name or an unknown one; names compared without case
# ($ssl_server_name is the name as sent).
# The request is then routed by its Host, as nginx routes it.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTLS qw(pki tls_get);

my $pki = pki();
my $t = PorticoTLS->target;

$t->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        server_name a.example.test;
        ssl_certificate %%PKI%%/a.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "exact|$ssl_server_name|$host\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        server_name *.example.test;
        ssl_certificate %%PKI%%/wild.example.test-ec.chain.crt;
        ssl_certificate_key %%PKI%%/ec.key;
        location / { return 200 "wildcard|$ssl_server_name|$host\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        server_name ~^(?<sub>[a-z0-9]+)\.regex\.test$;
        ssl_certificate %%PKI%%/regex.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "regex|$ssl_server_name|$host|$sub\n"; }
    }
    # not first, but the default
    server {
        listen 127.0.0.1:%%PORT_0%% ssl default_server;
        server_name default.test;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "default|$ssl_server_name|$host\n"; }
    }
    # another address: its names do not count on the first
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        server_name b.example.test;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "other|$ssl_server_name|$host\n"; }
    }
}
EOF
$t->run;
my $P = $t->port(0);

my $DEF = 'CN=default.test,OU=rsa,O=Portico Test';
my @cases = (
	# SNI, Host, certificate subject, body
	[ 'a.example.test', undef, 'CN=a.example.test,OU=rsa,O=Portico Test',
	    "exact|a.example.test|a.example.test\n", 'exact name' ],
	[ 'A.Example.TEST', 'a.example.test', 'CN=a.example.test,OU=rsa,O=Portico Test',
	    "exact|A.Example.TEST|a.example.test\n",
	    'exact name in another case (nginx keeps $ssl_server_name as sent)' ],
	[ 'x.example.test', undef, 'CN=*.example.test,OU=ecdsa,O=Portico Test',
	    "wildcard|x.example.test|x.example.test\n", 'leading wildcard' ],
	[ 'b.example.test', undef, 'CN=*.example.test,OU=ecdsa,O=Portico Test',
	    "wildcard|b.example.test|b.example.test\n",
	    'a name of another listen address: not chosen there' ],
	[ 'r2d2.regex.test', undef, 'CN=regex.test,OU=rsa,O=Portico Test',
	    "regex|r2d2.regex.test|r2d2.regex.test|r2d2\n", 'regex' ],
	[ 'default.test', undef, $DEF, "default|default.test|default.test\n",
	    'the default server by name' ],
	[ undef, 'nosni.test', $DEF, "default||nosni.test\n",
	    'no SNI: the default_server' ],
	[ 'unknown.test', undef, $DEF, "default|unknown.test|unknown.test\n",
	    'an unknown name: the default_server' ],
	# the certificate is the SNI's, the server of the request the Host's
	[ 'a.example.test', 'z.example.test', 'CN=a.example.test,OU=rsa,O=Portico Test',
	    "wildcard|a.example.test|z.example.test\n",
	    'SNI picks the certificate, Host the server of the request' ],
);
for my $c (@cases) {
	my ($sni, $host, $subject, $body, $name) = @$c;
	my $r = tls_get($P, '/', sni => $sni, host => $host // $sni);
	is($r->{subject}, $subject, "$name: certificate") or diag($r->{error});
	is("$r->{status} $r->{body}", "200 $body", "$name: response");
}

# verification by name, against the root
my $r = tls_get($P, '/', sni => 'deep.example.test', verify => 'root.crt');
is($r->{status}, 200, 'the wildcard certificate verifies for deep.example.test')
    or diag($r->{error});
$r = tls_get($P, '/', sni => 'unknown.test', verify => 'root.crt');
like($r->{error} // '', qr/verify failed|hostname/i,
    'the default certificate does not verify for an unknown name');

$r = tls_get($t->port(1), '/', sni => 'b.example.test');
is($r->{subject}, 'CN=b.example.test,OU=rsa,O=Portico Test',
    'the other address: its own server');
$r = tls_get($t->port(1), '/', sni => 'a.example.test');
is($r->{subject}, 'CN=b.example.test,OU=rsa,O=Portico Test',
    '... its only server is its default, whatever the SNI');

$t->stop;
done_testing();

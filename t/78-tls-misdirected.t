#!/usr/bin/perl
# A server that verifies client certificates answers only requests that
# came over its own handshake: a certificate that server A's CA accepted
# must not reach server B on the same address, neither by SNI a with
# Host b (421, as nginx answers since 1.27.4) nor by a session made
# under A and resumed under B's name (421).  Servers that ask for no
# certificate keep serving any Host over any SNI, as before.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTLS qw(pki tls_get session);

pki();
my $t = PorticoTLS->target;
PorticoTLS::portico_only(0, '421 for a misdirected request')
    if $ENV{PORTICO_TEST_NGINX};
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        server_name a.example.test;
        ssl_certificate %%PKI%%/a.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/unknownca.crt;
        location / { return 200 "A \$ssl_client_verify\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        server_name b.example.test;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/clientca.crt;
        location / { return 200 "B \$ssl_client_verify\\n"; }
    }
    # no client certificates: any Host over any SNI
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        server_name c.example.test;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "C\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        server_name d.example.test;
        ssl_certificate %%PKI%%/wild.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        location / { return 200 "D \$ssl_session_reused\\n"; }
    }
}
EOF
$t->run;
my $p = $t->port(0);

my $r = tls_get($p, '/', sni => 'a.example.test', cert => 'stranger');
is("$r->{status} $r->{body}", "200 A SUCCESS\n",
    'A takes the certificate its CA issued');
$r = tls_get($p, '/', sni => 'b.example.test', cert => 'stranger');
is($r->{status}, 400, 'B refuses it (495)');
$r = tls_get($p, '/', sni => 'a.example.test', host => 'b.example.test',
    cert => 'stranger');
is($r->{status}, 421, 'SNI a, Host b: 421 Misdirected Request');
like($r->{body}, qr/<title>421 Misdirected Request<\/title>/, '... its page');
ok($t->wait_log(qr/client attempted to request the server name different from the one that was negotiated/, 5),
    '... logged as nginx logs it');
$r = tls_get($p, '/', sni => 'b.example.test', cert => 'client');
is("$r->{status} $r->{body}", "200 B SUCCESS\n",
    'B takes a certificate of its own CA');

for my $v ('TLSv1_3', 'TLSv1_2') {
	my $s = session(cert => 'stranger', version => $v);
	$r = tls_get($p, '/', sni => 'a.example.test', session => $s,
	    version => $v);
	is($r->{status}, 200, "$v: a session made under A");
	$r = tls_get($p, '/', sni => 'b.example.test', session => $s,
	    version => $v);
	ok($r->{status} == 421 || $r->{status} == 400,
	    "$v: ... taken to B is refused ($r->{status})");
	unlike($r->{body} // '', qr/^B /, "$v: ... B's answer not given");
}

# without client certificates nothing changes: Host chooses the server
my $q = $t->port(1);
$r = tls_get($q, '/', sni => 'c.example.test', host => 'd.example.test');
is("$r->{status} $r->{body}", "200 D .\n", 'SNI c, Host d: D answers');
my $s = session(version => 'TLSv1_3');
tls_get($q, '/', sni => 'c.example.test', session => $s, version => 'TLSv1_3');
$r = tls_get($q, '/', sni => 'd.example.test', session => $s,
    version => 'TLSv1_3');
is("$r->{status} $r->{body}", "200 D r\n",
    'a session made under C resumes under D');
$t->stop;
done_testing;

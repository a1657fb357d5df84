#!/usr/bin/perl
# proxy_pass https://: TLS stub upstreams.  Verification with
# proxy_ssl_trusted_certificate (the right CA: served; another CA, another
# name, a depth too small: 502 and an error-log line), proxy_ssl_server_name
# (SNI: none by default, $proxy_host or proxy_ssl_name when on),
# proxy_ssl_protocols and proxy_ssl_ciphers, mutual TLS
# (proxy_ssl_certificate to an upstream that requires one), session reuse
# on the next connection (proxy_ssl_session_reuse, on by default), and
# large bodies both ways over the upstream's TLS.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5 qw(md5_hex);
use PorticoTest qw(http_get);
use PorticoTLS qw(pki tls_get);

my $pki = pki();

# 3 MB, every 64 KB block numbered
my $BIG = join('', map { pack('N', $_) . ('u' x 65532) } 1 .. 48);
my $BIG_MD5 = md5_hex($BIG);
my %routes = (
	'/plain/big' => "HTTP/1.1 200 OK\r\nContent-Length: " . length($BIG)
	    . "\r\nConnection: close\r\n\r\n$BIG",
);
my $up = PorticoTLS::Upstream->new(routes => \%routes);
my $mtls = PorticoTLS::Upstream->new(tls => { client_ca => 'clientca.crt' });
my ($UP, $MT) = ($up->port, $mtls->port);

my $t = PorticoTLS->target;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    upstream backend.test { server 127.0.0.1:$UP; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        client_max_body_size 10m;
        proxy_ssl_session_reuse off;
        location /plain/ { proxy_pass https://127.0.0.1:$UP; }
        location /verify/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name backend.test;
        }
        location /wrongca/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/clientca.crt;
            proxy_ssl_name backend.test;
        }
        location /wrongname/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name other.test;
        }
        location /depth0/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 0;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
            proxy_ssl_name backend.test;
        }
        location /sni/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_server_name on;
            proxy_ssl_name backend.test;
        }
        location /sni-host/ {
            proxy_pass https://backend.test;
            proxy_ssl_server_name on;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %%PKI%%/root.crt;
        }
        location /tls12/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_protocols TLSv1.2;
            proxy_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        }
        location /tls13/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_protocols TLSv1.3;
        }
        location /mtls/ {
            proxy_pass https://127.0.0.1:$MT;
            proxy_ssl_certificate %%PKI%%/client.crt;
            proxy_ssl_certificate_key %%PKI%%/client.key;
        }
        location /nocert/ { proxy_pass https://127.0.0.1:$MT; }
        location /reuse/ {
            proxy_pass https://127.0.0.1:$UP;
            proxy_ssl_session_reuse on;
        }
    }
}
EOF
$t->run;
my $P = $t->port(0);

sub get { return http_get($P, @_) }

# one request, and what the stub saw of it
sub via {
	my ($path, $stub) = @_;
	$stub //= $up;
	$stub->clear;
	my ($st, $h, $b) = get($path);
	my ($req) = $st == 200 ? $stub->take(1) : ();
	return ($st, $req, $b);
}

my ($st, $req) = via('/plain/a');
is($st, 200, 'https upstream, proxy_ssl_verify off (the default): served');
is($req->{target}, '/plain/a', '... the request reached it');
is($req->{tls}{sni}, undef, '... without SNI (proxy_ssl_server_name off by default)');

($st, $req) = via('/verify/a');
is($st, 200, 'proxy_ssl_verify on, the root trusted, the name right: served');
($st) = via('/wrongca/a');
is($st, 502, 'another CA trusted: 502');
ok($t->wait_log(qr/upstream SSL certificate verify error: \(\d+:[^)]+\) while SSL handshaking to upstream/, 5),
    '... logged: upstream SSL certificate verify error');
($st) = via('/wrongname/a');
is($st, 502, 'proxy_ssl_name not in the certificate: 502');
ok($t->wait_log(qr/upstream SSL certificate does not match "other\.test" while SSL handshaking to upstream/, 5),
    '... logged: does not match');
($st) = via('/depth0/a');
is($st, 502, 'proxy_ssl_verify_depth 0, an intermediate in the chain: 502');

($st, $req) = via('/sni/a');
is($req->{tls}{sni}, 'backend.test', 'proxy_ssl_server_name on: SNI proxy_ssl_name');
($st, $req) = via('/sni-host/a');
is($st, 200, 'proxy_pass https://upstream-name, verified by that name');
is($req->{tls}{sni}, 'backend.test', '... SNI $proxy_host by default');
is($req->{h}{host}, 'backend.test', '... and the Host');

($st, $req) = via('/tls12/a');
is($req->{tls}{protocol}, 'TLSv1_2', 'proxy_ssl_protocols TLSv1.2');
is($req->{tls}{cipher}, 'ECDHE-RSA-AES128-GCM-SHA256', 'proxy_ssl_ciphers');
($st, $req) = via('/tls13/a');
is($req->{tls}{protocol}, 'TLSv1_3', 'proxy_ssl_protocols TLSv1.3');

# mutual TLS
($st, $req) = via('/mtls/a', $mtls);
is($st, 200, 'an upstream requiring a client certificate: served with proxy_ssl_certificate');
is($req->{tls}{client}, 'CN=client.test,OU=clients,O=Portico Test',
    '... the upstream saw that certificate');
$mtls->clear;
($st) = get('/nocert/a');
is($st, 502, 'without proxy_ssl_certificate: 502');
ok(PorticoTest::wait_until(sub { $mtls->failures }, 5),
    '... the upstream refused the handshake');

# session reuse: keep-alive is off, each request is a new connection
my @reused;
for my $n (1 .. 3) {
	($st, $req) = via('/reuse/a');
	push @reused, $req ? $req->{tls}{reused} : 'none';
}
is("@reused", '0 1 1', 'proxy_ssl_session_reuse on: the next connections resume');
@reused = ();
for my $n (1 .. 2) {
	($st, $req) = via('/plain/a');
	push @reused, $req ? $req->{tls}{reused} : 'none';
}
is("@reused", '0 0', 'proxy_ssl_session_reuse off: none does');

# large bodies over the upstream's TLS
($st, my $h, my $b) = get('/plain/big');
is($st, 200, 'a 3 MB response from a TLS upstream');
is(length $b, length $BIG, '... all of it');
is(md5_hex($b), $BIG_MD5, '... byte for byte');
my $body = join('', map { sprintf('%07d', $_) x 64 } 1 .. 4096);	# 1.8 MB
$up->clear;
my $raw = PorticoTest::http($P, "POST /plain/post HTTP/1.1\r\nHost: x\r\n"
    . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body",
    timeout => 10);
($st) = PorticoTest::parse_response($raw);
is($st, 200, 'a 1.8 MB request body to a TLS upstream');
($req) = $up->take(1);
is($req->{body_len}, length $body, '... all of it');
is($req->{body_md5}, md5_hex($body), '... byte for byte');

$t->stop;
$up->stop;
$mtls->stop;
done_testing();

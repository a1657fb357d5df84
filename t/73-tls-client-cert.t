#!/usr/bin/perl
# TLS client certificates: ssl_verify_client on (no certificate: 400 "No
# required SSL certificate was sent"; one from an unknown CA: 400 "The SSL
# certificate error"; a good one: served, with $ssl_client_verify SUCCESS
# and the $ssl_client_* variables), optional (none: NONE), optional_no_ca
# (an unknown CA: FAILED:reason), ssl_crl (revoked: 400), the CA names sent
# (ssl_client_certificate) apart from the ones only trusted
# (ssl_trusted_certificate), error_page 495 / 496, and the client's DN and
# certificate passed to the upstream with proxy_set_header.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(slurp);
use PorticoUpstream;
use PorticoTLS qw(pki tls_get s_client openssl_bin);

my $pki = pki();
my $up = PorticoUpstream->new;
my $UP = $up->port;
my $t = PorticoTLS->target;

my $VARS = 'return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn|$ssl_client_serial|$ssl_client_fingerprint\n";';
my $CERT = <<'EOF';
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
EOF
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
$CERT
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/clientca.crt;
        location / { $VARS }
        location /up/ {
            proxy_set_header X-Client-DN \$ssl_client_s_dn;
            proxy_set_header X-Client-Verify \$ssl_client_verify;
            proxy_set_header X-Client-Cert \$ssl_client_escaped_cert;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
$CERT
        ssl_verify_client optional;
        ssl_client_certificate %%PKI%%/clientca.crt;
        location / { $VARS }
    }
    server {
        listen 127.0.0.1:%%PORT_2%% ssl;
$CERT
        ssl_verify_client optional_no_ca;
        ssl_client_certificate %%PKI%%/clientca.crt;
        location / { $VARS }
    }
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
$CERT
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/clientca.crt;
        ssl_crl %%PKI%%/crl.pem;
        location / { $VARS }
    }
    # trusted, not named to the client
    server {
        listen 127.0.0.1:%%PORT_4%% ssl;
$CERT
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/unknownca.crt;
        ssl_trusted_certificate %%PKI%%/clientca.crt;
        location / { $VARS }
    }
    # the errors caught by error_page
    server {
        listen 127.0.0.1:%%PORT_5%% ssl;
$CERT
        ssl_verify_client on;
        ssl_client_certificate %%PKI%%/clientca.crt;
        error_page 495 = \@certerr;
        error_page 496 /nocert.txt;
        location \@certerr { return 403 "bad certificate: \$ssl_client_verify\\n"; }
        location = /nocert.txt { return 200 "send a certificate\\n"; }
        location / { $VARS }
    }
    server {
        listen 127.0.0.1:%%PORT_6%% ssl;
$CERT
        ssl_verify_client optional_no_ca;
        ssl_client_certificate %%PKI%%/clientca.crt;
        ssl_crl %%PKI%%/crl.pem;
        location / { $VARS }
    }
}
EOF
$t->run;

my $OSSL = openssl_bin();
sub fingerprint {
	my ($f) = @_;
	my $fp = `$OSSL x509 -noout -fingerprint -sha1 -in $f`;
	$fp =~ s/^.*=//;
	$fp =~ s/[:\s]//g;
	return lc $fp;
}
my $DN = 'CN=client.test,OU=clients,O=Portico Test';
my $IDN = 'CN=Portico Test Client CA,O=Portico Test';
my $GOOD = "SUCCESS|$DN|$IDN|" . $pki->serial('client') . '|'
    . fingerprint($pki->path('client.crt')) . "\n";

for my $v ('TLSv1_3', 'TLSv1_2') {
	my $r = tls_get($t->port(0), '/', version => $v, cert => 'client');
	is("$r->{status} $r->{body}", "200 $GOOD",
	    "on, $v, a good certificate: served with the \$ssl_client_* variables")
	    or diag($r->{error});
	$r = tls_get($t->port(0), '/', version => $v);
	is($r->{status}, 400, "on, $v, no certificate: 400") or diag($r->{error});
	like($r->{body}, qr{<title>400 No required SSL certificate was sent</title>},
	    '... the 496 page\'s title');
	like($r->{body}, qr{<center>No required SSL certificate was sent</center>},
	    '... and its text');
	$r = tls_get($t->port(0), '/', version => $v, cert => 'stranger');
	is($r->{status}, 400, "on, $v, a certificate from an unknown CA: 400")
	    or diag($r->{error});
	like($r->{body}, qr{<title>400 The SSL certificate error</title>},
	    '... the 495 page\'s title');
	like($r->{body}, qr{<center>The SSL certificate error</center>},
	    '... and its text');
}
ok($t->wait_log(qr/client sent no required SSL certificate while reading client request headers/, 5),
    'no certificate: logged as nginx logs it');
ok($t->wait_log(qr/client SSL certificate verify error: \(\d+:[^)]+\) while reading client request headers/, 5),
    'a bad certificate: logged with the verify error');

# the CA names sent in the certificate request
my ($code, $out) = s_client($t->port(0), [ '-tls1_3' ]);
like($out, qr/Acceptable client certificate CA names\n(?:.*\n)*?O = Portico Test, CN = Portico Test Client CA/,
    'the CA of ssl_client_certificate is named to the client');
($code, $out) = s_client($t->port(4), [ '-tls1_3' ]);
like($out, qr/Acceptable client certificate CA names\n(?:.*\n)*?O = Portico Test, CN = Portico Test Unknown CA/,
    'ssl_trusted_certificate apart: the ssl_client_certificate CA named');
unlike($out, qr/CN = Portico Test Client CA/, '... and not the only trusted one');
my $r = tls_get($t->port(4), '/', cert => 'client');
is("$r->{status} $r->{body}", "200 $GOOD", '... which still verifies the client');
$r = tls_get($t->port(4), '/', cert => 'stranger');
is($r->{status}, 200, '... and the named CA is trusted too');

# optional
$r = tls_get($t->port(1), '/');
is("$r->{status} $r->{body}", "200 NONE||||\n", 'optional, no certificate: NONE');
$r = tls_get($t->port(1), '/', cert => 'client');
is("$r->{status} $r->{body}", "200 $GOOD", 'optional, a good certificate: SUCCESS');
$r = tls_get($t->port(1), '/', cert => 'stranger');
is($r->{status}, 400, 'optional, a certificate from an unknown CA: still 400');

# optional_no_ca
$r = tls_get($t->port(2), '/', cert => 'stranger');
is($r->{status}, 200, 'optional_no_ca, an unknown CA: served');
like($r->{body}, qr/^FAILED:unable to verify the first certificate\|CN=stranger\.test,OU=clients,O=Portico Test\|CN=Portico Test Unknown CA,O=Portico Test\|/,
    '... $ssl_client_verify FAILED:reason, the DNs still there');
$r = tls_get($t->port(2), '/', cert => 'client');
is("$r->{status} $r->{body}", "200 $GOOD", 'optional_no_ca, a good certificate: SUCCESS');
$r = tls_get($t->port(2), '/');
is("$r->{status} $r->{body}", "200 NONE||||\n", 'optional_no_ca, none: NONE');

# ssl_crl
for my $v ('TLSv1_3', 'TLSv1_2') {
	$r = tls_get($t->port(3), '/', version => $v, cert => 'revoked');
	is($r->{status}, 400, "ssl_crl, $v: a revoked certificate: 400");
	like($r->{body}, qr{<center>The SSL certificate error</center>}, '... the 495 page');
}
$r = tls_get($t->port(3), '/', cert => 'client');
is("$r->{status} $r->{body}", "200 $GOOD", 'ssl_crl: a good certificate still served');
$r = tls_get($t->port(6), '/', cert => 'revoked');
is($r->{status}, 400,
    'optional_no_ca and ssl_crl: revoked is not an error optional_no_ca lets by: 400');
$r = tls_get($t->port(6), '/', cert => 'stranger');
like("$r->{status} $r->{body}", qr/^200 FAILED:/, '... an unknown CA is');

# error_page 495 / 496
$r = tls_get($t->port(5), '/');
is("$r->{status} $r->{body}", "400 send a certificate\n",
    'error_page 496 URI: its body, and the status the client sees is 400, as nginx');
$r = tls_get($t->port(5), '/', cert => 'stranger');
like("$r->{status} $r->{body}", qr/^403 bad certificate: FAILED:/,
    'error_page 495 = @named: the named location\'s answer');
$r = tls_get($t->port(5), '/', cert => 'client');
is("$r->{status} $r->{body}", "200 $GOOD", 'and a good certificate is served');

# to the upstream
$r = tls_get($t->port(0), '/up/x', cert => 'client');
is($r->{status}, 200, 'proxied with a client certificate');
my ($req) = $up->take(1);
is($req->{h}{'x-client-dn'}, $DN, 'the upstream gets $ssl_client_s_dn');
is($req->{h}{'x-client-verify'}, 'SUCCESS', '... $ssl_client_verify');
my $pem = $req->{h}{'x-client-cert'} // '';
$pem =~ s/%([0-9A-Fa-f]{2})/chr(hex $1)/ge;
is($pem, slurp($pki->path('client.crt')),
    '... and $ssl_client_escaped_cert, the PEM URL-encoded');

$t->stop;
$up->stop;
done_testing();

#!/usr/bin/perl
# TLS, the basics: the chain delivered and verified against the root only,
# an RSA and an ECDSA certificate on one server (the client's ciphers or
# signature algorithms pick one), an encrypted key and its password file,
# protocols (TLS 1.1 refused by default, 1.2 and 1.3 accepted, a 1.3-only
# server refuses 1.2), ciphers and ssl_prefer_server_ciphers, the ECDH
# curve, ALPN, the $ssl_* / $scheme / $https variables, plain HTTP sent to
# the TLS port (the 497 page, and error_page 497), the http -> https
# redirect on a plain listener beside the TLS one, a stapled OCSP response,
# and a handshake that stalls (client_header_timeout by default, and
# portico's ssl_handshake_timeout).
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx: all but the
# portico-only cases are nginx's behaviour.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use PorticoTest qw(http parse_response wait_until);
use PorticoTLS qw(pki tls_get tls_request tls_connect s_client nginx_mode
    portico_only);

my $pki = pki();
my $t = PorticoTLS->target;
my $srv = $t->server_name;

$t->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 64; }
http {
    # RSA and ECDSA, the intermediate after each leaf; a plain listener too
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        listen 127.0.0.1:%%PORT_1%%;
        server_name default.test;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_certificate %%PKI%%/default.test-ec.chain.crt;
        ssl_certificate_key %%PKI%%/ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /vars {
            return 200 "$ssl_protocol|$ssl_cipher|$ssl_server_name|$scheme|$https|$server_port\n";
        }
        location /secure/ {
            if ($scheme = http) {
                return 301 https://$host$request_uri;
            }
            return 200 "secure $scheme $https\n";
        }
        location / { return 200 "default $scheme\n"; }
    }
    # the defaults; an encrypted key; error_page 497
    server {
        listen 127.0.0.1:%%PORT_2%% ssl;
        server_name a.example.test;
        ssl_certificate %%PKI%%/a.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.enc.key;
        ssl_password_file %%PKI%%/password.txt;
        error_page 497 https://$host:$server_port$request_uri;
        location / { return 200 "defaults $ssl_protocol\n"; }
    }
    # TLS 1.3 only
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_protocols TLSv1.3;
        location / { return 200 "only $ssl_protocol\n"; }
    }
    # TLS 1.2, two ciphers, the server's order; one curve
    server {
        listen 127.0.0.1:%%PORT_4%% ssl;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
        ssl_prefer_server_ciphers on;
        ssl_ecdh_curve prime256v1;
        location / { return 200 "$ssl_cipher\n"; }
    }
    # the handshake is bounded by client_header_timeout by default
    server {
        listen 127.0.0.1:%%PORT_5%% ssl;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        client_header_timeout 1s;
        location / { return 200 "served\n"; }
    }
    # ... or by ssl_handshake_timeout
    server {
        listen 127.0.0.1:%%PORT_6%% ssl;
        ssl_certificate %%PKI%%/b.example.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        client_header_timeout 30s;
        ssl_handshake_timeout 1s;  # portico-only
        location / { return 200 "served\n"; }
    }
    # a stapled OCSP response from a file
    server {
        listen 127.0.0.1:%%PORT_7%% ssl;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        ssl_stapling on;
        ssl_stapling_file %%PKI%%/ocsp-default.der;
        location / { return 200 "stapled\n"; }
    }
}
EOF
$t->run;
my ($P, $PLAIN) = ($t->port(0), $t->port(1));

# --- the chain: the intermediate comes with the leaf, and the root alone
# verifies it
my $r = tls_get($P, '/', sni => 'default.test', verify => 'root.crt',
    version => 'TLSv1_2', ciphers => 'ECDHE-RSA-AES128-GCM-SHA256');
is($r->{status}, 200, 'verified against the root alone')
    or diag($r->{error});
is_deeply($r->{chain}, [ 'CN=default.test,OU=rsa,O=Portico Test',
    'CN=Portico Test Intermediate CA,O=Portico Test' ],
    'the chain sent: the leaf, then the intermediate');
is($r->{issuer}, 'CN=Portico Test Intermediate CA,O=Portico Test',
    'the leaf is the intermediate\'s');
$r = tls_get($P, '/', sni => 'default.test', verify => 'clientca.crt');
ok(!$r->{status} && $r->{error} =~ /certificate verify failed/,
    'a client trusting another CA does not verify it')
    or diag($r->{error} // $r->{status});

# --- RSA and ECDSA on one server
$r = tls_get($P, '/', version => 'TLSv1_2',
    ciphers => 'ECDHE-ECDSA-AES128-GCM-SHA256');
is($r->{subject}, 'CN=default.test,OU=ecdsa,O=Portico Test',
    'TLS 1.2, an ECDSA cipher: the ECDSA certificate');
is($r->{serial}, $pki->serial('default.test-ec'), '... its serial');
$r = tls_get($P, '/', version => 'TLSv1_2',
    ciphers => 'ECDHE-RSA-AES128-GCM-SHA256');
is($r->{subject}, 'CN=default.test,OU=rsa,O=Portico Test',
    'TLS 1.2, an RSA cipher: the RSA certificate');
for my $c ([ 'ECDSA+SHA256', 'ecdsa', qr/Peer signature type: ECDSA/ ],
    [ 'rsa_pss_rsae_sha256', 'rsa', qr/Peer signature type: RSA-PSS/ ]) {
	my ($code, $out) = s_client($P, [ '-tls1_3', '-sigalgs', $c->[0] ]);
	like($out, qr/^subject=.*OU = $c->[1], CN = default\.test$/m,
	    "TLS 1.3, signature algorithms $c->[0]: the $c->[1] certificate");
	like($out, $c->[2], "... signed with it");
}

# --- the encrypted key (the password on the file's second line) and the
# default protocols
$r = tls_get($t->port(2), '/', sni => 'a.example.test');
is($r->{status}, 200, 'the encrypted key is loaded (ssl_password_file)')
    or diag($r->{error});
is($r->{subject}, 'CN=a.example.test,OU=rsa,O=Portico Test', '... its certificate');
SKIP: {
	# nginx 1.22's default was "TLSv1 TLSv1.1 TLSv1.2"; 1.23.4 made it
	# "TLSv1.2 TLSv1.3", which portico follows
	skip 'nginx < 1.23.4 does not enable TLS 1.3 by default', 2
	    if nginx_mode() && `$PorticoTest::Nginx::NGINX -v 2>&1` =~ m{/1\.(\d+)\.(\d+)}
	    && ($1 < 23 || $1 == 23 && $2 < 4);
	is($r->{protocol}, 'TLSv1_3', 'TLS 1.3 negotiated by default');
	$r = tls_get($t->port(2), '/', version => 'TLSv1_3');
	is("$r->{status} $r->{body}", "200 defaults TLSv1.3\n", 'a TLS 1.3-only client served by default');
}
$r = tls_get($t->port(2), '/', version => 'TLSv1_2');
is("$r->{status} $r->{body}", "200 defaults TLSv1.2\n", 'TLS 1.2 by default');
# the client allows TLS 1.1 (security level 0): the server refuses it
$r = tls_get($t->port(2), '/', version => 'TLSv1_1',
    ciphers => 'DEFAULT@SECLEVEL=0');
ok(!$r->{status} && $r->{error} =~ /alert/,
    'a TLS 1.1 client is refused by default, with an alert')
    or diag($r->{error} // $r->{body});
my ($code, $out) = s_client($t->port(2), [ '-tls1_1', '-cipher',
    'DEFAULT@SECLEVEL=0' ]);
unlike($out, qr/^\s*Protocol\s*: TLSv1\.1\n(?s:.*)^\s*Cipher\s*: [A-Z]/m,
    'openssl s_client -tls1_1: no session');
like($out, qr/alert/, '... an alert from the server');

# TLS 1.3 only
$r = tls_get($t->port(3), '/', version => 'TLSv1_3');
is("$r->{status} $r->{body}", "200 only TLSv1.3\n", 'ssl_protocols TLSv1.3: 1.3 accepted');
$r = tls_get($t->port(3), '/', version => 'TLSv1_2');
ok(!$r->{status} && $r->{error}, 'ssl_protocols TLSv1.3: a TLS 1.2 client refused')
    or diag($r->{body});

# --- ciphers
$r = tls_get($t->port(4), '/',
    ciphers => 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256');
is($r->{body}, "ECDHE-RSA-AES128-GCM-SHA256\n",
    'ssl_prefer_server_ciphers on: the server\'s first cipher, not the client\'s');
is($r->{cipher}, 'ECDHE-RSA-AES128-GCM-SHA256', '... as the client sees it');
$r = tls_get($t->port(4), '/', ciphers => 'ECDHE-RSA-CHACHA20-POLY1305');
ok(!$r->{status} && $r->{error}, 'a cipher outside ssl_ciphers: refused')
    or diag($r->{body});
($code, $out) = s_client($t->port(4), []);
like($out, qr/Server Temp Key: ECDH, prime256v1/, 'ssl_ecdh_curve prime256v1 used');
($code, $out) = s_client($t->port(4), [ '-groups', 'X25519' ]);
unlike($out, qr/Cipher is ECDHE/, 'a client without that curve: no handshake');

# --- ALPN
$r = tls_get($P, '/', alpn => [ 'h2', 'http/1.1' ]);
is($r->{alpn}, 'http/1.1', 'ALPN: http/1.1 chosen among h2, http/1.1');
is($r->{status}, 200, '... and served');
$r = tls_get($P, '/', alpn => [ 'h2' ]);
ok(!$r->{status} && $r->{error} =~ /no application protocol/,
    'ALPN with only h2: refused with no_application_protocol (as nginx)')
    or diag($r->{error} // $r->{body});
$r = tls_get($P, '/');
is($r->{alpn}, undef, 'no ALPN offered: none chosen, still served');

# --- variables
$r = tls_get($P, '/vars', sni => 'default.test', version => 'TLSv1_3',
    suites => 'TLS_AES_128_GCM_SHA256');
is($r->{body}, "TLSv1.3|TLS_AES_128_GCM_SHA256|default.test|https|on|$P\n",
    '$ssl_protocol $ssl_cipher $ssl_server_name $scheme $https over TLS 1.3');
$r = tls_get($P, '/vars', version => 'TLSv1_2',
    ciphers => 'ECDHE-ECDSA-CHACHA20-POLY1305', host => 'default.test');
is($r->{body}, "TLSv1.2|ECDHE-ECDSA-CHACHA20-POLY1305||https|on|$P\n",
    '... over TLS 1.2 without SNI: $ssl_server_name empty');
my ($st, $h, $b) = PorticoTest::http_get($PLAIN, '/vars', Host => 'default.test');
is("$st $b", "200 |||http||$PLAIN\n",
    'the same server on its plain listener: $scheme http, $https and $ssl_* empty');

# --- http -> https in one server with both listeners
($st, $h) = PorticoTest::http_get($PLAIN, '/secure/x?a=1', Host => 'default.test');
is($st, 301, 'plain listener: 301');
is($h->{location}, 'https://default.test/secure/x?a=1',
    '... to https://$host$request_uri');
$r = tls_get($P, '/secure/x?a=1', host => 'default.test');
is("$r->{status} $r->{body}", "200 secure https on\n", 'the TLS listener serves it');

# --- plain HTTP to the TLS port
my $raw = http($P, "GET /vars HTTP/1.1\r\nHost: default.test\r\n\r\n");
($st, $h, $b) = parse_response($raw);
is($st, 400, 'plain HTTP on the TLS port: 400');
like($b, qr{<title>400 The plain HTTP request was sent to HTTPS port</title>},
    '... the 497 page\'s title');
like($b, qr{<center>The plain HTTP request was sent to HTTPS port</center>},
    '... and its text');
is($h->{connection}, 'close', '... and the connection closed');
ok($t->wait_log(qr/client sent plain HTTP request to HTTPS port/, 5),
    'logged as nginx logs it');
$raw = http($t->port(2), "GET /p?q=1 HTTP/1.1\r\nHost: a.example.test\r\n\r\n");
($st, $h) = parse_response($raw);
is($st, 302, 'error_page 497 URL: a redirect');
is($h->{location}, 'https://a.example.test:' . $t->port(2) . '/p?q=1',
    '... to the https URL');
# the same port still does TLS afterwards
$r = tls_get($t->port(2), '/');
is($r->{status}, 200, 'TLS on that port after plain requests');

# --- OCSP stapling
($code, $out) = s_client($t->port(7), [ '-status' ]);
like($out, qr/OCSP Response Status: successful/, 's_client -status: a stapled response');
like($out, qr/Cert Status: good/, '... "good"');
like($out, qr/Serial Number: \Q${\ $pki->serial('default.test')}\E/,
    '... for the leaf\'s serial');
($code, $out) = s_client($P, [ '-status' ]);
like($out, qr/OCSP response: no response sent/, 'no stapling: no response');

# --- a handshake that stalls
# a ClientHello's first bytes: a handshake record announcing 512 bytes
my $half = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ("\x11" x 20);

# opens a silent connection and a half-ClientHello one to $port, serves a
# TLS client meanwhile, and returns when each of the two was closed
sub stall {
	my ($port) = @_;
	my $start = time;
	my $silent = PorticoTest::connect_port($port);
	my $halfc = PorticoTest::connect_port($port);
	syswrite($halfc, $half);
	my $served = tls_get($port, '/');
	my @secs;
	for my $s ($silent, $halfc) {
		my (undef, $closed) = PorticoTest::read_sock($s, 6 - (time - $start));
		push @secs, $closed ? time - $start : undef;
		close $s;
	}
	return ($served, @secs);
}

my ($served, @secs) = stall($t->port(5));
is("$served->{status} $served->{body}", "200 served\n",
    'a client is served while two others stall');
ok(defined $secs[0] && $secs[0] > 0.8 && $secs[0] < 3,
    'client_header_timeout 1s: a silent connection closed after it')
    or diag("closed after " . ($secs[0] // 'never'));
ok(defined $secs[1] && $secs[1] > 0.8 && $secs[1] < 3,
    '... and a half ClientHello too')
    or diag("closed after " . ($secs[1] // 'never'));
SKIP: {
	portico_only(4, 'ssl_handshake_timeout');
	($served, @secs) = stall($t->port(6));
	is("$served->{status} $served->{body}", "200 served\n",
	    'ssl_handshake_timeout: a client served meanwhile');
	ok(defined $secs[0] && $secs[0] > 0.8 && $secs[0] < 3,
	    'ssl_handshake_timeout 1s (client_header_timeout 30s): a silent connection closed')
	    or diag("closed after " . ($secs[0] // 'never'));
	ok(defined $secs[1] && $secs[1] > 0.8 && $secs[1] < 3,
	    '... a half ClientHello too')
	    or diag("closed after " . ($secs[1] // 'never'));
	# once the handshake is done, client_header_timeout rules
	my ($s) = tls_connect($t->port(6));
	# non-blocking: a blocking read would wait for client_header_timeout
	$s->blocking(0) if $s;
	my (undef, $closed) = $s ? PorticoTLS::tls_read($s, 2) : (undef, 1);
	ok($s && !$closed, 'after the handshake, not closed at ssl_handshake_timeout');
	close $s if $s;
}

$t->stop;
done_testing();

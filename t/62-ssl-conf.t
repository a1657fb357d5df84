#!/usr/bin/perl
# TLS configuration as "portico -t" and a reload see it: certificates made
# here with the openssl command (RSA, ECDSA P-256, an encrypted key and its
# password file, a chain through an intermediate CA), good files accepted,
# bad ones rejected with "FILE:LINE: message" and OpenSSL's reasons, and a
# reload with a bad key keeping the running generation.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get bin slurp);
*scenario = \&PorticoTest::scenario;

my $openssl = (grep { -x "$_/openssl" } split /:/, $ENV{PATH} // '')[0];
plan skip_all => 'the openssl command is not installed' unless $openssl;

my $t = PorticoTest->new;
my $dir = $t->dir;

sub ossl {
	my @args = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', "$dir/openssl.out");
		open(STDERR, '>&', \*STDOUT);
		exec("$openssl/openssl", @args) or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	die "openssl @args failed:\n" . slurp("$dir/openssl.out") if $?;
}

sub put {
	my ($name, $data) = @_;
	open(my $fh, '>', "$dir/$name") or die "$name: $!";
	binmode $fh;
	print $fh $data;
	close $fh;
}

# the files, all in the test's directory (the config's folder)
ossl(qw(req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost),
    '-keyout', "$dir/rsa.key", '-out', "$dir/rsa.crt");
ossl(qw(req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2
    -subj /CN=localhost), '-keyout', "$dir/ec.key", '-out', "$dir/ec.crt");
ossl(qw(genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc
    -pass pass:s3cret), '-out', "$dir/enc.key");
ossl(qw(req -x509 -days 2 -subj /CN=enc -passin pass:s3cret), '-key',
    "$dir/enc.key", '-out', "$dir/enc.crt");
put('pw', "not this one\ns3cret\n");
put('badpw', "wrong\n");
# a CA, an intermediate, and a leaf whose file holds leaf + intermediate
put('ca.ext', "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n");
ossl(qw(req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2
    -subj /CN=root), '-addext', 'basicConstraints=critical,CA:TRUE',
    '-keyout', "$dir/ca.key", '-out', "$dir/ca.crt");
ossl(qw(req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
    -subj /CN=intermediate), '-keyout', "$dir/int.key", '-out', "$dir/int.csr");
ossl(qw(x509 -req -days 2 -set_serial 2), '-in', "$dir/int.csr", '-CA',
    "$dir/ca.crt", '-CAkey', "$dir/ca.key", '-extfile', "$dir/ca.ext",
    '-out', "$dir/int.crt");
ossl(qw(req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
    -subj /CN=leaf), '-keyout', "$dir/leaf.key", '-out', "$dir/leaf.csr");
ossl(qw(x509 -req -days 2 -set_serial 3), '-in', "$dir/leaf.csr", '-CA',
    "$dir/int.crt", '-CAkey', "$dir/int.key", '-out', "$dir/leaf.crt");
put('chain.crt', slurp("$dir/leaf.crt") . slurp("$dir/int.crt"));
put('t48', 'k' x 48);
put('t80', 'k' x 80);
put('t50', 'k' x 50);

# portico -t on a config of one TLS server with $body inside
my $n = 0;
sub conf_with {
	my ($body, $extra) = @_;
	my $name = 'c' . ++$n . '.conf';
	$t->write_file($name, "events {}\nhttp {\n" . ($extra // '')
	    . "    server {\n        listen 127.0.0.1:%%PORT_0%% ssl;\n"
	    . join('', map { "        $_\n" } split /\n/, $body)
	    . "    }\n}\n");
	return "$dir/$name";
}

sub conf_test {
	my ($path) = @_;
	my ($code, $out, $err) = $t->capture([bin(), '-p', "$dir/", '-c',
	    $path, '-t']);
	return ($code, $err);
}

my $RSA = "ssl_certificate rsa.crt;\nssl_certificate_key rsa.key;";

my @good = (
	['one RSA pair', $RSA],
	['RSA and ECDSA pairs', "$RSA\nssl_certificate ec.crt;\nssl_certificate_key ec.key;"],
	['an encrypted key, its passphrase on the second line',
	    "ssl_certificate enc.crt;\nssl_certificate_key enc.key;\nssl_password_file pw;"],
	['a chain file', "ssl_certificate chain.crt;\nssl_certificate_key leaf.key;"],
	['absolute paths', "ssl_certificate $dir/rsa.crt;\nssl_certificate_key $dir/rsa.key;"],
	['every server setting', join("\n", $RSA,
	    'ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_ciphers HIGH:!aNULL;',
	    'ssl_prefer_server_ciphers on;', 'ssl_ecdh_curve X25519:prime256v1;',
	    'ssl_session_cache builtin:1000 shared:SSL:1m;',
	    'ssl_session_timeout 10m;', 'ssl_session_tickets on;',
	    'ssl_session_ticket_key t80;', 'ssl_session_ticket_key t48;',
	    'ssl_verify_client optional;', 'ssl_client_certificate ca.crt;',
	    'ssl_trusted_certificate int.crt;', 'ssl_verify_depth 2;',
	    'ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;',
	    'ssl_handshake_timeout 5s;')],
	['proxy_pass https:// with every proxy_ssl_ setting', join("\n", $RSA,
	    'location / {', '    proxy_pass https://127.0.0.1:%%PORT_1%%/;',
	    '    proxy_ssl_server_name on;', '    proxy_ssl_name $host;',
	    '    proxy_ssl_verify on;', '    proxy_ssl_verify_depth 2;',
	    '    proxy_ssl_trusted_certificate ca.crt;',
	    '    proxy_ssl_protocols TLSv1.3;', '    proxy_ssl_ciphers DEFAULT;',
	    '    proxy_ssl_certificate enc.crt;',
	    '    proxy_ssl_certificate_key enc.key;',
	    '    proxy_ssl_password_file pw;',
	    '    proxy_ssl_conf_command Options -SessionTicket;',
	    '    proxy_ssl_session_reuse off;', '}')],
);
for my $c (@good) {
	my ($name, $body) = @$c;
	my ($code, $err) = conf_test(conf_with($body));
	is($code, 0, "good: $name") or diag($err);
}

# name, body, line of the error (the server block starts on line 3), the
# message's start
my @bad = (
	['listen ssl without a certificate', '', 3,
	    'no "ssl_certificate" is defined for the "listen ... ssl" directive'],
	['missing certificate file',
	    "ssl_certificate nope.crt;\nssl_certificate_key rsa.key;", 5,
	    qq{cannot load certificate "$dir/nope.crt" (SSL: error:}],
	['key not matching its certificate',
	    "ssl_certificate rsa.crt;\nssl_certificate_key leaf.key;", 5,
	    qq{certificate key "$dir/leaf.key" does not match certificate "$dir/rsa.crt" (SSL: }],
	['an encrypted key without a password file',
	    "ssl_certificate enc.crt;\nssl_certificate_key enc.key;", 5,
	    qq{cannot load certificate key "$dir/enc.key": PEM_read_bio_PrivateKey() failed (SSL: }],
	['the wrong password',
	    "ssl_certificate enc.crt;\nssl_certificate_key enc.key;\nssl_password_file badpw;", 5,
	    qq{cannot load certificate key "$dir/enc.key": PEM_read_bio_PrivateKey() failed (SSL: }],
	['a bad ssl_protocols word', "$RSA\nssl_protocols TLSv1.2 TLSv2;", 7,
	    'invalid value "TLSv2" in "ssl_protocols" directive'],
	['an unknown ssl_conf_command', "$RSA\nssl_conf_command NoSuchCommand 1;", 7,
	    'SSL_CONF_cmd("NoSuchCommand", "1") failed (SSL: error:0A000182:SSL routines::unknown cmd name:cmd=NoSuchCommand)'],
	['a ticket key of 50 bytes', "$RSA\nssl_session_ticket_key t50;", 7,
	    qq{"$dir/t50" must be 48 or 80 bytes}],
	['bad ciphers', "$RSA\nssl_ciphers NOTHING;", 7,
	    'SSL_CTX_set_cipher_list("NOTHING") failed (SSL: '],
	['verify without a CA', "$RSA\nssl_verify_client on;", 7,
	    'no ssl_client_certificate for ssl_verify_client'],
	['proxy_pass https:// and a missing client certificate',
	    "$RSA\nlocation / {\n    proxy_pass https://127.0.0.1;\n"
	    . "    proxy_ssl_certificate nope.crt;\n"
	    . "    proxy_ssl_certificate_key rsa.key;\n}", 9,
	    qq{cannot load certificate "$dir/nope.crt"}],
);
for my $c (@bad) {
	my ($name, $body, $line, $msg) = @$c;
	my $path = conf_with($body);
	my ($code, $err) = conf_test($path);
	is($code, 1, "bad: $name: exit 1");
	my @emerg = grep { /^portico: \[emerg\] / } split /\n/, $err;
	ok(@emerg == 1 && index($emerg[0], "portico: [emerg] $path:$line: $msg") == 0,
	    "bad: $name: file:line: message") or diag($err);
	like($err, qr/\nportico: configuration file \Q$path\E test failed\n\z/,
	    "bad: $name: test failed");
}

# an error of an http-level value names its own line
{
	my $path = conf_with($RSA, "    ssl_ciphers NOTHING;\n");
	my ($code, $err) = conf_test($path);
	like($err, qr/^portico: \[emerg\] \Q$path\E:3: SSL_CTX_set_cipher_list\("NOTHING"\) failed/m,
	    'an inherited value: the error at its http-level line') or diag($err);
}

# a reload with a key that does not go with its certificate: the running
# generation goes on serving
scenario('reload with a bad key', sub {
	my ($s) = @_;
	my $sdir = $s->dir;
	$s->write_file($_, slurp("$dir/$_")) for qw(rsa.crt rsa.key leaf.key);
	my $conf = sub {
		my ($version, $key) = @_;
		return <<"EOF";
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "$version\\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%% ssl;
        ssl_certificate rsa.crt;
        ssl_certificate_key $key;
    }
}
EOF
	};
	my $path = $s->write_conf($conf->('v1', 'rsa.key'));
	$s->run;
	my $m = $s->master_pid;
	my @w = $s->wait_ready(1);
	my ($st, undef, $body) = http_get($s->port(0), '/');
	is($body, "v1\n", 'reload: v1 served');
	$s->write_conf($conf->('v2', 'leaf.key'));
	$s->signal('HUP');
	ok($s->wait_log(qr/reload failed/, 10), 'bad key: the reload fails');
	my $log = $s->error_log;
	like($log, qr/\[emerg\] $m#0: \Q$path\E:11: certificate key "\Q$sdir\E\/leaf\.key" does not match certificate "\Q$sdir\E\/rsa\.crt"/,
	    'bad key: the error with file:line');
	($st, undef, $body) = http_get($s->port(0), '/');
	is($body, "v1\n", 'bad key: the old generation still serves');
	is_deeply([$s->workers], [@w], 'bad key: the same workers');
	# and a good one is taken
	$s->write_conf($conf->('v3', 'rsa.key'));
	$s->signal('HUP');
	ok(PorticoTest::wait_until(sub {
		my (undef, undef, $b) = http_get($s->port(0), '/');
		return ($b // '') eq "v3\n";
	}, 10), 'good key: the reload is taken');
	$s->stop;
});

done_testing;

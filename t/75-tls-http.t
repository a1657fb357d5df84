#!/usr/bin/perl
# HTTP over TLS, a smoke test of each feature: keep-alive with many
# requests on one connection, pipelining, a large static file (sendfile on,
# which TLS cannot use), a large proxied response, a large request body,
# and X-Forwarded-Proto $scheme as the upstream sees it.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5 qw(md5_hex);
use File::Path qw(make_path);
use PorticoTest;
*split_responses = \&PorticoTest::split_responses;
use PorticoUpstream;
use PorticoTLS qw(pki tls_get tls_request tls_connect);

my $pki = pki();

# 4 MB for the upstream to send, every 64 KB block numbered
my $UPBIG = join('', map { pack('N', $_) . ('p' x 65532) } 1 .. 64);
my $up = PorticoUpstream->new(routes => {
	'/up/big' => "HTTP/1.1 200 OK\r\nContent-Length: " . length($UPBIG)
	    . "\r\nConnection: close\r\n\r\n$UPBIG",
});
my $UP = $up->port;

my $t = PorticoTLS->target;
my $dir = $t->dir;
make_path("$dir/html", { mode => 0755 });
my $FILE = join('', map { pack('N', $_) . chr($_ % 251) x 4092 } 1 .. 800); # 3.2 MB
{
	open(my $fh, '>', "$dir/html/big.bin") or die;
	binmode $fh;
	print $fh $FILE;
	close $fh;
	chmod 0644, "$dir/html/big.bin";
}

$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        ssl_certificate %%PKI%%/default.test.chain.crt;
        ssl_certificate_key %%PKI%%/rsa.key;
        keepalive_requests 1000;
        client_max_body_size 10m;
        root %%DIR%%/html;
        sendfile on;
        location /r/ { return 200 "\$request_uri \$ssl_protocol\\n"; }
        location /up/ {
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
EOF
$t->run;
my $P = $t->port(0);

sub req { "GET $_[0] HTTP/1.1\r\nHost: localhost\r\n" . ($_[1] // '') . "\r\n" }

# keep-alive: 100 requests, one after the other, on one connection
{
	my ($s, $err) = tls_connect($P);
	my $ok = 0;
	for my $n (1 .. 100) {
		last unless $s && PorticoTLS::tls_write($s, req("/r/$n"));
		my ($buf) = PorticoTLS::tls_read($s, 5, sub {
			scalar(split_responses($_[0])) >= 1 });
		my ($r) = split_responses($buf);
		last unless $r && $r->{status} == 200 && $r->{body} =~ m{^/r/$n TLSv1\.[23]\n$};
		$ok++;
	}
	is($ok, 100, 'keep-alive: 100 requests answered on one TLS connection')
	    or diag($err);
	close $s if $s;
}

# pipelining: 20 requests in one write
{
	my $reqs = join('', map { req("/r/p$_") } 1 .. 19) . req('/r/p20', "Connection: close\r\n");
	my $r = tls_request($P, $reqs, want => 20);
	my @bodies = map { $_->{body} =~ s/ .*//sr } @{ $r->{resp} };
	is_deeply(\@bodies, [ map { "/r/p$_" } 1 .. 20 ],
	    'pipelining: 20 responses, in order');
	is($r->{resp}[-1]{h}{connection}, 'close', '... the last one closes');
}

# a large static file
{
	my $r = tls_get($P, '/big.bin', timeout => 20);
	is($r->{status}, 200, 'a 3.2 MB static file over TLS');
	is($r->{h}{'content-length'}, length $FILE, '... its length');
	is(length $r->{body}, length $FILE, '... all of it');
	ok(md5_hex($r->{body}) eq md5_hex($FILE), '... byte for byte');
	# a range of it, across a record boundary
	$r = tls_get($P, '/big.bin', headers => [ [ Range => 'bytes=16380-16390' ] ]);
	is($r->{status}, 206, 'a range of it');
	is($r->{body}, substr($FILE, 16380, 11), '... the right bytes');
}

# proxied: a large response, a large request body, X-Forwarded-Proto
{
	my $r = tls_get($P, '/up/big', timeout => 20);
	is($r->{status}, 200, 'a 4 MB proxied response over TLS');
	is(length $r->{body}, length $UPBIG, '... all of it');
	ok(md5_hex($r->{body}) eq md5_hex($UPBIG), '... byte for byte');
	$up->clear;

	my $body = join('', map { sprintf('%08d', $_) x 32 } 1 .. 8192);	# 2 MB
	$r = tls_request($P, "POST /up/post HTTP/1.1\r\nHost: localhost\r\n"
	    . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body",
	    timeout => 20);
	is($r->{status}, 200, 'a 2 MB request body over TLS, proxied');
	my ($req) = $up->take(1);
	is($req->{body_len}, length $body, '... the upstream got all of it');
	is($req->{body_md5}, md5_hex($body), '... byte for byte');
	is($req->{h}{'x-forwarded-proto'}, 'https', 'X-Forwarded-Proto $scheme: https');

	# chunked
	my $chunked = join('', map { sprintf("%x\r\n", length $_) . "$_\r\n" }
	    map { 'c' x (1000 + $_) } 1 .. 300) . "0\r\n\r\n";
	$r = tls_request($P, "POST /up/chunked HTTP/1.1\r\nHost: localhost\r\n"
	    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n$chunked",
	    timeout => 20);
	is($r->{status}, 200, 'a chunked request body over TLS, proxied');
	($req) = $up->take(1);
	is($req->{body_len}, 300 * 1000 + 300 * 301 / 2, '... all of it');
}

$t->stop;
$up->stop;
done_testing();

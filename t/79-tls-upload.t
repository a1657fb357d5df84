#!/usr/bin/perl
# A 16 MB request body to a TLS upstream that is slow to start reading,
# streamed (proxy_request_buffering off) and read whole first (on).  The
# upstream's TLS 1.3 session tickets make its socket readable before it
# answers anything: that must not be taken for an early answer (the body
# would stop, and the request end in 504).  Also, a streamed body goes in
# client_body_buffer_size pieces, not in the 1k of the head's buffer.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use IO::Socket::SSL;
use POSIX ();
use Time::HiRes qw(sleep time);
use PorticoTLS qw(pki);

my $pki = pki();
my $N = 16 * 1024 * 1024;
my $lsn = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
    LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
my $UP = $lsn->sockport;
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	# the upstream: waits before it reads (portico's socket fills up),
	# then reads a record at a time, a little slowly, and says how much
	# of the body it got
	$SIG{ALRM} = sub { POSIX::_exit(0) };
	alarm 120;
	while (my $raw = $lsn->accept) {
		my $s = IO::Socket::SSL->start_SSL($raw, SSL_server => 1,
		    SSL_cert_file => $pki->path('backend.test.chain.crt'),
		    SSL_key_file => $pki->path('rsa.key')) or next;
		my $buf = '';
		while (index($buf, "\r\n\r\n") < 0) {
			sysread($s, $buf, 65536, length $buf) or last;
		}
		my ($len) = $buf =~ /content-length:\s*(\d+)/i;
		$buf = substr($buf, index($buf, "\r\n\r\n") + 4);
		sleep 1.5;
		my $t0 = time;
		while (length($buf) < ($len // 0) && time - $t0 < 20) {
			sysread($s, $buf, 262144, length $buf) or last;
			sleep 0.001;
		}
		my $body = "got " . length($buf) . " of " . ($len // '?') . "\n";
		print $s "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
		    . "\r\nConnection: close\r\n\r\n$body";
		$s->close;
	}
	POSIX::_exit(0);
}

my $t = PorticoTLS->target;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        client_max_body_size 100m;
        proxy_read_timeout 10s;
        location /off/ {
            proxy_request_buffering off;
            proxy_pass https://127.0.0.1:$UP;
        }
        location /on/ { proxy_pass https://127.0.0.1:$UP; }
    }
}
EOF
$t->run;
$SIG{PIPE} = 'IGNORE';
for my $loc ('/off/', '/on/') {
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port(0)) or die "connect: $!";
	print $c "POST ${loc}x HTTP/1.1\r\nHost: x\r\nContent-Length: $N\r\n"
	    . "Connection: close\r\n\r\n";
	my $chunk = 'z' x 65536;
	my $sent = 0;
	while ($sent < $N) {
		my $n = syswrite($c, $chunk) or last;
		$sent += $n;
	}
	is($sent, $N, "$loc: the client sent the whole body");
	my ($resp) = PorticoTest::read_sock($c, 30);
	my ($st) = $resp =~ m{^HTTP/1.1 (\d+)};
	is($st, 200, "$loc: 200, not 504");
	like($resp, qr/\r\n\r\ngot $N of $N\n\z/,
	    "$loc: the whole body reached the TLS upstream");
}
kill 'TERM', $pid;
waitpid($pid, 0);
$t->stop;
done_testing;

#!/usr/bin/perl
# proxy_pass to a unix domain socket: "http://unix:/path:/uri" and
# "http://unix:/path", with variables after the socket or the socket in a
# variable, what the upstream receives, $upstream_addr, and a socket
# nobody listens on (502).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h);
use PorticoTest qw(http_get wait_until);

my $t = PorticoTest->new;
my $sock = $t->dir . '/app.sock';
my $none = $t->dir . '/none.sock';

# the upstream: answers with the request line and Host it got
my $srv = IO::Socket::UNIX->new(Local => $sock, Listen => 16)
    or die "$sock: $!";
chmod 0777, $sock;	# the workers may run as nobody
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	alarm 60;
	while (my $c = $srv->accept) {
		my $buf = '';
		sysread($c, $buf, 65536, length $buf) while $buf !~ /\r\n\r\n/;
		my ($line) = $buf =~ /^(.*?)\r\n/;
		my ($host) = $buf =~ /^Host: (.*?)\r$/mi;
		my $body = "$line|" . ($host // '-') . "\n";
		print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
		    . "\r\nConnection: close\r\n\r\n$body";
		close $c;
	}
	POSIX::_exit(0);
}
close $srv;

$t->write_conf(<<"EOF2");
worker_processes 1;
events {}
http {
    log_format up '\$request_uri \$upstream_addr \$upstream_status';
    access_log logs/up.log up;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { proxy_pass http://unix:$sock:/base/; }
        location /plain/ { proxy_pass http://unix:$sock; }
        location /none/ { proxy_pass http://unix:$none; }
        # with variables: after the socket's ':', or the socket in one
        location /var/ { proxy_pass http://unix:$sock:\$request_uri; }
        location /dyn/ {
            set \$u unix:$sock;
            proxy_pass http://\$u;
        }
        location /dynu/ {
            set \$u unix:$sock;
            proxy_pass http://\$u:/fixed\$is_args\$args;
        }
    }
}
EOF2
$t->run;
my $P = $t->port(0);

my ($st, undef, $body) = http_get($P, '/x?a=1');
is($st, 200, 'to a unix socket with a URI: 200');
is($body, "GET /base/x?a=1 HTTP/1.0|localhost\n",
    '... the prefix replaced, Host: localhost');
($st, undef, $body) = http_get($P, '/plain/y');
is($body, "GET /plain/y HTTP/1.0|localhost\n", 'without a URI: passed as is');
($st, undef, $body) = http_get($P, '/var/v?q=1');
is($body, "GET /var/v?q=1 HTTP/1.0|localhost\n",
    'a URI in variables after the socket: sent as made');
($st, undef, $body) = http_get($P, '/dyn/w?q=2');
is($body, "GET /dyn/w?q=2 HTTP/1.0|localhost\n",
    'the socket in a variable: found, the target passed, Host: localhost');
($st, undef, $body) = http_get($P, '/dynu/w?q=3');
is($body, "GET /fixed?q=3 HTTP/1.0|localhost\n",
    '... with a URI after it');
($st) = http_get($P, '/none/z');
is($st, 502, 'a socket nobody listens on: 502');
$t->allow_log(qr/connect\(\) failed/);
like($t->error_log, qr/\[error\] .*connect\(\) failed .*upstream: "http:\/\/unix:\Q$none\E\/none\/z"/,
    '... logged with the socket named');
ok(wait_until(sub { PorticoTest::slurp($t->dir . '/logs/up.log') =~ /none/ }),
    'the access log is written');
my $log = PorticoTest::slurp($t->dir . '/logs/up.log');
like($log, qr{^/x\?a=1 unix:\Q$sock\E 200$}m, '$upstream_addr names the socket');
like($log, qr{^/none/z unix:\Q$none\E 502$}m, '... and the failed one');

$t->stop;
kill 'TERM', $pid;
waitpid($pid, 0);
done_testing();

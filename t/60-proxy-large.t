#!/usr/bin/perl
# Bodies over 100 MB through the proxy, both ways, byte-exact, while the
# worker's memory stays bounded: a request body streamed to the upstream
# (proxy_request_buffering off) and read whole first (on, through a
# temporary file), an answer relayed to a fast client, and one to a
# client that stops reading (spooled to a temporary file).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use PorticoTest qw(slurp wait_until);

my $SIZE = 120 * 1024 * 1024;
my $BLOCK = join('', map { chr(($_ * 7 + 13) % 256) } 0 .. 65535);

# the md5 of $SIZE bytes of $BLOCK repeated
my $want = do {
	my $d = Digest::MD5->new;
	$d->add($BLOCK) for 1 .. $SIZE / length $BLOCK;
	$d->hexdigest;
};

# the upstream: /up reads a body and answers its length and md5, /down
# sends $SIZE bytes
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
my $UP = $srv->sockport;
my $upid = fork // die "fork: $!";
if ($upid == 0) {
	alarm 120;
	$SIG{PIPE} = 'IGNORE';
	while (my $c = $srv->accept) {
		my $buf = '';
		sysread($c, $buf, 65536, length $buf) or last
		    while $buf !~ /\r\n\r\n/;
		my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
		if ($head =~ /^\S+ \/up/) {
			my ($len) = $head =~ /^Content-Length: (\d+)/mi;
			my $d = Digest::MD5->new;
			my $n = length $rest;
			$d->add($rest);
			while ($n < $len) {
				my $r = sysread($c, my $chunk, 1 << 20) or last;
				$n += $r;
				$d->add($chunk);
			}
			my $body = "$n " . $d->hexdigest;
			print $c "HTTP/1.1 200 OK\r\nContent-Length: "
			    . length($body) . "\r\nConnection: close\r\n\r\n$body";
		} else {
			print $c "HTTP/1.1 200 OK\r\nContent-Length: $SIZE\r\n"
			    . "Connection: close\r\n\r\n";
			for (1 .. $SIZE / length $BLOCK) {
				print $c $BLOCK or last;
			}
		}
		close $c;
	}
	POSIX::_exit(0);
}
close $srv;

my $t = PorticoTest->new;
$t->write_conf(<<"EOF");
worker_processes 1;
events {}
http {
    access_log off;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            proxy_pass http://127.0.0.1:$UP;
        }
        location /up/stream {
            proxy_request_buffering off;
            proxy_pass http://127.0.0.1:$UP;
        }
        location /down/nobuf {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:$UP;
        }
    }
}
EOF
$t->run;
my $P = $t->port(0);
my ($w) = $t->wait_ready(1);

sub rss_kb {
	return slurp("/proc/$w/status") =~ /^VmRSS:\s+(\d+)/m ? $1 : 0;
}

# the most the worker's memory may grow while a body goes through
my $BOUND = 16 * 1024;

sub upload {
	my ($path) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$P") or die $!;
	my $before = rss_kb();
	my $peak = 0;
	print $s "PUT $path HTTP/1.1\r\nHost: h\r\nContent-Length: $SIZE\r\n"
	    . "Connection: close\r\n\r\n";
	for my $i (1 .. $SIZE / length $BLOCK) {
		print $s $BLOCK or last;
		$peak = rss_kb() if $i % 256 == 0 && rss_kb() > $peak;
	}
	my $resp = '';
	1 while sysread($s, $resp, 65536, length $resp);
	return ($resp, $peak - $before);
}

for my $case ([ '/up/stream', 'streamed' ], [ '/up/whole', 'read whole first' ]) {
	my ($resp, $grew) = upload($case->[0]);
	like($resp, qr/\r\n\r\n\Q$SIZE $want\E\z/,
	    "a 120 MB request body, $case->[1]: the upstream gets every byte");
	cmp_ok($grew, '<', $BOUND, "... the worker's memory grew by $grew kB");
}

# the size of the worker's open temporary file under proxy_temp
sub spooled {
	for my $fd (glob("/proc/$w/fd/*")) {
		my $l = readlink($fd) // next;
		return -s $fd // 0 if $l =~ m{/proxy_temp/};
	}
	return 0;
}

sub download {
	my ($path, $stall) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$P") or die $!;
	my $before = rss_kb();
	print $s "GET $path HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	my $buf = '';
	sysread($s, $buf, 65536, length $buf) while $buf !~ /\r\n\r\n/;
	my $peak = rss_kb();
	if ($stall) {
		# the client stops reading while the upstream sends on: the
		# answer goes to the worker's temporary file, until all of it
		# is there but what the sockets' buffers took (loopback TCP
		# grows them up to tcp_rmem's and tcp_wmem's maximum: 6 and
		# 4 MB by default, 32 and 4 MB on some machines)
		ok(wait_until(sub { spooled() >= $SIZE - (40 << 20) }, 30),
		    'a client that stops reading: the answer is spooled to a '
		    . 'temporary file') or diag('spooled: ' . spooled());
		$peak = rss_kb() if rss_kb() > $peak;
	}
	my $body = substr($buf, index($buf, "\r\n\r\n") + 4);
	my $d = Digest::MD5->new;
	$d->add($body);
	my $n = length $body;
	my $i = 0;
	while ((my $r = sysread($s, my $chunk, 1 << 20)) > 0) {
		$n += $r;
		$d->add($chunk);
		$peak = rss_kb() if ++$i % 16 == 0 && rss_kb() > $peak;
	}
	return ($n, $d->hexdigest, $peak - $before);
}

for my $case ([ '/down/nobuf', 0, 'proxy_buffering off' ],
    [ '/down/buf', 0, 'proxy_buffering on' ],
    [ '/down/stalled', 1, 'to a client that stops reading a while' ]) {
	my ($n, $md5, $grew) = download($case->[0], $case->[1]);
	is($n, $SIZE, "a 120 MB answer, $case->[2]: every byte");
	is($md5, $want, '... byte-exact');
	cmp_ok($grew, '<', $BOUND, "... the worker's memory grew by $grew kB");
}

$t->stop;
kill 'TERM', $upid;
waitpid($upid, 0);
done_testing();

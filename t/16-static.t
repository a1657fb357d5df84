#!/usr/bin/perl
# Static files: root, alias, index, try_files, directory redirects,
# MIME types, validators and conditional requests, byte ranges, expires
# and add_header, traversal attempts, large bodies with sendfile on and
# off, send_timeout, a file that shrinks while it is sent, keep-alive and
# pipelining after file responses; a part of it compared with nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Cwd qw(realpath);
use Digest::MD5 qw(md5_hex);
use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(strftime mkfifo);
use Time::HiRes qw(time sleep);
use PorticoTest qw(http http_get parse_response wait_until slurp);

my $t = PorticoTest->new;
my $dir = $t->dir;

# the tree; world-readable, since workers run as nobody under root
sub put {
	my ($path, $data) = @_;
	my $full = "$dir/$path";
	(my $d = $full) =~ s{/[^/]*$}{};
	make_path($d, { mode => 0755 });
	open(my $fh, '>', $full) or die "$full: $!";
	binmode $fh;
	print $fh $data;
	close $fh;
	chmod 0644, $full;
	return $full;
}

put('html/index.html', "root index\n");
put('html/dir/index.html', "dir index\n");
put('html/multi/second.html', "second index\n");
put('html/multi/third.html', "third index\n");
put('html/style.css', "body {}\n");
put('html/UPPER.HTML', "upper\n");
put('html/blob.unknownext', "blob\n");
put('html/noext', "noext\n");
put('html/digits.txt', "0123456789");
put('html/empty.txt', '');
put('html/try/exists.html', "tried\n");
put('html/try/fallback.html', "fallback\n");
put('html/try/sub/index.html', "try sub\n");
put('html/secret0', "unreadable\n");
chmod 0000, "$dir/html/secret0";
put('data/a.txt', "alias a\n");
put('data/sub/b.txt', "alias b\n");
put('secret', "TOP SECRET\n");
put('outside.txt', "outside via symlink\n");
make_path("$dir/html/noidx", { mode => 0755 });
symlink("$dir/outside.txt", "$dir/html/link.txt") or die "symlink: $!";
mkfifo("$dir/html/fifo", 0644) or die "mkfifo: $!";
chmod 0755, "$dir/html", "$dir/data";

# a 50 MB body with every megabyte different, so that a lost or doubled
# chunk changes the checksum
my $big = "$dir/html/big.bin";
{
	open(my $fh, '>', $big) or die;
	binmode $fh;
	my $block = join('', map { chr(($_ * 7 + 13) % 256) } 0 .. 65535);
	for my $mb (0 .. 49) {
		for my $k (0 .. 15) {
			print $fh pack('NN', $mb, $k), substr($block, 8);
		}
	}
	close $fh;
	chmod 0644, $big;
}
my $big_md5 = do {
	open(my $fh, '<', $big) or die;
	binmode $fh;
	Digest::MD5->new->addfile($fh)->hexdigest;
};
is(-s $big, 50 * 1024 * 1024, 'the large file is 50 MB');

my $conf = <<'EOF';
worker_processes 1;
events { worker_connections 64; }
http {
    types { text/html html; text/css css; text/plain txt; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name localhost;
        root %%DIR%%/html;
        add_header X-Srv srv;
        location /al/ { alias %%DIR%%/data/; }
        location /img { alias %%DIR%%/data/; }
        location ~ ^/re/(.+)$ { alias %%DIR%%/data/$1; }
        location /sf/ { alias %%DIR%%/html/; sendfile on; tcp_nopush on; }
        location /multi/ { index nope.html second.html third.html; }
        location /try/ { try_files $uri $uri/ /try/fallback.html; }
        location /tryc/ { try_files $uri =410; }
        location /tryn/ { try_files $uri @named; }
        location @named { return 200 "named:$uri\n"; }
        location /vars/ {
            return 200 "$document_root|$realpath_root|$request_filename\n";
        }
        location /exp/ {
            alias %%DIR%%/html/;
            expires 1h;
            add_header X-Static yes;
            add_header X-Always a always;
            add_header X-Empty "";
        }
        location /epoch/ { alias %%DIR%%/html/; expires epoch; }
        location /max/ { alias %%DIR%%/html/; expires max; }
        location /mod/ { alias %%DIR%%/html/; expires modified 2h; }
        location /neg/ { alias %%DIR%%/html/; expires -1; }
        location /noetag/ { alias %%DIR%%/html/; etag off; }
        location /before/ { alias %%DIR%%/html/; if_modified_since before; }
        location /imsoff/ { alias %%DIR%%/html/; if_modified_since off; }
        location /rel/ { alias %%DIR%%/html/; absolute_redirect off; }
        location /noport/ { alias %%DIR%%/html/; port_in_redirect off; }
        location /slow/ { alias %%DIR%%/html/; send_timeout 1500ms; }
        location /slowsf/ { alias %%DIR%%/html/; send_timeout 1500ms; sendfile on; }
        location = /ret { add_header X-Ret r; return 200 "ret\n"; }
        location = /retrel { return 302 /dir/?$args; }
        location = /retrel2 { absolute_redirect off; return 307 /x; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        server_name named.test;
        server_name_in_redirect on;
        root %%DIR%%/html;
    }
}
EOF
$t->write_conf($conf);
$t->run;
my $p = $t->port(0);

sub get {
	my ($path, %hdr) = @_;
	return http_get($p, $path, %hdr);
}

sub http_date { strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($_[0])) }

my @st = stat("$dir/html/index.html");
my $etag = sprintf('"%x-%x"', $st[9], $st[7]);
my $lm = http_date($st[9]);

# root and index
my ($s, $h, $b) = get('/');
is($s, 200, '/ is the index');
is($b, "root index\n", 'index.html body');
is($h->{'content-type'}, 'text/html', 'index Content-Type');
is($h->{'content-length'}, 11, 'Content-Length');
is($h->{'last-modified'}, $lm, 'Last-Modified is the mtime');
is($h->{etag}, $etag, 'ETag is "<mtime hex>-<size hex>" as nginx');
is($h->{'accept-ranges'}, 'bytes', 'Accept-Ranges');
(undef, undef, $b) = get('/dir/');
is($b, "dir index\n", 'index in a directory');
($s, undef, $b) = get('/multi/');
is("$s $b", "200 second index\n", 'index: the first name that exists wins');
($s, undef, $b) = get('/noidx/');
is($s, 403, 'a directory without index is 403 (autoindex off)');
ok($t->wait_log(qr/directory index of "\Q$dir\E\/html\/noidx\/" is forbidden/, 5),
    'the 403 is logged as nginx logs it');
($s) = get('/nodir/');
is($s, 404, 'a missing directory is 404');

# directory without its slash: 301 to uri/
($s, $h) = get('/dir');
is($s, 301, 'directory without slash: 301');
is($h->{location}, "http://localhost:$p/dir/", 'Location: Host and local port');
(undef, $h) = get('/dir?a=1&b=2', Host => 'Example.COM:9999');
is($h->{location}, "http://example.com:$p/dir/?a=1&b=2",
    'Location: the Host name without its port, the args kept');
my ($s10, $h10) = parse_response(http($p, "GET /dir HTTP/1.0\r\n\r\n"));
is($h10->{location}, "http://127.0.0.1:$p/dir/",
    'Location without Host: the local address');
(undef, $h) = get('/rel/dir');
is($h->{location}, '/rel/dir/', 'absolute_redirect off');
(undef, $h) = get('/noport/dir');
is($h->{location}, 'http://localhost/noport/dir/', 'port_in_redirect off');
(undef, $h) = http_get($t->port(1), '/dir', Host => 'other.test');
is($h->{location}, 'http://named.test:' . $t->port(1) . '/dir/',
    'server_name_in_redirect on');

# MIME types
(undef, $h) = get('/style.css');
is($h->{'content-type'}, 'text/css', 'css type');
(undef, $h) = get('/UPPER.HTML');
is($h->{'content-type'}, 'text/html', 'extensions are not case-sensitive');
(undef, $h) = get('/blob.unknownext');
is($h->{'content-type'}, 'application/octet-stream', 'unknown: default_type');
(undef, $h) = get('/noext');
is($h->{'content-type'}, 'application/octet-stream', 'no extension: default_type');

# HEAD
my $raw = http($p, "HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
like($raw, qr/^HTTP\/1.1 200 .*Content-Length: 11\r\n/s, 'HEAD: Content-Length');
like($raw, qr/\r\n\r\n\z/, 'HEAD: no body');

# errors
($s) = get('/nope.html');
is($s, 404, 'missing file: 404');
ok($t->wait_log(qr/open\(\) "\Q$dir\E\/html\/nope.html" failed \(2: No such file/, 5),
    'missing file logged');
($s) = get('/index.html/x');
is($s, 404, 'a file used as a directory: 404');
($s) = get('/secret0');
is($s, 403, 'unreadable file: 403');
($s) = parse_response(http($p, "POST /index.html HTTP/1.1\r\nHost: x\r\n"
    . "Content-Length: 3\r\nConnection: close\r\n\r\nabc"));
is($s, 405, 'POST to a file: 405');
($s) = parse_response(http($p, "POST /nope HTTP/1.1\r\nHost: x\r\n"
    . "Content-Length: 3\r\nConnection: close\r\n\r\nabc"));
is($s, 404, 'POST to a missing file: 404, as nginx');
($s) = parse_response(http($p, "PUT /index.html HTTP/1.1\r\nHost: x\r\n"
    . "Content-Length: 0\r\nConnection: close\r\n\r\n"));
is($s, 405, 'PUT: 405');
($s) = parse_response(http($p, "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
is($s, 405, 'DELETE /: 405');
($s) = get('/fifo');
is($s, 404, 'a FIFO is not served (and does not hang the worker)');
(undef, undef, $b) = get('/link.txt');
is($b, "outside via symlink\n", 'symlinks are followed, as nginx');

# traversal attempts: nothing outside the root or alias
for my $u ('/../secret', '/%2e%2e/secret', '/%2E%2E/secret', '/dir/../../secret',
    '/dir%2f..%2f..%2fsecret', '/..%2fsecret', '/%2e%2e%2fsecret',
    '/al/../../secret', '/al/%2e%2e/%2e%2e/secret', '/img../secret',
    '/re/../secret', '/re/..%2f..%2fsecret', '/secret%00.html',
    '/./../secret', '/dir/./.././../secret') {
	my ($ts, undef, $tb) = get($u);
	ok($ts != 200 && $tb !~ /TOP SECRET/, "traversal $u refused ($ts)");
}
($s) = get('/img../secret');
is($s, 404, 'alias without the trailing slash: ".." after it is refused');

# alias
(undef, undef, $b) = get('/al/a.txt');
is($b, "alias a\n", 'alias');
(undef, undef, $b) = get('/al/sub/b.txt');
is($b, "alias b\n", 'alias, deeper');
(undef, undef, $b) = get('/re/sub/b.txt');
is($b, "alias b\n", 'alias with a capture in a regex location');
(undef, $h) = get('/al/sub');
is($h->{location}, "http://localhost:$p/al/sub/", 'alias: directory redirect');

# try_files
(undef, undef, $b) = get('/try/exists.html');
is($b, "tried\n", 'try_files: $uri');
($s, $h) = get('/try/sub');
is("$s $h->{location}", "301 http://localhost:$p/try/sub/",
    'try_files: $uri/ of a directory without slash redirects, as nginx');
(undef, undef, $b) = get('/try/sub/');
is($b, "try sub\n", 'try_files: $uri/ then its index');
(undef, undef, $b) = get('/try/none?x=1');
is($b, "fallback\n", 'try_files: the fallback URI');
($s) = get('/tryc/none');
is($s, 410, 'try_files: =code');
(undef, undef, $b) = get('/tryn/none');
is($b, "named:/tryn/none\n", 'try_files: @named');

# variables
(undef, undef, $b) = get('/vars/x.txt');
is($b, "$dir/html|" . realpath("$dir/html") . "|$dir/html/vars/x.txt\n",
    '$document_root, $realpath_root, $request_filename');

# conditional requests
($s, $h, $b) = get('/index.html', 'If-None-Match' => $etag);
is($s, 304, 'If-None-Match with the ETag: 304');
is($b, '', '304 has no body');
is($h->{etag}, $etag, '304 carries the ETag');
ok(!exists $h->{'content-length'}, '304 has no Content-Length');
($s) = get('/index.html', 'If-None-Match' => "\"x\", W/$etag");
is($s, 304, 'If-None-Match: a weak match in a list');
($s) = get('/index.html', 'If-None-Match' => '*');
is($s, 304, 'If-None-Match: *');
($s) = get('/index.html', 'If-None-Match' => '"other"');
is($s, 200, 'If-None-Match: another tag is 200');
($s) = get('/index.html', 'If-Modified-Since' => $lm);
is($s, 304, 'If-Modified-Since: the same date is 304');
($s) = get('/index.html', 'If-Modified-Since' => http_date($st[9] + 10));
is($s, 200, 'If-Modified-Since: another date is 200 (if_modified_since exact)');
($s) = get('/before/index.html', 'If-Modified-Since' => http_date($st[9] + 10));
is($s, 304, 'if_modified_since before: a later date is 304');
($s) = get('/before/index.html', 'If-Modified-Since' => http_date($st[9] - 10));
is($s, 200, 'if_modified_since before: an earlier date is 200');
($s) = get('/imsoff/index.html', 'If-Modified-Since' => $lm);
is($s, 200, 'if_modified_since off');
($s) = get('/index.html', 'If-Modified-Since' =>
    strftime('%A, %d-%b-%y %H:%M:%S GMT', gmtime($st[9])));
is($s, 304, 'If-Modified-Since in RFC 850 form');
($s) = get('/index.html', 'If-Modified-Since' => $lm, 'If-None-Match' => '"other"');
is($s, 200, 'both: the ETag must match too');
($s) = get('/noetag/index.html', 'If-None-Match' => $etag);
is($s, 200, 'etag off: no ETag to match');
(undef, $h) = get('/noetag/index.html');
ok(!exists $h->{etag}, 'etag off: no ETag header');
($s) = get('/index.html', 'If-Match' => '"other"');
is($s, 412, 'If-Match with another tag: 412');
($s) = get('/index.html', 'If-Match' => $etag);
is($s, 200, 'If-Match with the tag: 200');
($s) = get('/index.html', 'If-Unmodified-Since' => http_date($st[9] - 10));
is($s, 412, 'If-Unmodified-Since before the mtime: 412');

($s, $h, $b) = get('/empty.txt');
is("$s $h->{'content-length'} [$b]", '200 0 []', 'an empty file');
($s, undef, $b) = get('/empty.txt', Range => 'bytes=0-');
is("$s [$b]", '200 []', 'an empty file with a range: 200, as nginx');
$raw = http($p, "HEAD /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2\r\n"
    . "Connection: close\r\n\r\n");
like($raw, qr/^HTTP\/1.1 206 .*Content-Length: 2\r\n.*\r\n\r\n\z/s,
    'HEAD with a range: 206 without the body');

# ranges: digits.txt is "0123456789"
($s, $h, $b) = get('/digits.txt', Range => 'bytes=2-5');
is("$s $b", '206 2345', 'a range');
is($h->{'content-range'}, 'bytes 2-5/10', 'Content-Range');
is($h->{'content-length'}, 4, 'Content-Length of the range');
(undef, undef, $b) = get('/digits.txt', Range => 'bytes=-3');
is($b, '789', 'a suffix range');
(undef, undef, $b) = get('/digits.txt', Range => 'bytes=7-');
is($b, '789', 'an open range');
(undef, undef, $b) = get('/digits.txt', Range => 'bytes=8-100');
is($b, '89', 'a range past the end is cut');
(undef, undef, $b) = get('/sf/digits.txt', Range => 'bytes=1-1');
is($b, '1', 'a range with sendfile');
($s, $h) = get('/digits.txt', Range => 'bytes=10-');
is($s, 416, 'a range past the end: 416');
is($h->{'content-range'}, 'bytes */10', '416: Content-Range bytes */size');
($s) = get('/digits.txt', Range => 'bytes=x-');
is($s, 416, 'a malformed range: 416, as nginx');
($s, undef, $b) = get('/digits.txt', Range => 'items=0-1');
is("$s $b", '200 0123456789', 'another unit: the whole file');
sub multipart {
	my ($bnd, $type, $size, @parts) = @_;
	my $body = '';
	for (@parts) {
		my ($from, $to, $data) = @$_;
		$body .= "\r\n--$bnd\r\nContent-Type: $type\r\n"
		    . "Content-Range: bytes $from-$to/$size\r\n\r\n$data";
	}
	return $body . "\r\n--$bnd--\r\n";
}
for my $path ('/digits.txt', '/sf/digits.txt') {
	($s, $h, $b) = get($path, Range => 'bytes=0-1,5-6,-1');
	my ($bnd) = ($h->{'content-type'} // '') =~
	    /^multipart\/byteranges; boundary=(\d{20})$/;
	ok($s == 206 && $bnd, "$path: several ranges: 206 multipart/byteranges")
	    or diag("$s $h->{'content-type'}");
	$bnd //= 'none';
	is($b, multipart($bnd, 'text/plain', 10, [0, 1, '01'], [5, 6, '56'],
	    [9, 9, '9']), "$path: the parts");
	is($h->{'content-length'}, length($b), "$path: multipart Content-Length");
	ok(!exists $h->{'content-range'}, "$path: no Content-Range on the whole");
}
($s, undef, $b) = get('/digits.txt', Range => 'bytes=' . join(',', map { "$_-$_" } 0 .. 9)
    . ',0-0,1-1,2-2,3-3,4-4,5-5,6-6');
is("$s $b", '200 0123456789', 'more than 16 ranges: the whole file (see DIFFERENCES)');
($s, undef, $b) = get('/digits.txt', Range => 'bytes=0-1,50-60');
is("$s $b", '206 01', 'several ranges of which one is satisfiable: that one');
my @dst = stat("$dir/html/digits.txt");
my $detag = sprintf('"%x-%x"', $dst[9], $dst[7]);
($s) = get('/digits.txt', Range => 'bytes=0-1', 'If-Range' => $detag);
is($s, 206, 'If-Range with the ETag: the range');
($s) = get('/digits.txt', Range => 'bytes=0-1', 'If-Range' => '"old"');
is($s, 200, 'If-Range with another ETag: the whole file');
($s) = get('/digits.txt', Range => 'bytes=0-1', 'If-Range' => http_date($dst[9]));
is($s, 206, 'If-Range with the date: the range');
($s) = get('/digits.txt', Range => 'bytes=0-1', 'If-Range' => http_date($dst[9] - 5));
is($s, 200, 'If-Range with another date: the whole file');
($s) = get('/digits.txt', Range => 'bytes=0-1', 'If-None-Match' => $detag);
is($s, 304, 'If-None-Match is checked before the range');

# expires and add_header
my $now = time;
($s, $h) = get('/exp/index.html');
is($h->{'cache-control'}, 'max-age=3600', 'expires 1h: Cache-Control');
like($h->{expires}, qr/GMT$/, 'expires 1h: Expires');
is($h->{'x-static'}, 'yes', 'add_header');
is($h->{'x-always'}, 'a', 'add_header always');
ok(!exists $h->{'x-empty'}, 'add_header with an empty value adds nothing');
ok(!exists $h->{'x-srv'}, 'a level with add_header replaces the inherited ones');
($s, $h) = get('/exp/nope');
is($s, 404, '404 in the expires location');
ok(!exists $h->{'x-static'} && !exists $h->{'cache-control'},
    'no add_header nor expires on a 404');
is($h->{'x-always'}, 'a', 'add_header always on a 404');
(undef, $h) = get('/index.html');
is($h->{'x-srv'}, 'srv', 'add_header inherited from the server');
(undef, $h) = get('/epoch/index.html');
is("$h->{expires}|$h->{'cache-control'}", 'Thu, 01 Jan 1970 00:00:01 GMT|no-cache',
    'expires epoch');
(undef, $h) = get('/max/index.html');
is("$h->{expires}|$h->{'cache-control'}", 'Thu, 31 Dec 2037 23:55:55 GMT|max-age=315360000',
    'expires max');
(undef, $h) = get('/mod/index.html');
is($h->{expires}, http_date($st[9] + 7200), 'expires modified 2h: from the mtime');
like($h->{'cache-control'}, qr/^max-age=(\d+)$/, 'expires modified: max-age');
(undef, $h) = get('/neg/index.html');
is($h->{'cache-control'}, 'no-cache', 'a negative expires: no-cache');
(undef, $h) = get('/exp/index.html', 'If-None-Match' => $etag);
is($h->{'x-static'}, 'yes', 'add_header on a 304');
($s, $h, $b) = get('/ret');
is("$s $b", "200 ret\n", 'return still answers');
is($h->{'x-ret'}, 'r', 'add_header applies to return');
($s, $h) = get('/retrel?q=1');
is("$s $h->{location}", "302 http://localhost:$p/dir/?q=1",
    'return with a path: an absolute URL, as nginx');
($s, $h) = get('/retrel2');
is("$s $h->{location}", '307 /x', 'return with a path, absolute_redirect off');

# keep-alive and pipelining after file responses
$raw = http($p, "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /index.html HTTP/1.1\r\nHost: x\r\nIf-None-Match: $etag\r\n\r\n"
    . "GET /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=3-4\r\n\r\n"
    . "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /sf/digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-1,3-3\r\n\r\n"
    . "GET /sf/digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
my @r = PorticoTest::split_responses($raw, head => { 0 => 1 });
is(join(' ', map { $_->{status} } @r), '200 304 206 200 206 200',
    'pipelined: HEAD, 304, 206, 200, multipart 206 and 200 with sendfile');
is(join('|', map { $_->{body} } @r[2, 3, 5]), "34|body {}\n|0123456789",
    'pipelined bodies in order');
like($r[4]{body} // '', qr/\r\n\r\n1\r\n--\d+\r\n.*\r\n\r\n3\r\n--\d+--\r\n\z/s,
    'pipelined multipart body');

# large files, sendfile off and on, then a request on the same connection
sub fetch_big {
	my ($path) = @_;
	my $sock = PorticoTest::connect_port($p) or return ('no connection');
	print $sock "GET $path HTTP/1.1\r\nHost: x\r\n\r\n"
	    . "GET /digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	my $buf = '';
	my $end = time + 60;
	while (time < $end) {
		my $n = sysread($sock, $buf, 1 << 20, length $buf);
		last unless $n;
	}
	close $sock;
	my @res = PorticoTest::split_responses($buf);
	return ("responses: " . scalar(@res)) unless @res == 2;
	return (length($res[0]{body}), md5_hex($res[0]{body}), $res[1]{body});
}
{
	open(my $fh, '<', $big) or die;
	binmode $fh;
	seek($fh, 30_000_000, 0);
	read($fh, my $want, 5_000_001);
	for my $path ('/big.bin', '/sf/big.bin') {
		my ($rs, $rh, $rb) = get($path, Range => 'bytes=30000000-35000000');
		ok($rs == 206 && $rb eq $want, "$path: a 5 MB range inside the file")
		    or diag("status $rs, " . length($rb) . ' bytes');
		is($rh->{'content-range'}, 'bytes 30000000-35000000/52428800',
		    "$path: its Content-Range");
	}
}
{
	open(my $fh, '<', $big) or die;
	binmode $fh;
	my @want;
	for my $rg ([100, 1_100_099], [20_000_000, 22_999_999], [52_428_700, 52_428_799]) {
		seek($fh, $rg->[0], 0);
		read($fh, my $d, $rg->[1] - $rg->[0] + 1);
		push @want, [@$rg, $d];
	}
	for my $path ('/big.bin', '/sf/big.bin') {
		my ($rs, $rh, $rb) = get($path, Range => 'bytes=100-1100099,'
		    . '20000000-22999999,52428700-');
		my ($bnd) = ($rh->{'content-type'} // '') =~ /boundary=(\d+)/;
		ok($rs == 206 && defined $bnd && $rb eq multipart($bnd,
		    'application/octet-stream', 52428800, @want),
		    "$path: three ranges of 1, 3 MB and 100 bytes, byte-exact")
		    or diag("status $rs, " . length($rb) . ' bytes');
	}
}
for my $path ('/big.bin', '/sf/big.bin') {
	my ($len, $md5, $next) = fetch_big($path);
	is($len, 50 * 1024 * 1024, "$path: 50 MB sent");
	is($md5, $big_md5, "$path: byte-exact (MD5)");
	is($next, '0123456789', "$path: the next request on the connection is answered");
}

# a 5 GB sparse file: offsets past 4 GB, in headers and in the body
{
	my $huge = "$dir/html/huge.bin";
	open(my $fh, '>', $huge) or die;
	binmode $fh;
	seek($fh, 4_800_000_000, 0);
	print $fh 'MARKER!!';
	truncate($fh, 5 * 1024 * 1024 * 1024) or die "truncate: $!";
	close $fh;
	chmod 0644, $huge;
	$raw = http($p, "HEAD /huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	like($raw, qr/Content-Length: 5368709120\r\n/, '5 GB: Content-Length');
	for my $path ('/huge.bin', '/sf/huge.bin') {
		my ($hs, $hh, $hb) = get($path, Range => 'bytes=4799999998-4800000009');
		is("$hs $hb", "206 \0\0MARKER!!\0\0", "$path: a range past 4 GB");
		is($hh->{'content-range'}, 'bytes 4799999998-4800000009/5368709120',
		    "$path: its Content-Range");
		($hs, $hh, $hb) = get($path, Range => 'bytes=-3');
		is("$hs $hb", "206 \0\0\0", "$path: the last bytes of 5 GB");
	}
	unlink $huge;
}

# bounded memory: a client that does not read holds no more than buffers
my ($worker) = $t->workers;
sub rss { slurp("/proc/$_[0]/status") =~ /^VmRSS:\s+(\d+)/m ? $1 : 0 }
{
	my $before = rss($worker);
	my @socks;
	for my $path ('/big.bin', '/sf/big.bin') {
		my $sock = PorticoTest::connect_port($p);
		print $sock "GET $path HTTP/1.1\r\nHost: x\r\n\r\n";
		sysread($sock, my $x, 65536);
		push @socks, $sock;
	}
	sleep 0.3;
	my $grow = rss($worker) - $before;
	cmp_ok($grow, '<', 8 * 1024, "a worker holding two stalled 50 MB answers grows by ${grow} kB");
	close $_ for @socks;
}

# send_timeout: between two writes, not for the whole answer.  The
# reader takes 20 MB/s at most: the kernel's buffers (some MB) make the
# gaps between the server's writes longer than that, yet well under the
# timeout, while the whole answer takes longer than it.
for my $loc ('/slow/', '/slowsf/') {
	my $sock = PorticoTest::connect_port($p);
	print $sock "GET ${loc}big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	my ($got, $start) = (0, time);
	while (1) {
		my $n = sysread($sock, my $x, 1 << 20);
		last unless $n;
		$got += $n;
		# 20 MB/s at most
		my $ahead = $got / (20 * 1024 * 1024) - (time - $start);
		sleep($ahead) if $ahead > 0;
	}
	close $sock;
	my $secs = time - $start;
	ok($got > 50 * 1024 * 1024 && $secs > 1.6,
	    sprintf("$loc: a slow reader gets the whole body in %.1f s (send_timeout 1.5s)", $secs))
	    or diag("got $got bytes; log: ", grep { /slow/ } split /^/, $t->error_log);
	$sock = PorticoTest::connect_port($p);
	print $sock "GET ${loc}big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
	sysread($sock, my $first, 65536);
	# then it stops reading: send_timeout closes it
	my $re = qr/client timed out while we were sending the response.*"GET \Q$loc\Ebig.bin /;
	my $n0 = () = $t->error_log =~ /$re/g;
	is($n0, 0, "$loc: the slow reader was not timed out");
	ok(wait_until(sub { (() = $t->error_log =~ /$re/g) > $n0 }, 10),
	    "$loc: a client that stops reading is closed after send_timeout");
	close $sock;
}

# a reload while a large file is being sent: the old worker finishes it
{
	my @old = $t->wait_ready(1);
	my $sock = PorticoTest::connect_port($p);
	print $sock "GET /sf/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	my ($buf, $start, $hup) = ('', time, 0);
	while (1) {
		my $n = sysread($sock, $buf, 1 << 20, length $buf);
		last unless $n;
		if (!$hup && length($buf) > 5 * 1024 * 1024) {
			$t->signal('HUP');
			$hup = 1;
		}
		my $ahead = length($buf) / (20 * 1024 * 1024) - (time - $start);
		sleep($ahead) if $ahead > 0;
	}
	close $sock;
	my $body = substr($buf, index($buf, "\r\n\r\n") + 4);
	ok($hup && md5_hex($body) eq $big_md5,
	    'a reload during the transfer: the whole file, byte-exact');
	ok(PorticoTest::wait_gone(\@old, 10), 'then the old worker exits');
	($worker) = $t->wait_ready(1);
}

# a file that shrinks while it is sent: the connection is closed, no hang
for my $loc ('/', '/sf/') {
	my $path = put('html/shrink.bin', 's' x (30 * 1024 * 1024));
	my $sock = PorticoTest::connect_port($p);
	print $sock "GET ${loc}shrink.bin HTTP/1.1\r\nHost: x\r\n\r\n";
	my ($buf) = PorticoTest::read_sock($sock, 5, sub { length($_[0]) > 100000 });
	truncate($path, 1000) or die "truncate: $!";
	my ($rest, $closed) = PorticoTest::read_sock($sock, 15);
	$buf .= $rest;
	close $sock;
	my ($hl) = $buf =~ /Content-Length: (\d+)/;
	my $body = length($buf) - index($buf, "\r\n\r\n") - 4;
	ok($closed, "${loc}shrink.bin: the connection is closed");
	ok(defined $hl && $hl == 30 * 1024 * 1024 && $body < $hl,
	    "${loc}shrink.bin: fewer bytes than announced ($body)");
	unlink $path;
}
ok($t->wait_log(qr/shrink\.bin" was truncated at/, 5), 'the truncation is logged');
(undef, undef, $b) = get('/digits.txt');
is($b, '0123456789', 'the worker still answers');

# the same requests to nginx: status and the headers that matter
SKIP: {
	skip('nginx is not installed', 1) unless PorticoTest::Nginx::available();
	(my $nconf = $conf) =~ s/%%DIR%%/$dir/g;
	$nconf =~ s/%%PORT_0%%/%%PORT%%/;
	# the second server tests server_name_in_redirect only
	$nconf =~ s/    server \{\n        listen 127\.0\.0\.1:%%PORT_1%%;.*?\n    \}\n//s;
	my $ng = PorticoTest::Nginx->start($nconf);
	skip('nginx did not start', 1) unless $ng;
	my @cases = (
		['/'], ['/dir'], ['/dir?a=1'], ['/dir/'], ['/multi/'], ['/noidx/'],
		['/nodir/'], ['/style.css'], ['/UPPER.HTML'], ['/blob.unknownext'],
		['/nope.html'], ['/secret0'], ['/fifo'], ['/link.txt'], ['/../secret'],
		['/%2e%2e/secret'], ['/al/a.txt'], ['/al/sub'], ['/re/sub/b.txt'],
		['/try/exists.html'], ['/try/sub'], ['/try/sub/'], ['/try/none'],
		['/tryc/none'], ['/tryn/none'], ['/rel/dir'], ['/noport/dir'],
		['/index.html', 'If-None-Match' => $etag],
		['/index.html', 'If-None-Match' => "\"x\", W/$etag"],
		['/index.html', 'If-Modified-Since' => $lm],
		['/index.html', 'If-Modified-Since' => http_date($st[9] + 10)],
		['/before/index.html', 'If-Modified-Since' => http_date($st[9] + 10)],
		['/index.html', 'If-Match' => '"other"'],
		['/index.html', 'If-Unmodified-Since' => http_date($st[9] - 10)],
		['/digits.txt', Range => 'bytes=2-5'], ['/digits.txt', Range => 'bytes=-3'],
		['/digits.txt', Range => 'bytes=10-'], ['/digits.txt', Range => 'bytes=x-'],
		['/digits.txt', Range => 'items=0-1'],
		['/digits.txt', Range => 'bytes=0-1,50-60'],
		['/digits.txt', Range => 'bytes=0-1,5-6,-1'],
		['/sf/digits.txt', Range => 'bytes=0-9,0-9'],
		['/style.css', Range => 'bytes=0-0,2-3'],
		['/digits.txt', Range => 'bytes=0-1', 'If-Range' => '"old"'],
		['/digits.txt', Range => 'bytes=0-1', 'If-Range' => http_date($dst[9])],
		['/exp/index.html'], ['/exp/nope'], ['/epoch/index.html'], ['/max/index.html'],
		['/neg/index.html'], ['/empty.txt'],
		['/empty.txt', Range => 'bytes=0-'],
		['/noetag/index.html'], ['/ret'], ['/retrel?q=1'], ['/retrel2'],
		['/dir', Host => 'Example.COM:9999'], ['/index.html/x'],
		['/index.html', 'If-None-Match' => '*'],
		['/noetag/index.html', 'If-None-Match' => $etag],
		['/imsoff/index.html', 'If-Modified-Since' => $lm],
		['/index.html', 'If-Modified-Since' => 'garbage'],
		['/index.html', 'If-Unmodified-Since' => 'garbage'],
		['/index.html', 'If-Match' => '*'],
		['/digits.txt', Range => 'bytes=3-3', 'If-Range' => $detag],
		['/sf/big.bin', Range => 'bytes=1000000-2000000'],
	);
	my @keys = qw(content-type content-length location etag last-modified
	    content-range cache-control x-static x-always x-srv x-ret accept-ranges);
	for my $c (@cases) {
		my ($path, %hdr) = @$c;
		my ($ps, $ph, $pb) = http_get($p, $path, %hdr);
		my ($ns, $nh, $nb) = http_get($ng->port, $path, %hdr);
		my $norm = sub {
			my ($st, $hh, $port) = @_;
			my %x = map { $_ => $hh->{$_} // '-' } @keys;
			$x{'content-type'} =~ s/\d{20}/BOUNDARY/;
			$x{location} =~ s/:\Q$port\E\b/:PORT/;
			# generated pages differ in the Server name only
			$x{'content-length'} = 'page' if $st >= 300 && $st != 304;
			return join("\n", $st, map { "$_: $x{$_}" } @keys);
		};
		is($norm->($ps, $ph, $p), $norm->($ns, $nh, $ng->port),
		    "as nginx: GET $path " . join(' ', %hdr));
		if ($ps =~ /^2/) {
			s/\d{20}/BOUNDARY/g for $pb, $nb;
			is($pb, $nb, "as nginx: the body of GET $path " . join(' ', %hdr));
		}
	}
	$ng->stop;
}

$t->stop;

# configuration errors, as "portico -t" reports them
for my $c (
	['location / { root /a; alias /b/; }',
	    qr/"alias" directive is duplicate, "root" directive was specified earlier/],
	['location / { root /a; root /b; }', qr/"root" directive is duplicate/],
	['location @n { alias /b/; }',
	    qr/the "alias" directive cannot be used inside the named location/],
	['alias /b/;', qr/"alias" directive is not allowed here/],
	['autoindex on;', qr/"autoindex on" is not supported yet/],
	['expires soon;', qr/invalid value "soon" in "expires" directive/],
	['expires @15h;', qr/"expires \@time" is not supported yet/],
	['try_files $uri =abc;', qr/invalid code "=abc"/],
	['try_files $uri;', qr/invalid number of arguments in "try_files"/],
	['try_files $nosuch =404;', qr/unknown "nosuch" variable/],
	['add_header X a sometimes;', qr/invalid parameter "sometimes"/],
	['if_modified_since maybe;', qr/invalid value "maybe" in "if_modified_since"/],
	['index a.html "";', qr/index "" in "index" directive is invalid/],
	['index /abs.html b.html;', qr/only the last index in "index" directive should be absolute/],
	['sendfile maybe;', qr/it must be "on" or "off"/],
) {
	my ($body, $re) = @$c;
	my $e = PorticoTest->new;
	$e->write_conf("events {} http { server { listen 127.0.0.1:1; $body } }\n");
	my ($code, $out) = $e->run_cmd('-t');
	ok($code != 0 && $out =~ $re, "-t refuses: $body") or diag($out);
}
{
	my $e = PorticoTest->new;
	$e->write_conf("events {} http { root /srv; index a.html b.html; sendfile on;\n"
	    . "tcp_nopush on; tcp_nodelay off; etag off; if_modified_since before;\n"
	    . "expires modified -1h; add_header A b always; absolute_redirect off;\n"
	    . "port_in_redirect off; server_name_in_redirect on; autoindex off;\n"
	    . "server { listen 127.0.0.1:1; try_files \$uri \$uri/ =404;\n"
	    . "location ~ ^/(x)\$ { alias /srv/\$1; expires max; }\n"
	    . "location /a/ { alias /srv/a/; try_files \$uri \@n; }\n"
	    . "location \@n { return 404; } } }\n");
	my ($code, $out) = $e->run_cmd('-t');
	is($code, 0, '-t accepts every static directive in its contexts') or diag($out);
}

done_testing();

#!/usr/bin/perl
# upstream {} blocks: a file with them passes "portico -t", runs and
# reloads; and each error is nginx's, at nginx's line: when nginx is
# installed, "nginx -t" is run on the same files and must report the same
# message at the same line (nginx writes "MESSAGE in FILE:LINE").

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get bin);

my $t = PorticoTest->new;
my $dir = $t->dir;
my $bin = bin();
my $nginx = $PorticoTest::Nginx::NGINX;
my $have_nginx = PorticoTest::Nginx::available();

sub portico_test {
	my ($name) = @_;
	my ($code, $out, $err) = $t->capture([$bin, '-p', "$dir/", '-c',
	    "$dir/$name", '-t']);
	return ($code, $err);
}

# nginx -t: (exit code, [message, line] of the first [emerg])
sub nginx_test {
	my ($name) = @_;
	# nginx's copy: its compiled-in access log and temporary paths are
	# not an ordinary user's to write; set on the "http {" line, so that
	# the line numbers stay the same
	my $text = PorticoTest::slurp("$dir/$name");
	my $paths = join(' ', 'access_log off;', map { "${_}_temp_path $dir/ng_$_;" }
	    qw(client_body proxy fastcgi uwsgi scgi));
	$text =~ s/^(\s*http\s*\{)/$1 $paths/m;
	open(my $fh, '>', "$dir/ng-$name") or die "$dir/ng-$name: $!";
	print $fh $text;
	close $fh;
	my ($code, $out, $err) = $t->capture([$nginx, '-p', "$dir/", '-c',
	    "$dir/ng-$name", '-t', '-g', "pid $dir/nginx.pid; error_log $dir/ngx.log;"]);
	$err =~ s/\Q$dir\/ng-$name\E/$dir\/$name/g;
	for (split /\n/, $err) {
		return ($code, $1, $2) if /\[emerg\] \S+ (.*?) in \Q$dir\/$name\E:(\d+)$/;
		return ($code, $1, 0) if /\[emerg\] \S+ (.*)$/;
	}
	return ($code, undef, undef);
}

# a file that uses the upstream directives nginx has, and runs
my $good = <<'EOF';
events {}
http {
    upstream app {
        server 127.0.0.1:9001 weight=3 max_fails=2 fail_timeout=5s;
        server localhost:9002 max_conns=10;
        server unix:%%DIR%%/app.sock down;
        server 127.0.0.2:9003 backup;
        keepalive 16;
        keepalive_timeout 30s;
        keepalive_requests 500;
        zone app 64k;
    }
    upstream h {
        hash $request_uri consistent;
        server 127.0.0.1:9011;
        server 127.0.0.1:9012 weight=2;
        zone app;
    }
    upstream l { least_conn; server 127.0.0.1:9021; server [::1]:9022; }
    upstream i { ip_hash; server 127.0.0.1:9031; server 127.0.0.1:9032 down; }
    upstream r { random two least_conn; server 127.0.0.1:9041; server 127.0.0.1:9042; }
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "up\n"; }
    }
}
EOF
$t->write_file('good.conf', $good);
my ($code, $err) = portico_test('good.conf');
is($code, 0, 'portico -t accepts the upstream directives') or diag($err);
SKIP: {
	skip('nginx is not installed', 1) unless $have_nginx;
	my ($nc, $msg) = nginx_test('good.conf');
	is($nc, 0, 'nginx -t accepts the same file') or diag($msg);
}

# portico's own health_check
(my $with_hc = $good) =~ s/(zone app 64k;)/$1\n        health_check interval=2s fails=2 passes=2 uri=\/health match=status=200-299 match=body=~ok;/;
$t->write_conf($with_hc);
$t->run;
my ($st, $h, $b) = http_get($t->port(0), '/');
is($st, 200, 'a server with upstream blocks runs');
is($b, "up\n", 'and answers');
# the health zone, beside the pid file
my $zone = "$dir/logs/portico.health";
ok(-f $zone, 'the master maps the health zone beside the pid file');
is(substr(PorticoTest::slurp($zone), 0, 8), 'PRCOZONE', 'it begins with the magic');
my $ino = (stat $zone)[1];
$t->signal('HUP');
ok($t->wait_log(qr/reconfigured: generation/), 'and reloads');
($st, undef, $b) = http_get($t->port(0), '/');
is($st, 200, 'answers after the reload');
is((stat $zone)[1], $ino, 'the reload keeps the zone (same file)');
$t->stop;

# file text, line, message: the line is nginx's
my @cases = (
	["upstream a { server 127.0.0.1:1; }\nupstream A { server 127.0.0.1:2; }",
	    4, 'duplicate upstream "A"'],
	["upstream a {\n}", 4, 'no servers are inside upstream'],
	["upstream a {\n  server 127.0.0.1:1 backup;\n}", 3,
	    'no servers in upstream "a"'],
	["upstream a { ip_hash;\n  server 127.0.0.1:1 backup; }", 4,
	    'balancing method does not support parameter "backup"'],
	["upstream a { hash \$uri consistent;\n  server 127.0.0.1:1 backup; }", 4,
	    'balancing method does not support parameter "backup"'],
	["upstream a { random;\n  server 127.0.0.1:1 backup; }", 4,
	    'balancing method does not support parameter "backup"'],
	["upstream a {\n  server nosuch.invalid;\n}", 4,
	    'host not found in upstream "nosuch.invalid"'],
	["upstream a { server 127.0.0.1:99999; }", 3,
	    'invalid port in upstream "127.0.0.1:99999"'],
	["upstream a { server unix:; }", 3,
	    'no path in the unix domain socket in upstream "unix:"'],
	["upstream a { server http://127.0.0.1; }", 3,
	    'invalid host in upstream "http://127.0.0.1"'],
	["upstream a { server :80; }", 3, 'no host in upstream ":80"'],
	["upstream a { server 127.0.0.1 weight=0; }", 3,
	    'invalid parameter "weight=0"'],
	["upstream a { server 127.0.0.1 fail_timeout=1ms; }", 3,
	    'invalid parameter "fail_timeout=1ms"'],
	["upstream a { server 127.0.0.1; hash \$uri foo; }", 3,
	    'invalid parameter "foo"'],
	["upstream a { server 127.0.0.1; random two foo; }", 3,
	    'invalid parameter "foo"'],
	["upstream a { server 127.0.0.1; keepalive 0; }", 3,
	    'invalid value "0" in "keepalive" directive'],
	["upstream a { server 127.0.0.1; keepalive_timeout 5x; }", 3,
	    '"keepalive_timeout" directive invalid value'],
	["upstream a { server 127.0.0.1; keepalive_requests -1; }", 3,
	    '"keepalive_requests" directive invalid number'],
	["upstream a { server 127.0.0.1; zone z 1k; }", 3,
	    'zone "z" is too small'],
	["upstream a { server 127.0.0.1; zone z 64k; }\n"
	    . "upstream b { server 127.0.0.1; zone z 128k; }", 4,
	    'the size 131072 of shared memory zone "z" conflicts with already declared size 65536'],
	["upstream a { server 127.0.0.1; zone z; }", 0,
	    'zero size shared memory zone "z"'],
	["upstream a { server 127.0.0.1; listen 80; }", 3,
	    '"listen" directive is not allowed here'],
	["server { upstream a { server 127.0.0.1; } }", 3,
	    '"upstream" directive is not allowed here'],
	["upstream a b { server 127.0.0.1; }", 3,
	    'invalid number of arguments in "upstream" directive'],
);

my $n = 0;
for my $c (@cases) {
	my ($body, $line, $msg) = @$c;
	my $name = 'case' . $n++ . '.conf';
	$t->write_file($name, "events {}\nhttp {\n$body\n}\n");
	my ($pc, $perr) = portico_test($name);
	my $where = $line ? "$dir/$name:$line: " : '';
	my @emerg = grep { /^portico: \[emerg\] / } split /\n/, $perr;
	ok($pc == 1 && @emerg == 1 && $emerg[0] eq "portico: [emerg] $where$msg",
	    "portico: $msg") or diag($perr);
	SKIP: {
		skip('nginx is not installed', 1) unless $have_nginx;
		my ($nc, $nmsg, $nline) = nginx_test($name);
		ok($nc == 1 && defined $nmsg && $nmsg eq $msg && $nline == $line,
		    "nginx agrees: $msg")
		    or diag("nginx: " . ($nmsg // 'none') . " at " . ($nline // '?'));
	}
}

$t->sanitizer_clean;
done_testing();

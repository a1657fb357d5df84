#!/usr/bin/perl
# The rewrite phase (return, rewrite, set, break in config order, server
# level before location), map, error_page and internal locations.  One
# config, a table of requests and the answers they must get; the same
# table runs against nginx with the same config when it is installed,
# and both must answer alike.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http parse_response wait_until);

my $conf = <<'EOF';
events {}
http {
    map $arg_k $m {
        default   def;
        ''        empty;
        abc       exact;
        *.w.com   literal-star;
        ~^re(\d+)$  re-$1;
        ~*^CI     caseless;
        \default  backslash;
        var       "v=$arg_v";
        include   map.inc;
    }
    map $http_host $h {
        hostnames;
        default   def;
        abc.com   exact;
        *.w.com   head;
        *.a.w.com longer-head;
        .x.com    dot;
        www.t.*   tail;
        ~^re(?<num>\d+)\.test$ re-$num;
    }
    map $uri $from_uri {
        /a   uri-a;
        default "other:$uri";
    }
    map $m $chained {
        exact   chained-exact;
        default chained-other;
    }
    map $uri $vol {
        volatile;
        default $uri;
    }
    map $uri $kept {
        default $uri;
    }
    map $kept $cycle_a {
        default $cycle_b;
    }
    map $kept $cycle_b {
        default $cycle_a;
    }
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    server {
        listen 127.0.0.1:PORT;
        server_name localhost;

        rewrite ^/srv/(.*)$ /after-srv/$1 last;
        if_not_here_placeholder;

        location /after-srv/ {
            return 200 "after-srv uri=$uri\n";
        }

        location /flag/ {
            rewrite ^/flag/last/(.*)$ /target/$1 last;
            rewrite ^/flag/break/(.*)$ /target/$1 break;
            rewrite ^/flag/redirect/(.*)$ /target/$1 redirect;
            rewrite ^/flag/permanent/(.*)$ /target/$1 permanent;
            rewrite ^/flag/url$ http://example.com/u;
            rewrite ^/flag/none/(.*)$ /target/none-$1;
            return 200 "flag uri=$uri\n";
        }
        location /target/ {
            return 200 "target uri=$uri args=$args is=$is_args ru=$request_uri\n";
        }

        location /args/ {
            rewrite ^/args/keep$ /show last;
            rewrite ^/args/drop$ /show? last;
            rewrite ^/args/add$ /show?n=1 last;
            rewrite ^/args/only$ /show?n=1? last;
            rewrite ^/args/rkeep$ http://example.com/r;
            rewrite ^/args/radd$ http://example.com/r?n=1;
            rewrite ^/args/rdrop$ http://example.com/r?;
            return 200 "no rewrite\n";
        }
        location = /show {
            return 200 "show uri=$uri args=[$args] q=[$query_string] is=[$is_args] a=[$arg_a]\n";
        }

        location /cap/ {
            rewrite "^/cap/(\w+)/(\w+)/(?<third>\w+)$" /show?one=$1&two=$2&three=$third last;
            return 200 "no match\n";
        }

        location /set {
            set $a "a-$arg_x";
            set $b "$a+b";
            set $args "x=$arg_x&set=1";
            return 200 "a=$a b=$b args=$args unset=[$never]\n";
        }
        location /never {
            set $never "set";
            return 200 "never\n";
        }

        location /order {
            set $v first;
            return 200 "v=$v\n";
            set $v second;
        }
        location /order2 {
            rewrite ^ /show?from=order2;
            return 200 "returned uri=$uri\n";
        }
        location /brk {
            set $v one;
            break;
            set $v two;
            return 200 "not reached\n";
        }
        location /brk2 {
            rewrite ^ /target/x;
            break;
        }

        location /cycle {
            rewrite ^ /cycle2 last;
        }
        location /cycle2 {
            rewrite ^ /cycle last;
        }
        location /nine {
            rewrite ^/nine$ /nine/1 last;
            rewrite ^/nine/(\d)$ /nine/$1x last;
            rewrite ^/nine/(\d)x$ /nine/$1xx;
            return 200 "nine uri=$uri\n";
        }

        location ~ ^/caporder/(\w+)$ {
            return 200 "1=$1 m=$m 1=$1\n";
        }
        location /map {
            return 200 "m=$m h=$h 1=$1 num=$num\n";
        }
        location = /a {
            return 200 "from=$from_uri\n";
        }
        location /mapuri {
            return 200 "from=$from_uri chained=$chained\n";
        }
        location /vol {
            set $before "$vol|$kept";
            rewrite ^ /volx;
            return 200 "before=$before vol=$vol kept=$kept\n";
        }
        location /mapcycle {
            return 200 "a=[$cycle_a]\n";
        }
        location /upgrade {
            return 200 "c=$connection_upgrade\n";
        }

        location /ep/ {
            error_page 404 /err/page;
            error_page 403 =200 /err/page;
            error_page 410 = /err/status;
            error_page 401 @named;
            error_page 402 http://example.com/pay?x=$uri;
            error_page 405 =301 http://example.com/moved;
            location /ep/404 { return 404; }
            location /ep/403 { return 403; }
            location /ep/410 { return 410; }
            location /ep/401 { return 401; }
            location /ep/402 { return 402; }
            location /ep/405 { return 405; }
            location /ep/missing { error_page 404 /err/missing; return 404; }
            location /ep/inherit { return 404; }
            location /ep/own { error_page 403 /err/page; return 404; }
        }
        location /err/ {
            internal;
            location /err/page {
                return 200 "error page method=$request_method uri=$uri\n";
            }
            location /err/status {
                return 202 "status page\n";
            }
            location /err/missing {
                return 404;
            }
        }
        location @named {
            return 200 "named method=$request_method uri=$uri\n";
        }
        location /int {
            internal;
            return 200 "internal\n";
        }
        location /toint {
            rewrite ^ /int last;
        }

        location /rec {
            recursive_error_pages on;
            error_page 404 /rec2;
            return 404;
        }
        location /rec2 {
            error_page 404 /rec3;
            return 404;
        }
        location /rec3 {
            return 200 "rec3\n";
        }

        location /if/e { if ($arg_a = "") { return 200 "empty\n"; } return 200 "nonempty\n"; }
        location /if/ne { if ($arg_a != x) { return 200 "not x\n"; } return 200 "x\n"; }
        location /if/q { if ($arg_a = "x$arg_b") { return 200 "eq\n"; } return 200 "other\n"; }
        location /if/r { if ($arg_a ~ "^(\d+)$") { return 200 "num $1\n"; } return 200 "nonum\n"; }
        location /if/ri { if ($arg_a ~* ^abc) { return 200 "ci\n"; } if ($arg_a !~ ^abc) { return 200 "not-abc\n"; } return 200 "abc-case\n"; }
        location /if/nri { if ($arg_a !~* ^abc) { return 200 "not-ci\n"; } return 200 "ci-abc\n"; }
        location /if/s { if ( $arg_a ) { set $x yes; } return 200 "x=$x\n"; }
        location /if/t { if ($arg_a) { rewrite ^ /if/u; } return 200 "t uri=$uri\n"; }
        location /if/u { return 200 "u\n"; }
        location /if/v { if ($arg_a) { rewrite ^ /if/u break; } return 200 "v uri=$uri\n"; }
        location /if/l { if ($arg_a) { rewrite ^ /if/u last; } return 200 "l\n"; }
        location /if/y { if ($arg_a) { error_page 404 /if/u; } return 404; }
        location /if/b { if ($arg_a) { break; } return 200 "not broken\n"; }

        location /enc/r/ { rewrite ^/enc/r/(.*)$ http://x/$1 redirect; }
        location /enc/ra/ { rewrite ^/enc/ra/(.*)$ http://x/p?a=$1 redirect; }
        location /enc/n/ { rewrite "^/enc/n/(?<nn>.*)$" http://x/$nn?b=$nn redirect; }
        location /enc/i/ { rewrite ^/enc/i/(.*)$ /target/$1 last; }
        location /enc/ia/ { rewrite ^/enc/ia/(.*)$ /show?a=$1 last; }

        location /r500t { return 500 "text\n"; }
        location /r400 { return 400; }
        location /r403 { return 403; }

        location /big {
            client_max_body_size 10;
            error_page 413 /err/page;
            return 200 "not too big\n";
        }

        location /noabs { absolute_redirect off; return 302 /rel; }
        location /noport { port_in_redirect off; rewrite ^ /rel redirect; }
        location /sname { server_name_in_redirect on; return 301 /rel; }

        location /ret30x {
            return 302 /relative;
        }
    }

    server {
        listen 127.0.0.1:PORT;
        server_name srvret;
        set $who srv;
        return 200 "server-level $who $uri\n";
        location / { return 200 "location\n"; }
    }

    server {
        listen 127.0.0.1:PORT;
        server_name srvif;
        if ($http_x_go) {
            return 200 "server-level if\n";
        }
        location / { return 200 "no if\n"; }
    }

    server {
        listen 127.0.0.1:PORT;
        server_name srvbreak;
        rewrite ^/x$ /y;
        break;
        return 200 "not reached\n";
        location / { return 200 "loc uri=$uri\n"; }
    }
}
EOF
$conf =~ s/^\s*if_not_here_placeholder;\n//m;

# request (path, or [path, host, method, extra headers]), status, body
# (or a hash of header => value, body => ...)
my @cases = (
	['/srv/a/b', 200, "after-srv uri=/after-srv/a/b\n"],
	['/flag/last/x?q=1', 200, "target uri=/target/x args=q=1 is=? ru=/flag/last/x?q=1\n"],
	['/flag/break/x', 404, undef],
	['/flag/redirect/x?q=1', 302, { location => 'http://localhost:PORT/target/x?q=1' }],
	['/flag/permanent/x', 301, { location => 'http://localhost:PORT/target/x' }],
	['/flag/url?q=1', 302, { location => 'http://example.com/u?q=1' }],
	['/flag/none/x', 200, "flag uri=/target/none-x\n"],
	['/flag/other', 200, "flag uri=/flag/other\n"],
	['/args/keep?a=1', 200, "show uri=/show args=[a=1] q=[a=1] is=[?] a=[1]\n"],
	['/args/drop?a=1', 200, "show uri=/show args=[] q=[] is=[] a=[]\n"],
	['/args/add?a=1', 200, "show uri=/show args=[n=1&a=1] q=[n=1&a=1] is=[?] a=[1]\n"],
	['/args/add', 200, "show uri=/show args=[n=1] q=[n=1] is=[?] a=[]\n"],
	['/args/only?a=1', 200, "show uri=/show args=[n=1] q=[n=1] is=[?] a=[]\n"],
	['/args/rkeep?a=1', 302, { location => 'http://example.com/r?a=1' }],
	['/args/radd?a=1', 302, { location => 'http://example.com/r?n=1&a=1' }],
	['/args/rdrop?a=1', 302, { location => 'http://example.com/r' }],
	['/cap/x/y/z', 200, "show uri=/show args=[one=x&two=y&three=z] q=[one=x&two=y&three=z] is=[?] a=[]\n"],
	['/cap/x/y', 200, "no match\n"],
	['/set?x=7', 200, "a=a-7 b=a-7+b args=x=7&set=1 unset=[]\n"],
	['/order', 200, "v=first\n"],
	['/order2', 200, "returned uri=/show\n"],
	['/brk', 404, undef],
	['/brk2', 404, undef],
	['/cycle', 500, undef],
	['/nine', 200, "nine uri=/nine/1xx\n"],
	['/map?k=abc', 200, "m=exact h=def 1= num=\n"],
	['/map?k=ABC', 200, "m=exact h=def 1= num=\n"],
	['/map?k=', 200, "m=empty h=def 1= num=\n"],
	['/map', 200, "m=empty h=def 1= num=\n"],
	['/map?k=re42', 200, "m=re-42 h=def 1=42 num=\n"],
	['/map?k=cIxx', 200, "m=caseless h=def 1= num=\n"],
	['/map?k=a.w.com', 200, "m=def h=def 1= num=\n"],
	['/map?k=*.w.com', 200, "m=literal-star h=def 1= num=\n"],
	['/map?k=default', 200, "m=backslash h=def 1= num=\n"],
	['/map?k=var&v=9', 200, "m=v=9 h=def 1= num=\n"],
	['/map?k=zzz', 200, "m=def h=def 1= num=\n"],
	['/map?k=included', 200, "m=from-include h=def 1= num=\n"],
	[['/map', 'ABC.com'], 200, "m=empty h=exact 1= num=\n"],
	[['/map', 'abc.com.'], 200, "m=empty h=exact 1= num=\n"],
	[['/map', 'q.w.com'], 200, "m=empty h=head 1= num=\n"],
	[['/map', 'b.a.w.com'], 200, "m=empty h=longer-head 1= num=\n"],
	[['/map', 'w.com'], 200, "m=empty h=def 1= num=\n"],
	[['/map', 'x.com'], 200, "m=empty h=dot 1= num=\n"],
	[['/map', 'deep.y.x.com'], 200, "m=empty h=dot 1= num=\n"],
	[['/map', 'www.t.org'], 200, "m=empty h=tail 1= num=\n"],
	[['/map', 're7.test'], 200, "m=empty h=re-7 1=7 num=7\n"],
	# nginx finds every value of a template (for its length) before it
	# writes any: the map's regex has set $1 by then
	['/caporder/loc?k=re5', 200, "1=5 m=re-5 1=5\n"],
	['/caporder/loc?k=abc', 200, "1=loc m=exact 1=loc\n"],
	['/a', 200, "from=uri-a\n"],
	['/mapuri?k=abc', 200, "from=other:/mapuri chained=chained-exact\n"],
	['/mapuri?k=x', 200, "from=other:/mapuri chained=chained-other\n"],
	['/vol', 200, "before=/vol|/vol vol=/volx kept=/vol\n"],
	['/mapcycle', 200, "a=[]\n"],
	['/upgrade', 200, "c=close\n"],
	[['/upgrade', 'localhost', 'GET', "Upgrade: websocket\r\n"], 200, "c=upgrade\n"],
	['/ep/404', 404, "error page method=GET uri=/err/page\n"],
	[['/ep/404', 'localhost', 'POST', "Content-Length: 0\r\n"], 404, "error page method=GET uri=/err/page\n"],
	[['/ep/404', 'localhost', 'HEAD'], 404, ''],
	['/ep/403', 200, "error page method=GET uri=/err/page\n"],
	['/ep/410', 202, "status page\n"],
	[['/ep/401', 'localhost', 'POST', "Content-Length: 0\r\n"], 401, "named method=POST uri=/ep/401\n"],
	['/ep/402', 302, { location => 'http://example.com/pay?x=/ep/402' }],
	['/ep/405', 301, { location => 'http://example.com/moved' }],
	['/ep/missing', 404, undef],
	['/ep/inherit', 404, "error page method=GET uri=/err/page\n"],
	['/ep/own', 404, undef],
	# "internal" holds for the locations nested in it too
	['/err/page', 404, undef],
	['/err/other', 404, undef],
	['/int', 404, undef],
	['/toint', 200, "internal\n"],
	['/rec', 404, "rec3\n"],
	# captures encoded again as nginx does, when the path was encoded
	['/enc/r/a%20b', 302, { location => 'http://x/a%20b' }],
	['/enc/r/a+b', 302, { location => 'http://x/a+b' }],
	['/enc/r/a&b', 302, { location => 'http://x/a&b' }],
	['/enc/r/a%3Fb%26c', 302, { location => 'http://x/a?b%26c' }],
	['/enc/r/%41b%2fc', 302, { location => 'http://x/Ab/c' }],
	['/enc/r/%C3%A9%25', 302, { location => 'http://x/%C3%A9%25' }],
	['/enc/ra/a%20b%3C', 302, { location => 'http://x/p?a=a%20b%3C' }],
	['/enc/ra/a+b', 302, { location => 'http://x/p?a=a%2Bb' }],
	['/enc/ra/a&b', 302, { location => 'http://x/p?a=a&b' }],
	['/enc/ra/%7e!', 302, { location => 'http://x/p?a=~!' }],
	# a named capture is a variable: nginx does not encode it again
	['/enc/n/a%20b', 302, { location => 'http://x/a b?b=a b' }],
	['/enc/i/a%20b', 200, "target uri=/target/a b args= is= ru=/enc/i/a%20b\n"],
	['/enc/ia/a+b%26', 200, "show uri=/show args=[a=a%2Bb%26] q=[a=a%2Bb%26] is=[?] a=[a%2Bb%26]\n"],
	[['/big', 'localhost', 'POST', "Content-Length: 100\r\n\r\n" . 'x' x 98], 413, "error page method=GET uri=/err/page\n"],
	[['/big', 'localhost', 'POST', "Content-Length: 5\r\n\r\n12345"], 200, "not too big\n"],
	['/ret30x', 302, { location => 'http://localhost:PORT/relative' }],
	['/noabs', 302, { location => '/rel' }],
	[['/noport', 'other.name'], 302, { location => 'http://other.name/rel' }],
	[['/sname', 'other.name'], 301, { location => 'http://localhost:PORT/rel' }],
	[['/ret30x', 'Other.Name:1234'], 302, { location => 'http://other.name:PORT/relative' }],
	[['/ret30x', '-'], 302, { location => 'http://127.0.0.1:PORT/relative' }],
	[['/anything', 'srvret'], 200, "server-level srv /anything\n"],
	[['/x', 'srvbreak'], 200, "loc uri=/y\n"],
	['/if/e', 200, "empty\n"],
	['/if/e?a=1', 200, "nonempty\n"],
	['/if/ne?a=y', 200, "not x\n"],
	['/if/ne?a=x', 200, "x\n"],
	['/if/q?a=x1&b=1', 200, "eq\n"],
	['/if/q?a=x1&b=2', 200, "other\n"],
	['/if/r?a=12', 200, "num 12\n"],
	['/if/r?a=x', 200, "nonum\n"],
	['/if/ri?a=ABCd', 200, "ci\n"],
	['/if/ri?a=zz', 200, "not-abc\n"],
	['/if/nri?a=zz', 200, "not-ci\n"],
	['/if/nri?a=AbC', 200, "ci-abc\n"],
	['/if/s?a=1', 200, "x=yes\n"],
	['/if/s?a=0', 200, "x=\n"],
	['/if/s', 200, "x=\n"],
	['/if/t?a=1', 200, "t uri=/if/u\n"],
	['/if/t', 200, "t uri=/if/t\n"],
	['/if/v?a=1', 404, undef],
	['/if/v', 200, "v uri=/if/v\n"],
	['/if/l?a=1', 200, "u\n"],
	['/if/y?a=1', 404, "u\n"],
	['/if/y', 404, undef],
	['/if/b?a=1', 404, undef],
	['/if/b', 200, "not broken\n"],
	[['/z', 'srvif', 'GET', "X-Go: 1\r\n"], 200, "server-level if\n"],
	[['/z', 'srvif'], 200, "no if\n"],
);

sub ask {
	my ($port, $req) = @_;
	my ($path, $host, $method, $extra) = ref $req ? @$req : ($req);
	$host //= 'localhost';
	$method //= 'GET';
	$extra //= '';
	# host "-": an HTTP/1.0 request without Host
	my $raw = $host eq '-' ? http($port, "$method $path HTTP/1.0\r\n$extra\r\n")
	    : http($port, "$method $path HTTP/1.1\r\nHost: $host\r\n"
	    . "Connection: close\r\n$extra\r\n");
	return parse_response($raw);
}

# how many answers two pipelined requests get: after some errors (500
# here) nginx closes the connection, after others (404) it keeps it
sub pipelined {
	my ($port, $first) = @_;
	my $raw = http($port, "GET $first HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    . "GET /order HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	return scalar PorticoTest::split_responses($raw);
}

sub run_cases {
	my ($name, $port) = @_;
	my %got;
	my %closes = ('/cycle' => 1, '/r400' => 1);
	for my $first ('/brk', '/cycle', '/ep/404', '/set?x=1', '/r500t',
	    '/r400', '/r403') {
		my $n = pipelined($port, $first);
		$got{"pipelined after $first"} = $n;
		is($n, $closes{$first} ? 1 : 2, "$name: answers to $first then another request");
	}
	for my $c (@cases) {
		my ($req, $status, $want) = @$c;
		my $label = "$name: " . (ref $req ? join(' ', grep { defined } @$req[0 .. 2]) : $req);
		$label =~ s/\r\n//g;
		my ($st, $h, $body) = ask($port, $req);
		is($st, $status, "$label: status $status");
		if (ref $want) {
			for my $k (sort keys %$want) {
				(my $v = $want->{$k}) =~ s/PORT/$port/g;
				is($h->{$k}, $v, "$label: $k");
			}
		} elsif (defined $want) {
			is($body, $want, "$label: body");
		}
		(my $loc = $h->{location} // '') =~ s/:$port\b/:PORT/;
		my $b = ref $want || !defined $want ? '' : $body;
		$got{$label =~ s/^\w+: //r} = "$st $loc $b";
	}
	return \%got;
}

my $t = PorticoTest->new;
my $port = $t->port(0);
(my $pconf = $conf) =~ s/PORT/$port/g;
$t->write_file('map.inc', "included from-include;\n");
$t->write_conf($pconf);
$t->run;
my $p = run_cases('portico', $port);

# the log lines a user would grep
my $log = $t->error_log;
like($log, qr/\[error\] .*rewrite or internal redirection cycle while processing "\/cycle2?"/,
    'cycle: nginx\'s log line');

# a map whose value needs itself: empty, and nginx's error line
{
	like($t->error_log, qr/\[error\] .*cycle while evaluating variable "cycle_a"/,
	    'a cycle of maps: logged');
}

$t->stop;

# the request's memory is bounded: a rewrite that outgrows it is a 500
# with a reason in the log, not a crash or a larger allocation
{
	my $t4 = PorticoTest->new;
	my $p4 = $t4->port(0);
	$t4->write_conf(<<"EOF");
events {}
http {
    server {
        listen 127.0.0.1:$p4;
        location /grow/ {
            rewrite ^(.*)\$ \$1\$1;
            rewrite ^(.*)\$ \$1\$1;
            rewrite ^(.*)\$ \$1\$1;
            rewrite ^(.*)\$ \$1\$1;
            return 200 "grown\n";
        }
    }
}
EOF
	$t4->run;
	my ($st, undef, $body) = ask($p4, '/grow/' . ('a' x 200));
	is("$st $body", "200 grown\n", 'a rewrite that fits: served');
	($st) = ask($p4, '/grow/' . ('a' x 1500));
	is($st, 500, 'a rewrite larger than the request memory: 500');
	ok($t4->wait_log(qr/\[error\] .*no per-request memory left for a rewrite/),
	    'and the reason logged');
	($st, undef, $body) = ask($p4, '/grow/b');
	is("$st $body", "200 grown\n", 'the next request is served');
	$t4->stop;
}

# rewrite_log: notices of each rewrite

my $t2 = PorticoTest->new;
my $port2 = $t2->port(0);
$t2->write_conf(<<"EOF");
error_log logs/error.log notice;
events {}
http {
    server {
        listen 127.0.0.1:$port2;
        rewrite_log on;
        location / {
            rewrite ^/nomatch\$ /x;
            rewrite ^/old/(.*)\$ /new/\$1?y=2 last;
            return 200 "\$uri\n";
        }
        location /new/ {
            return 200 "\$uri\n";
        }
        location = /quiet {
            rewrite_log off;
            rewrite ^ /new/quiet last;
        }
    }
}
EOF
$t2->run;
my ($st, undef, $body) = ask($port2, '/old/a?z=1');
is("$st $body", "200 /new/a\n", 'rewrite_log: request served');
ok($t2->wait_log(qr/rewritten data: "\/new\/a", args: "y=2&z=1"/),
    'rewrite_log: rewritten data logged');
my $l = $t2->error_log;
like($l, qr/\[notice\] .*"\^\/nomatch\$" does not match "\/old\/a"/, 'rewrite_log: no match logged');
like($l, qr/\[notice\] .*"\^\/old\/\(\.\*\)\$" matches "\/old\/a", client: 127\.0\.0\.1/, 'rewrite_log: match logged with the context');
($st, undef, $body) = ask($port2, '/quiet');
is("$st $body", "200 /new/quiet\n", 'rewrite_log off: served');
unlike($t2->error_log, qr/matches "\/quiet"/, 'rewrite_log off: nothing logged');
$t2->stop;

# a variable used nowhere defined is an error at -t, with its place
my $t3 = PorticoTest->new;
$t3->write_conf(<<'EOF');
events {}
http {
    server {
        location / { return 200 "$undefined_var"; }
    }
}
EOF
# (line 5: the harness puts an error_log line first)
my ($code, $out) = $t3->run_cmd('-t');
is($code, 1, 'undefined variable: -t fails');
like($out, qr/\[emerg\] \S+portico\.conf:5: unknown "undefined_var" variable/,
    'undefined variable: named with file and line');
# a set further on defines it, as in nginx
$t3->write_conf(<<'EOF');
events {}
http {
    server {
        location / { return 200 "$later"; }
        location /x { set $later 1; }
    }
}
EOF
($code, $out) = $t3->run_cmd('-t');
is($code, 0, 'a variable set further on may be used before') or diag($out);

# nginx on the same config and table
SKIP: {
	skip 'nginx is not installed', 1 unless PorticoTest::Nginx::available();
	(my $nconf = $conf) =~ s/PORT/%%PORT%%/g;
	# the include of portico's test directory
	my $inc = $t->dir . '/map.inc';
	$nconf =~ s/include   map\.inc;/include   $inc;/;
	my $ng = PorticoTest::Nginx->start($nconf);
	skip 'nginx did not start', 1 unless $ng;
	my $n = run_cases('nginx', $ng->port);
	my @diff = grep { $p->{$_} ne $n->{$_} } sort keys %$p;
	is_deeply(\@diff, [], 'portico and nginx answer the whole table alike')
	    or diag(join("\n", map { "$_: portico '$p->{$_}', nginx '$n->{$_}'" } @diff));
	like($ng->error_log, qr/rewrite or internal redirection cycle while processing/,
	    'nginx logs the same cycle line');
	$ng->stop;
}

done_testing();

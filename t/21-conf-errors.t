#!/usr/bin/perl
# Configuration errors as "portico -t" reports them: one line per error,
# "portico: [emerg] FILE:LINE: message" in nginx's words, every error of
# the files at once, then "test failed" and exit 1.  And the lexical rules
# that a good file may use: quotes, escapes, comments, includes with globs,
# time units.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http parse_response bin);
*scenario = \&PorticoTest::scenario;

my $t = PorticoTest->new;
my $dir = $t->dir;
my $bin = bin();

# portico -t on prefix/$name; (exit code, stderr)
sub conf_test {
	my ($name) = @_;
	my ($code, $out, $err) = $t->capture([$bin, '-p', "$dir/", '-c',
	    "$dir/$name", '-t']);
	return ($code, $err);
}

sub emerg_lines { grep { /^portico: \[emerg\] / } split /\n/, $_[0] }

# name, file text, line, message (FILE is the file itself)
my @cases = (
	['unknown directive', "events {}\nfoo bar;\n",
	    2, 'unknown directive "foo"'],
	['not allowed here', "events {}\nhttp {\n    worker_processes 2;\n}\n",
	    3, '"worker_processes" directive is not allowed here'],
	['not allowed in a location',
	    "events {}\nhttp {\n server {\n  location / {\n   listen 80;\n  }\n }\n}\n",
	    5, '"listen" directive is not allowed here'],
	['too few arguments',
	    "events {}\nhttp {\n    server {\n        listen;\n    }\n}\n",
	    4, 'invalid number of arguments in "listen" directive'],
	['too many arguments', "worker_processes 1 2;\nevents {}\n",
	    1, 'invalid number of arguments in "worker_processes" directive'],
	['arguments to a block', "events x {}\n",
	    1, 'invalid number of arguments in "events" directive'],
	['stray }', "events {}\n}\n", 2, 'unexpected "}"'],
	['} ends a directive',
	    "events {}\nhttp {\n server { listen 127.0.0.1:%%PORT_0%% }\n}\n",
	    3, 'unexpected "}"'],
	# nginx counts the line after the last newline
	['end of file in a block', "events {}\nhttp {\n    server {\n",
	    4, 'unexpected end of file, expecting "}"'],
	['end of file in a block, no newline', "events {}\nhttp {",
	    2, 'unexpected end of file, expecting "}"'],
	['end of file in a directive', "events {}\nhttp {}\nworker_processes 2",
	    3, 'unexpected end of file, expecting ";" or "}"'],
	['no opening {', "events {}\nhttp {\n    server;\n}\n",
	    3, 'directive "server" has no opening "{"'],
	['not terminated by ;', "events {}\nworker_processes 2 {\n}\n",
	    2, 'directive "worker_processes" is not terminated by ";"'],
	['duplicate', "worker_processes 1;\nworker_processes 2;\nevents {}\n",
	    2, '"worker_processes" directive is duplicate'],
	['duplicate events', "events {}\nevents {}\n",
	    2, '"events" directive is duplicate'],
	['daemon value', "events {}\ndaemon maybe;\n",
	    2, 'invalid value "maybe" in "daemon" directive, it must be "on" or "off"'],
	['listen port too big',
	    "events {}\nhttp {\n server {\n  listen 127.0.0.1:99999;\n }\n}\n",
	    4, 'invalid port in "127.0.0.1:99999" of the "listen" directive'],
	['listen port 0',
	    "events {}\nhttp {\n server {\n  listen 127.0.0.1:0;\n }\n}\n",
	    4, 'invalid port in "127.0.0.1:0" of the "listen" directive'],
	['listen port not a number',
	    "events {}\nhttp {\n server {\n  listen 127.0.0.1:http;\n }\n}\n",
	    4, 'invalid port in "127.0.0.1:http" of the "listen" directive'],
	['duplicate default server', <<'EOF', 7,
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%% default_server;
    }
    server {
        listen 127.0.0.1:%%PORT_0%% default_server;
    }
}
EOF
	    'a duplicate default server for 127.0.0.1:%%PORT_0%%'],
	['duplicate location', <<'EOF', 6, 'duplicate location "/x"'],
events {}
http {
    server {
        location /x { }
        location /y { }
        location /x { }
    }
}
EOF
	['duplicate exact location', <<'EOF', 5, 'duplicate location "/x"'],
events {}
http {
    server {
        location = /x { }
        location = /x { }
        location /x { }
    }
}
EOF
	['nested location outside', <<'EOF', 5,
events {}
http {
    server {
        location /a {
            location /b { }
        }
    }
}
EOF
	    'location "/b" is outside location "/a"'],
	['unknown variable', <<'EOF', 5, 'unknown "foo" variable'],
events {}
http {
    server {
        location / {
            return 200 "x $foo";
        }
    }
}
EOF
	['missing include', "events {}\nhttp {\n    include missing.conf;\n}\n",
	    3, 'open() "%%DIR%%/missing.conf" failed (2: No such file or directory)'],
	['log level', "error_log logs/error.log loud;\nevents {}\n",
	    1, 'invalid log level "loud"'],
);

my $n = 0;
for my $c (@cases) {
	my ($name, $text, $line, $msg) = @$c;
	my $file = "case" . $n++ . ".conf";
	my $path = $t->write_file($file, $text);
	$msg = $t->expand($msg);
	my ($code, $err) = conf_test($file);
	is($code, 1, "$name: exit 1");
	my @e = emerg_lines($err);
	is_deeply(\@e, ["portico: [emerg] $path:$line: $msg"],
	    "$name: $msg, once, at line $line");
	like($err, qr/\nportico: configuration file \Q$path\E test failed\n\z/,
	    "$name: test failed");
}

# errors inside included files carry their own file name and line; the
# including file's lines stay right after the include
{
	mkdir "$dir/inc";
	my $inc = $t->write_file('inc/bad.conf', <<'EOF');
# included from main.conf

server {
    listen 127.0.0.1:%%PORT_0%%;
    bogus_in_include on;
}
EOF
	my $main = $t->write_file('main.conf', <<'EOF');
events {}
http {
    include inc/bad.conf;

    bogus_in_main on;
}
EOF
	my ($code, $err) = conf_test('main.conf');
	is($code, 1, 'include: exit 1');
	is_deeply([emerg_lines($err)], [
	    "portico: [emerg] $inc:5: unknown directive \"bogus_in_include\"",
	    "portico: [emerg] $main:5: unknown directive \"bogus_in_main\"",
	], 'include: each error with its own file and line');

	# through a glob: only the file with the error is named
	mkdir "$dir/glob.d";
	$t->write_file('glob.d/a.conf', "keepalive_timeout 5s;\n");
	my $b = $t->write_file('glob.d/b.conf', "\nsend_timeout forever;\n");
	$t->write_file('glob.conf', "events {}\nhttp {\n    include glob.d/*.conf;\n}\n");
	($code, $err) = conf_test('glob.conf');
	is($code, 1, 'glob include: exit 1');
	is_deeply([emerg_lines($err)], [
	    "portico: [emerg] $b:2: invalid value \"forever\" in \"send_timeout\" directive",
	], 'glob include: the error in the second file');
}

# three different errors are reported at once, in order
{
	my $path = $t->write_file('three.conf', <<'EOF');
events {}
unknown_one on;
http {
    server {
        worker_connections 10;
        location /a { }
        location /a { }
    }
}
EOF
	my ($code, $err) = conf_test('three.conf');
	is($code, 1, 'three errors: exit 1');
	is_deeply([emerg_lines($err)], [
	    "portico: [emerg] $path:2: unknown directive \"unknown_one\"",
	    "portico: [emerg] $path:5: \"worker_connections\" directive is not allowed here",
	    "portico: [emerg] $path:7: duplicate location \"/a\"",
	], 'three errors: all reported');
	like($err, qr/\nportico: configuration file \Q$path\E test failed\n\z/,
	    'three errors: then test failed');
}

# a good file using the lexical rules: it passes -t and serves what it says
scenario('lexical rules', sub {
	my ($t) = @_;
	my $dir = $t->dir;
	mkdir "$dir/conf.d";
	$t->write_file('conf.d/a.conf', <<'EOF');
server { listen 127.0.0.1:%%PORT_1%%; return 200 "from a\n"; }
EOF
	$t->write_file('conf.d/b.conf', <<'EOF');
server { listen 127.0.0.1:%%PORT_1%%; server_name b.test; return 200 "from b\n"; }
EOF
	# not matched by the glob
	$t->write_file('conf.d/README', "this is not a configuration {\n");
	$t->write_conf(<<'EOF');
# a comment line
worker_processes 1;   # a comment after a directive
worker_shutdown_timeout 1m30s;
events { worker_connections 64; }
http {
    keepalive_timeout 1h 1h30m;
    send_timeout 1m;
    client_header_timeout 30000ms;
    include "conf.d/*.conf";
    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name 'single.test' "double.test" plain.test;
        location = /dq { return 200 "d \"q\" 's' \\ \t.\n"; }
        location = /sq { return 200 's \'q\' "d"'; }
        location = /hash { return 200 "not # a comment"; }
        location = /mid { return 200 a#b; }
        location = /special { return 200 "semi;colon {brace}"; }
        location = /lines { return 200 "line1
line2"; }
        location = /braces { return 200 "${uri}:$host"; }
        location = /unquoted { return 200 a\tb\"c\\d\;e; }
        location = "/quoted location" { return 200 "ql"; }
    }
}
EOF
	my ($code, $out, $err) = $t->run_cmd3('-t');
	is($code, 0, 'lexical rules: -t ok') or diag($err);
	$t->run;
	$t->wait_ready(1);
	my $p = $t->port(0);
	my %want = (
		'/dq' => "d \"q\" 's' \\ \t.\n",
		'/sq' => 's \'q\' "d"',
		'/hash' => 'not # a comment',
		'/mid' => 'a#b',
		'/special' => 'semi;colon {brace}',
		'/lines' => "line1\nline2",
		'/braces' => '/braces:plain.test',
		# nginx unescapes \" \' \\ \t \r \n the same way in unquoted
		# words and keeps other escapes such as "\;" as written
		'/unquoted' => "a\tb\"c\\d\\;e",
	);
	for my $uri (sort keys %want) {
		my ($st, $h, $body) = parse_response(http($p,
		    "GET $uri HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n"));
		is($body, $want{$uri}, "lexical rules: $uri");
	}
	my ($st, $h, $body) = parse_response(http($p,
	    "GET /braces HTTP/1.1\r\nHost: single.test\r\n\r\n", want => 1));
	is($h->{'keep-alive'}, 'timeout=5400',
	    'time units: keepalive_timeout 1h 1h30m');
	is($h->{connection}, 'keep-alive', 'keep-alive on');
	(undef, undef, $body) = parse_response(http($p,
	    "GET /quoted%20location HTTP/1.1\r\nHost: double.test\r\nConnection: close\r\n\r\n"));
	is($body, 'ql', 'a quoted location with a space');

	my $q = $t->port(1);
	(undef, undef, $body) = parse_response(http($q,
	    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
	is($body, "from a\n", 'glob include: files read in order (a is the default)');
	(undef, undef, $body) = parse_response(http($q,
	    "GET / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n"));
	is($body, "from b\n", 'glob include: the second file');
	$t->stop;
});

$t->sanitizer_clean;
done_testing();

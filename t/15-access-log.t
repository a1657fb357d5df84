#!/usr/bin/perl
# access_log and log_format: the combined format, escapes, several logs,
# inheritance, off, if=, buffer= and flush=, reopen on USR1, errors.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http http_get wait_until slurp);

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
worker_processes 1;
events {}
http {
    log_format j escape=json '{"uri":"$uri","status":$status,'
                             '"arg":"$arg_x","cookie":"$cookie_id",'
                             '"ua":"$http_user_agent","id":"$request_id"}';
    log_format raw escape=none '$request|$status|$body_bytes_sent|$bytes_sent|'
                               '$request_length|$request_time|$msec|$time_iso8601';
    access_log logs/all.log;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "ok\n"; }
        location /json {
            access_log logs/json.log j;
            access_log logs/raw.log raw;
            return 404;
        }
        location /quiet { access_log off; return 200 "quiet\n"; }
        location /cond { access_log logs/cond.log combined if=$arg_log; return 200 "c\n"; }
        location /buf {
            access_log logs/buf.log combined buffer=4k flush=2s;
            return 200 "b\n";
        }
    }
}
EOF
$t->run;
my $p = $t->port(0);
my $logs = $t->dir . '/logs';

sub get { my ($path, %h) = @_; return (http_get($p, $path, %h))[0] }

is(get('/a?b=1', 'User-Agent' => 'Agent "x"', Referer => 'http://r/'), 200, 'request');
ok(wait_until(sub { slurp("$logs/all.log") =~ /GET \/a/ }), 'combined line written');
like(slurp("$logs/all.log"),
    qr{^127\.0\.0\.1 - - \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /a\?b=1 HTTP/1\.1" 200 3 "http://r/" "Agent \\x22x\\x22"\n}m,
    'combined format: "-" for no user, default escaping of quotes');

is(get('/json?x=a%22b', Cookie => 'sid=1; id=77', 'User-Agent' => "UA\"q"), 404,
    'request to a location with two logs');
ok(wait_until(sub { -s "$logs/json.log" }), 'json log written');
like(slurp("$logs/json.log"),
    qr/^\{"uri":"\/json","status":404,"arg":"a%22b","cookie":"77","ua":"UA\\"q","id":"[0-9a-f]{32}"\}\n$/,
    'escape=json, $arg_, $cookie_, $request_id');
like(slurp("$logs/raw.log"),
    qr{^GET /json\?x=a%22b HTTP/1\.1\|404\|\d+\|\d+\|\d+\|\d+\.\d{3}\|\d+\.\d{3}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\n$},
    'escape=none and the request variables');
my ($body, $all) = (split /\|/, slurp("$logs/raw.log"))[2, 3];
cmp_ok($all, '>', $body, '$bytes_sent counts the head, $body_bytes_sent not');
unlike(slurp("$logs/all.log"), qr{/json}, 'a location with its own logs replaces the inherited one');

is(get('/quiet'), 200, 'request to access_log off');
is(get('/'), 200, 'a later request');
ok(wait_until(sub { slurp("$logs/all.log") =~ m{"GET / HTTP} }), 'the later one is logged');
unlike(slurp("$logs/all.log"), qr{/quiet}, 'access_log off logs nothing');

get('/cond?log=0');
get('/cond');
get('/cond?log=yes');
ok(wait_until(sub { -s "$logs/cond.log" }), 'conditional log written');
my @cond = split /\n/, slurp("$logs/cond.log");
is(scalar @cond, 1, 'if= skips empty and "0"');
like($cond[0], qr/log=yes/, 'and logs the rest');

# buffer= and flush=: nothing until the buffer is flushed
get('/buf');
is(-s "$logs/buf.log" // 0, 0, 'a buffered line is not written at once');
ok(wait_until(sub { -s "$logs/buf.log" }, 6), 'flush= writes it');

# reopen: the renamed file gets nothing more
rename("$logs/all.log", "$logs/all.log.1");
$t->signal('USR1');
ok(wait_until(sub { -e "$logs/all.log" }), 'USR1 creates the log again');
get('/after-reopen');
ok(wait_until(sub { slurp("$logs/all.log") =~ /after-reopen/ }),
    'new lines go to the new file');
unlike(slurp("$logs/all.log.1"), qr/after-reopen/, 'not to the renamed one');
if ($> == 0) {
	my $uid = (stat("$logs/all.log"))[4];
	is($uid, scalar getpwnam('nobody'), 'the new file belongs to the workers\' user');
}

$t->stop;

# config errors
my $e = PorticoTest->new;
$e->write_conf(<<'EOF');
events {}
http {
    log_format a '$uri';
    log_format a '$uri';
    log_format combined '$uri';
    server { listen 127.0.0.1:%%PORT_0%%; access_log logs/x.log nosuch; }
}
EOF
my ($rc, $out) = $e->run_cmd('-t');
is($rc, 1, "-t fails (the harness adds an error_log line first)");
like($out, qr/:5: duplicate "log_format" name "a"/, 'duplicate format');
like($out, qr/:6: duplicate "log_format" name "combined"/, 'combined is built in');
like($out, qr/:7: unknown log format "nosuch"/, 'unknown format');

done_testing();

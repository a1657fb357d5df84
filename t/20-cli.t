#!/usr/bin/perl
# The command line: -h -v -V -t -T -q -L -s -g -p -c, as a user types them.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http_get bin slurp wait_until);
*scenario = \&PorticoTest::scenario;

my $t = PorticoTest->new;
my $dir = $t->dir;
my $bin = bin();

my $good = <<'EOF';
worker_processes 1;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "cli:$pid\n"; }
    }
}
EOF
my $conf = $t->write_conf($good);

# -h, -?: usage on stderr, nothing on stdout, exit 0
for my $opt ('-h', '-?') {
	my ($code, $out, $err) = $t->capture([$bin, $opt]);
	is($code, 0, "$opt exits 0");
	is($out, '', "$opt prints nothing on stdout");
	like($err, qr/^Usage: portico /, "$opt prints the usage on stderr");
	for my $o (qw(? h v V t T q L s p c g)) {
		like($err, qr/^\s+(?:-\?,)?-\Q$o\E[\s,]/m, "$opt: -$o is described");
	}
}

# -v, -V
{
	my ($code, $out, $err) = $t->capture([$bin, '-v']);
	is($code, 0, '-v exits 0');
	is($err, "portico version: portico/0.1.0\n", '-v prints the version');
	is($out, '', '-v prints nothing on stdout');

	($code, $out, $err) = $t->capture([$bin, '-V']);
	is($code, 0, '-V exits 0');
	like($err, qr/\Aportico version: portico\/0\.1\.0\n/, '-V starts with the version');
	like($err, qr/^built with OpenSSL \d/m, '-V names OpenSSL');
	like($err, qr/^built with PCRE2 \d/m, '-V names PCRE2');
	like($err, qr/^built with zlib \d/m, '-V names zlib');
	like($err, qr/^configure arguments:/m, '-V shows the configure arguments');
}

# -t: success
{
	my ($code, $out, $err) = $t->run_cmd3('-t');
	is($code, 0, '-t on a good file exits 0');
	is($err, "portico: the configuration file $conf syntax is ok\n"
	    . "portico: configuration file $conf test is successful\n",
	    '-t success lines');
	is($out, '', '-t prints nothing on stdout');
	ok(!-e $t->pid_file, '-t starts nothing');

	($code, $out, $err) = $t->run_cmd3('-q', '-t');
	is($code, 0, '-q -t on a good file exits 0');
	is($err . $out, '', '-q -t is silent on success');
}

# -t: failure
{
	my $bad = $t->write_conf("events {}\nno_such_thing on;\n", 'bad.conf');
	my ($code, $out, $err) = $t->run_cmd3('-t');
	is($code, 1, '-t on a bad file exits 1');
	is($err, "portico: [emerg] $bad:3: unknown directive \"no_such_thing\"\n"
	    . "portico: configuration file $bad test failed\n",
	    '-t failure: the error, then "test failed"');

	($code, $out, $err) = $t->run_cmd3('-q', '-t');
	is($code, 1, '-q -t on a bad file exits 1');
	like($err, qr/^portico: \[emerg\] \Q$bad\E:3: unknown directive "no_such_thing"$/m,
	    '-q -t still prints the error');
	unlike($err, qr/syntax is ok/, '-q -t: no success line');

	# a bad file does not start either
	($code, $out, $err) = $t->run_cmd3('-g', 'daemon off;');
	is($code, 1, 'starting with a bad file exits 1');
	like($err, qr/^portico: \[emerg\] \Q$bad\E:3: unknown directive "no_such_thing"$/m,
	    'starting with a bad file shows the error');
	ok(!-e $t->pid_file, 'no pid file after a failed start');

	($code, $out, $err) = $t->run_cmd3('-t', '-c', "$dir/missing.conf");
	is($code, 1, '-t on a missing file exits 1');
	my $want = "portico: [emerg] open() \"$dir/missing.conf\" failed "
	    . "(2: No such file or directory)";
	like($err, qr/^\Q$want\E$/m,
	    '-t on a missing file names it');
}

# -T: -t, then every file read, main file first
{
	mkdir "$dir/conf.d";
	my $inc_text = "# included\nkeepalive_timeout 10s;\n";
	my $inc = $t->write_file('conf.d/ka.conf', $inc_text);
	my $main_text = <<'EOF';
events {}
http {
    include conf.d/*.conf;
    server { listen 127.0.0.1:%%PORT_0%%; return 204; }
}
EOF
	my $main = $t->write_conf($main_text, 'dump.conf');
	my ($code, $out, $err) = $t->run_cmd3('-T');
	is($code, 0, '-T exits 0');
	like($err, qr/^portico: configuration file \Q$main\E test is successful$/m,
	    '-T prints the -t lines on stderr');
	my $expect = "# configuration file $main:\n" . slurp($main) . "\n"
	    . "# configuration file $inc:\n" . $inc_text . "\n";
	is($out, $expect, '-T dumps the main file, then the included one');

	($code, $out, $err) = $t->run_cmd3('-q', '-T');
	is($err, '', '-q -T: nothing on stderr');
	is($out, $expect, '-q -T still dumps');
	$t->write_conf($good);
}

# -L
{
	my ($code, $out, $err) = $t->capture([$bin, '-L']);
	is($code, 0, '-L exits 0');
	my @lines = split /\n/, $out;
	my $ctx = qr/(?:main|events|http|server|location|types|upstream|map|if)/;
	my @bad = grep { !/^[a-z][a-z0-9_]*\t$ctx(?:,$ctx)*$/ } @lines;
	ok(@lines > 20 && !@bad, '-L: "name<TAB>ctx,ctx" lines')
	    or diag("bad lines: @bad");
	my %seen;
	my @dups = grep { $seen{(split /\t/)[0]}++ } @lines;
	ok(!@dups, '-L lists each directive once') or diag("@dups");
	for my $want ("listen\tserver", "include\tmain,events,http,server,location,types,upstream,map,if",
	    "worker_processes\tmain", "location\tserver,location",
	    "worker_connections\tevents", "return\tserver,location,if", "map\thttp", "if\tserver,location") {
		ok((grep { $_ eq $want } @lines), "-L has \"$want\"")
		    or diag($out);
	}

	# every listed directive is known to the parser: used with no
	# argument in the main context, none is an "unknown directive"
	my $all = join('', map { (split /\t/)[0] . ";\n" } @lines);
	$t->write_conf("error_log logs/error.log;\n$all", 'all.conf');
	(undef, undef, $err) = $t->run_cmd3('-t');
	unlike($err, qr/unknown directive/, 'every directive of -L is known')
	    or diag($err);
	$t->write_conf($good);
}

# invalid options
{
	my ($code, $out, $err) = $t->capture([$bin, '-x']);
	is($code, 1, 'invalid option exits 1');
	like($err, qr/^portico: invalid option: "x"$/m, 'invalid option named');
	($code, $out, $err) = $t->capture([$bin, 'stray']);
	is($code, 1, 'a stray argument exits 1');
	like($err, qr/invalid option: "stray"/, 'stray argument named');
	($code, $out, $err) = $t->capture([$bin, '-c']);
	is($code, 1, '-c without a file exits 1');
	like($err, qr/option "-c" requires file name/, '-c without a file');
	($code, $out, $err) = $t->capture([$bin, '-s']);
	is($code, 1, '-s without a signal exits 1');
	like($err, qr/option "-s" requires signal name/, '-s without a signal');
}

# -s without a running master, -s bogus
{
	my $pidf = $t->pid_file;
	unlink $pidf;
	my ($code, $out, $err) = $t->run_cmd3('-s', 'stop');
	is($code, 1, '-s stop without a pid file exits 1');
	like($err, qr/^portico: \[error\] open\(\) "\Q$pidf\E" failed \(2: No such file or directory\)$/m,
	    '-s stop names the missing pid file');

	# a stale pid file: the process is gone
	my $dead = fork // die;
	POSIX::_exit(0) if $dead == 0;
	waitpid($dead, 0);
	open(my $fh, '>', $pidf) or die;
	print $fh "$dead\n";
	close $fh;
	($code, $out, $err) = $t->run_cmd3('-s', 'reload');
	is($code, 1, '-s reload with a stale pid file exits 1');
	like($err, qr/kill\($dead, 1\) failed \(3: No such process\)/,
	    '-s with a stale pid file says so');

	open($fh, '>', $pidf) or die;
	print $fh "garbage\n";
	close $fh;
	($code, $out, $err) = $t->run_cmd3('-s', 'quit');
	is($code, 1, '-s with a garbage pid file exits 1');
	like($err, qr/invalid PID number "garbage" in "\Q$pidf\E"/,
	    '-s with a garbage pid file says so');
	unlink $pidf;

	($code, $out, $err) = $t->run_cmd3('-s', 'bogus');
	is($code, 1, '-s bogus exits 1');
	like($err, qr/^portico: invalid option: "-s bogus"$/m, '-s bogus named');
}

# -g adds directives; a directive both in -g and in the file is duplicate
scenario('-g', sub {
	my ($t) = @_;
	$t->write_conf(<<'EOF');
events {}
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "g:$pid\n"; }
    }
}
EOF
	$t->run(daemon => 1, args => ['-g', 'worker_processes 3;']);
	my @w = $t->wait_ready(3);
	is(scalar @w, 3, '-g worker_processes 3: three workers');
	my ($st, undef, $body) = http_get($t->port(0), '/');
	is($st, 200, '-g: the server answers');
	like($body, qr/^g:(\d+)\n$/, '-g: the answer');
	my $m = $t->master_pid;
	$t->stop;
	ok(PorticoTest::wait_gone([$m, @w], 5), '-g: all processes gone after stop');

	$t->write_conf("worker_processes 2;\nevents {}\n");
	my $c = $t->conf_path;
	my ($code, $out, $err) = $t->run_cmd3('-g', 'worker_processes 3;', '-t');
	is($code, 1, '-g duplicating the file exits 1');
	like($err, qr/^portico: \[emerg\] \Q$c\E:2: "worker_processes" directive is duplicate$/m,
	    '-g duplicating the file: "directive is duplicate" at the file line');

	($code, $out, $err) = $t->run_cmd3('-g', 'no_such_directive;', '-t');
	is($code, 1, 'a bad -g exits 1');
	like($err, qr/^portico: \[emerg\] command line:1: unknown directive "no_such_directive"$/m,
	    'errors in -g are reported as "command line"');
	$t->sanitizer_clean;
});

# -p: relative paths in the file are taken from the prefix; -c relative to
# the prefix; every command runs from /, so nothing resolves by the cwd
scenario('-p', sub {
	my ($p) = @_;
	my $pdir = $p->dir;
	mkdir "$pdir/conf";
	mkdir "$pdir/run";
	chmod 0777, "$pdir/run";
	$p->write_file('conf/inc.conf', "keepalive_timeout 5s;\n");
	$p->write_file('conf/rel.conf', <<'EOF');
error_log logs/rel-error.log info;
pid run/rel.pid;
worker_processes 1;
events {}
http {
    include inc.conf;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / { return 200 "prefix\n"; }
    }
}
EOF
	my ($code, $out, $err) = $p->capture([$bin, '-p', $pdir, '-c',
	    'conf/rel.conf', '-t']);
	is($code, 0, '-p without a slash, -c relative: -t ok');
	like($err, qr/^portico: the configuration file \Q$pdir\E\/conf\/rel.conf syntax is ok$/m,
	    '-c is taken relative to the prefix');

	$p->run_argv("$pdir/run/rel.pid", $bin, '-p', "$pdir/", '-c',
	    'conf/rel.conf', '-g', 'daemon off;');
	my $m = $p->master_pid("$pdir/run/rel.pid");
	is($m, $p->{child}, 'relative pid path: the pid file under the prefix');
	# the children are set up before the -s stop below reaches them
	is(scalar $p->wait_ready(1), 1, '-p: one worker');
	my (undef, undef, $body) = http_get($p->port(0), '/');
	is($body, "prefix\n", '-p: the server answers');
	ok(wait_until(sub { slurp("$pdir/logs/rel-error.log") =~ /\] $m#0: start worker process \d+/ }),
	    'relative error_log path: the log under the prefix');
	ok(!-e "/run/rel.pid" && !-e "/logs/rel-error.log", 'nothing written under /');

	($code, $out, $err) = $p->capture([$bin, '-p', "$pdir/", '-c',
	    'conf/rel.conf', '-s', 'stop']);
	is($code, 0, '-s stop with -p and relative -c exits 0');
	is($err, '', '-s stop prints nothing');
	ok($p->wait_exit($m, 10), '-s stop found the master through the prefix');
	ok(!-e "$pdir/run/rel.pid", 'the pid file is removed');
	# $p->stop checks logs/error.log for [alert]/[crit]: give it this log
	rename("$pdir/logs/rel-error.log", "$pdir/logs/error.log");
	$p->stop;
});

$t->sanitizer_clean;
done_testing();

package PorticoTest;

# The integration-test harness: a temporary prefix, a config written from a
# template, free ports, portico started for real, raw HTTP, and a check that
# the error log holds no [alert]/[crit] and no sanitizer report.
#
#   my $t = PorticoTest->new;
#   $t->write_conf(<<'EOF');
#   events {} http { server { listen 127.0.0.1:%%PORT_0%%; ... } }
#   EOF
#   $t->run;
#   my $r = http_get($t->port(0), '/');
#   $t->stop;

use strict;
use warnings;

use Exporter 'import';
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(http http_get parse_response wait_until free_port
    bin slurp);

our $BIN = $ENV{PORTICO_BIN} || do {
	my $d = __FILE__;
	$d =~ s{t/lib/PorticoTest\.pm$}{};
	"${d}objs/portico";
};

sub bin { $BIN }

# poll a condition; never sleep as synchronisation where it can be polled
sub wait_until {
	my ($cond, $timeout) = @_;
	$timeout //= 10;
	my $end = time + $timeout;
	while (time < $end) {
		my $r = $cond->();
		return $r if $r;
		sleep 0.02;
	}
	return $cond->();
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s // '';
}

my %used_ports;
sub free_port {
	for (1 .. 200) {
		my $p = 20000 + int(rand(30000));
		next if $used_ports{$p};
		my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => $p, Proto => 'tcp', Listen => 1,
		    ReuseAddr => 1) or next;
		close $s;
		$used_ports{$p} = 1;
		return $p;
	}
	die "no free port";
}

sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('portico-test-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{PORTICO_KEEP});
	# workers run as nobody when the tests run as root: they must be able
	# to reach the prefix to reopen logs
	chmod 0755, $dir;
	make_path("$dir/logs");
	chmod 0777, "$dir/logs";
	my $self = bless {
		dir => $dir,
		ports => [],
		allow => [],
		pid => undef,
	}, $class;
	diag("test dir: $dir") if $ENV{PORTICO_KEEP};
	return $self;
}

sub dir { $_[0]{dir} }

sub port {
	my ($self, $n) = @_;
	$self->{ports}[$n] //= free_port();
	return $self->{ports}[$n];
}

sub expand {
	my ($self, $text) = @_;
	$text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
	$text =~ s/%%DIR%%/$self->{dir}/g;
	return $text;
}

sub write_file {
	my ($self, $name, $text) = @_;
	my $path = "$self->{dir}/$name";
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $self->expand($text);
	close $fh;
	return $path;
}

sub write_conf {
	my ($self, $text, $name) = @_;
	$name //= 'portico.conf';
	$self->{conf} = $name;
	# error_log at info unless the test chose one
	$text = "error_log logs/error.log info;\n" . $text
	    unless $text =~ /^\s*error_log\b/m;
	return $self->write_file($name, $text);
}

sub conf_path { "$_[0]{dir}/" . ($_[0]{conf} // 'portico.conf') }
sub pid_file { "$_[0]{dir}/logs/portico.pid" }
sub error_log { slurp("$_[0]{dir}/logs/error.log") }

# portico's command line for this test; extra arguments are appended
sub cmd {
	my ($self, @args) = @_;
	return ($BIN, '-p', "$self->{dir}/", '-c', $self->conf_path, @args);
}

sub env_setup {
	my ($self) = @_;
	if ($ENV{PORTICO_SANITIZE}) {
		# in logs/, which workers running as nobody (tests run as
		# root) can write: a report they could not write was lost
		$ENV{ASAN_OPTIONS} = "log_path=$self->{dir}/logs/asan:"
		    . "detect_leaks=1:abort_on_error=0";
		$ENV{UBSAN_OPTIONS} = "log_path=$self->{dir}/logs/ubsan:"
		    . "print_stacktrace=1:halt_on_error=1";
	}
}

# run portico and capture its exit code and stderr (for -t, -s, ...)
sub run_cmd {
	my ($self, @args) = @_;
	$self->env_setup;
	my $out = "$self->{dir}/cmd.out";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', $out) or die;
		open(STDERR, '>&', \*STDOUT) or die;
		exec($self->cmd(@args)) or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	my $code = $? >> 8;
	return ($code, slurp($out));
}

# start in the foreground (daemon off) and wait until every port listens
sub run {
	my ($self, %o) = @_;
	$self->env_setup;
	unlink $self->pid_file;
	my @args = @{ $o{args} // [] };
	my @g = $o{daemon} ? () : ('-g', 'daemon off;');
	# portico keeps the last -g: fold the test's own into ours
	for my $i (0 .. $#args - 1) {
		next unless $args[$i] eq '-g' && @g;
		$g[1] .= ' ' . $args[$i + 1];
		splice(@args, $i, 2);
		last;
	}
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$self->{dir}/stderr.log");
		open(STDERR, '>&', \*STDOUT);
		exec($self->cmd(@g, @args))
		    or POSIX::_exit(127);
	}
	if ($o{daemon}) {
		waitpid($pid, 0);
		die "portico exited with " . ($? >> 8) if $?;
	} else {
		$self->{child} = $pid;
	}
	my $ok = wait_until(sub {
		-s $self->pid_file && $self->listening;
	}, 10);
	unless ($ok) {
		diag("portico did not start:\n" . slurp("$self->{dir}/stderr.log")
		    . $self->error_log);
		die "portico did not start";
	}
	$self->{pid} = $self->master_pid;
	return $self;
}

sub listening {
	my ($self) = @_;
	for my $p (grep { defined } @{ $self->{ports} }) {
		next if $self->{no_wait}{$p};
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p",
		    Proto => 'tcp') or return 0;
		close $s;
	}
	return 1;
}

# ports that the config does not listen on (upstream stubs, etc.)
sub not_listening { my ($self, $n) = @_; $self->{no_wait}{$self->port($n)} = 1 }

sub master_pid {
	my ($self, $file) = @_;
	my $s = slurp($file // $self->pid_file);
	return $s =~ /^(\d+)/ ? $1 : undef;
}

# a zombie (exited, not yet reaped) is not alive
sub alive {
	my ($pid) = @_;
	return 0 unless $pid && kill(0, $pid);
	my $stat = slurp("/proc/$pid/stat");
	return $stat !~ /^\d+ \(.*?\) Z/;
}

# the pids of a master's children, by process title
sub children {
	my ($self, $kind, $master) = @_;
	$master //= $self->{pid};
	my @pids;
	opendir(my $d, '/proc') or return ();
	for my $p (grep { /^\d+$/ } readdir $d) {
		my $stat = slurp("/proc/$p/stat");
		next unless $stat =~ /^\d+ \(.*?\) \S+ (\d+)/;
		next unless $1 == $master;
		my $cmd = slurp("/proc/$p/cmdline");
		push @pids, $p if $cmd =~ /^portico: \Q$kind\E process/;
	}
	closedir $d;
	return sort { $a <=> $b } @pids;
}
sub workers { $_[0]->children('worker', $_[1]) }

sub signal {
	my ($self, $sig, $pid) = @_;
	kill($sig, $pid // $self->{pid}) or die "kill $sig: $!";
}

# patterns of [alert]/[crit] lines that this test expects
sub allow_log { my ($self, $re) = @_; push @{ $self->{allow} }, $re }

sub wait_exit {
	my ($self, $pid, $timeout) = @_;
	return wait_until(sub {
		if ($self->{child} && $pid == $self->{child}) {
			my $r = waitpid($pid, WNOHANG);
			return 1 if $r == $pid || $r == -1;
			return 0;
		}
		return !alive($pid);
	}, $timeout // 15);
}

sub stop {
	my ($self, $sig) = @_;
	my $pid = $self->{pid} // return;
	kill($sig // 'QUIT', $pid);
	unless ($self->wait_exit($pid, 20)) {
		diag("portico $pid did not stop; killing it");
		kill('KILL', $pid);
		$self->wait_exit($pid, 5);
	}
	$self->{pid} = undef;
	$self->check_log;
}

# fails the test on [alert], [crit], [emerg] at run time, or a sanitizer
# report
sub check_log {
	my ($self) = @_;
	return if $self->{log_checked}++;
	my @bad;
	for my $line (split /\n/, $self->error_log) {
		next unless $line =~ /\[(alert|crit)\]/;
		next if grep { $line =~ $_ } @{ $self->{allow} };
		push @bad, $line;
	}
	for my $f (glob("$self->{dir}/logs/asan.* $self->{dir}/logs/ubsan.*")) {
		push @bad, "sanitizer report $f:\n" . slurp($f);
	}
	my $err = slurp("$self->{dir}/stderr.log");
	push @bad, "stderr: $1" if $err =~ /(runtime error:.*|ERROR: \w+Sanitizer.*)/;
	ok(!@bad, 'error log clean') or diag(join("\n", @bad));
}

# a test that dies leaves no process behind holding its ports
sub DESTROY {
	my ($self) = @_;
	my $pid = $self->{pid} or return;
	return unless alive($pid);
	my @kids = ($self->children('worker', $pid),
	    $self->children('keeper', $pid));
	kill('KILL', $pid, @kids);
	waitpid($self->{child}, 0) if $self->{child};
}

# raw request; returns the raw bytes read until the peer closes (or the
# timeout).  With want => N, stops after N complete responses.
sub http {
	my ($port, $req, %o) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 5) or return undef;
	$s->autoflush(1);
	if (ref $req eq 'ARRAY') {
		for my $part (@$req) {
			print $s $part;
			sleep($o{delay} // 0.05);
		}
	} else {
		print $s $req;
	}
	my $buf = '';
	my $end = time + ($o{timeout} // 5);
	$s->blocking(0);
	while (time < $end) {
		my $rin = '';
		vec($rin, fileno($s), 1) = 1;
		my $n = select(my $rout = $rin, undef, undef, 0.1);
		next unless $n;
		my $r = sysread($s, $buf, 65536, length $buf);
		last if !defined $r && !$!{EAGAIN};
		last if defined $r && $r == 0;
		last if $o{want} && count_responses($buf) >= $o{want};
	}
	close $s;
	return $buf;
}

sub count_responses {
	my ($buf) = @_;
	my $n = 0;
	while ($buf =~ /\G(HTTP\/1\.\d \d{3}[^\r\n]*\r\n(.*?)\r\n\r\n)/gcs) {
		my $h = $2;
		my $len = $h =~ /^Content-Length:\s*(\d+)/mi ? $1 : 0;
		my $pos = pos($buf);
		return $n if length($buf) < $pos + $len;
		pos($buf) = $pos + $len;
		$n++;
	}
	return $n;
}

# (status, {lowercased header => value}, body) of the first response
sub parse_response {
	my ($raw) = @_;
	return (0, {}, '') unless defined $raw &&
	    $raw =~ /^HTTP\/1\.\d (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n(.*)$/s;
	my ($status, $head, $body) = ($1, $2, $3);
	my %h;
	for (split /\r\n/, $head) {
		$h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
	}
	$body = substr($body, 0, $h{'content-length'})
	    if defined $h{'content-length'};
	return ($status, \%h, $body);
}

sub http_get {
	my ($port, $path, %hdr) = @_;
	my $host = delete $hdr{Host} // 'localhost';
	my $req = "GET $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n";
	$req .= "$_: $hdr{$_}\r\n" for sort keys %hdr;
	return parse_response(http($port, "$req\r\n"));
}

1;

# ---------------------------------------------------------------------
# Added for t/05, t/20, t/21, t/30, t/31.

use File::Spec;
use IO::Select;

sub abs_bin { File::Spec->rel2abs($BIN) }

# run an exact command line (the binary made absolute), in directory
# $o{cwd} (default /, so that no relative path can resolve by luck);
# returns (exit code, stdout, stderr).  Killed after $o{timeout} seconds;
# the exit code is then -1.
sub capture {
	my ($self, $argv, %o) = @_;
	$self->env_setup;
	my @argv = @$argv;
	$argv[0] = abs_bin() if $argv[0] eq $BIN;
	my ($out, $err) = ("$self->{dir}/capture.out", "$self->{dir}/capture.err");
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		chdir($o{cwd} // '/') or POSIX::_exit(126);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out) or POSIX::_exit(126);
		open(STDERR, '>', $err) or POSIX::_exit(126);
		exec(@argv) or POSIX::_exit(127);
	}
	my $done = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
	    $o{timeout} // 10);
	my $code = $done ? $? >> 8 : -1;
	unless ($done) {
		diag("@argv: still running after the timeout; killed");
		kill('KILL', $pid);
		waitpid($pid, 0);
	}
	return ($code, slurp($out), slurp($err));
}

# the test's command line (-p, -c and @args), stdout and stderr apart
sub run_cmd3 {
	my ($self, @args) = @_;
	return $self->capture([ $self->cmd(@args) ]);
}

# true once a process is gone: no such pid, or a zombie (a daemon's
# zombie waits for init to reap it)
sub gone {
	my ($pid) = @_;
	my $st = slurp("/proc/$pid/stat");
	return 1 if $st eq '';
	return $st =~ /^\d+ \(.*\) Z / ? 1 : 0;
}

sub wait_gone {
	my ($pids, $timeout) = @_;
	$pids = [$pids] unless ref $pids;
	return wait_until(sub { !grep { !gone($_) } @$pids }, $timeout);
}

# /proc/PID/stat fields after the command: state, ppid, pgrp, session
sub proc_stat {
	my ($pid) = @_;
	my $st = slurp("/proc/$pid/stat");
	return () unless $st =~ /^\d+ \(.*\) (\S) (\d+) (\d+) (\d+)/;
	return ($1, $2, $3, $4);
}

# the process title as ps(1) shows it
sub proc_title {
	my ($pid) = @_;
	my $s = slurp("/proc/$pid/cmdline");
	$s =~ s/\0+$//;
	$s =~ s/\0/ /g;
	return $s;
}

sub proc_uid {
	my ($pid) = @_;
	return slurp("/proc/$pid/status") =~ /^Uid:\s+(\d+)/m ? $1 : undef;
}

# how many sockets a process holds: grows by one when a worker accepts
sub sock_count {
	my ($pid) = @_;
	opendir(my $d, "/proc/$pid/fd") or return -1;
	my $n = grep { (readlink("/proc/$pid/fd/$_") // '') =~ /^socket:/ }
	    readdir $d;
	closedir $d;
	return $n;
}

# poll the error log for a pattern
sub wait_log {
	my ($self, $re, $timeout) = @_;
	return wait_until(sub { $self->error_log =~ $re }, $timeout);
}

# start portico with exactly @argv (cwd /) in the foreground; wait until
# $pid_file holds a pid and every port listens
sub run_argv {
	my ($self, $pid_file, @argv) = @_;
	$self->env_setup;
	$argv[0] = abs_bin() if $argv[0] eq $BIN;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		chdir('/');
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$self->{dir}/stderr.log");
		open(STDERR, '>&', \*STDOUT);
		exec(@argv) or POSIX::_exit(127);
	}
	$self->{child} = $pid;
	my $ok = wait_until(sub { -s $pid_file && $self->listening }, 10);
	unless ($ok) {
		diag("portico did not start:\n" . slurp("$self->{dir}/stderr.log")
		    . $self->error_log);
		die "portico did not start";
	}
	$self->{pid} = $self->master_pid($pid_file);
	return $self;
}

# a connected socket to 127.0.0.1:$port
sub connect_port {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 5) or return undef;
	$s->autoflush(1);
	return $s;
}

# read what arrives on $s until $done->($buf) holds, the peer closes, or
# $timeout seconds pass; returns ($buf, closed by the peer?, seconds taken)
sub read_sock {
	my ($s, $timeout, $done) = @_;
	my $buf = '';
	my $start = time;
	my $end = $start + $timeout;
	my $sel = IO::Select->new($s);
	while (time < $end) {
		last if $done && $done->($buf);
		next unless $sel->can_read(0.02);
		my $r = sysread($s, $buf, 65536, length $buf);
		return ($buf, 1, time - $start) if defined $r && $r == 0;
		return ($buf, 1, time - $start) if !defined $r && !$!{EAGAIN}
		    && !$!{EINTR};
	}
	return ($buf, 0, time - $start);
}

# can a connection to 127.0.0.1:$port be made?
sub port_open {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 2) or return 0;
	close $s;
	return 1;
}

1;

# is signal number $sig blocked in process $pid?  (a child of the master
# blocks QUIT, TERM, HUP... once it is set up to handle them)
sub sig_blocked {
	my ($pid, $sig) = @_;
	my $st = slurp("/proc/$pid/status");
	return 0 unless $st =~ /^SigBlk:\s*([0-9a-f]+)/m;
	my $mask = $1;
	my $nib = hex(substr($mask, length($mask) - 1 - int(($sig - 1) / 4), 1));
	return ($nib >> (($sig - 1) % 4)) & 1;
}

# has a child set itself up for QUIT: blocked (a worker reads it from a
# signalfd) or waited for in sigwait() (the keeper; sigwait unblocks it
# while it waits)?
sub quit_ready {
	my ($pid) = @_;
	return sig_blocked($pid, 3) ||
	    slurp("/proc/$pid/wchan") =~ /sigtimedwait/;
}

# wait until the master runs $n workers and one keeper, each ready for
# its signals; returns the workers' pids (empty on timeout).  Signalling
# a child before that would test the start-up, not the signal.
sub wait_ready {
	my ($self, $n, $master, $timeout) = @_;
	my @w;
	my $ok = wait_until(sub {
		@w = $self->workers($master);
		my @k = $self->children('keeper', $master);
		return @w == $n && @k == 1 && !grep { !quit_ready($_) } @w, @k;
	}, $timeout // 10);
	return $ok ? @w : ();
}

# sanitizer reports left in the test dir by any portico run so far (for
# tests whose runs are not all followed by $t->stop)
sub sanitizer_clean {
	my ($self) = @_;
	my @f = glob("$self->{dir}/logs/asan.* $self->{dir}/logs/ubsan.*");
	ok(!@f, 'no sanitizer report') or diag(join("\n", map { slurp($_) } @f));
}

# run one scenario on a fresh instance: scenario(name => sub { my ($t) =
# @_; ... }).  If it dies, the failure is recorded and portico is stopped
# gracefully: DESTROY would kill -9 the master alone, and its workers would
# live on, orphaned, holding the ports.
sub scenario {
	my ($name, $code) = @_;
	my $t = PorticoTest->new;
	return 1 if eval { $code->($t); 1 };
	fail("$name: $@");
	$t->stop;
	return 0;
}

1;

# ---------------------------------------------------------------------
# Added for t/11, t/12, t/13: many raw connections at once, responses
# split from a byte stream, nginx beside portico for comparisons.

use Errno ();

# Send each raw request of @$reqs on its own connection, all at once, then
# read every connection until the peer closes it or $o{timeout} seconds
# (default 3) pass.  A request may be an array of parts: they go out
# $o{delay} seconds apart.  Returns one hash per request: raw (the bytes
# read), closed (1 once read() returned EOF or an error), reset (the
# error was ECONNRESET), secs (when it closed, from the first write).
sub http_batch {
	my ($port, $reqs, %o) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $timeout = $o{timeout} // 3;
	my @c;
	for my $req (@$reqs) {
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
		    Proto => 'tcp', Timeout => 5);
		my $parts = ref $req ? [@$req] : [$req];
		push @c, { s => $s, out => shift(@$parts), parts => $parts,
		    raw => '', closed => $s ? 0 : 1, reset => 0, secs => 0,
		    next => 0 };
		$s->blocking(0) if $s;
	}
	my $start = time;
	my $end = $start + $timeout;
	while (time < $end) {
		my ($rin, $win) = ('', '');
		my $open = 0;
		for my $c (grep { !$_->{closed} } @c) {
			$open++;
			vec($rin, fileno($c->{s}), 1) = 1;
			if ($c->{out} eq '' && @{ $c->{parts} } &&
			    time >= $c->{next}) {
				$c->{out} = shift @{ $c->{parts} };
			}
			vec($win, fileno($c->{s}), 1) = 1 if $c->{out} ne '';
		}
		last unless $open;
		select(my $rout = $rin, my $wout = $win, undef, 0.02);
		for my $c (grep { !$_->{closed} } @c) {
			my $fd = fileno($c->{s});
			if ($c->{out} ne '' && vec($wout, $fd, 1)) {
				my $n = syswrite($c->{s}, $c->{out});
				if (defined $n) {
					substr($c->{out}, 0, $n, '');
					$c->{next} = time + ($o{delay} // 0.05)
					    if $c->{out} eq '';
				} elsif (!$!{EAGAIN} && !$!{EINTR}) {
					# the peer closed: what it sent is still
					# to be read
					$c->{out} = '';
					$c->{parts} = [];
				}
			}
			next unless vec($rout, $fd, 1);
			my $r = sysread($c->{s}, $c->{raw}, 65536,
			    length $c->{raw});
			if (defined $r && $r == 0 ||
			    !defined $r && !$!{EAGAIN} && !$!{EINTR}) {
				$c->{closed} = 1;
				$c->{reset} = 1 if !defined $r && $!{ECONNRESET};
				$c->{secs} = time - $start;
			}
		}
	}
	for my $c (@c) {
		close $c->{s} if $c->{s};
		delete @$c{qw(s out parts next)};
	}
	return \@c;
}

# every complete response in a byte stream: a list of { status, line,
# head (the raw header block), h ({lowercased name => value}, the last
# one wins), body }.  Bodies by Content-Length or chunked; 1xx, 204, 304
# have none; $o{head} names the indexes of answers to HEAD requests.
sub split_responses {
	my ($buf, %o) = @_;
	my @r;
	pos($buf) = 0;
	while ($buf =~ /\G(HTTP\/\d\.\d (\d{3})[^\r\n]*)\r\n((?:[^\r\n]*\r\n)*?)\r\n/gc) {
		my ($line, $status, $head) = ($1, $2, $3);
		my %h;
		for (split /\r\n/, $head) {
			$h{lc $1} = $2 if /^([^:]+):[ \t]*(.*?)[ \t]*$/;
		}
		my $pos = pos($buf);
		my $body = '';
		my $nobody = $status =~ /^1/ || $status == 204 ||
		    $status == 304 || ($o{head} && $o{head}{scalar @r});
		if ($nobody) {
		} elsif (defined $h{'content-length'}) {
			last if length($buf) < $pos + $h{'content-length'};
			$body = substr($buf, $pos, $h{'content-length'});
			$pos += $h{'content-length'};
		} elsif (($h{'transfer-encoding'} // '') =~ /chunked/i) {
			my $p = $pos;
			my $ok = 0;
			while (substr($buf, $p) =~ /^([0-9a-fA-F]+)[^\r\n]*\r\n/) {
				my $n = hex $1;
				$p += length $&;
				if ($n == 0) {
					my $e = index($buf, "\r\n\r\n", $p - 2);
					last if $e < 0;
					$p = $e + 4;
					$ok = 1;
					last;
				}
				last if length($buf) < $p + $n + 2;
				$body .= substr($buf, $p, $n);
				$p += $n + 2;
			}
			last unless $ok;
			$pos = $p;
		} else {
			$body = substr($buf, $pos);
			$pos = length $buf;
		}
		push @r, { status => $status, line => $line, head => $head,
		    h => \%h, body => $body };
		pos($buf) = $pos;
	}
	return @r;
}

# nginx, when installed, run beside portico for comparisons:
#   my $ng = PorticoTest::Nginx->start($conf_text) or skip ...;
# the text may use %%PORT%% (its own free port) and %%DIR%%
package PorticoTest::Nginx;

use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);

our $NGINX = $ENV{NGINX_BIN} || '/usr/sbin/nginx';

sub available { -x $NGINX }

sub start {
	my ($class, $text) = @_;
	return undef unless available();
	my $dir = File::Temp::tempdir('portico-nginx-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{PORTICO_KEEP});
	chmod 0755, $dir;
	my $port = PorticoTest::free_port();
	# paths of its own: the packaged defaults are not writable by an
	# ordinary user
	my $temps = join('', map { "    ${_}_temp_path $dir/$_;\n" }
	    qw(client_body proxy fastcgi uwsgi scgi));
	$temps .= "    access_log off;\n" unless $text =~ /\baccess_log\b/;
	$text =~ s/%%PORT%%/$port/g;
	$text =~ s/%%DIR%%/$dir/g;
	$text =~ s/^(\s*http\s*\{)/$1\n$temps/m;
	open(my $fh, '>', "$dir/nginx.conf") or die "$dir/nginx.conf: $!";
	print $fh "error_log $dir/error.log info;\npid $dir/nginx.pid;\n", $text;
	close $fh;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$dir/stderr.log");
		open(STDERR, '>&', \*STDOUT);
		exec($NGINX, '-e', "$dir/error.log", '-p', "$dir/", '-c',
		    "$dir/nginx.conf", '-g', 'daemon off;') or POSIX::_exit(127);
	}
	my $self = bless { dir => $dir, port => $port, pid => $pid }, $class;
	my $exited = 0;
	PorticoTest::wait_until(sub {
		$exited = 1 if waitpid($pid, WNOHANG) == $pid;
		return $exited || PorticoTest::port_open($port);
	}, 10);
	if ($exited || !PorticoTest::port_open($port)) {
		delete $self->{pid} if $exited;
		Test::More::diag("nginx did not start:\n"
		    . PorticoTest::slurp("$dir/stderr.log")
		    . PorticoTest::slurp("$dir/error.log"));
		$self->stop;
		return undef;
	}
	return $self;
}

sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub error_log { PorticoTest::slurp("$_[0]{dir}/error.log") }

sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill('QUIT', $pid);
	unless (PorticoTest::wait_until(sub { waitpid($pid, WNOHANG) == $pid },
	    10)) {
		kill('TERM', $pid);
		waitpid($pid, 0);
	}
}

sub DESTROY { $_[0]->stop }

package PorticoTest;

1;

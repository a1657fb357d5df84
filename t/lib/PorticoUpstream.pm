package PorticoUpstream;

# A stub upstream server for the proxy tests, forked from the test on a
# free port of 127.0.0.1.  Each connection is served by a process of its
# own (a handler that never answers does not hold up the others); each
# request it reads (head, then a Content-Length or chunked body: decoded,
# and the raw bytes kept) is recorded in a file of the stub's directory,
# which the test reads back with requests() / wait_requests().
#
#   my $up = PorticoUpstream->new(routes => {
#       '/raw'  => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
#       '/slow' => sub { my ($sock, $req) = @_; sleep 1; print $sock ... },
#   });
#   ... proxy_pass http://127.0.0.1:${\ $up->port};
#   my @r = $up->wait_requests(1);
#   is($r[0]{line}, 'GET /raw HTTP/1.0');
#   $up->stop;       # also on DESTROY, and by itself after a safety alarm
#
# A route is looked up by the exact request target, then by its path (the
# part before "?"), then by the longest key ending in "*" that is a prefix
# of the path; else the default answer, which echoes: 200 with the
# request's raw head as the body and X-Body-Length / X-Body-MD5 headers.
# A route is a raw response string (sent, then the connection closed), or
# a coderef called with (socket, request) once the request has been read
# whole; the connection closes when it returns.  A route given as
# { early => CODE } is called right after the head, before the body is
# read (for answers that do not wait for the body).
#
# A request: { line, method, target, version, head (raw, with the final
# CRLF CRLF), headers ([ [name, value], ... ] as sent), h ({lowercased
# name => value}, the last one wins), body (decoded), raw_body (the bytes
# as sent, chunk framing included), body_md5, body_len, chunked (1 when
# the body came chunked), complete (0 when the peer closed or the read
# timed out before the body ended), conn (the connection's number), seq }.

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Storable qw(nstore retrieve);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(http_n decode_chunked);

sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('portico-upstream-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{PORTICO_KEEP});
	my $lsn;
	for (1 .. 50) {
		my $p = PorticoTest::free_port();
		$lsn = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => $p, Proto => 'tcp', Listen => 128,
		    ReuseAddr => 1) and last;
	}
	die "upstream: no port" unless $lsn;
	my $self = bless { dir => $dir, port => $lsn->sockport,
	    routes => $o{routes} // {}, life => $o{life} // 120,
	    read_timeout => $o{read_timeout} // 10 }, $class;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		$self->serve($lsn);
		POSIX::_exit(0);
	}
	close $lsn;
	$self->{pid} = $pid;
	$self->{owner} = $$;
	return $self;
}

sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub addr { "127.0.0.1:$_[0]{port}" }

# the listening process: one child per connection; all of them go when
# it gets TERM or its safety alarm rings
sub serve {
	my ($self, $lsn) = @_;
	my %kids;
	my $bye = sub {
		kill('KILL', keys %kids) if %kids;
		POSIX::_exit(0);
	};
	local $SIG{TERM} = $bye;
	local $SIG{ALRM} = $bye;
	local $SIG{PIPE} = 'IGNORE';
	alarm($self->{life});
	my $n = 0;
	for (;;) {
		while ((my $k = waitpid(-1, WNOHANG)) > 0) {
			delete $kids{$k};
		}
		my $c = $lsn->accept;
		next unless $c;
		$n++;
		my $pid = fork;
		if (!defined $pid) {
			close $c;
			next;
		}
		if ($pid == 0) {
			close $lsn;
			$SIG{TERM} = 'DEFAULT';
			$SIG{ALRM} = 'DEFAULT';
			alarm($self->{life});
			$self->conn($c, $n);
			POSIX::_exit(0);
		}
		$kids{$pid} = 1;
		close $c;
	}
}

sub route {
	my ($self, $req) = @_;
	my $r = $self->{routes};
	my $path = $req->{target} =~ s/\?.*//sr;
	return $r->{ $req->{target} } if exists $r->{ $req->{target} };
	return $r->{$path} if exists $r->{$path};
	my ($best) = sort { length $b <=> length $a } grep {
		/\*$/ && index($path, substr($_, 0, -1)) == 0 } keys %$r;
	return defined $best ? $r->{$best} : undef;
}

# read more into $$buf; 0 on EOF or timeout
sub fill {
	my ($self, $s, $buf, $deadline) = @_;
	my $sel = IO::Select->new($s);
	while (time < $deadline) {
		next unless $sel->can_read(0.05);
		my $n = sysread($s, $$buf, 262144, length $$buf);
		return $n if $n;
		return 0 if defined $n || !$!{EINTR} && !$!{EAGAIN};
	}
	return 0;
}

sub conn {
	my ($self, $s, $n) = @_;
	binmode $s;
	$s->autoflush(1);
	my $buf = '';
	my $seq = 0;
	my $deadline = time + $self->{read_timeout};
	while (1) {
		my $e;
		while (($e = index($buf, "\r\n\r\n")) < 0) {
			return unless $self->fill($s, \$buf, $deadline);
		}
		my $head = substr($buf, 0, $e + 4, '');
		my $req = parse_head($head);
		$req->{conn} = $n;
		$req->{seq} = $seq++;
		my $route = $self->route($req);
		if (ref $route eq 'HASH' && $route->{early}) {
			$self->record($req);
			$route->{early}->($s, $req);
			return;
		}
		$self->read_body($s, \$buf, $req, $deadline);
		$self->record($req);
		if (!defined $route) {
			my $body = $req->{head};
			print $s "HTTP/1.1 200 OK\r\nContent-Length: "
			    . length($body) . "\r\nX-Body-Length: "
			    . $req->{body_len} . "\r\nX-Body-MD5: "
			    . $req->{body_md5} . "\r\nConnection: close\r\n\r\n"
			    . $body;
		} elsif (ref $route eq 'CODE') {
			$route->($s, $req);
		} else {
			print $s $route;
		}
		# one request per connection: portico asks for close
		shutdown($s, 1);
		# let the peer read it all before the close
		my $sel = IO::Select->new($s);
		my $end = time + 2;
		while (time < $end && $sel->can_read(0.1)) {
			my $junk;
			last unless sysread($s, $junk, 65536);
		}
		close $s;
		return;
	}
}

sub parse_head {
	my ($head) = @_;
	my @lines = split /\r\n/, $head;
	my $line = shift(@lines) // '';
	my ($m, $t, $v) = split / /, $line, 3;
	my (@hdr, %h);
	for (@lines) {
		next unless /^([^:]*):[ \t]*(.*?)[ \t]*$/s;
		push @hdr, [ $1, $2 ];
		$h{ lc $1 } = $2;
	}
	return { line => $line, method => $m // '', target => $t // '',
	    version => $v // '', head => $head, headers => \@hdr, h => \%h,
	    body => '', raw_body => '', chunked => 0, complete => 1 };
}

sub read_body {
	my ($self, $s, $buf, $req, $deadline) = @_;
	my $h = $req->{h};
	if (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
		$req->{chunked} = 1;
		my $p = 0;
		for (;;) {
			my $e;
			while (($e = index($$buf, "\r\n", $p)) < 0) {
				goto short unless $self->fill($s, $buf,
				    $deadline);
			}
			my $sz = substr($$buf, $p, $e - $p);
			unless ($sz =~ /^([0-9a-fA-F]+)(;.*)?$/) {
				$req->{bad_chunk} = $sz;
				goto short;
			}
			my $len = hex $1;
			$p = $e + 2;
			if ($len == 0) {
				# trailers up to the empty line
				while (($e = index($$buf, "\r\n", $p)) != $p) {
					if ($e < 0) {
						goto short unless $self->fill($s,
						    $buf, $deadline);
						next;
					}
					$p = $e + 2;
				}
				$p += 2;
				last;
			}
			while (length($$buf) < $p + $len + 2) {
				goto short unless $self->fill($s, $buf,
				    $deadline);
			}
			$req->{body} .= substr($$buf, $p, $len);
			$req->{bad_chunk} = 'no CRLF after data'
			    if substr($$buf, $p + $len, 2) ne "\r\n";
			$p += $len + 2;
		}
		$req->{raw_body} = substr($$buf, 0, $p, '');
	} elsif (defined $h->{'content-length'}) {
		my $len = $h->{'content-length'};
		while (length($$buf) < $len) {
			goto short unless $self->fill($s, $buf, $deadline);
		}
		$req->{body} = $req->{raw_body} = substr($$buf, 0, $len, '');
	}
	goto done;
short:
	$req->{complete} = 0;
	$req->{raw_body} = $$buf;
	$$buf = '';
done:
	$req->{body_len} = length $req->{body};
	$req->{body_md5} = md5_hex($req->{body});
	$req->{raw_md5} = md5_hex($req->{raw_body});
}

sub record {
	my ($self, $req) = @_;
	my $name = sprintf('%s/req-%017.6f-%06d-%03d', $self->{dir}, time, $$,
	    $req->{seq});
	nstore($req, "$name.tmp");
	rename("$name.tmp", $name);
}

# every request recorded so far, in arrival order
sub requests {
	my ($self) = @_;
	return map { retrieve($_) } sort glob("$self->{dir}/req-*[0-9]");
}

# wait until at least $n requests are recorded (default 1), at most
# $timeout seconds (default 5); returns them all
sub wait_requests {
	my ($self, $n, $timeout) = @_;
	$n //= 1;
	PorticoTest::wait_until(sub {
		my @f = glob("$self->{dir}/req-*[0-9]");
		return @f >= $n;
	}, $timeout // 5);
	return $self->requests;
}

# forget what was recorded
sub clear {
	my ($self) = @_;
	unlink glob("$self->{dir}/req-*");
}

# the requests recorded since the previous take()
sub take {
	my ($self, $n, $timeout) = @_;
	my @r = $self->wait_requests($n, $timeout);
	$self->clear;
	return @r;
}

sub stop {
	my ($self) = @_;
	return unless $self->{owner} && $self->{owner} == $$;
	my $pid = delete $self->{pid} or return;
	kill('TERM', $pid);
	PorticoTest::wait_until(sub { waitpid($pid, WNOHANG) != 0 }, 5)
	    or do { kill('KILL', $pid); waitpid($pid, 0) };
}

sub DESTROY { $_[0]->stop }

# ---------------------------------------------------------------------
# client side helpers

# decode a chunked body: (decoded bytes, 1 if the terminal chunk came)
sub decode_chunked {
	my ($raw) = @_;
	my ($body, $p) = ('', 0);
	while (substr($raw, $p) =~ /^([0-9a-fA-F]+)[^\r\n]*\r\n/) {
		my $n = hex $1;
		$p += length $&;
		return ($body, 1) if $n == 0;
		return ($body, 0) if length($raw) < $p + $n + 2;
		$body .= substr($raw, $p, $n);
		return ($body, 0) if substr($raw, $p + $n, 2) ne "\r\n";
		$p += $n + 2;
	}
	return ($body, 0);
}

# send $req (a string, or parts sent $o{delay} apart) on one connection,
# read until $n complete responses are in (by PorticoTest::split_responses),
# the peer closes, or $o{timeout} seconds (default 5).  Returns { raw,
# closed, resp => [ split responses ] }.  $o{head}: as split_responses.
# $o{wait_close}: once the responses are in, read on until the peer
# closes or the timeout (to tell a kept connection from a closed one).
sub http_n {
	my ($port, $req, $n, %o) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Proto => 'tcp', Timeout => 5) or return { raw => '', closed => 1,
	    resp => [], error => "$!" };
	binmode $s;
	my @parts = ref $req ? @$req : ($req);
	my $buf = '';
	my $closed = 0;
	my $end = time + ($o{timeout} // 5);
	my $sel = IO::Select->new($s);
	my $reader = sub {
		my ($wait) = @_;
		while ($sel->can_read($wait)) {
			my $r = sysread($s, $buf, 262144, length $buf);
			if (!$r) {
				$closed = 1 unless !defined $r && $!{EINTR};
				return;
			}
			$wait = 0;
		}
	};
	for my $i (0 .. $#parts) {
		my $p = $parts[$i];
		while (length $p) {
			my $w = syswrite($s, $p);
			last unless defined $w;
			substr($p, 0, $w, '');
			$reader->(0) if length $p;
		}
		$reader->($o{delay} // 0.05) if $i < $#parts;
	}
	my @r;
	while (!$closed && time < $end) {
		@r = PorticoTest::split_responses($buf, head => $o{head});
		last if @r >= $n && complete_last($buf, \@r, \%o);
		$reader->(0.05);
	}
	$reader->(0.05) while $o{wait_close} && !$closed && time < $end;
	@r = PorticoTest::split_responses($buf, head => $o{head});
	close $s;
	return { raw => $buf, closed => $closed, resp => \@r };
}

# a response without length is only complete at the close
sub complete_last {
	my ($buf, $r, $o) = @_;
	my $last = $r->[-1];
	my $h = $last->{h};
	return 1 if $last->{status} =~ /^1|^204|^304/;
	return 1 if $o->{head} && $o->{head}{ $#$r };
	return defined $h->{'content-length'} ||
	    ($h->{'transfer-encoding'} // '') =~ /chunked/i;
}

1;

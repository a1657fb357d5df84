package PorticoLoad;

# Drives t/tools/hammer (built by make as objs/hammer): keep-alive load
# with exact failure accounting, for the reload and upgrade tests.
#
#   my $load = PorticoLoad->start($t, port => $t->port(0), conns => 32);
#   $load->wait_requests(2000);
#   ... reload, upgrade ...
#   my $r = $load->finish;   # { requests => N, err_read => N, ..., bodies => {...} }

use strict;
use warnings;

use POSIX qw(:sys_wait_h);
use Test::More;
use PorticoTest qw(wait_until slurp);

my $HAMMER = $ENV{PORTICO_HAMMER} || do {
	my $d = __FILE__;
	$d =~ s{t/lib/PorticoLoad\.pm$}{};
	"${d}objs/hammer";
};

sub start {
	my ($class, $t, %o) = @_;
	my $n = ++$t->{loads};
	my $out = $t->dir . "/load$n.out";
	my $stop = $t->dir . "/load$n.stop";
	unlink $out, $stop, "$out.progress";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		exec($HAMMER, '-p', $o{port}, '-c', $o{conns} // 32,
		    '-d', $o{seconds} // 120, '-s', $stop, '-o', $out,
		    '-H', $o{host} // 'localhost', '-u', $o{path} // '/',
		    $o{close_each} ? ('-n') : (),
		    $o{think} ? ('-t', $o{think}) : ())
		    or POSIX::_exit(127);
	}
	return bless { pid => $pid, out => $out, stop => $stop }, $class;
}

sub requests {
	my ($self) = @_;
	my $p = slurp("$self->{out}.progress");
	return $p =~ /requests (\d+)/ ? $1 : 0;
}

# wait until N more requests have been answered
sub wait_requests {
	my ($self, $n, $timeout) = @_;
	my $base = $self->requests;
	return wait_until(sub { $self->requests >= $base + $n }, $timeout // 20);
}

sub finish {
	my ($self) = @_;
	open(my $fh, '>', $self->{stop}) or die;
	close $fh;
	my $done = wait_until(sub { waitpid($self->{pid}, WNOHANG) != 0 }, 30);
	unless ($done) {
		kill 'KILL', $self->{pid};
		waitpid($self->{pid}, 0);
		die "hammer did not stop";
	}
	my %r = (bodies => {});
	for (split /\n/, slurp($self->{out})) {
		if (/^body (\d+) (.*)$/) {
			$r{bodies}{$2} = $1;
		} elsif (/^(\w+) (\d+)$/) {
			$r{$1} = $2;
		}
	}
	die "hammer wrote no results" unless defined $r{requests};
	$r{failed} = $r{non2xx} + $r{err_connect} + $r{err_read}
	    + $r{err_write} + $r{err_timeout};
	return \%r;
}

sub report {
	my ($r) = @_;
	return join(', ', map { "$_ $r->{$_}" }
	    qw(requests ok non2xx err_connect err_read err_write err_timeout
	    closed_idle));
}

1;

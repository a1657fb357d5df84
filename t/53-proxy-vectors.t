#!/usr/bin/perl
# The llhttp response vectors (../shared/vectors/llhttp/response/*.md),
# each sent by a stub upstream as its answer (then the connection closed)
# to a request proxied by portico:
#   - what a strict parser rejects in the head is a 502 to the client;
#   - what it rejects only in the body (the head was valid) never reaches
#     the client as a complete response: a 502, or the connection closed
#     without a valid end;
#   - what it accepts is relayed: the client gets the status of the first
#     final response;
#   - a case llhttp rejects only after the first final response completed
#     (data after "Connection: close", a second response) is accepted:
#     portico reads one response per upstream connection.
# Cases under a "lenient" heading or of a lenient type describe llhttp's
# leniency flags: a strict proxy rejects them.  Where portico parts from
# this on purpose, the case is in %EXCEPT with the reason.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest;
use PorticoUpstream qw(http_n);

my $VEC = $ENV{PORTICO_VECTORS} || do {
	my $d = __FILE__;
	$d =~ s{t/53-proxy-vectors\.t$}{};
	"${d}../shared/vectors/llhttp/response";
};
plan skip_all => "no vectors in $VEC" unless glob("$VEC/*.md");

# keyed by file#n (n counts the ```http blocks of the file from 1)
my %EXCEPT = (
	'sample#2' => [reject => 'RTSP/1.0 is not HTTP: not a valid status '
	    . 'line from an HTTP upstream'],
	'sample#3' => [reject => 'ICE/1.0 is not HTTP'],
	'sample#18' => [reject => 'HTTP/0.9 has no status line: a head that '
	    . 'claims 0.9 is not HTTP/1.x'],
	'connection#10' => [reject => '101 Switching Protocols: upgrades are not '
	    . 'supported yet (502, "upstream switched protocols")'],
	'connection#11' => [reject => '101 Switching Protocols: not supported yet'],
	'connection#7' => [accept => 'data after "Connection: close" (a lenient '
	    . 'flag): the response before it is complete and valid; portico reads '
	    . 'one response per upstream connection, never what follows'],
	'connection#9' => [accept => 'lenient keep-alive: the 204 before it is '
	    . 'complete and valid; what follows is never read'],
	'connection#17' => [reject => 'an empty line between the 100 and the '
	    . 'final head: RFC 9112 2.2 lets a recipient skip empty lines only '
	    . 'before a request-line; a strict response parser rejects it'],
	'sample#20' => [reject => 'an empty line before the status line: as '
	    . 'above (RFC 9112 2.2 is about request-lines)'],
	'transfer-encoding#2' => [reject => '"chunked, deflate": a transfer coding '
	    . 'other than chunked is a 502 (man page, PROXYING); RFC 9112 6.3 '
	    . 'would read it until close'],
	'transfer-encoding#3' => [reject => '"chunked" then "identity": as above'],
	'transfer-encoding#4' => [reject => '"chunkedchunked": an unknown coding, '
	    . 'as above'],
);

sub unescape {
	my ($e) = @_;
	return { r => "\r", n => "\n", t => "\t", f => "\f" }->{$e} //
	    ($e =~ /^x(..)/ ? chr(hex $1) : chr(oct $e));
}

# as t/12-llhttp-vectors.t reads them
sub vectors {
	my @v;
	for my $f (sort glob("$VEC/*.md")) {
		open(my $fh, '<', $f) or die "$f: $!";
		my @lines = map { s/\r?\n\z//r } <$fh>;
		close $fh;
		(my $base = $f) =~ s{.*/|\.md$}{}g;
		my ($heading, $meta, $n) = ('', '', 0);
		for (my $i = 0; $i < @lines; $i++) {
			my $l = $lines[$i];
			$heading = $1 if $l =~ /^#{2,}\s*(.*?)\s*$/;
			$meta = $1 if $l =~ /<!--\s*meta=(\{.*\})/;
			next unless $l eq '```http';
			my @b;
			push @b, $lines[$i] while $lines[++$i] ne '```';
			# a bare newline is CRLF, except after a line's final
			# "\\" (llhttp's continuation: "\r\n\\" ends a line
			# with the escapes alone)
			my $raw = '';
			for my $k (0 .. $#b) {
				if ($b[$k] =~ /(?<!\\)\\$/) {
					$raw .= substr($b[$k], 0, -1);
				} else {
					$raw .= $b[$k] . ($k < $#b ? "\r\n" : '');
				}
			}
			$raw =~ s/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[rntf])/unescape($1)/ge;
			$i++ while $i < $#lines && $lines[$i] ne '```log';
			my @log;
			push @log, $lines[$i] while ++$i < @lines &&
			    $lines[$i] ne '```';
			my $type = $meta =~ /"type":\s*"([^"]+)"/ ? $1 : '';
			push @v, { id => "$base#" . ++$n, heading => $heading,
			    type => $type, skipbody => ($meta =~ /"skipBody":\s*true/ ? 1 : 0),
			    raw => $raw, log => \@log };
		}
	}
	return @v;
}

# the status of the first final response in the raw bytes
sub raw_status {
	my ($raw) = @_;
	while ($raw =~ /HTTP\/1\.\d (\d{3})/g) {
		return $1 if $1 >= 200 || $1 == 101;
	}
	return undef;
}

# (verdict, status): accept (the status of the first final response),
# reject-head, reject-body, reject (lenient: somewhere), incomplete (no
# error, but the final response never completes: its body is short, or
# runs until the close)
sub verdict {
	my ($v) = @_;
	return ('reject') if $v->{heading} =~ /lenient/i || $v->{type} =~ /lenient/;
	my ($final, $done) = (undef, 0);
	for my $l (@{ $v->{log} }) {
		if ($l =~ /headers complete status=(\d+)/) {
			$final = $1 if !defined $final && ($1 >= 200 || $1 == 101);
		} elsif ($l =~ /message complete/) {
			$done = 1 if defined $final;
		} elsif ($l =~ /error code=(\d+) reason="(.*)"/) {
			next if $1 == 21;	# a pause: not an error
			return ('accept', $final) if $done;
			return ('accept', $final) if $1 == 22 && defined $final;
			return defined $final ? ('reject-body') : ('reject-head');
		}
	}
	return ($done ? 'accept' : 'incomplete', $final);
}

sub show { my $s = shift // ''; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	length $s > 200 ? substr($s, 0, 197) . '...' : $s }

my @v = vectors();
cmp_ok(scalar @v, '>=', 70, 'response vectors read: ' . scalar @v);

my %routes = map {; ("/v/$_->{id}" =~ s/#/-/r) => $_->{raw} } @v;
$routes{'/control/ok'} = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
$routes{'/control/bad'} = "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";
my $up = PorticoUpstream->new(routes => \%routes);
my $UP = $up->port;

my $t = PorticoTest->new;
$t->write_conf(<<"EOF");
worker_processes 1;
events { worker_connections 1024; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%%;
        proxy_read_timeout 2s;
        location / { proxy_pass http://127.0.0.1:$UP; }
    }
}
EOF
$t->run;

my @jobs;
my @reqs;
for my $v (@v) {
	my ($verdict, $status) = verdict($v);
	my $exc = $EXCEPT{ $v->{id} };
	$status //= raw_status($v->{raw});
	my $want = $exc ? $exc->[0] : $verdict;
	(my $path = "/v/$v->{id}") =~ s/#/-/;
	my $m = $v->{skipbody} ? 'HEAD' : 'GET';
	push @jobs, { v => $v, want => $want, status => $status, verdict => $verdict,
	    method => $m };
	push @reqs, "$m $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}
push @reqs, map { "GET /control/$_ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" }
    qw(ok bad);
my $res = PorticoTest::http_batch($t->port(0), \@reqs, timeout => 8);

sub judge {
	my ($want, $status, $r, $head) = @_;
	my @resp = PorticoTest::split_responses($r->{raw},
	    head => $head ? { 0 => 1 } : undef);
	my $first = $resp[0];
	my $desc = ($first ? $first->{status} : 'no complete answer')
	    . ($r->{closed} ? ', closed' : ', open');
	if ($want eq 'accept') {
		return (0, $desc) unless $first;
		return ($first->{status} == ($status // 200) ? 1 : 0, $desc);
	}
	if ($want eq 'incomplete') {
		# complete at the close (no length), or closed short: never
		# a 502
		return (1, $desc) if $first && $first->{status} == ($status // 200);
		return (!$first && $r->{closed} && $r->{raw} !~ /^HTTP\/1\.1 50/
		    ? 1 : 0, $desc);
	}
	if ($want eq 'reject-head') {
		return ($first && $first->{status} == 502 ? 1 : 0, $desc);
	}
	# in the body, or somewhere: a 502, or closed without a complete
	# response
	return (1, $desc) if $first && $first->{status} == 502;
	return (!$first && $r->{closed} ? 1 : 0, $desc);
}

my (%sum, @fail);
for my $i (0 .. $#jobs) {
	my $j = $jobs[$i];
	my ($ok, $desc) = judge($j->{want}, $j->{status}, $res->[$i],
	    $j->{method} eq 'HEAD');
	my $name = "$j->{v}{id} [$j->{v}{heading}]: $j->{want}"
	    . ($j->{want} eq 'accept' ? ' (' . ($j->{status} // 200) . ')' : '');
	ok($ok, $name) or diag("upstream sent: " . show($j->{v}{raw})
	    . "\nclient got: " . show($res->[$i]{raw}) . " ($desc)");
	push @fail, "$name: $desc" unless $ok;
	$sum{ $EXCEPT{ $j->{v}{id} } ? 'exception' : $j->{want} }++;
}

# the checks can fail: a valid answer is relayed, a bare LF one is not
my @c = ($res->[-2], $res->[-1]);
ok((judge('accept', 200, $c[0]))[0], 'control: a valid answer is relayed');
ok(!(judge('accept', 200, $c[1]))[0] && (judge('reject-head', 0, $c[1]))[0],
    'control: a bare LF head is a 502');

diag(sprintf("%d response vectors: %s", scalar @v,
    join(', ', map { "$sum{$_} $_" } sort keys %sum)));
diag("exceptions (portico's verdict differs from llhttp's on purpose):\n"
    . join("\n", map { "  $_: $EXCEPT{$_}[0]: $EXCEPT{$_}[1]" }
    sort keys %EXCEPT));
diag("failing:\n" . join("\n", map { "  $_" } @fail)) if @fail;

$t->stop;
$up->stop;
done_testing();

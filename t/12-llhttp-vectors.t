#!/usr/bin/perl
# The llhttp request vectors (../shared/vectors/llhttp/request/*.md)
# replayed against portico, one connection each: what llhttp rejects in
# strict mode, portico rejects (a 4xx/5xx, or a close without an answer);
# what llhttp accepts, portico answers 2xx; cases under a "lenient"
# heading (or of a lenient type) describe llhttp's leniency flags, so a
# strict parser rejects them.  The cases where portico deliberately parts
# from llhttp are in %EXCEPT, each with its reason.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest;

my $VEC = $ENV{PORTICO_VECTORS} || do {
	my $d = __FILE__;
	$d =~ s{t/12-llhttp-vectors\.t$}{};
	"${d}../shared/vectors/llhttp/request";
};
plan skip_all => "no vectors in $VEC" unless glob("$VEC/*.md");

# Where portico's verdict is not llhttp's.  "reject": portico answers
# 4xx/5xx (or closes without answering) though llhttp accepts; "accept":
# portico answers 2xx though llhttp rejects.  Keyed by file#n (n counts the
# ```http blocks of the file from 1).
my %EXCEPT = (
	'method#2' => [reject => 'CONNECT: portico is not a forward proxy; '
	    . 'an authority-form target is refused (RFC 9110 9.3.6)'],
	'method#3' => [reject => 'CONNECT: not a forward proxy'],
	'method#4' => [reject => 'CONNECT: not a forward proxy'],
	'uri#9' => [reject => 'CONNECT: not a forward proxy'],
	'method#15' => [reject => 'PRI * is the HTTP/2 connection preface, '
	    . 'not an HTTP/1.1 request'],
	'method#5' => [reject => 'asterisk-form target with a method other '
	    . 'than OPTIONS (RFC 9112 3.2.4)'],
	'method#12' => [reject => 'ICE/1.0 is not HTTP'],
	'method#13' => [reject => 'RTSP/1.0 is not HTTP'],
	'method#14' => [reject => 'RTSP/1.0 is not HTTP'],
	'sample#10' => [reject => 'HTTP/0.9 request (no version): not spoken'],
	'uri#8' => [reject => 'a fragment in the request-target: RFC 9112 3.2 '
	    . 'has none, and "#" is not allowed in a query'],
	'uri#10' => [reject => 'userinfo in the target: RFC 9110 4.2.4 says '
	    . 'to treat it as an error'],
	'transfer-encoding#20' => [reject => 'Transfer-Encoding other than '
	    . 'exactly "chunked": 501, as nginx 1.22 (RFC 9112 6.1 allows it)'],
	'transfer-encoding#21' => [reject => 'Transfer-Encoding other than '
	    . 'exactly "chunked" (two headers): 501, as nginx 1.22'],
	'invalid#4' => [accept => 'ANNOUNCE is a token: any token is a method '
	    . '(RFC 9110 9.1); llhttp knows only its list'],
	'invalid#14' => [accept => 'MKCOLA is a token: any token is a method '
	    . '(RFC 9110 9.1)'],
);

# llhttp's leniency cases with a valid request before the lenient part: a
# strict server answers that many requests, then rejects
my %LENIENT_K = (
	'connection#4' => 1,	# HTTP/1.0 answered, then closed
	'connection#11' => 1,	# Connection: close answered, then closed
	'lenient-headers#2' => 1,
);

sub unescape {
	my ($e) = @_;
	return { r => "\r", n => "\n", t => "\t", f => "\f" }->{$e} //
	    ($e =~ /^x(..)/ ? chr(hex $1) : chr(oct $e));
}

# each case: file, n, heading, type, raw bytes, log lines
sub vectors {
	my @v;
	for my $f (sort glob("$VEC/*.md")) {
		open(my $fh, '<', $f) or die "$f: $!";
		my @lines = map { s/\r?\n\z//r } <$fh>;
		close $fh;
		(my $base = $f) =~ s{.*/|\.md$}{}g;
		my ($heading, $type, $n) = ('', '', 0);
		for (my $i = 0; $i < @lines; $i++) {
			my $l = $lines[$i];
			$heading = $1 if $l =~ /^#{2,}\s*(.*?)\s*$/;
			$type = $1 if $l =~ /meta=\{.*"type":\s*"([^"]+)"/;
			next unless $l eq '```http';
			my @b;
			push @b, $lines[$i] while $lines[++$i] ne '```';
			# a bare newline is CRLF; the one before the fence is
			# not part of the message
			my $raw = join("\r\n", @b);
			# escapes, in one pass: \r \n \t \f \xNN and octal
			# (\01, \033: "Foo\01\test" is Foo, SOH, HTAB,
			# "est"); "\\" and "\"" stay as they are, as the
			# spans in the logs show
			$raw =~ s/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[rntf])/unescape($1)/ge;
			$i++ while $i < $#lines && $lines[$i] ne '```log';
			my @log;
			push @log, $lines[$i] while ++$i < @lines &&
			    $lines[$i] ne '```';
			push @v, { id => "$base#" . ++$n, heading => $heading,
			    type => $type, raw => $raw, log => \@log };
		}
	}
	return @v;
}

# llhttp's strict verdict: (accept|incomplete|reject, k), where k counts
# the requests a strict parser completes before the one it rejects
sub llhttp_verdict {
	my ($v) = @_;
	my @log = @{ $v->{log} };
	my $done = grep { /message complete/ } @log;
	if ($v->{heading} =~ /lenient/i || $v->{type} =~ /lenient/) {
		return ('reject', $LENIENT_K{ $v->{id} } // 0);
	}
	if (@log && $log[-1] =~ /error code=(\d+) reason="(.*)"/) {
		my ($code, $why) = ($1, $2);
		# 22, 23: llhttp pauses to hand the connection over (Upgrade,
		# CONNECT, PRI): the head itself is valid
		return ('accept', 0) if $code == 22 || $code == 23;
		return ('reject', $done);
	}
	# "skipBody": llhttp was told the request has no body; on the wire it
	# has one, so no message completes
	return ('incomplete', 0) if !$done || $v->{raw} =~ /^\s*$/;
	return ('accept', 0);
}

# an HTTP/1.1 request in origin or asterisk form without Host in its head
sub lacks_host {
	my ($raw) = @_;
	return 0 unless $raw =~ /^(?:\r\n)*[!-~]+ ([!-~]+) HTTP\/1\.1\r\n/;
	return 0 if $1 =~ /^[a-z][a-z0-9+.-]*:\/\//i;
	my $head = $raw =~ /^(.*?\r\n\r\n)/s ? $1 : $raw;
	return $head !~ /\r\nhost[ \t]*:/i;
}

# the same bytes with "Host: v" after the first request line
sub with_host {
	my ($raw) = @_;
	return undef unless $raw =~ /^((?:\r\n)*[!-~]+ [!-~]+ HTTP\/1\.1\r\n)/;
	return $1 . "Host: v\r\n" . substr($raw, length $1);
}

# portico's answer: (rejected?, accepted?, description)
sub outcome {
	my ($raw, $res) = @_;
	my $head = $raw =~ /^(?:\r\n)*HEAD / ? { 0 => 1 } : {};
	my @r = PorticoTest::split_responses($res->{raw}, head => $head);
	my $desc = (join(' ', map { $_->{status} } @r) || 'no answer')
	    . ($res->{closed} ? ', closed' : ', open');
	return (\@r, $desc);
}

sub check {
	my ($verdict, $k, $r, $res) = @_;
	my @st = map { $_->{status} } @$r;
	if ($verdict eq 'accept') {
		return @st && $st[0] =~ /^2/;
	}
	if ($verdict eq 'incomplete') {
		return !grep { /^(400|5)/ } @st;
	}
	# reject: at most k answers 2xx, then only errors; and an error
	# answer, or a close without an answer
	my $ok = 0;
	$ok++ while $ok < @st && $st[$ok] =~ /^2/;
	return 0 if $ok > $k || grep({ !/^[45]/ } @st[$ok .. $#st]);
	return $ok < @st || $res->{closed} ? 1 : 0;
}

sub show { my $s = shift; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	length $s > 160 ? substr($s, 0, 157) . '...' : $s }

my @v = vectors();
cmp_ok(scalar @v, '>=', 100, 'vectors read: ' . scalar @v);

my $t = PorticoTest->new;
$t->write_conf(<<'EOF');
worker_processes 1;
events { worker_connections 1024; }
http {
    client_header_timeout 1s;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        client_body_timeout 1s;
        keepalive_timeout 1s;
        location / { return 200 "ok\n"; }
    }
}
EOF
$t->run;

# every vector, and its Host-injected variant, at once
my (@reqs, @jobs);
for my $v (@v) {
	my ($verdict, $k) = llhttp_verdict($v);
	my $exc = $EXCEPT{ $v->{id} };
	my $want = $exc ? $exc->[0] : $verdict;
	$k = 0 if $exc;
	my $nohost = lacks_host($v->{raw});
	# raw: a missing Host is a 400 before anything else is looked at
	push @jobs, { v => $v, verdict => $verdict, want =>
	    $nohost && $want ne 'reject' ? 'reject' : $want,
	    k => $nohost ? 0 : $k, variant => 'raw', nohost => $nohost };
	push @reqs, $v->{raw};
	my $h = $nohost ? with_host($v->{raw}) : undef;
	next unless defined $h;
	push @jobs, { v => $v, verdict => $verdict, want => $want, k => $k,
	    variant => 'with Host' };
	push @reqs, $h;
}
my $res = PorticoTest::http_batch($t->port(0), \@reqs, timeout => 5);

my (%sum, @fail);
for my $i (0 .. $#jobs) {
	my $j = $jobs[$i];
	my ($r, $desc) = outcome($reqs[$i], $res->[$i]);
	my $ok = check($j->{want}, $j->{k}, $r, $res->[$i]);
	my $name = "$j->{v}{id} [$j->{v}{heading}] ($j->{variant}): "
	    . ($j->{nohost} && $j->{want} ne $j->{verdict}
	    ? 'reject (no Host)' : $j->{want})
	    . ($j->{want} eq 'reject' && $j->{k} ? " after $j->{k}" : '');
	note("$name: portico $desc");
	ok($ok, $name) or diag('request: ' . show($reqs[$i]) . "\nportico: $desc");
	push @fail, "$name: $desc" unless $ok;
	# the summary counts each vector once: by its variant with Host
	# when it has one
	next if $j->{variant} eq 'raw' && $i < $#jobs &&
	    $jobs[$i + 1]{v} == $j->{v};
	my $v = $j->{v};
	$sum{'lacking Host: 400 as sent, judged with Host added'}++ if $j->{variant} ne 'raw';
	if ($EXCEPT{ $v->{id} }) {
		$sum{exception}++;
	} elsif ($j->{verdict} eq 'reject') {
		$sum{ $ok ? 'rejected by both' : 'llhttp rejects, portico not' }++;
	} elsif ($j->{verdict} eq 'accept') {
		$sum{ $ok ? 'accepted by both' : 'llhttp accepts, portico not' }++;
	} else {
		$sum{ $ok ? 'incomplete, not rejected' : 'incomplete, rejected' }++;
	}
}

diag(sprintf("%d vectors (%d connections): %s", scalar @v, scalar @reqs,
    join(', ', map { "$sum{$_} $_" } sort keys %sum)));
diag("exceptions (portico's verdict differs from llhttp's on purpose):\n"
    . join("\n", map { "  $_: $EXCEPT{$_}[0]: $EXCEPT{$_}[1]" }
    sort keys %EXCEPT));
diag("failing:\n" . join("\n", map { "  $_" } @fail)) if @fail;

# the checks above can fail: a valid request is answered 2xx, a broken one
# is not
my $probe = PorticoTest::http_batch($t->port(0), [
    "GET / HTTP/1.1\r\nHost: v\r\n\r\n", "GET / HTTP/1.1\r\nHost: v\r\n\n" ],
    timeout => 3);
my ($pr) = outcome('', $probe->[0]);
ok(check('accept', 0, $pr, $probe->[0]), 'control: a valid request is accepted');
($pr) = outcome('', $probe->[1]);
ok(!check('accept', 0, $pr, $probe->[1]) && check('reject', 0, $pr, $probe->[1]),
    'control: a bare LF is rejected');

$t->stop;
done_testing();

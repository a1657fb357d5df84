#!/usr/bin/perl
# Routing as nginx routes: t/routing/routing.conf has every kind of
# server_name and location; t/routing/table.txt lists requests and the
# server:location that must answer.  The table runs against portico and,
# when it is installed, against nginx with the same config: both must
# give the table's answers.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use PorticoTest qw(http parse_response wait_until slurp free_port);

my $template = slurp('t/routing/routing.conf');
my @table;
for (split /\n/, slurp('t/routing/table.txt')) {
	next if /^\s*(#|$)/;
	my ($host, $uri, $want) = /^(\S+)\s+(\S+)\s+(.*?)\s*$/ or die "bad row: $_";
	push @table, [$host, $uri, $want];
}
cmp_ok(scalar @table, '>=', 30, 'routing table loaded');

sub ask {
	my ($port, $host, $uri) = @_;
	my $req = $host eq '-' ? "GET $uri HTTP/1.0\r\n\r\n"
	    : "GET $uri HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
	my ($st, undef, $body) = parse_response(http($port, $req));
	$body =~ s/\n$// if defined $body;
	return "$st $body";
}

sub run_table {
	my ($name, $port) = @_;
	my %got;
	for my $row (@table) {
		my ($host, $uri, $want) = @$row;
		my $got = ask($port, $host, $uri);
		$got{"$host $uri"} = $got;
		is($got, "200 $want", "$name: $host $uri");
	}
	return \%got;
}

# portico
my $t = PorticoTest->new;
my $port = $t->port(0);
(my $conf = $template) =~ s/PORT/$port/g;
$conf =~ s/PID/logs\/portico.pid/;
$conf =~ s/LOG/logs\/error.log/;
$t->write_file('portico.conf', $conf);
$t->{conf} = 'portico.conf';
$t->run;
my $p = run_table('portico', $port);
$t->stop;

# nginx, on the same config
my $nginx = '/usr/sbin/nginx';
SKIP: {
	skip 'nginx is not installed: compared only with the table', 1
	    unless -x $nginx;
	my $nport = free_port();
	my $dir = $t->dir;
	mkdir "$dir/nginx";
	mkdir "$dir/nginx/logs";
	($conf = $template) =~ s/PORT/$nport/g;
	$conf =~ s/PID/$dir\/nginx\/nginx.pid/;
	$conf =~ s/LOG/$dir\/nginx\/error.log/;
	# its compiled-in access log and temporary paths are not an ordinary
	# user's to write
	my $paths = join(' ', 'access_log off;', map {
	    "${_}_temp_path $dir/nginx/$_;" } qw(client_body proxy fastcgi uwsgi
	    scgi));
	$conf =~ s/^(\s*http\s*\{)/$1 $paths/m;
	open(my $fh, '>', "$dir/nginx/nginx.conf") or die;
	print $fh $conf;
	close $fh;
	my $pid = fork // die;
	if ($pid == 0) {
		open(STDERR, '>', "$dir/nginx/stderr") or die;
		exec($nginx, '-p', "$dir/nginx/", '-c', "$dir/nginx/nginx.conf",
		    '-g', 'daemon off;') or POSIX::_exit(127);
	}
	ok(wait_until(sub {
		IO::Socket::INET->new(PeerAddr => "127.0.0.1:$nport")
	}), 'nginx started') or diag(slurp("$dir/nginx/stderr"));
	my $n = run_table('nginx', $nport);
	my @diff = grep { $p->{$_} ne $n->{$_} } sort keys %$p;
	is_deeply(\@diff, [], 'portico and nginx answer the whole table alike')
	    or diag(join("\n", map { "$_: portico '$p->{$_}', nginx '$n->{$_}'" } @diff));
	kill 'QUIT', $pid;
	waitpid($pid, 0);
}

done_testing();

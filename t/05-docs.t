#!/usr/bin/perl
# The man pages are the manual: every directive that "portico -L" lists is
# documented in portico.conf(5), every option of "portico -h" in
# portico(8), and mandoc finds nothing to warn about in either.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Spec;
use PorticoTest qw(bin slurp);

(my $top = __FILE__) =~ s{t/05-docs\.t$}{};
$top = '.' if $top eq '';
my $conf5 = "$top/man/portico.conf.5";
my $man8 = "$top/man/portico.8";

my $t = PorticoTest->new;

# directives
{
	my ($code, $out) = $t->capture([bin(), '-L']);
	is($code, 0, 'portico -L runs');
	my @dirs = map { (split /\t/)[0] } split /\n/, $out;
	ok(@dirs > 20, 'portico -L lists the directives') or diag($out);
	ok(-f $conf5, "$conf5 exists");
	my $page = slurp($conf5);
	my @missing = grep { $page !~ /^\.It Ic \Q$_\E\b/m } @dirs;
	is_deeply(\@missing, [], 'every directive has an ".It Ic NAME" entry in portico.conf.5');
}

# options
{
	my ($code, $out, $err) = $t->capture([bin(), '-h']);
	is($code, 0, 'portico -h runs');
	my @opts;
	for my $line (split /\n/, $err) {
		# "  -?,-h         : this help", "  -s signal     : ..."
		next unless $line =~ /^\s+(-\S+)/;
		push @opts, $1 =~ /-(.)/g;
	}
	ok(@opts >= 12, 'portico -h describes the options') or diag($err);
	ok(-f $man8, "$man8 exists");
	my $page = slurp($man8);
	# ".It Fl h", or a combined entry such as ".It Fl \&? , h"
	my %documented;
	for my $line ($page =~ /^\.It Fl (.*)$/mg) {
		$line =~ s/\\&//g;
		$documented{$1} = 1 if $line =~ /^(\S)/;
		$documented{$1} = 1 while $line =~ /(?:^|,)\s*(?:Fl\s+)?(\S)(?=\s|,|$)/g;
	}
	my @missing = grep { !$documented{$_} } @opts;
	is_deeply(\@missing, [], 'every option of -h has an ".It Fl X" entry in portico.8');
}

# mandoc -T lint -W warning
SKIP: {
	my $mandoc = (grep { -x "$_/mandoc" } split /:/, $ENV{PATH} // '')[0];
	skip('mandoc is not installed: the man pages are not linted', 2)
	    unless $mandoc;
	for my $page ($man8, $conf5) {
		my ($code, $out, $err) = $t->capture(["$mandoc/mandoc", '-T',
		    'lint', '-W', 'warning', File::Spec->rel2abs($page)]);
		is($out . $err, '', "mandoc -T lint -W warning: $page is clean");
	}
}

$t->sanitizer_clean;
done_testing();

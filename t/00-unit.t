#!/usr/bin/perl
# Runs the C unit tests (t/unit/*.c, built by make into objs/unit/) and
# turns each one's TAP into a subtest.

use strict;
use warnings;
use Test::More;

my $dir = $ENV{PORTICO_UNITDIR} || 'objs/unit';
my @units = sort grep { -x $_ && !/\.d$/ } glob("$dir/*");
my @srcs = glob('t/unit/*.c');
is(scalar @units, scalar @srcs, 'every unit test is built')
    or diag("built: @units; sources: @srcs");

for my $u (@units) {
	(my $name = $u) =~ s{.*/}{};
	subtest $name => sub {
		my $out = `$u 2>&1`;
		my $code = $? >> 8;
		my ($plan, $seen) = (undef, 0);
		for my $line (split /\n/, $out) {
			if ($line =~ /^1\.\.(\d+)/) {
				$plan = $1;
			} elsif ($line =~ /^(not )?ok \d+\s*-?\s*(.*)$/) {
				$seen++;
				ok(!$1, $2);
			} elsif ($line =~ /^#/) {
				note($line);
			} else {
				diag($line);
			}
		}
		ok(defined $plan && $plan == $seen, "plan of $name ran whole")
		    or diag("plan " . ($plan // 'none') . ", ran $seen");
		is($code, 0, "$name exit code");
	};
}
done_testing();

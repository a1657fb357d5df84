#!/usr/bin/perl
# Writes each ```http block of the llhttp request vectors as one raw
# request file (the vectors' README: a bare newline stands for CRLF, and
# \r \n \t \xNN escapes are literal bytes).  Used as fuzz seeds.
#   t/fuzz/vectors.pl VECTOR_DIR OUT_DIR
use strict;
use warnings;

my ($in, $out) = @ARGV;
die "usage: $0 VECTOR_DIR OUT_DIR\n" unless $in && $out;
mkdir $out;
my $n = 0;
for my $f (sort glob("$in/*.md")) {
	open(my $fh, '<', $f) or die "$f: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	(my $base = $f) =~ s{.*/|\.md$}{}g;
	while ($text =~ /```http\n(.*?)```/sg) {
		my $raw = $1;
		$raw =~ s/\n\z//;	# the newline before the closing fence
		$raw =~ s/\n/\r\n/g;
		$raw =~ s/\\r/\r/g;
		$raw =~ s/\\n/\n/g;
		$raw =~ s/\\t/\t/g;
		$raw =~ s/\\x([0-9a-fA-F]{2})/chr(hex($1))/ge;
		open(my $o, '>', sprintf("%s/%s-%03d", $out, $base, ++$n))
		    or die;
		binmode $o;
		print $o $raw;
		close $o;
	}
}
print "$n\n";

#!/usr/bin/perl
# The parsers' fuzz targets (t/fuzz/*.c), replayed over their seeds and
# over deterministic mutations of them, so the suite (and its sanitizer
# run) exercises them; "make fuzz" runs them under libFuzzer.

use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

my $bin = $ENV{PORTICO_FUZZDIR} || 'objs/fuzz';
my $vectors = '../shared/vectors/llhttp/request';
my $dir = tempdir('portico-fuzz-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub write_inputs {
	my ($sub, @inputs) = @_;
	mkdir "$dir/$sub";
	my $n = 0;
	for my $in (@inputs) {
		open(my $fh, '>', sprintf("%s/%s/%05d", $dir, $sub, $n++)) or die;
		binmode $fh;
		print $fh $in;
		close $fh;
	}
	return glob("$dir/$sub/*");
}

sub replay {
	my ($target, @files) = @_;
	my $out = `$bin/$target-replay @files 2>&1`;
	is($?, 0, "$target: " . scalar(@files) . " inputs, no crash or assertion")
	    or diag(substr($out, 0, 4000));
	like($out, qr/replayed ${\ scalar @files} inputs/, "$target: all replayed");
}

# a fixed seed: the same mutations on every run
srand(20261122);
sub mutations {
	my ($count, @seeds) = @_;
	my @out;
	my @bytes = ("\r", "\n", "\0", ' ', ':', '{', '}', ';', '"', "'", '\\',
	    '#', '$', "\t", "\x7f", "\xff", 'a', '0');
	for (1 .. $count) {
		my $s = $seeds[rand @seeds];
		for (1 .. 1 + int(rand(4))) {
			my $pos = int(rand(length($s) + 1));
			my $op = int(rand(3));
			if ($op == 0) {
				substr($s, $pos, 1) = $bytes[rand @bytes] if length $s;
			} elsif ($op == 1) {
				substr($s, $pos, 0) = $bytes[rand @bytes];
			} else {
				substr($s, $pos, int(rand(8))) = '';
			}
		}
		push @out, $s;
	}
	return @out;
}

sub slurp_all {
	map { local $/; open(my $f, '<', $_) or die; binmode $f; scalar <$f> } @_;
}

# http_parse: the llhttp request vectors and their mutations
SKIP: {
	skip "vectors not found at $vectors", 4 unless -d $vectors;
	system("perl t/fuzz/vectors.pl $vectors $dir/http >/dev/null");
	my @seeds = glob("$dir/http/*");
	cmp_ok(scalar @seeds, '>', 100, 'vector requests extracted');
	replay('http_parse', @seeds);
	my @mut = write_inputs('http-mut', mutations(3000, slurp_all(@seeds)));
	replay('http_parse', @mut);
}

# conf: the default config, test configs, and their mutations
my @confs = slurp_all('conf/portico.conf');
for my $t (glob('t/*.t')) {
	my ($text) = slurp_all($t);
	push @confs, $1 while $text =~ /<<'EOF'\)?;?\n(.*?)\nEOF\n/sg;
}
# the fuzz target leaves listen out (host names would be looked up)
@confs = map { s/^\s*listen[^;]*;//mgr } @confs;
cmp_ok(scalar @confs, '>', 5, 'config seeds collected');
replay('conf', write_inputs('conf', @confs));
replay('conf', write_inputs('conf-mut', mutations(1500, @confs)));

done_testing();

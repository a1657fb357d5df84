#!/usr/bin/perl
# TLS and reloads: a certificate replaced on disk is served after HUP (its
# new serial seen), even when the key type changes; a key that does not
# match, or a certificate file that is not one, makes the reload fail and
# the old configuration keeps serving; fixed, the next HUP takes it.
#
# PORTICO_TEST_NGINX=1 runs the same file against nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Copy qw(copy);
use PorticoTest qw(slurp);
use PorticoTLS qw(pki tls_get);

my $pki = pki();
my $t = PorticoTLS->target;
my $dir = $t->dir;

sub put {
	my ($name, $text) = @_;
	open(my $fh, '>', "$dir/$name.tmp") or die;
	print $fh $text;
	close $fh;
	chmod 0644, "$dir/$name.tmp";
	# in one step, as a deployment tool would
	rename("$dir/$name.tmp", "$dir/$name") or die;
}
put('site.crt', slurp($pki->path('default.test.chain.crt')));
put('site.key', slurp($pki->path('rsa.key')));

$t->write_conf(<<'EOF');
worker_processes 2;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_0%% ssl;
        ssl_certificate %%DIR%%/site.crt;
        ssl_certificate_key %%DIR%%/site.key;
        location / { return 200 "ok $pid\n"; }
    }
}
EOF
$t->run;
my $P = $t->port(0);
my @w = $t->wait_workers(2);

sub serial_seen {
	my $r = tls_get($P, '/', sni => 'default.test', verify => 'root.crt');
	return $r->{status} == 200 ? $r->{serial} : "none ($r->{error})";
}

is(serial_seen(), $pki->serial('default.test'), 'the first certificate');

# replaced on disk: seen once reloaded
my $s2 = $pki->new_leaf('default.test', "$dir/site.crt.new");
rename("$dir/site.crt.new", "$dir/site.crt") or die;
is(serial_seen(), $pki->serial('default.test'),
    'replaced on disk: the old one until the reload');
@w = $t->reload(2);
is(scalar @w, 2, 'HUP: new workers');
is(serial_seen(), $s2, 'the new certificate after HUP');

# another key type
my $s3 = $pki->new_leaf('default.test', "$dir/site.crt.new", type => 'ec');
rename("$dir/site.crt.new", "$dir/site.crt") or die;
put('site.key', slurp($pki->path('ec.key')));
@w = $t->reload(2);
is(scalar @w, 2, 'HUP: new workers');
is(serial_seen(), $s3, 'an ECDSA certificate and key in place of the RSA ones');

# a key that does not match: the reload fails, the old workers serve on
my $fails = 0;
sub bad_reload {
	my ($what) = @_;
	my $before = () = $t->error_log =~ /\[emerg\]/g;
	$t->signal('HUP');
	ok(PorticoTest::wait_until(sub {
		my $n = () = $t->error_log =~ /\[emerg\]/g;
		return $n > $before;
	}, 10), "$what: the reload fails with an [emerg]");
	my @now = $t->workers;
	is("@now", "@w", "$what: the same workers");
	is(serial_seen(), $s3, "$what: still the last good certificate");
}
# (another key of the same type: nginx takes an RSA key beside an ECDSA
# certificate, and fails the handshakes)
put('site.key', slurp($pki->path('ec2.key')));
bad_reload('a key that does not match the certificate');
like($t->error_log, qr/\[emerg\].*site\.key/, '... the error names the key file');
put('site.key', "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
bad_reload('a key file that is not a key');
put('site.key', slurp($pki->path('ec.key')));
put('site.crt', "not a certificate\n");
bad_reload('a certificate file that is not one');
like($t->error_log, qr/\[emerg\].*site\.crt/, '... the error names the certificate file');

# fixed: the next reload takes it
my $s4 = $pki->new_leaf('default.test', "$dir/site.crt.new", type => 'ec');
rename("$dir/site.crt.new", "$dir/site.crt") or die;
@w = $t->reload(2);
is(scalar @w, 2, 'fixed, HUP: new workers');
is(serial_seen(), $s4, '... with the new certificate');

$t->stop;
done_testing();

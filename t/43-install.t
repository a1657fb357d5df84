#!/usr/bin/perl
# make install with PREFIX and DESTDIR: the files, the paths written into
# the init script and the systemd unit, and the installed default config
# passing -t.

use strict;
use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use PorticoTest qw(slurp);

my $root = tempdir('portico-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $prefix = '/opt/portico-test';
my $out = `make -s install DESTDIR=$root PREFIX=$prefix 2>&1`;
is($?, 0, 'make install') or diag($out);

my $p = "$root$prefix";
ok(-x "$p/sbin/portico", 'binary installed, executable');
ok(-f "$p/conf/portico.conf", 'default config');
ok(-f "$p/conf/mime.types", 'mime.types');
ok(-d "$p/logs", 'logs folder');
ok(-f "$p/share/man/man8/portico.8", 'portico.8');
ok(-f "$p/share/man/man5/portico.conf.5", 'portico.conf.5');

my $init = slurp("$root/etc/init.d/portico");
ok(-x "$root/etc/init.d/portico", 'init script installed, executable');
unlike($init, qr/\@[A-Z]+\@/, 'no placeholder left in the init script');
like($init, qr{^DAEMON=$prefix/sbin/portico$}m, 'init script: binary path');
like($init, qr{^PREFIX=$prefix/$}m, 'init script: prefix');
like($init, qr{^PIDFILE=$prefix/logs/portico.pid$}m, 'init script: pid file');
system('sh', '-n', "$root/etc/init.d/portico");
is($?, 0, 'init script parses (sh -n)');

my $unit = slurp("$root/lib/systemd/system/portico.service");
unlike($unit, qr/\@[A-Z]+\@/, 'no placeholder left in the unit');
like($unit, qr{^ExecStart=$prefix/sbin/portico -p $prefix/ -c $prefix/conf/portico.conf$}m,
    'unit: ExecStart');
like($unit, qr{^PIDFile=$prefix/logs/portico.pid$}m, 'unit: PIDFile');

# the installed config is valid where it was installed
$out = `$p/sbin/portico -t -p $p/ -c $p/conf/portico.conf 2>&1`;
is($?, 0, 'installed portico -t on the installed config') or diag($out);

# a second install keeps an edited config
open(my $fh, '>>', "$p/conf/portico.conf") or die;
print $fh "# edited by the admin\n";
close $fh;
$out = `make -s install DESTDIR=$root PREFIX=$prefix 2>&1`;
like($out, qr/keeping existing/, 'reinstall says it keeps the config');
like(slurp("$p/conf/portico.conf"), qr/edited by the admin/,
    'reinstall keeps an edited config');

done_testing();

package PorticoTLS;

# TLS for the integration tests: a test PKI made with the openssl command,
# clients (IO::Socket::SSL, and `openssl s_client` for what it alone shows),
# a TLS stub upstream, and the choice of the server under test: portico,
# or nginx with the same config (PORTICO_TEST_NGINX=1) to check that what a
# test expects is what nginx does.
#
#   use PorticoTLS qw(pki tls_get);
#   my $pki = pki();                 # once per test file; skip_all without openssl
#   my $t = PorticoTLS->target;      # a PorticoTest (or its nginx twin)
#   $t->write_conf(<<"EOF");
#   ... listen 127.0.0.1:%%PORT_0%% ssl;
#       ssl_certificate %%PKI%%/a.example.test.chain.crt;
#       ssl_certificate_key %%PKI%%/rsa.key; ...
#   EOF
#   $t->run;
#   my $r = tls_get($t->port(0), '/', sni => 'a.example.test');
#   is($r->{status}, 200); is($r->{protocol}, 'TLSv1.3');
#
# The PKI (all under pki()->{dir}, referred to as %%PKI%% in configs):
#   root.crt                  "Portico Test Root CA" (self-signed)
#   inter.crt                 "Portico Test Intermediate CA", signed by the root
#   ca-both.crt               root + intermediate
#   rsa.key, ec.key           the one RSA 2048 and the one P-256 key of every
#                             leaf (generating keys is what costs); ec2.key,
#                             a key no certificate has
#   NAME.crt, NAME.chain.crt  RSA leaf for NAME signed by the intermediate;
#                             .chain.crt has the intermediate after it
#   NAME-ec.crt, NAME-ec.chain.crt   the same with the EC key
#       NAME: default.test, a.example.test, b.example.test, wild.example.test
#       (subject and SAN *.example.test), regex.test (SAN *.regex.test),
#       backend.test (for upstreams)
#       leaf subjects: CN=NAME,OU=rsa|ecdsa,O=Portico Test
#   rsa.enc.key, password.txt rsa.key encrypted; the password is on the second
#                             line of password.txt (the first is wrong)
#   clientca.crt/.key         "Portico Test Client CA"; client.crt/.key
#                             (CN=client.test) and revoked.crt/.key
#                             (CN=revoked.test) from it; crl.pem: its CRL,
#                             revoked.crt revoked
#   unknownca.crt, stranger.crt/.key  a client cert from a CA no one trusts
#   ocsp-default.der          a "good" OCSP response for default.test.crt
#                             signed by the intermediate (its issuer)
#   $pki->serial(NAME)        the serial of a leaf (NAME or NAME-ec), client,
#                             revoked, stranger: hex as openssl prints it
#   $pki->new_leaf(NAME, FILE, type => 'ec')  a new leaf (new serial) into
#                             FILE, with the chain; returns the serial
#
# The API, besides:
#   PorticoTLS->target        the server under test; ->wait_workers(N),
#                             ->reload(N) (HUP, wait for N new workers)
#   nginx_mode, portico_only(N, why)   skip portico-only cases on nginx
#   tls_get(PORT, PATH, %o), tls_request(PORT, RAW, %o)   a request over TLS:
#                             { status, h, body, resp, raw, closed, error,
#                             protocol, cipher, reused, alpn, subject,
#                             issuer, serial, chain }; %o in client_opts
#   session(%o)               a client context keeping sessions (resumption)
#   tls_connect, tls_read, tls_write   the socket, for keep-alive and more
#   s_client(PORT, [ARGS], input =>, timeout =>)   openssl s_client
#   PorticoTLS::Upstream      a TLS stub upstream (below)

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::SSL;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use PorticoTest qw(wait_until slurp);
use PorticoUpstream;

our @EXPORT_OK = qw(pki tls_get tls_request tls_connect s_client session
    nginx_mode portico_only openssl_bin);

our $OPENSSL = $ENV{OPENSSL_BIN} || 'openssl';
our $s_client_runs = 0;

sub openssl_bin { $OPENSSL }

# true when the tests run against nginx instead of portico
sub nginx_mode { $ENV{PORTICO_TEST_NGINX} ? 1 : 0 }

# skip a block of tests that check a portico-only behaviour when running
# against nginx: SKIP: { portico_only(3); ... }
sub portico_only {
	my ($n, $why) = @_;
	return unless nginx_mode();
	skip('portico-only' . ($why ? ": $why" : ''), $n // 1);
}

# ---------------------------------------------------------------------
# the PKI

my $PKI;

# run openssl with @args in $dir; dies with its output when it fails
sub ossl {
	my ($dir, $env, @args) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		chdir($dir) or POSIX::_exit(126);
		$ENV{$_} = $env->{$_} for keys %$env;
		$ENV{OPENSSL_CONF} = "$dir/openssl.cnf";
		$ENV{SAN} //= "DNS:unused.test";
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$dir/openssl.log");
		open(STDERR, '>&', \*STDOUT);
		exec($OPENSSL, @args) or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	die "openssl @args: exit " . ($? >> 8) . "\n" . slurp("$dir/openssl.log")
	    if $?;
}

sub have_openssl {
	my $v = `$OPENSSL version 2>/dev/null` // '';
	return $v =~ /^OpenSSL (\d+)/ && $1 >= 3;
}

my $CNF = <<'EOF';
# the test PKI's own config: nothing from the system's
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[ca]
default_ca = clientca
[clientca]
database = clientca.index
crlnumber = clientca.crlnumber
certificate = clientca.crt
private_key = clientca.key
default_md = sha256
default_crl_days = 30
EOF

my %SERIAL;
my $next_serial = 0x1000;

# a certificate signed by $ca (undef: self-signed) for $key, with
# extensions $ext; returns its serial (hex)
sub mkcert {
	my ($dir, $out, $key, $subj, $ext, $ca, %o) = @_;
	my $serial = sprintf('%X', $o{serial} // $next_serial++);
	my @ca = $ca ? ('-CA', "$ca.crt", '-CAkey', "$ca.key") : ('-x509');
	ossl($dir, { SAN => $o{san} // 'DNS:unused.test' }, 'req', '-new',
	    '-key', $key, '-subj', $subj, @ca, '-extensions', $ext,
	    '-set_serial', "0x$serial", '-days', $o{days} // 30, '-sha256',
	    '-out', $out);
	return $serial;
}

sub put {
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	binmode $fh;
	print $fh $text;
	close $fh;
}

# the leaf names, and their SANs
our %LEAF = (
	'default.test' => 'DNS:default.test',
	'a.example.test' => 'DNS:a.example.test',
	'b.example.test' => 'DNS:b.example.test',
	'wild.example.test' => 'DNS:*.example.test',
	'regex.test' => 'DNS:regex.test,DNS:*.regex.test',
	'backend.test' => 'DNS:backend.test',
);

# a leaf certificate for $name (a key of %LEAF), RSA or EC ($type 'rsa' or
# 'ec'), into $dir/$file.crt and $file.chain.crt; returns the serial
sub make_leaf {
	my ($dir, $name, $type, $file, %o) = @_;
	my $cn = $name eq 'wild.example.test' ? '*.example.test' : $name;
	my $ou = $type eq 'ec' ? 'ecdsa' : 'rsa';
	my $serial = mkcert($dir, "$file.crt", "$type.key",
	    "/O=Portico Test/OU=$ou/CN=$cn", 'v3_leaf', 'inter',
	    san => $LEAF{$name}, %o);
	put("$dir/$file.chain.crt", slurp("$dir/$file.crt")
	    . slurp("$dir/inter.crt"));
	chmod 0644, "$dir/$file.crt", "$dir/$file.chain.crt";
	return $serial;
}

# the PKI, made on the first call of a test file; skips the whole file
# when there is no openssl 3 command
sub pki {
	return $PKI if $PKI;
	plan(skip_all => "no OpenSSL 3 \"$OPENSSL\" command") unless have_openssl();
	my $start = time;
	my $dir = tempdir('portico-pki-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{PORTICO_KEEP});
	# read by portico's master (root or not); world-readable anyway
	# for workers running as nobody
	chmod 0755, $dir;
	put("$dir/openssl.cnf", $CNF);

	my $ec = sub {
		ossl($dir, {}, 'genpkey', '-algorithm', 'EC', '-pkeyopt',
		    'ec_paramgen_curve:P-256', '-out', $_[0]);
	};
	$ec->("$_.key") for qw(root inter clientca unknownca ec client
	    revoked stranger ec2);
	ossl($dir, {}, 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
	    'rsa_keygen_bits:2048', '-out', 'rsa.key');

	mkcert($dir, 'root.crt', 'root.key', '/O=Portico Test/CN=Portico Test Root CA',
	    'v3_ca', undef, days => 60);
	mkcert($dir, 'inter.crt', 'inter.key',
	    '/O=Portico Test/CN=Portico Test Intermediate CA', 'v3_inter', 'root',
	    days => 60);
	put("$dir/ca-both.crt", slurp("$dir/root.crt") . slurp("$dir/inter.crt"));
	for my $name (sort keys %LEAF) {
		$SERIAL{$name} = make_leaf($dir, $name, 'rsa', $name);
		$SERIAL{"$name-ec"} = make_leaf($dir, $name, 'ec', "$name-ec");
	}

	# the encrypted key, and a password file whose first line is wrong
	ossl($dir, {}, 'pkey', '-in', 'rsa.key', '-aes256', '-passout',
	    'pass:portico-secret', '-out', 'rsa.enc.key');
	put("$dir/password.txt", "not-this-one\nportico-secret\n");

	# client certificates
	mkcert($dir, 'clientca.crt', 'clientca.key',
	    '/O=Portico Test/CN=Portico Test Client CA', 'v3_ca', undef, days => 60);
	mkcert($dir, 'unknownca.crt', 'unknownca.key',
	    '/O=Portico Test/CN=Portico Test Unknown CA', 'v3_ca', undef, days => 60);
	$SERIAL{client} = mkcert($dir, 'client.crt', 'client.key',
	    '/O=Portico Test/OU=clients/CN=client.test', 'v3_client', 'clientca');
	$SERIAL{revoked} = mkcert($dir, 'revoked.crt', 'revoked.key',
	    '/O=Portico Test/OU=clients/CN=revoked.test', 'v3_client', 'clientca');
	$SERIAL{stranger} = mkcert($dir, 'stranger.crt', 'stranger.key',
	    '/O=Portico Test/OU=clients/CN=stranger.test', 'v3_client',
	    'unknownca');

	# the client CA's CRL, revoked.crt in it: its database written by
	# hand (openssl ca -revoke would want every issued cert in it)
	my $exp = POSIX::strftime('%y%m%d%H%M%SZ', gmtime(time + 30 * 86400));
	my $rev = POSIX::strftime('%y%m%d%H%M%SZ', gmtime(time - 3600));
	put("$dir/clientca.index", "R\t$exp\t$rev\t$SERIAL{revoked}\tunknown\t"
	    . "/O=Portico Test/OU=clients/CN=revoked.test\n");
	put("$dir/clientca.crlnumber", "01\n");
	ossl($dir, {}, 'ca', '-gencrl', '-name', 'clientca', '-out', 'crl.pem');

	# a good OCSP response for default.test.crt, signed by its issuer
	put("$dir/inter.index", "V\t$exp\t\t$SERIAL{'default.test'}\tunknown\t"
	    . "/O=Portico Test/OU=rsa/CN=default.test\n");
	ossl($dir, {}, 'ocsp', '-issuer', 'inter.crt', '-cert', 'default.test.crt',
	    '-no_nonce', '-reqout', 'ocsp-req.der');
	ossl($dir, {}, 'ocsp', '-index', 'inter.index', '-rsigner', 'inter.crt',
	    '-rkey', 'inter.key', '-CA', 'inter.crt', '-reqin', 'ocsp-req.der',
	    '-ndays', '7', '-respout', 'ocsp-default.der');

	chmod 0644, glob("$dir/*");
	$PKI = bless { dir => $dir, secs => time - $start }, __PACKAGE__;
	note(sprintf('test PKI in %s, made in %.2fs', $dir, $PKI->{secs}));
	return $PKI;
}

sub dir { $_[0]{dir} }
sub path { "$_[0]{dir}/$_[1]" }
sub serial { $SERIAL{ $_[1] } }

# a new RSA leaf for $name (serial $o{serial} or the next one) into
# $dest/FILE.crt and FILE.chain.crt; returns its serial.  For certificates
# replaced on disk.
sub new_leaf {
	my ($self, $name, $dest_file, %o) = @_;
	my $type = $o{type} // 'rsa';
	# made in the PKI directory (where the keys are), then moved
	my $tmp = "new-$$-" . $next_serial;
	my $serial = make_leaf($self->{dir}, $name, $type, $tmp, %o);
	rename("$self->{dir}/$tmp.chain.crt", $dest_file) or die "$dest_file: $!";
	unlink("$self->{dir}/$tmp.crt");
	return $serial;
}

# the subject of a PEM certificate file, as openssl prints it
sub subject_of {
	my ($self, $file) = @_;
	my $s = `$OPENSSL x509 -noout -subject -nameopt RFC2253 -in $file 2>/dev/null`;
	$s =~ s/^subject=\s*//;
	chomp $s;
	return $s;
}


# ---------------------------------------------------------------------
# the server under test: portico, or nginx with the same config

# a PorticoTest whose configs may also say %%PKI%%; with PORTICO_TEST_NGINX
# set, its nginx twin.  In a config given to write_conf, a line ending in
# "# portico-only" is a portico directive that nginx would refuse: it is
# left out for nginx (and the tests of it skipped with portico_only()).
sub target {
	my ($class, %o) = @_;
	my $t = PorticoTest->new(%o);
	if (nginx_mode()) {
		BAIL_OUT("PORTICO_TEST_NGINX: no nginx at $PorticoTest::Nginx::NGINX")
		    unless PorticoTest::Nginx::available();
		return bless $t, 'PorticoTLS::Nginx';
	}
	return bless $t, 'PorticoTLS::Portico';
}

package PorticoTLS::Portico;

use parent -norequire, 'PorticoTest';

sub expand {
	my ($self, $text) = @_;
	my $pki = PorticoTLS::pki()->dir;
	$text =~ s/%%PKI%%/$pki/g;
	return $self->SUPER::expand($text);
}

sub server_name { 'portico' }

# wait until exactly $n workers run, none of them in @$old; returns them
sub wait_workers {
	my ($self, $n, $old, $timeout) = @_;
	my %old = map { $_ => 1 } @{ $old // [] };
	my @w;
	my $ok = PorticoTest::wait_until(sub {
		@w = $self->workers;
		return @w == $n && !grep { $old{$_} } @w;
	}, $timeout // 10);
	return $ok ? @w : ();
}

# HUP, then wait until $n new workers run and the old ones are gone
sub reload {
	my ($self, $n) = @_;
	my @old = $self->workers;
	$self->signal('HUP');
	my @w = $self->wait_workers($n, \@old);
	PorticoTest::wait_gone(\@old, 10) if @w;
	return @w;
}

package PorticoTLS::Nginx;

use parent -norequire, 'PorticoTLS::Portico';

sub server_name { 'nginx' }

sub cmd {
	my ($self, @args) = @_;
	return ($PorticoTest::Nginx::NGINX, '-e', "$self->{dir}/logs/error.log",
	    '-p', "$self->{dir}/", '-c', $self->conf_path, @args);
}

sub write_conf {
	my ($self, $text, $name) = @_;
	my $dir = $self->{dir};
	$text =~ s/^.*#\s*portico-only\s*\n//mg;
	my $temps = join('', map { "    ${_}_temp_path $dir/$_;\n" }
	    qw(client_body proxy fastcgi uwsgi scgi));
	# the packaged default is not writable by an ordinary user
	$temps .= "    access_log logs/access.log;\n" unless $text =~ /\baccess_log\b/;
	$text =~ s/^(\s*http\s*\{)/$1\n$temps/m;
	$text = "pid logs/portico.pid;\n" . $text;
	return $self->SUPER::write_conf($text, $name);
}

sub children {
	my ($self, $kind, $master) = @_;
	$master //= $self->{pid};
	my @pids;
	opendir(my $d, '/proc') or return ();
	for my $p (grep { /^\d+$/ } readdir $d) {
		my $stat = PorticoTest::slurp("/proc/$p/stat");
		next unless $stat =~ /^\d+ \(.*?\) \S+ (\d+)/ && $1 == $master;
		push @pids, $p if PorticoTest::slurp("/proc/$p/cmdline")
		    =~ /^nginx: \Q$kind\E process/;
	}
	closedir $d;
	return sort { $a <=> $b } @pids;
}

package PorticoTLS;

# ---------------------------------------------------------------------
# clients

# IO::Socket::SSL options for a client:
#   sni => NAME (none by default), version => 'TLSv1_2' | 'TLSv1_3' | ...
#   (IO::Socket::SSL's SSL_version), ciphers => (TLS 1.2 and lower),
#   suites => (TLS 1.3 ciphersuites), cert => 'client' (the PKI's
#   client.crt and client.key), verify => CA file (default: none; a
#   relative name is in the PKI), alpn => [ protocols ], timeout => secs (5),
#   session => a context from session(): resumes the session of the
#   previous connection made with it (under the key $o{session_key})
sub client_opts {
	my (%o) = @_;
	my $pki = pki();
	my %a = (
		PeerAddr => '127.0.0.1', Proto => 'tcp',
		Timeout => $o{timeout} // 5,
		SSL_hostname => $o{sni} // '',
	);
	if ($o{verify}) {
		my $ca = $o{verify} =~ m{^/} ? $o{verify} : $pki->path($o{verify});
		%a = (%a, SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
		    SSL_ca_file => $ca, SSL_ca_path => undef);
		if (defined $o{sni}) {
			$a{SSL_verifycn_scheme} = 'http';
			$a{SSL_verifycn_name} = $o{sni};
		}
	} else {
		$a{SSL_verify_mode} = IO::Socket::SSL::SSL_VERIFY_NONE();
	}
	$a{SSL_version} = $o{version} if $o{version};
	$a{SSL_cipher_list} = $o{ciphers} if defined $o{ciphers};
	$a{SSL_ciphersuites} = $o{suites} if defined $o{suites};
	if ($o{cert}) {
		$a{SSL_cert_file} = $pki->path("$o{cert}.crt");
		$a{SSL_key_file} = $pki->path("$o{cert}.key");
	}
	if ($o{session}) {
		# the context, and the sessions it keeps
		$a{SSL_reuse_ctx} = $o{session};
		$a{SSL_session_key} = $o{session_key} // 'portico';
	}
	$a{SSL_alpn_protocols} = $o{alpn} if $o{alpn};
	return %a;
}

# a client context that keeps the sessions of its connections, for
# resumption: tls_get(..., session => $sess).  Made with the options of
# client_opts() (version, ciphers, cert, verify, alpn): a connection made
# with it has those, whatever else it is given, but for sni.
sub session {
	my (%o) = @_;
	my %a = client_opts(%o);
	delete @a{qw(PeerAddr Proto Timeout SSL_hostname SSL_verifycn_scheme
	    SSL_verifycn_name)};
	return IO::Socket::SSL::SSL_Context->new(%a, SSL_session_cache_size => 64);
}

# a TLS connection to 127.0.0.1:$port: (socket, undef) or (undef, error)
sub tls_connect {
	my ($port, %o) = @_;
	my $s = IO::Socket::SSL->new(client_opts(%o), PeerPort => $port);
	return (undef, $IO::Socket::SSL::SSL_ERROR || "$!") unless $s;
	return ($s, undef);
}

# what the handshake gave: protocol, cipher, reused, alpn, the peer's
# subject, issuer and serial (RFC 2253 names, as nginx prints them), and
# the subjects of the chain it sent (leaf first)
sub tls_info {
	my ($s) = @_;
	my $ssl = $s->_get_ssl_object;
	my %i = (
		protocol => $s->get_sslversion,
		cipher => $s->get_cipher,
		reused => Net::SSLeay::session_reused($ssl) ? 1 : 0,
		alpn => $s->alpn_selected,
	);
	my $x = Net::SSLeay::get_peer_certificate($ssl);
	if ($x) {
		$i{subject} = x509_name(Net::SSLeay::X509_get_subject_name($x));
		$i{issuer} = x509_name(Net::SSLeay::X509_get_issuer_name($x));
		$i{serial} = uc Net::SSLeay::P_ASN1_INTEGER_get_hex(
		    Net::SSLeay::X509_get_serialNumber($x));
		Net::SSLeay::X509_free($x);
	}
	$i{chain} = [ map { x509_name(Net::SSLeay::X509_get_subject_name($_)) }
	    Net::SSLeay::get_peer_cert_chain($ssl) ];
	return \%i;
}

# RFC 2253, the form of $ssl_client_s_dn
sub x509_name {
	my ($n) = @_;
	return Net::SSLeay::X509_NAME_print_ex($n,
	    Net::SSLeay::XN_FLAG_RFC2253() & ~Net::SSLeay::ASN1_STRFLGS_ESC_MSB());
}

# read from an SSL socket until $done->($buf), EOF or $timeout seconds;
# returns ($buf, closed)
sub tls_read {
	my ($s, $timeout, $done) = @_;
	my $buf = '';
	my $end = time + $timeout;
	my $sel = IO::Select->new($s);
	while (time < $end) {
		return ($buf, 0) if $done && $done->($buf);
		next unless $s->pending || $sel->can_read(0.05);
		my $r = sysread($s, $buf, 65536, length $buf);
		return ($buf, 1) if defined $r && $r == 0;
		return ($buf, 1) if !defined $r && !$!{EAGAIN} && !$!{EINTR}
		    && ($IO::Socket::SSL::SSL_ERROR // '') !~ /want/i;
	}
	return ($buf, 0);
}

# write all of $data to an SSL socket; false on error
sub tls_write {
	my ($s, $data) = @_;
	while (length $data) {
		my $n = syswrite($s, $data, 65536);
		return 0 unless defined $n;
		substr($data, 0, $n, '');
	}
	return 1;
}

# one connection, $req (raw bytes; an array: parts sent $o{delay} apart)
# sent, and responses read until the peer closes, $o{want} responses are
# in, or $o{timeout} (5) seconds.  Returns { error (the handshake's, when
# it failed), raw, closed, resp => [ PorticoTest::split_responses ],
# status, h, body (of the first response), and tls_info()'s fields }.
sub tls_request {
	my ($port, $req, %o) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my ($s, $err) = tls_connect($port, %o);
	return { error => $err, status => 0, h => {}, body => '', resp => [],
	    raw => '' } unless $s;
	my $r = tls_info($s);
	my @parts = ref $req ? @$req : ($req);
	for my $i (0 .. $#parts) {
		tls_write($s, $parts[$i]) or last;
		sleep($o{delay} // 0.05) if $i < $#parts;
	}
	my $want = $o{want};
	my ($buf, $closed) = tls_read($s, $o{timeout} // 5, $want && sub {
		my @r = PorticoTest::split_responses($_[0], head => $o{head});
		return @r >= $want;
	});
	close $s;
	my @resp = PorticoTest::split_responses($buf, head => $o{head});
	%$r = (%$r, raw => $buf, closed => $closed, resp => \@resp,
	    status => @resp ? $resp[0]{status} : 0,
	    h => @resp ? $resp[0]{h} : {}, body => @resp ? $resp[0]{body} : '');
	return $r;
}

# GET $path with Connection: close; Host: $o{host}, else the SNI name,
# else localhost; %o as tls_request and client_opts
sub tls_get {
	my ($port, $path, %o) = @_;
	my $host = $o{host} // $o{sni} // 'localhost';
	my $hdr = join('', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} // [] });
	return tls_request($port, "GET $path HTTP/1.1\r\nHost: $host\r\n$hdr"
	    . "Connection: close\r\n\r\n", %o);
}

# `openssl s_client -connect 127.0.0.1:$port @$args`, $o{input} (default: a
# GET / HTTP/1.0, after which the server closes) on its stdin, killed
# after $o{timeout} (10) seconds.  Returns (exit code, stdout + stderr);
# the code is -1 when it had to be killed.
sub s_client {
	my ($port, $args, %o) = @_;
	my $pki = pki();
	my $dir = $pki->dir;
	my $n = ++$PorticoTLS::s_client_runs;
	my ($in, $out) = ("$dir/s_client.$$.$n.in", "$dir/s_client.$$.$n.out");
	put($in, $o{input} // "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', $in) or POSIX::_exit(126);
		open(STDOUT, '>', $out) or POSIX::_exit(126);
		open(STDERR, '>&', \*STDOUT);
		exec($OPENSSL, 's_client', '-connect', "127.0.0.1:$port",
		    '-ign_eof', @$args) or POSIX::_exit(127);
	}
	my $done = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
	    $o{timeout} // 10);
	my $code = $done ? $? >> 8 : -1;
	unless ($done) {
		kill('KILL', $pid);
		waitpid($pid, 0);
	}
	my $text = slurp($out);
	unlink $in, $out;
	return ($code, $text);
}

# ---------------------------------------------------------------------
# a TLS stub upstream: PorticoUpstream behind a TLS handshake
#
#   my $up = PorticoTLS::Upstream->new(tls => { client_ca => 'clientca.crt' },
#       routes => { ... });
#   ... proxy_pass https://127.0.0.1:${\ $up->port};
#   my ($req) = $up->take(1);
#   $req->{tls}{sni}, {reused}, {protocol}, {cipher}, {client} (the
#   client certificate's subject, RFC 2253)
#   $up->failures: the handshakes that failed ({ conn, error })
#
# tls: cert and key (PKI names; default backend.test.chain.crt and
# rsa.key), client_ca (require a client certificate from that CA),
# version (IO::Socket::SSL's SSL_version).  Its connections are served by
# processes forked from one that made the SSL context: they share its
# ticket keys, so a client can resume on its next connection.  One request
# per connection; routes as PorticoUpstream's but for { early => ... }.

package PorticoTLS::Upstream;

use parent -norequire, 'PorticoUpstream';
use IO::Select;
use Storable qw(nstore retrieve);
use Time::HiRes qw(time);

our $PENDING;

sub new {
	my ($class, %o) = @_;
	my $tls = delete($o{tls}) // {};
	PorticoTLS::pki();
	# the listening child is forked inside: it finds its settings here
	local $PENDING = $tls;
	my $self = $class->SUPER::new(%o);
	$self->{tls} = $tls;
	return $self;
}

sub serve {
	my ($self, $lsn) = @_;
	my $t = $self->{tls} //= $PENDING;
	my $pki = PorticoTLS::pki();
	my %a = (SSL_server => 1,
	    SSL_cert_file => $pki->path($t->{cert} // 'backend.test.chain.crt'),
	    SSL_key_file => $pki->path($t->{key} // 'rsa.key'));
	if ($t->{client_ca}) {
		$a{SSL_verify_mode} = IO::Socket::SSL::SSL_VERIFY_PEER()
		    | IO::Socket::SSL::SSL_VERIFY_FAIL_IF_NO_PEER_CERT();
		$a{SSL_ca_file} = $pki->path($t->{client_ca});
		$a{SSL_client_ca_file} = $pki->path($t->{client_ca});
	}
	$a{SSL_version} = $t->{version} if $t->{version};
	$self->{ctx} = IO::Socket::SSL::SSL_Context->new(%a)
	    or die "TLS upstream: $IO::Socket::SSL::SSL_ERROR";
	# resumption with client certificates wants a session ID context
	Net::SSLeay::CTX_set_session_id_context($self->{ctx}{context},
	    'portico-stub', 12);
	$self->SUPER::serve($lsn);
}

# what is buffered in the TLS layer is not seen by select()
sub fill {
	my ($self, $s, $buf, $deadline) = @_;
	if ($s->can('pending') && $s->pending) {
		my $n = sysread($s, $$buf, 262144, length $$buf);
		return $n if $n;
	}
	return $self->SUPER::fill($s, $buf, $deadline);
}

sub conn {
	my ($self, $raw, $n) = @_;
	my $s = IO::Socket::SSL->start_SSL($raw, SSL_server => 1,
	    SSL_reuse_ctx => $self->{ctx}, Timeout => 5);
	unless ($s) {
		my $name = sprintf('%s/tlsfail-%017.6f-%06d', $self->{dir}, time, $$);
		nstore({ conn => $n, error => $IO::Socket::SSL::SSL_ERROR // "$!" },
		    "$name.tmp");
		rename("$name.tmp", $name);
		close $raw;
		return;
	}
	my $ssl = $s->_get_ssl_object;
	my %i = (sni => $s->get_servername, protocol => $s->get_sslversion,
	    cipher => $s->get_cipher,
	    reused => Net::SSLeay::session_reused($ssl) ? 1 : 0);
	if (my $x = Net::SSLeay::get_peer_certificate($ssl)) {
		$i{client} = PorticoTLS::x509_name(Net::SSLeay::X509_get_subject_name($x));
		Net::SSLeay::X509_free($x);
	}
	$self->{tls_info} = \%i;
	binmode $s;
	my $buf = '';
	my $deadline = time + $self->{read_timeout};
	my $e;
	while (($e = index($buf, "\r\n\r\n")) < 0) {
		unless ($self->fill($s, \$buf, $deadline)) {
			$s->close;
			return;
		}
	}
	my $req = PorticoUpstream::parse_head(substr($buf, 0, $e + 4, ''));
	$req->{conn} = $n;
	$req->{seq} = 0;
	my $route = $self->route($req);
	$self->read_body($s, \$buf, $req, $deadline);
	$self->record($req);
	if (!defined $route) {
		my $body = $req->{head};
		print $s "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
		    . "\r\nX-Body-Length: $req->{body_len}\r\nX-Body-MD5: "
		    . "$req->{body_md5}\r\nConnection: close\r\n\r\n" . $body;
	} elsif (ref $route eq 'CODE') {
		$route->($s, $req);
	} else {
		print $s $route;
	}
	# close_notify, then the close
	$s->close;
}

sub record {
	my ($self, $req) = @_;
	$req->{tls} = $self->{tls_info};
	return $self->SUPER::record($req);
}

# the handshakes that failed, in order
sub failures {
	my ($self) = @_;
	return map { retrieve($_) } sort glob("$self->{dir}/tlsfail-*[0-9]");
}

sub clear {
	my ($self) = @_;
	unlink glob("$self->{dir}/tlsfail-*");
	return $self->SUPER::clear;
}

package PorticoTLS;

1;

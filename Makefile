# portico: see README.  Targets: all run test install clean fmt fuzz bench
# bench-idle
# make test SANITIZE=1 builds into objs-san/ with ASan + UBSan.

-include objs/Makefile.conf

ifeq ($(SANITIZE),1)
OBJDIR = objs-san
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
OBJDIR = objs
SAN =
endif

PREFIX ?= /usr/local/portico
DESTDIR ?=
MANDIR ?= $(PREFIX)/share/man
INITDIR ?= /etc/init.d
UNITDIR ?= /lib/systemd/system

WARN = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
CFLAGS_ALL = -std=gnu11 $(OPT) $(WARN) $(SAN) -I. -Icommon -I$(OBJDIR) \
	-Iobjs $(LIB_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SAN) $(LIB_LIBS) $(LDFLAGS)

SRCS = $(wildcard common/*.c master/*.c worker/*.c)
OBJS = $(SRCS:%.c=$(OBJDIR)/%.o)
LIBOBJS = $(filter-out $(OBJDIR)/master/main.o,$(OBJS))
UNIT_SRCS = $(wildcard t/unit/*.c)
UNITS = $(UNIT_SRCS:t/unit/%.c=$(OBJDIR)/unit/%)

.PHONY: all run test unit install clean fmt fuzz bench bench-idle

FUZZERS = http_parse conf
REPLAYS = $(FUZZERS:%=$(OBJDIR)/fuzz/%-replay)

all: $(OBJDIR)/portico $(UNITS) $(OBJDIR)/hammer $(REPLAYS)

# configure on first use; as root on Debian it installs what is missing
objs/Makefile.conf:
	@if [ "$$(id -u)" = 0 ]; then ./configure --install-deps; \
	else ./configure; fi

$(OBJDIR)/%.o: %.c objs/Makefile.conf
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(OBJDIR)/libportico.a: $(LIBOBJS)
	rm -f $@
	ar rcs $@ $(LIBOBJS)

$(OBJDIR)/portico: $(OBJDIR)/master/main.o $(OBJDIR)/libportico.a
	$(CC) -o $@ $(OBJDIR)/master/main.o $(OBJDIR)/libportico.a $(LDLIBS_ALL)

# unit tests #include the .c under test and link the rest from the archive
$(OBJDIR)/unit/%: t/unit/%.c $(OBJDIR)/libportico.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -MMD -MP -o $@ $< \
		$(OBJDIR)/libportico.a $(LDLIBS_ALL)

unit: $(UNITS)

# fuzz targets: replayed over their seeds by the tests (t/06-fuzz.t);
# "make fuzz" runs them under libFuzzer for FUZZ_SECONDS each
$(OBJDIR)/fuzz/%-replay: t/fuzz/%.c t/fuzz/replay.c $(OBJDIR)/libportico.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -MMD -MP -o $@ $< \
		t/fuzz/replay.c $(OBJDIR)/libportico.a $(LDLIBS_ALL)

FUZZ_SECONDS ?= 60
# the conf target #includes conf.c and conf_dir.c; the rest of common/
FUZZ_CONF_SRCS = $(filter-out common/conf.c common/conf_dir.c,\
	$(wildcard common/*.c))
FUZZ_FLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-I. -Icommon -Iobjs $(LIB_CFLAGS)
fuzz: objs/Makefile.conf
	@mkdir -p objs-fuzz/corpus/http_parse objs-fuzz/corpus/conf
	perl t/fuzz/vectors.pl ../shared/vectors/llhttp/request \
		objs-fuzz/corpus/http_parse >/dev/null
	cp conf/portico.conf objs-fuzz/corpus/conf/
	clang $(FUZZ_FLAGS) -o objs-fuzz/http_parse t/fuzz/http_parse.c
	clang $(FUZZ_FLAGS) -o objs-fuzz/conf t/fuzz/conf.c \
		$(FUZZ_CONF_SRCS) $(LIB_LIBS)
	objs-fuzz/http_parse -max_total_time=$(FUZZ_SECONDS) \
		objs-fuzz/corpus/http_parse
	objs-fuzz/conf -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
		objs-fuzz/corpus/conf

# the load client of the reload and upgrade tests
$(OBJDIR)/hammer: t/tools/hammer.c objs/Makefile.conf
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ t/tools/hammer.c

test: all
	PORTICO_BIN=$(CURDIR)/$(OBJDIR)/portico \
	PORTICO_UNITDIR=$(CURDIR)/$(OBJDIR)/unit \
	PORTICO_HAMMER=$(CURDIR)/$(OBJDIR)/hammer \
	PORTICO_FUZZDIR=$(CURDIR)/$(OBJDIR)/fuzz \
	PORTICO_SANITIZE=$(SANITIZE) \
		prove -r $(PROVEFLAGS) t/

# portico and nginx side by side under wrk (t/bench/run -h); not a test
BENCHFLAGS ?=
bench: $(OBJDIR)/portico
	@command -v wrk >/dev/null && [ -x /usr/sbin/nginx ] || \
	    if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq nginx-light wrk; else \
	    echo "make bench needs: apt-get install nginx-light wrk"; exit 1; fi
	ulimit -n 8192 2>/dev/null; \
	PORTICO_BIN=$(CURDIR)/$(OBJDIR)/portico perl t/bench/run $(BENCHFLAGS)
# memory per idle keep-alive connection, portico against nginx; not a test
IDLE_CONNS ?= 5000
bench-idle: $(OBJDIR)/portico
	PORTICO_BIN=$(CURDIR)/$(OBJDIR)/portico IDLE_CONNS=$(IDLE_CONNS) \
		perl t/bench/idle-memory

# make run: the two demo upstreams of conf/demo/ as daemons, then portico
# in the foreground in front of them; Ctrl-C stops all three
RUNDIR = $(CURDIR)/objs/run/
DEMO = $(OBJDIR)/portico -p $(RUNDIR)up$$n/ -c $(CURDIR)/conf/demo/upstream$$n.conf
run: $(OBJDIR)/portico
	@mkdir -p $(RUNDIR)logs $(RUNDIR)up1/logs $(RUNDIR)up2/logs
	@for n in 1 2; do $(DEMO) -s quit 2>/dev/null; $(DEMO) || exit 1; done
	@echo "portico: listening on http://127.0.0.1:8080/ in front of the demo"
	@echo "upstreams on 8081 and 8082 (Ctrl-C stops all three).  Try:"
	@echo "  curl http://127.0.0.1:8080/   (again: the other one answers)"
	@echo "  $(OBJDIR)/portico -p $(RUNDIR) -c $(CURDIR)/conf/portico.conf -a health"
	@echo "  $(OBJDIR)/portico -p $(RUNDIR)up1/ -c $(CURDIR)/conf/demo/upstream1.conf -s quit"
	@echo "      (stops upstream one: portico routes around it)"
	@trap 'for n in 1 2; do $(DEMO) -s quit 2>/dev/null; done' EXIT; \
	trap 'exit 0' INT TERM; \
	$(OBJDIR)/portico -p $(RUNDIR) -c $(CURDIR)/conf/portico.conf \
		-g 'daemon off; error_log stderr notice;'

install: $(OBJDIR)/portico
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/conf \
		$(DESTDIR)$(PREFIX)/logs $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(INITDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(OBJDIR)/portico $(DESTDIR)$(PREFIX)/sbin/portico
	install -m 644 man/portico.8 $(DESTDIR)$(MANDIR)/man8/portico.8
	install -m 644 man/portico.conf.5 $(DESTDIR)$(MANDIR)/man5/portico.conf.5
	install -m 644 conf/mime.types $(DESTDIR)$(PREFIX)/conf/mime.types
	@if [ -f $(DESTDIR)$(PREFIX)/conf/portico.conf ]; then \
		echo "keeping existing $(DESTDIR)$(PREFIX)/conf/portico.conf"; \
	else install -m 644 conf/portico.conf \
		$(DESTDIR)$(PREFIX)/conf/portico.conf; fi
	sed -e 's|@SBIN@|$(PREFIX)/sbin/portico|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@CONF@|$(PREFIX)/conf/portico.conf|g' \
	    -e 's|@PID@|$(PREFIX)/logs/portico.pid|g' \
	    conf/portico.init.in > $(DESTDIR)$(INITDIR)/portico
	chmod 755 $(DESTDIR)$(INITDIR)/portico
	sed -e 's|@SBIN@|$(PREFIX)/sbin/portico|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@CONF@|$(PREFIX)/conf/portico.conf|g' \
	    -e 's|@PID@|$(PREFIX)/logs/portico.pid|g' \
	    conf/portico.service.in > $(DESTDIR)$(UNITDIR)/portico.service

clean:
	rm -rf objs objs-san objs-fuzz

fmt:
	clang-format -i common/*.[ch] master/*.[ch] worker/*.[ch] t/unit/*.c

-include $(OBJS:.o=.d) $(UNITS:=.d) $(REPLAYS:=.d)

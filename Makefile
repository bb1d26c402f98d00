# koda-sandbox: one static multi-call binary and its tests.
include config.mk

ifeq ($(SANITIZE),1)
O = build-san
TIMEOUT_MULT = 4
SANENV = UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer
STATIC = 0
OPT = -O1
else
O = build
TIMEOUT_MULT = 1
OPT = -O2
endif

ifeq ($(STATIC),1)
LIBS = $(shell $(PKG_CONFIG) --static --libs $(DEPS))
LINKMODE = -static
else
LIBS = $(shell $(PKG_CONFIG) --libs $(DEPS))
endif
TESTLIBS = $(shell $(PKG_CONFIG) --libs $(TESTDEPS))

KS_CPPFLAGS = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(DEPS))
KS_CFLAGS = -std=c11 $(OPT) -g $(WARN) $(SANFLAGS)
ALL_CFLAGS = $(KS_CPPFLAGS) $(KS_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LINKMODE) $(LDFLAGS)

SRC = src/err.c src/log.c src/frame.c src/proto.c src/path.c src/policy.c \
	src/walk.c src/ignglob.c src/ignfile.c src/ignore.c src/glob.c \
	src/rxlex.c src/rxprop.c src/rxclass.c src/rxparse.c src/rxlit.c \
	src/rxsize.c src/rx.c src/grep.c src/fsops.c src/serve.c \
	src/confine.c src/client.c
APPLETS = applets/main.c applets/host_client.c applets/policy_check.c \
	applets/worker.c
TESTS = tests/check_main.c tests/check_err.c tests/check_frame.c \
	tests/check_proto.c tests/check_path.c tests/check_policy.c \
	tests/check_walk.c tests/check_ignore.c tests/check_glob.c \
	tests/check_grep.c tests/check_fsops.c tests/check_worker.c \
	tests/check_confine.c tests/check_attack.c tests/check_policy_check.c \
	tests/check_client.c tests/check_golden.c tests/testlib.c
MAN = man/koda-sandbox.1 man/koda-fs-worker.1 man/koda-sandbox-policy.5 \
	man/koda-sandbox-protocol.7
LINKS = koda-fs-worker

LIB = $(O)/libks.a
BIN = $(O)/koda-sandbox
CHECK = $(O)/check_ks

all: $(BIN) $(O)/koda-fs-worker

$(O)/src $(O)/applets $(O)/tests:
	mkdir -p $@

$(O)/%.o: %.c | $(O)/src $(O)/applets $(O)/tests
	$(CC) $(ALL_CFLAGS) -iquote src -iquote $(O) -MMD -MP -c -o $@ $<

# The seccomp program is generated at build time (SPEC §3): libseccomp
# runs here, not in every worker's start-up.
$(O)/filter_gen: src/filter_gen.c src/filter.c src/filter.h | $(O)/src
	$(CC) $(KS_CPPFLAGS) -std=c11 -O2 $(WARN) -iquote src -o $@ \
		src/filter_gen.c src/filter.c $(shell $(PKG_CONFIG) --libs libseccomp)

$(O)/filter.inc: $(O)/filter_gen
	./$(O)/filter_gen > $@.tmp && mv $@.tmp $@

$(O)/src/confine.o: $(O)/filter.inc

$(LIB): $(SRC:%.c=$(O)/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(APPLETS:%.c=$(O)/%.o) $(LIB)
	$(CC) -o $@ $(APPLETS:%.c=$(O)/%.o) $(LIB) $(ALL_LDFLAGS) $(LIBS)

$(O)/koda-fs-worker: $(BIN)
	ln -sf koda-sandbox $@

# The test runner links the core dynamically: Check and sanitizers want it.
$(CHECK): $(TESTS:%.c=$(O)/%.o) $(O)/src/filter.o $(LIB)
	$(CC) -o $@ $(TESTS:%.c=$(O)/%.o) $(O)/src/filter.o $(LIB) $(SANFLAGS) $(LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs $(DEPS)) $(TESTLIBS)

# check and demo first install missing build dependencies (as root),
# then build in a fresh make that sees them.
deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(CHECK)
	$(SANENV) KS_BIN=$(CURDIR)/$(BIN) KS_GOLDEN=$(CURDIR)/tests/golden \
		CK_TIMEOUT_MULTIPLIER=$(TIMEOUT_MULT) ./$(CHECK)

demo: deps
	@$(MAKE) --no-print-directory all
	sh tests/demo.sh $(BIN)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Isrc src applets
	clang-tidy --quiet -checks='-*,bugprone-*,clang-analyzer-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier' \
		$(SRC) $(APPLETS) -- $(KS_CPPFLAGS) -std=c11 -iquote src

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/koda-sandbox
	chmod 755 $(DESTDIR)$(BINDIR)/koda-sandbox
	for l in $(LINKS); do ln -sf koda-sandbox $(DESTDIR)$(BINDIR)/$$l; done
	cp -f man/*.1 $(DESTDIR)$(MANPREFIX)/man1/
	cp -f man/*.5 $(DESTDIR)$(MANPREFIX)/man5/
	cp -f man/*.7 $(DESTDIR)$(MANPREFIX)/man7/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/koda-sandbox
	for l in $(LINKS); do rm -f $(DESTDIR)$(BINDIR)/$$l; done
	for m in $(MAN); do rm -f $(DESTDIR)$(MANPREFIX)/man$${m##*.}/$${m#man/}; done

clean:
	rm -rf build build-san

.PHONY: all deps check check-run demo lint install uninstall clean

-include $(wildcard $(O)/*/*.d)

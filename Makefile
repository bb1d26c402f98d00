# koda-sandbox: one static multi-call binary and its tests.
include config.mk

ifeq ($(VALGRIND),1)
# A test build for valgrind: dynamic, and without the confinement step
# (valgrind cannot run under the seccomp filter).
O = build-vg
TIMEOUT_MULT = 10
STATIC = 0
OPT = -O1
VGFLAGS = -DKS_TEST_UNCONFINED
else ifeq ($(SANITIZE),1)
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
KS_CFLAGS = -std=c11 $(OPT) -g $(WARN) $(SANFLAGS) $(VGFLAGS)
ALL_CFLAGS = $(KS_CPPFLAGS) $(KS_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LINKMODE) $(LDFLAGS)

SRC = src/err.c src/log.c src/frame.c src/content.c src/cdecode.c src/proto.c src/encode.c \
	src/reqread.c src/path.c src/lookup.c src/policy.c src/compose.c src/verdict.c \
	src/audit.c src/walk.c src/linkidx.c \
	src/ignore/ignglob.c src/ignore/ignfile.c src/ignore/ignore.c \
	src/globpat.c src/glob.c src/globdir.c \
	src/rx/rxlex.c src/rx/rxprop.c src/rx/rxclass.c src/rx/rxparse.c \
	src/rx/rxlit.c src/rx/rxsize.c src/rx/rxemit.c src/rx/rx.c \
	src/grep.c src/fsops.c src/fsread.c \
	src/ranged.c src/upload.c src/listdir.c src/lists.c src/serve.c \
	src/confine.c src/client.c src/clientenv.c src/pool.c
APPLETS = applets/main.c applets/host_client.c applets/host_options.c \
	applets/host_request.c applets/host_print.c applets/host_batch.c \
	applets/policy_check.c applets/worker.c
TESTS = tests/check_main.c tests/check_err.c tests/check_frame.c \
	tests/check_proto.c tests/check_path.c tests/check_policy.c \
	tests/check_walk.c tests/check_ignore.c tests/check_glob.c \
	tests/check_grep.c tests/check_fsops.c tests/check_worker.c \
	tests/check_confine.c tests/check_attack.c tests/check_policy_check.c \
	tests/check_agreement.c tests/pclib.c tests/check_client.c \
	tests/check_golden.c tests/testlib.c tests/check_fault.c \
	tests/check_stress.c tests/check_traversal.c tests/check_readrace.c \
	tests/check_applets.c tests/check_hostcli.c tests/clilib.c \
	tests/check_extend.c tests/check_extlist.c tests/check_verdict.c \
	tests/check_encode.c tests/check_pool.c tests/check_audit.c \
	tests/check_hostx.c tests/hostile.c tests/check_reqread.c
MAN = man/koda-sandbox.1 man/koda-fs-worker.1 man/koda-sandbox-policy.5 \
	man/koda-sandbox-audit.5 \
	man/koda-sandbox-protocol.7

LIB = $(O)/libks.a
BIN = $(O)/koda-sandbox
CHECK = $(O)/check_ks

all: $(BIN) $(O)/koda-fs-worker

$(O)/src $(O)/applets $(O)/tests:
	mkdir -p $@

$(O)/%.o: %.c | $(O)/src $(O)/applets $(O)/tests
	@mkdir -p $(@D)
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

check-run: all $(CHECK) $(O)/load
	$(SANENV) KS_BIN=$(CURDIR)/$(BIN) KS_GOLDEN=$(CURDIR)/tests/golden \
		CK_TIMEOUT_MULTIPLIER=$(TIMEOUT_MULT) ./$(CHECK)

# valgrind over the worker: the golden replay and the transport tests,
# each worker run under memcheck (tests/valgrind-worker.sh).
valgrind: deps
	@$(MAKE) --no-print-directory VALGRIND=1 all build-vg/check_ks
	for s in golden:replay worker:transport; do \
		KS_BIN=$(CURDIR)/tests/valgrind-worker.sh \
		KS_VG_BIN=$(CURDIR)/build-vg/koda-fs-worker \
		KS_GOLDEN=$(CURDIR)/tests/golden CK_TIMEOUT_MULTIPLIER=10 \
		CK_RUN_SUITE=$${s%%:*} CK_RUN_CASE=$${s##*:} \
		./build-vg/check_ks || exit 1; \
	done

# libFuzzer harnesses (tests/fuzz/), FUZZ_SECONDS each. The core sources
# they need are compiled again with clang, coverage and sanitizers into
# $(FUZZ_O)/ (libks.a is gcc's, uninstrumented).
FUZZ_SECONDS = 60
FUZZ_CC = clang
FUZZ_O = build-fuzz
FUZZ_SAN = address,undefined
FUZZ_CFLAGS = $(KS_CPPFLAGS) -std=c11 -O1 -g -fno-omit-frame-pointer \
	-fno-sanitize-recover=all $(WARN) -iquote src $(CPPFLAGS) $(CFLAGS)
FUZZ_SRC = src/err.c src/frame.c src/content.c src/cdecode.c src/proto.c src/encode.c \
	src/reqread.c src/path.c \
	src/lookup.c src/policy.c src/compose.c src/verdict.c src/globpat.c \
	src/glob.c src/globdir.c src/ignore/ignglob.c src/ignore/ignfile.c
FUZZ_TARGETS = frame proto policy glob ignore reqread
# -max_len of each: several frames; one request; one policy (or two);
# a pattern and a name; an ignore file and the paths to match; what is
# spliced into a large write.
FUZZ_LEN_frame = 16384
FUZZ_LEN_proto = 8192
FUZZ_LEN_policy = 4096
FUZZ_LEN_glob = 1024
FUZZ_LEN_ignore = 4096
FUZZ_LEN_reqread = 4099
FUZZ_OBJ = $(FUZZ_SRC:%.c=$(FUZZ_O)/%.o)
FUZZ_BIN = $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)

fuzz: $(FUZZ_BIN)
	sh tests/fuzz/run.sh $(FUZZ_O) $(FUZZ_SECONDS) \
		$(foreach t,$(FUZZ_TARGETS),$(t):$(FUZZ_LEN_$(t)))

$(FUZZ_O)/src:
	mkdir -p $@

$(FUZZ_OBJ): $(FUZZ_O)/%.o: %.c | $(FUZZ_O)/src
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
		-MMD -MP -c -o $@ $<

$(FUZZ_BIN): $(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
		$(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< \
		$(FUZZ_OBJ) $(LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs jansson libpcre2-8)

.PHONY: fuzz

-include $(wildcard $(FUZZ_O)/src/*.d $(FUZZ_O)/src/*/*.d)

# The load test (tests/load/): LOAD_WORKERS workers in parallel, each
# driven by its own client through the C API; `make check` runs a short one.
LOAD_WORKERS = 64
LOAD_REQUESTS = 10000

$(O)/load: tests/load/load.c $(LIB)
	$(CC) $(ALL_CFLAGS) -iquote src -o $@ tests/load/load.c $(LIB) \
		$(SANFLAGS) $(LDFLAGS) $(shell $(PKG_CONFIG) --libs $(DEPS))

load: deps
	@$(MAKE) --no-print-directory all $(O)/load
	$(SANENV) KS_BIN=$(CURDIR)/$(BIN) ./$(O)/load $(LOAD_WORKERS) $(LOAD_REQUESTS)

.PHONY: load

# The benchmark (tests/bench/README): a table of medians, each figure
# beside its baseline, interleaved; informative, never part of check.
# BENCH_TREE_MB sizes the grep tree; KODA_BENCH_OTHER names another
# worker to compare with.
BENCH_O = $(O)/bench
BENCH_SRC = tests/bench/bench.c tests/bench/groups.c tests/bench/tree.c \
	tests/bench/proc.c tests/bench/wire.c tests/bench/big.c
BENCH_HDR = tests/bench/bench.h tests/bench/proc.h tests/bench/wire.h
BENCH_BIN = $(BENCH_O)/bench $(BENCH_O)/floor $(BENCH_O)/mktree \
	$(BENCH_O)/nop

$(BENCH_O):
	mkdir -p $@

$(BENCH_O)/bench: $(BENCH_SRC) $(BENCH_HDR) | $(BENCH_O)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRC) $(ALL_LDFLAGS)

$(BENCH_O)/floor $(BENCH_O)/mktree: $(BENCH_O)/%: tests/bench/%.c \
		tests/bench/wire.c tests/bench/wire.h | $(BENCH_O)
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/bench/wire.c $(ALL_LDFLAGS)

# The spawn floor: static like our worker, and never sanitized.
$(BENCH_O)/nop: tests/bench/nop.c | $(BENCH_O)
	$(CC) $(KS_CPPFLAGS) -std=c11 $(OPT) $(WARN) -static -o $@ $<

# The pool's figures come from a program on the client API.
$(BENCH_O)/poolbench: tests/bench/poolbench.c $(LIB) | $(BENCH_O)
	$(CC) $(ALL_CFLAGS) -iquote src -o $@ tests/bench/poolbench.c $(LIB) \
		$(ALL_LDFLAGS) $(LIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(BENCH_O)/poolbench
	./$(BENCH_O)/bench $(CURDIR)/$(O)/koda-fs-worker $(CURDIR)/$(BIN) \
		$(CURDIR)/$(BENCH_O)
	./$(BENCH_O)/poolbench $(CURDIR)/$(BIN) $(CURDIR)

.PHONY: bench

demo: deps
	@$(MAKE) --no-print-directory all
	sh tests/demo.sh $(BIN)

# The Unicode sets PCRE2 is given explicitly (src/rx/rxprop_data.h),
# made again from Debian's unicode-data (the version is pinned in
# src/rx/genprop.py) and compared with the tree; GEN=1 replaces them.
unicode:
	@test -f /usr/share/unicode/PropList.txt || { echo "unicode: install" \
	    "Debian's unicode-data (apt-get install unicode-data)" >&2; exit 1; }
	@mkdir -p $(O)
	python3 src/rx/genprop.py > $(O)/rxprop_data.h
	if [ "$(GEN)" = 1 ]; then cp $(O)/rxprop_data.h src/rx/rxprop_data.h; \
	else diff -u src/rx/rxprop_data.h $(O)/rxprop_data.h; fi

.PHONY: unicode

lint: build/filter.inc
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --suppress=unknownMacro --suppress=ctuuninitvar \
		-D_GNU_SOURCE -Isrc src applets
	clang-tidy --quiet -checks='-*,bugprone-*,clang-analyzer-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
		$(SRC) $(APPLETS) -- $(KS_CPPFLAGS) -std=c11 -iquote src -iquote build

# install: the binary, a relative link to it for every applet name and
# alias (those of the applet table in applets/main.c; tests/check_applets.c
# checks them against `koda-sandbox --list`) and the manual pages. A file
# of another program under one of those names is never replaced.
# uninstall removes the same files, a link only while it still points at
# koda-sandbox. Both take the same PREFIX, BINDIR, MANPREFIX and DESTDIR.
install uninstall: APPLET_LINKS = client host-client koda-fs-worker \
	policy-check worker

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7
	for l in $(APPLET_LINKS); do f=$(DESTDIR)$(BINDIR)/$$l; \
		if [ -e "$$f" -o -L "$$f" ] && \
		    [ "$$(readlink "$$f")" != koda-sandbox ]; then \
			echo "install: $$f is not a link to koda-sandbox;" \
			    "remove it first" >&2; exit 1; \
		fi; \
	done
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/koda-sandbox
	chmod 755 $(DESTDIR)$(BINDIR)/koda-sandbox
	for l in $(APPLET_LINKS); do \
		ln -sfn koda-sandbox $(DESTDIR)$(BINDIR)/$$l || exit 1; \
	done
	for m in $(MAN); do \
		cp -f $$m $(DESTDIR)$(MANPREFIX)/man$${m##*.}/ && \
		chmod 644 $(DESTDIR)$(MANPREFIX)/man$${m##*.}/$${m#man/} || \
		exit 1; \
	done

uninstall:
	for l in $(APPLET_LINKS); do f=$(DESTDIR)$(BINDIR)/$$l; \
		if [ "$$(readlink "$$f")" = koda-sandbox ]; then rm -f "$$f"; fi; \
	done
	rm -f $(DESTDIR)$(BINDIR)/koda-sandbox
	for m in $(MAN); do \
		rm -f $(DESTDIR)$(MANPREFIX)/man$${m##*.}/$${m#man/}; \
	done

clean:
	rm -rf build build-san build-vg build-fuzz

.PHONY: all deps check check-run valgrind demo lint install uninstall clean

-include $(wildcard $(O)/*/*.d $(O)/*/*/*.d)

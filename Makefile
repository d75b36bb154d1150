# nsgsim -- build, test, install.
#
#   make            the library (shared + static), the CLI and nsgsim.pc
#   make run        build, then run the main job on the bundled example
#   make test       build and pass every test (check-install: make install and pip install)
#   make asan       the C tests and CLI golden tests under ASan+UBSan
#   make valgrind   the C tests under valgrind memcheck
#   make install    honours PREFIX and DESTDIR (the Python package: pip install ./bindings/python)
#
# The user's CFLAGS come last, so they can override ours.

SHELL   := /bin/bash

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
PKGDIR  ?= $(LIBDIR)/pkgconfig
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR  ?= $(PREFIX)/share/doc/nsgsim
CC      ?= cc
PYTHON  ?= python3

VERSION := 0.1.0
SOMAJOR := 0
B       := build

DEPS_CFLAGS := $(shell pkg-config --cflags libcjson 2>/dev/null)
DEPS_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lcidr -lz -pthread

BASE_CFLAGS := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
               -fvisibility=hidden -Iinclude -Ilib $(DEPS_CFLAGS)
OPT_CFLAGS  ?= -O2 -g
ALL_CFLAGS   = $(BASE_CFLAGS) $(OPT_CFLAGS) $(CFLAGS)

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_HDR  := $(sort $(wildcard lib/*/*.h))
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(B)/obj/%.o)
PIC_OBJ  := $(LIB_SRC:lib/%.c=$(B)/pic/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS    := $(TEST_SRC:tests/%.c=$(B)/%)

SHARED   := $(B)/libnsgsim.so.$(VERSION)
STATIC   := $(B)/libnsgsim.a
CLI      := $(B)/nsgsim
PC       := $(B)/nsgsim.pc

.PHONY: sarif-deps fuzz-deps fuzz-ci bench bench-replay bench-estate bench-flows bench-python \
        bench-growth FORCE
.PHONY: check-browser check-browser-deps
.PHONY: all deps run test check-c check-cli check-python check-format check-symbols check-layers \
        check-install check-install-deps first-hour \
        asan ubsan tsan valgrind \
        install uninstall clean format

all: deps $(SHARED) $(STATIC) $(CLI) $(PC)

# On a fresh Debian machine, install what is missing (we are root there).
deps:
	@if [ ! -f /usr/include/cjson/cJSON.h ] || [ ! -f /usr/include/libcidr.h ] || \
	    [ ! -f /usr/include/cmocka.h ] || [ ! -f /usr/include/zlib.h ]; then \
		echo "installing libcjson-dev libcidr-dev libcmocka-dev zlib1g-dev"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libcjson-dev libcidr-dev libcmocka-dev zlib1g-dev pkg-config valgrind; \
	fi

$(B)/obj/%.o: lib/%.c $(LIB_HDR) include/nsgsim.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/pic/%.o: lib/%.c $(LIB_HDR) include/nsgsim.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(SHARED): $(PIC_OBJ)
	$(CC) -shared -Wl,-soname,libnsgsim.so.$(SOMAJOR) -o $@ $^ $(DEPS_LIBS) $(LDFLAGS)
	ln -sf libnsgsim.so.$(VERSION) $(B)/libnsgsim.so.$(SOMAJOR)
	ln -sf libnsgsim.so.$(SOMAJOR) $(B)/libnsgsim.so

$(STATIC): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The CLI links the static library: one self-contained binary.
$(CLI): $(CLI_SRC) $(wildcard cli/*.h) $(STATIC) include/nsgsim.h
	$(CC) $(ALL_CFLAGS) -Icli -o $@ $(CLI_SRC) $(STATIC) $(DEPS_LIBS) -pthread $(LDFLAGS)

# nsgsim.pc names the install directories, so it is rebuilt whenever one of
# them changes (make, then make install PREFIX=/opt/x: the .pc says /opt/x).
# DESTDIR is not among them: it stages files, the .pc describes where they run.
PC_DIRS := $(PREFIX) $(LIBDIR) $(INCDIR)
$(B)/pc-dirs: FORCE
	@mkdir -p $(B)
	@echo '$(PC_DIRS)' | cmp -s - $@ 2>/dev/null || echo '$(PC_DIRS)' > $@

$(PC): Makefile $(B)/pc-dirs
	@mkdir -p $(B)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
		'Name: nsgsim' 'Description: Offline Azure NSG and AVNM flow evaluation' \
		'Version: $(VERSION)' 'Requires.private: libcjson' \
		'Libs: -L$${libdir} -lnsgsim' 'Libs.private: -lcidr -lz -pthread' \
		'Cflags: -I$${includedir}' > $@

# Unit tests see the library's internals: they link its objects directly.
$(B)/test_%: tests/test_%.c $(wildcard tests/*.h) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIB_OBJ) $(DEPS_LIBS) -lcmocka -pthread $(LDFLAGS)

# ---- the main job ----------------------------------------------------------
EXAMPLE_ENV  := fixtures/example/env
EXAMPLE_TAGS := fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json

EXAMPLE      := --env $(EXAMPLE_ENV) --service-tags $(EXAMPLE_TAGS)
# Flows that tell the example's story (fixtures/example/README.md).
TELLING_FLOWS := "tcp 93.184.216.34 10.1.1.4:443" "tcp 93.184.216.34 10.1.2.4:22" \
	"tcp 10.1.1.4:50000 10.1.2.4:1433" "tcp 10.0.3.4:50000 10.1.2.4:1433" \
	"tcp 10.1.1.4:50000 10.2.1.4:22" "tcp 10.0.3.4:50000 10.1.1.5:5986" \
	"tcp 93.184.216.34:50000 10.1.2.4:8080" "tcp 168.63.129.16:50000 10.2.1.4:80" \
	"icmp 10.0.3.4 10.2.1.4" "tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443"

run: all
	@echo "== Effective security rules of vm-web1-nic (bundled example) =="
	@./$(CLI) effective -q $(EXAMPLE) --format table vm-web1-nic
	@for f in $(TELLING_FLOWS); do echo; echo "== nsgsim eval $$f"; \
		./$(CLI) eval -q $(EXAMPLE) $$f; echo "(exit status $$?)"; done
	@echo; echo "== nsgsim check fixtures/example/assertions.txt"
	@./$(CLI) check -q $(EXAMPLE) fixtures/example/assertions.txt

# ---- tests -----------------------------------------------------------------
# Each step's output is kept in $(TEST_LOGS) so that the last line can say
# what was skipped (tests/summary.py): a run without ../shared is not a
# complete run, and says so.
TEST_LOGS  := $(B)/test-logs
TEST_STEPS := check-c check-cli check-browser check-python check-format check-symbols \
              check-layers check-install
test: all $(TESTS)
	@rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)
	@for step in $(TEST_STEPS); do \
		$(MAKE) --no-print-directory $$step 2>&1 | tee $(TEST_LOGS)/$$step.log; \
		[ "$${PIPESTATUS[0]}" = 0 ] || { echo "make test: $$step failed"; exit 1; }; done
	@$(PYTHON) tests/summary.py $(TEST_LOGS)

check-c: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; NSGSIM_SHARED_DATA=../shared/data ./$$t; done

# The SARIF schema test (tests/cli_usage.py) needs a JSON-schema validator.
sarif-deps:
	@if ! $(PYTHON) -c 'import jsonschema' 2>/dev/null; then \
		echo "installing python3-jsonschema"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-jsonschema; \
	fi

check-cli: $(CLI) sarif-deps
	@NSGSIM=./$(CLI) $(PYTHON) tests/cli_golden.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/cli_flows.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/check_golden.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/reach_golden.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/reach_tables.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/matrix_golden.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/cli_usage.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/arm_corpus.py
	@NSGSIM=./$(CLI) $(PYTHON) tests/replay_golden.py

# nsgsim matrix --html as a user sees it: headless Chromium opens the page
# from disk, the rendered cells are compared with --json, and the
# screenshots land in $(B)/matrix.png and $(B)/matrix-nic.png
# (tests/matrix_browser.py).  Debian's chromium, chromium-driver and
# python3-selenium, installed when missing.
check-browser: $(CLI) check-browser-deps
	@NSGSIM=./$(CLI) NSGSIM_BUILD=$(B) /usr/bin/python3 tests/matrix_browser.py

check-browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || \
	    ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then \
		echo "installing chromium chromium-driver python3-selenium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver python3-selenium fonts-dejavu-core; \
	fi

# The Python tests load the library just built, never an installed one.
check-python: $(SHARED) $(CLI)
	@NSGSIM_LIBRARY=$(CURDIR)/$(B)/libnsgsim.so.$(SOMAJOR) \
		NSGSIM=./$(CLI) PYTHONPATH=bindings/python LD_PRELOAD="$(PY_PRELOAD)" \
		$(PYTHON) -m unittest discover -s tests/python -t .

# Every exported symbol is nsgsim_*; everything else is hidden.
check-symbols: $(SHARED)
	@bad=$$(nm -D --defined-only $(SHARED) | awk '{print $$3}' | grep -v '^nsgsim_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the nsgsim_ prefix: $$bad"; exit 1; fi; \
	echo "exported symbols: $$(nm -D --defined-only $(SHARED) | grep -c ' nsgsim_'), all nsgsim_*"

# What make install and pip install give a user (tests/install_test.sh): a
# PREFIX and a DESTDIR install, pkg-config, the man page, the completion,
# uninstall, and pip into venvs of Debian's python3 and the python3 on PATH,
# offline.  What it cannot check here it prints as SKIP, with why.
# A new user's first hour on a fresh clone of HEAD (CI runs it after make test).
first-hour: check-install-deps
	@bash tests/first_hour.sh

check-install: all check-install-deps
	@bash tests/install_test.sh

# What tests/install_test.sh uses, from Debian (an offline machine: the
# checks that need what is missing skip).
check-install-deps:
	@if ! command -v pkg-config >/dev/null || ! command -v groff >/dev/null || \
	    ! command -v man >/dev/null || \
	    ! /usr/bin/python3 -c 'import setuptools, wheel, ensurepip, venv, pip' 2>/dev/null; then \
		echo "installing python3-venv python3-setuptools python3-wheel python3-pip groff-base man-db pkg-config"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			python3-venv python3-setuptools python3-wheel python3-pip groff-base man-db \
			pkg-config) || echo "check-install: could not install them; those checks skip"; \
	fi

# The stages include only the headers of the stages below them (DESIGN.md).
check-layers:
	@sh tests/check_layers.sh

check-format:
	@clang-format --dry-run -Werror $(LIB_SRC) $(LIB_HDR) include/nsgsim.h \
		$(CLI_SRC) $(TEST_SRC) $(wildcard tests/*.h)

format:
	clang-format -i $(LIB_SRC) $(LIB_HDR) include/nsgsim.h $(CLI_SRC) \
		$(TEST_SRC) $(wildcard tests/*.h)

# The whole suite through a sanitized library: C tests, CLI goldens, and the
# Python tests with the sanitizer runtime preloaded into the interpreter
# (leak detection off there: CPython itself keeps memory until exit).  The
# quarantine of freed memory is cut from 256 MB to 16 MB there: the leak
# test measures RSS, and how fast a 256 MB quarantine fills depends on how
# the library allocates (fewer, larger blocks since the service-tags reader
# fill it slower, so RSS kept growing through the test with no leak).
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: deps
	$(MAKE) B=build/asan OPT_CFLAGS="$(SAN_FLAGS) -fsanitize=address,undefined" \
		LDFLAGS="-fsanitize=address,undefined" check-c check-cli
	$(MAKE) B=build/asan OPT_CFLAGS="$(SAN_FLAGS) -fsanitize=address,undefined" \
		LDFLAGS="-fsanitize=address,undefined" \
		PY_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
		ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=16 check-python

ubsan: deps
	$(MAKE) B=build/ubsan OPT_CFLAGS="$(SAN_FLAGS) -fsanitize=undefined" \
		LDFLAGS="-fsanitize=undefined" check-c check-cli
	$(MAKE) B=build/ubsan OPT_CFLAGS="$(SAN_FLAGS) -fsanitize=undefined" \
		LDFLAGS="-fsanitize=undefined" \
		PY_PRELOAD="$$($(CC) -print-file-name=libubsan.so)" check-python

# ThreadSanitizer over the concurrency test (and the rest of the C tests; the
# set-query differential in its quick mode: it has no threads, and TSan runs
# it ten times slower), then the CLI under TSan over eval --flows --jobs and
# replay --jobs (the --jobs tests of tests/cli_flows.py and tests/replay_golden.py).
tsan: deps
	NSGSIM_TEST_QUICK=1 $(MAKE) B=build/tsan OPT_CFLAGS="-O1 -g -fsanitize=thread" \
		LDFLAGS="-fsanitize=thread -pthread" check-c
	$(MAKE) B=build/tsan OPT_CFLAGS="-O1 -g -fsanitize=thread" \
		LDFLAGS="-fsanitize=thread -pthread" build/tsan/nsgsim
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" NSGSIM=build/tsan/nsgsim \
		$(PYTHON) tests/cli_flows.py FlowsFile.test_jobs_print_what_one_thread_prints
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" NSGSIM=build/tsan/nsgsim \
		$(PYTHON) tests/replay_golden.py Replay.test_jobs_print_what_one_thread_prints

valgrind: all $(TESTS)
	@set -e; for t in $(TESTS); do echo "== valgrind $$t"; \
		NSGSIM_SHARED_DATA=../shared/data NSGSIM_TEST_QUICK=1 valgrind -q --leak-check=full \
		--errors-for-leak-kinds=all --error-exitcode=1 ./$$t; done

# ---- benchmarks (bench/README.md): figures are printed, never asserted ------
BENCH_DATA      := $(B)/bench-data
BENCH_FULL_TAGS ?= ../shared/data/service_tags/ServiceTags_Public_20251109.json

$(B)/nsgsim-benchgen: bench/gen.c bench/common.c bench/bench.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Ibench -o $@ bench/gen.c bench/common.c $(LIB_OBJ) $(DEPS_LIBS) $(LDFLAGS)

$(B)/nsgsim-bench: bench/bench.c bench/sets.c bench/common.c bench/bench.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Ibench -o $@ bench/bench.c bench/sets.c bench/common.c $(LIB_OBJ) $(DEPS_LIBS) $(LDFLAGS)

# hub-changed is the last thing nsgsim-benchgen writes of the hub.
$(BENCH_DATA)/hub-changed/nsgs.json: $(B)/nsgsim-benchgen
	./$(B)/nsgsim-benchgen $(BENCH_DATA)

# The estate of issue 18 (48 NSGs, 8 subnets, 40 NICs, 100 admin rules) at
# ESTATE_RULES custom NSG rules, with Microsoft's full service tags when
# ../shared has them.
ESTATE_RULES ?= 14000
ESTATE_TAGS  := $(if $(wildcard $(BENCH_FULL_TAGS)),$(BENCH_FULL_TAGS),fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json)
$(BENCH_DATA)/estate$(ESTATE_RULES)/nsgs.json: $(B)/nsgsim-benchgen
	./$(B)/nsgsim-benchgen --estate $(ESTATE_RULES) $(BENCH_DATA)/estate$(ESTATE_RULES) $(ESTATE_TAGS)
bench-estate: $(BENCH_DATA)/estate$(ESTATE_RULES)/nsgs.json

# Compile time and peak RSS of one flow at 2k-200k rules (bench/growth.sh);
# GROWTH_SIZES picks others.
GROWTH_SIZES ?= 2000 14000 50000 200000
bench-growth: all $(B)/nsgsim-benchgen
	sh bench/growth.sh $(B) $(BENCH_DATA) $(ESTATE_TAGS) $(GROWTH_SIZES)

bench: all $(B)/nsgsim-bench $(BENCH_DATA)/hub-changed/nsgs.json
	@if [ -f $(BENCH_FULL_TAGS) ]; then \
		./$(CLI) snapshot-tags $(BENCH_FULL_TAGS) $(BENCH_DATA)/full-tags.nst; fi
	./$(B)/nsgsim-bench $(BENCH_DATA) --cli ./$(CLI) --full-tags $(BENCH_FULL_TAGS) \
		--full-snapshot $(BENCH_DATA)/full-tags.nst
	@sh bench/callgrind.sh ./$(B)/nsgsim-bench $(BENCH_DATA)
	@sh bench/flows.sh ./$(CLI) $(BENCH_DATA)
	@NSGSIM_LIBRARY=$(CURDIR)/$(B)/libnsgsim.so.$(SOMAJOR) PYTHONPATH=bindings/python \
		$(PYTHON) bench/python_flows.py $(BENCH_DATA)
	@tags=fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json; \
	[ -f $(BENCH_DATA)/full-tags.nst ] && tags=$(BENCH_DATA)/full-tags.nst; \
	sh bench/nsgp.sh ./$(CLI) $(BENCH_DATA)/hub $$tags; \
	if [ -f $(BENCH_DATA)/estate$(ESTATE_RULES)/nsgs.json ]; then \
		sh bench/nsgp.sh ./$(CLI) $(BENCH_DATA)/estate$(ESTATE_RULES) $$tags; \
	else echo "(make bench-estate, then make bench, for the 14,000-rule estate's figures)"; fi

# eval --flows through the CLI (bench/flows.sh) and packed flows from Python
# (bench/python_flows.py), beside the paths they replace.
bench-flows: all $(BENCH_DATA)/hub-changed/nsgs.json
	@sh bench/flows.sh ./$(CLI) $(BENCH_DATA)

bench-python: $(SHARED) $(BENCH_DATA)/hub-changed/nsgs.json
	@NSGSIM_LIBRARY=$(CURDIR)/$(B)/libnsgsim.so.$(SOMAJOR) PYTHONPATH=bindings/python \
		$(PYTHON) bench/python_flows.py $(BENCH_DATA)

# A generated day of VNet flow logs through nsgsim replay, beside the plain parse.
$(B)/nsgsim-bench-replay: bench/replay.c $(STATIC)
	$(CC) $(ALL_CFLAGS) -o $@ bench/replay.c $(STATIC) $(DEPS_LIBS) $(LDFLAGS)

bench-replay: all $(B)/nsgsim-bench-replay
	./$(B)/nsgsim-bench-replay $(BENCH_DATA)/replay --cli ./$(CLI)

# ---- fuzzing (fuzz/README.md) -------------------------------------------------
include fuzz/fuzz.mk

FUZZER_RT := $(wildcard /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
fuzz-deps:
	@if [ -z "$(FUZZER_RT)" ]; then apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev; fi

# What CI runs: every input that ever crashed a target, then each target for a
# minute.
fuzz-ci: fuzz-deps
	$(MAKE) B=build/fuzzci fuzz-regress
	$(MAKE) B=build/fuzzci FUZZ_SECONDS=$(or $(FUZZ_CI_SECONDS),20) fuzz

# ---- install ---------------------------------------------------------------
# The Python package is not installed here: no directory under PREFIX is on
# every interpreter's path, and a copy pip does not know of cannot be upgraded
# or removed with pip.  pip install ./bindings/python builds the library and
# ships it inside the package (bindings/python/README.md).
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libnsgsim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnsgsim.so.$(SOMAJOR)
	ln -sf libnsgsim.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libnsgsim.so
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/nsgsim.h $(DESTDIR)$(INCDIR)/
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(PC) $(DESTDIR)$(PKGDIR)/
	install -m 0644 docs/nsgsim.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 completion/nsgsim.bash $(DESTDIR)$(BASHCOMPDIR)/nsgsim
	install -m 0644 LICENSE docs/SEMANTICS.md $(DESTDIR)$(DOCDIR)/

# Also the Python copy that make install put in lib/python3/dist-packages
# before it left Python to pip.
uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libnsgsim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnsgsim.so.$(SOMAJOR) \
		$(DESTDIR)$(LIBDIR)/libnsgsim.so $(DESTDIR)$(LIBDIR)/libnsgsim.a \
		$(DESTDIR)$(INCDIR)/nsgsim.h $(DESTDIR)$(BINDIR)/nsgsim $(DESTDIR)$(PKGDIR)/nsgsim.pc \
		$(DESTDIR)$(MANDIR)/man1/nsgsim.1 $(DESTDIR)$(BASHCOMPDIR)/nsgsim \
		$(DESTDIR)$(DOCDIR)/LICENSE $(DESTDIR)$(DOCDIR)/SEMANTICS.md
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	rm -rf $(DESTDIR)$(PREFIX)/lib/python3/dist-packages/nsgsim

clean:
	rm -rf build bindings/python/build bindings/python/nsgsim.egg-info

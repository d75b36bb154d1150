# libFuzzer targets (fuzz/README.md).  Included by the Makefile; also usable
# alone: make -f Makefile -f fuzz/fuzz.mk fuzz.
#
#   fuzz-build     the targets in $(B)/fuzz/ (clang, ASan+UBSan+libFuzzer)
#   fuzz-seeds     seed corpora in $(B)/fuzz/seeds/ from fixtures/ and the shared data
#                  (snapshot: `nsgsim snapshot-tags` of each tags seed)
#   fuzz           each target for FUZZ_SECONDS (default 60); new inputs go to
#                  $(B)/fuzz/corpus/<target>/, crashes to $(B)/fuzz/artifacts/<target>/
#   fuzz-regress   each target over tests/regressions/<target>/* and its seeds: must pass
#
# Needs clang with compiler-rt's libFuzzer (Debian: libclang-rt-14-dev).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_SHARED  ?= $(or $(NSGSIM_SHARED_DATA),../shared/data)
FUZZ_TARGETS := env tags flow eval snapshot json query reach arm_expr terraform
FUZZ_TARGETS += flowlog template nsgp
FUZZ_DIR      = $(B)/fuzz

# -max_len per target: a JSON environment, a trimmed service-tags file, a flow
# line, a binary flow (fuzz/fuzz_eval.c reads at most 44 bytes), a snapshot of
# a cut-down tags file, JSON read by both JSON paths, a set query (two bytes and
# the texts), an environment for the reach contract, one ARM template string, a
# Terraform plan (the hub-and-spoke fixture is 103 KB), a flow log (JSON or gzip),
# an ARM template.
FUZZ_MAXLEN_env      := 65536
FUZZ_MAXLEN_tags     := 32768
FUZZ_MAXLEN_flow     := 256
FUZZ_MAXLEN_eval     := 64
FUZZ_MAXLEN_snapshot := 32768
FUZZ_MAXLEN_json     := 32768
FUZZ_MAXLEN_query    := 512
FUZZ_MAXLEN_reach    := 65536
FUZZ_MAXLEN_arm_expr := 4096
FUZZ_MAXLEN_terraform := 131072
FUZZ_MAXLEN_flowlog  := 65536
FUZZ_MAXLEN_template := 65536
FUZZ_MAXLEN_nsgp     := 65536

# These are the Makefile's; the defaults make the file usable on its own.
B           ?= build
LIB_SRC     ?= $(sort $(wildcard lib/*/*.c))
LIB_HDR     ?= $(sort $(wildcard lib/*/*.h))
DEPS_CFLAGS ?= $(shell pkg-config --cflags libcjson 2>/dev/null)
DEPS_LIBS   ?= $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lcidr -lz
PYTHON      ?= python3

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The engine cross-check of fuzz_common.h, once the API has engines.
FUZZ_ENGINES := $(shell grep -q nsgsim_eval_engine include/nsgsim.h 2>/dev/null && \
                        echo -DFUZZ_HAVE_ENGINES)
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
               -Iinclude -Ilib -Ifuzz $(DEPS_CFLAGS) -O1 -g $(FUZZ_SAN) $(FUZZ_ENGINES)
FUZZ_OBJ     = $(LIB_SRC:lib/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS    = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-regress
.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZ_BINS)

# The library instrumented for coverage; the fuzzer's main is linked only
# into the targets.
$(FUZZ_DIR)/obj/%.o: lib/%.c $(LIB_HDR) include/nsgsim.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(DEPS_LIBS)

fuzz-seeds: $(FUZZ_DIR)/seeds/.stamp $(FUZZ_DIR)/seeds/.snapshot-stamp $(FUZZ_DIR)/seeds/.nsgp-stamp

$(FUZZ_DIR)/seeds/.stamp: fuzz/make_corpus.py $(shell find fixtures -type f 2>/dev/null)
	$(PYTHON) fuzz/make_corpus.py $(FUZZ_DIR)/seeds $(FUZZ_SHARED)
	@touch $@

# The CLI over the instrumented library (the sanitizers' runtime provides the
# coverage callbacks): it writes the snapshot seeds, one per tags seed that
# loads and is small enough.
$(FUZZ_DIR)/nsgsim: $(wildcard cli/*.c cli/*.h) $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Icli -o $@ $(wildcard cli/*.c) \
		$(FUZZ_OBJ) $(DEPS_LIBS)

$(FUZZ_DIR)/seeds/.snapshot-stamp: $(FUZZ_DIR)/seeds/.stamp $(FUZZ_DIR)/nsgsim
	@rm -rf $(FUZZ_DIR)/seeds/snapshot && mkdir -p $(FUZZ_DIR)/seeds/snapshot
	@for f in $(FUZZ_DIR)/seeds/tags/*; do \
		out=$(FUZZ_DIR)/seeds/snapshot/$$(basename $$f).nst; \
		$(FUZZ_DIR)/nsgsim snapshot-tags $$f $$out 2>/dev/null || continue; \
		[ $$(wc -c <$$out) -le $(FUZZ_MAXLEN_snapshot) ] || rm -f $$out; \
	done
	@echo "seeds snapshot $$(ls $(FUZZ_DIR)/seeds/snapshot | wc -l) files in $(FUZZ_DIR)/seeds/snapshot"
	@touch $@

# The compiled policy seeds: `nsgsim compile` of each environment seed that
# compiles, small enough (no service tags: they would dwarf the model).
$(FUZZ_DIR)/seeds/.nsgp-stamp: $(FUZZ_DIR)/seeds/.stamp $(FUZZ_DIR)/nsgsim
	@rm -rf $(FUZZ_DIR)/seeds/nsgp && mkdir -p $(FUZZ_DIR)/seeds/nsgp
	@for f in $(FUZZ_DIR)/seeds/env/*; do \
		out=$(FUZZ_DIR)/seeds/nsgp/$$(basename $$f).nsgp; \
		$(FUZZ_DIR)/nsgsim compile -q --env $$f -o $$out 2>/dev/null || continue; \
		[ $$(wc -c <$$out) -le $(FUZZ_MAXLEN_nsgp) ] || rm -f $$out; \
	done
	@echo "seeds nsgp $$(ls $(FUZZ_DIR)/seeds/nsgp | wc -l) files in $(FUZZ_DIR)/seeds/nsgp"
	@touch $@

# One run per target; `make -j2 fuzz` runs two at once.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_DIR)/fuzz_% fuzz-seeds
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$*
	@echo "== fuzz_$* for $(FUZZ_SECONDS) s"
	UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAXLEN_$*) \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		$(if $(wildcard fuzz/$*.dict),-dict=fuzz/$*.dict) \
		$(if $(filter-out 1,$(FUZZ_JOBS)),-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS)) \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$*/ \
		$(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/seeds/$*

# Every input that ever crashed a target stays in tests/regressions/<target>/;
# each runs alone (all failures are listed), then the seeds run as one batch.
fuzz-regress: $(FUZZ_BINS) fuzz-seeds
	@set -e; failed=""; for t in $(FUZZ_TARGETS); do \
		for f in $$(find tests/regressions/$$t -type f ! -name '*.md' ! -name '.*' \
				2>/dev/null | sort); do \
			if UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$$t $$f \
					>$(FUZZ_DIR)/regress.log 2>&1; then \
				echo "ok   fuzz_$$t $$f"; \
			else \
				echo "FAIL fuzz_$$t $$f:"; \
				grep -E 'runtime error|ERROR:|invariant|#[0-9]+ 0x' \
					$(FUZZ_DIR)/regress.log | head -n 8 | sed 's/^/    /'; \
				failed="$$failed $$t/$$(basename $$f)"; \
			fi; \
		done; \
		seeds=$$(find $(FUZZ_DIR)/seeds/$$t -type f 2>/dev/null | sort); \
		[ -n "$$seeds" ] || continue; \
		if UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$$t $$seeds \
				>$(FUZZ_DIR)/regress.log 2>&1; then \
			echo "ok   fuzz_$$t: $$(echo "$$seeds" | wc -l) seeds"; \
		else \
			echo "FAIL fuzz_$$t seeds:"; tail -n 30 $(FUZZ_DIR)/regress.log; \
			failed="$$failed $$t/seeds"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-regress: failed:$$failed"; exit 1; fi; \
	echo "fuzz-regress: all passed"

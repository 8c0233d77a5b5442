# memvisor - a plain Makefile. Targets:
#   all    libmemvisor.a and the memvisor binary (build/)
#   demo   run examples/overcommit.xml
#   check  build and run every test (unit and scenario)
#   asan   the same tests built with AddressSanitizer + UBSan (build-asan/)
#   bench  hot-path benchmarks (build/bench/)
#   bench-scale  the demo and examples/scale/ in children under RSS and
#          wall caps (bench/bench_scale.c; BENCH_SCALE, BENCH_RSS_CAP,
#          BENCH_WALL_CAP, BENCH_DURATION)
#   check-kvm  end-to-end tests with real QEMU guests through libvirt
#   check-svg  render the SVG charts in headless chromium (installs it)
#   paper  rerun the OSDI 2002 paper's experiments (examples/paper/) and
#          regenerate docs/paper.md's table (scripts/paper.sh)
#   fuzz   libFuzzer harnesses of the readers (fuzz/), FUZZ_TIME s each
# Every target first installs missing Debian packages (scripts/deps.sh).
# That happens while make reads this file, before the pkg-config flags below
# are computed, so the first `make demo` on a fresh machine builds with them.

ifeq ($(filter-out clean format deps,$(or $(MAKECMDGOALS),all)),)
else ifneq ($(MV_DEPS_DONE),1)
MV_DEPS := $(shell ./scripts/deps.sh >&2 && echo ok)
ifneq ($(MV_DEPS),ok)
$(error scripts/deps.sh could not install the Debian packages memvisor needs)
endif
export MV_DEPS_DONE := 1
endif

CC      ?= cc
BUILD   ?= build
PKGS    := libxml-2.0 liblz4 libxxhash libzstd jansson libvirt
CFLAGS  ?= -O2 -g
# Flags the project always needs; CFLAGS (optimisation, sanitizers) may be
# overridden on the command line without losing these.
MVFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Isrc -Itests \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lxml2 -llz4 -lxxhash -lzstd -ljansson -lvirt) -lm
# Open MPI (docs/cluster.md, section 5): src/cluster/mpi.c uses it when
# `pkg-config ompi-c` finds it (libopenmpi-dev); `make MPI=0` builds the
# one-rank layer without it, `make MPI=1` insists. The stamp rebuilds
# mpi.o when the choice changes.
MPI     ?= $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1 || echo 0)
ifeq ($(MPI),1)
MPI_CFLAGS := -DMV_HAVE_MPI $(shell pkg-config --cflags ompi-c)
LDLIBS  += $(shell pkg-config --libs ompi-c)
endif
TESTLIBS := -lcmocka
# The live screen (run --top) is the command's alone.
CLILIBS := $(shell pkg-config --libs ncurses 2>/dev/null || echo -lncurses)

LAYERS  := core host vm mmu reclaim guest policy image sim cluster report
LIBSRC  := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/%.o)
# The agent (memvisor agent, record) drives real hosts through libvirt: its
# own archive, linked into the command and its tests, never into the
# library the simulator and its other tests use.
AGENTSRC := $(wildcard src/agent/*.c)
AGENTOBJ := $(AGENTSRC:%.c=$(BUILD)/%.o)
AGENTLIB := $(BUILD)/libmvagent.a
CLISRC  := $(wildcard src/cli/*.c)
CLIOBJ  := $(CLISRC:%.c=$(BUILD)/%.o)
TESTSRC := $(wildcard tests/*/test_*.c)
TESTBIN := $(TESTSRC:tests/%.c=$(BUILD)/tests/%)
TESTSUP := $(wildcard tests/support/*.c)
TESTSUPOBJ := $(TESTSUP:%.c=$(BUILD)/%.o)
# bench_scale runs whole scenarios for minutes: its own target
BENCHSRC := $(filter-out bench/bench_scale.c,$(wildcard bench/bench_*.c))
BENCHBIN := $(BENCHSRC:bench/%.c=$(BUILD)/bench/%)
LIB     := $(BUILD)/libmemvisor.a
BIN     := $(BUILD)/memvisor

.PHONY: all deps demo check check-kvm test asan bench bench-scale clean format check-svg fuzz fuzz-build paper
.SECONDARY:

all: $(LIB) $(BIN)

deps:
	@./scripts/deps.sh

$(BUILD)/%.o: %.c $(wildcard include/memvisor/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MVFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/src/cluster/mpi.o: MVFLAGS += $(MPI_CFLAGS)
$(BUILD)/src/cluster/mpi.o: $(BUILD)/.mpi-$(MPI)
$(BUILD)/.mpi-$(MPI):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/.mpi-*
	@touch $@

$(LIB): $(LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(AGENTLIB): $(AGENTOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLIOBJ) $(AGENTLIB) $(LIB)
	$(CC) $(MVFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(CLIOBJ) $(AGENTLIB) $(LIB) $(LDLIBS) $(CLILIBS)

$(BUILD)/tests/agent/%: tests/agent/%.c $(TESTSUPOBJ) $(AGENTLIB) $(LIB) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MVFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TESTSUPOBJ) $(AGENTLIB) $(LIB) $(TESTLIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TESTSUPOBJ) $(LIB) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MVFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TESTSUPOBJ) $(LIB) $(TESTLIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c bench/bench.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(MVFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

demo: all
	./$(BIN) run examples/overcommit.xml

# Runs every test binary from the source root (tests read examples/ and
# tests/data/); prints one "N passed, N failed" line at the end.
check test: all $(TESTBIN)
	@./scripts/run-tests.sh $(BUILD) $(TESTBIN)

check-svg: all
	@./scripts/check-svg-browser.sh $(BUILD)

# docs/paper.md: memvisor against Waldspurger's OSDI 2002 experiments, every
# examples/paper/*.sh marked `# paper-experiment` (the table is
# scripts/paper.sh's; make check fails when a figure leaves its tolerance)
paper: all
	@MEMVISOR=$(BIN) ./scripts/docs.sh docs/paper.md

# The end-to-end tests with real QEMU guests through libvirt (tests/kvm/;
# docs/agent.md, "Real guests for the tests"): sets up and starts libvirtd
# (scripts/kvm-setup.sh), runs each tests/kvm/test_*.sh, stops what it
# started. "check-kvm: SKIPPED: <reason>" where libvirtd or QEMU cannot run.
check-kvm: all
	@MV_BUILD=$(BUILD) ./scripts/check-kvm.sh

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" check

bench: all $(BENCHBIN)
	@for b in $(BENCHBIN); do echo "== $$b"; ./$$b || exit 1; done

# docs/engine.md, "Production scale", 4: e.g.
#   make bench-scale BENCH_SCALE="demo 16g" BENCH_RSS_CAP=4 BENCH_WALL_CAP=60
export BENCH_SCALE BENCH_RSS_CAP BENCH_WALL_CAP BENCH_DURATION
bench-scale: all $(BUILD)/bench/bench_scale
	@./$(BUILD)/bench/bench_scale ./$(BIN)

# Fuzzing (docs/fuzzing.md): the library and one harness per reader built
# with clang's libFuzzer, AddressSanitizer and UBSan in build-fuzz/, then
# each harness run for FUZZ_TIME seconds from its seed corpus
# fuzz/corpus/<reader>/. New inputs go to build-fuzz/corpus/<reader>/ (the
# repository's corpus is only read); a crash or leak stops with the input
# saved as build-fuzz/artifacts/<harness>-crash-... and exit status 1.
FUZZ_TIME ?= 20
FUZZSRC := $(wildcard fuzz/fuzz_*.c)
FUZZBIN := $(FUZZSRC:fuzz/%.c=build-fuzz/fuzz/%)
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all

fuzz:
	$(MAKE) -j$$(nproc) BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-build
	@for h in $(FUZZBIN); do \
		n=$$(basename $$h); r=$${n#fuzz_}; \
		mkdir -p build-fuzz/corpus/$$r build-fuzz/artifacts; \
		d=; [ -f fuzz/$$r.dict ] && d=-dict=fuzz/$$r.dict; \
		case $$r in scenario|domain) d=-dict=fuzz/xml.dict;; esac; \
		echo "== $$n: $(FUZZ_TIME) s from fuzz/corpus/$$r"; \
		if ! ./$$h -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
			-max_len=16384 $$d -print_final_stats=1 \
			-artifact_prefix=build-fuzz/artifacts/$$n- \
			build-fuzz/corpus/$$r fuzz/corpus/$$r >build-fuzz/$$n.log 2>&1; then \
			tail -n 60 build-fuzz/$$n.log; exit 1; \
		fi; \
		grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' build-fuzz/$$n.log; \
	done

fuzz-build: $(FUZZBIN)

build-fuzz/fuzz/%: fuzz/%.c $(LIB) $(wildcard src/sim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MVFLAGS) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB) $(LDLIBS)

clean:
	rm -rf build build-asan build-fuzz

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The figures quoted in README.md and docs/*.md (docs/docs.md): `docs`
# reruns each quoted command and rewrites its block; `check-docs` reruns
# and fails with a diff where a quote no longer matches the program.
.PHONY: docs check-docs
docs: all
	@./scripts/docs.sh
check-docs: all
	@./scripts/docs.sh --check

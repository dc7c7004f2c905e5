# btlaunchmany — plain Makefile.  `make check` and `make demo` install what a
# fresh Debian machine lacks (the deps target), then build and run.
#
# Layout: one folder per layer (README, "Design"): every src/LAYER/*.cpp
# (except src/bin) goes into one static library; each src/bin/NAME.cpp
# becomes build/bin/NAME; every test/LAYER/test_*.cpp is linked into one
# doctest binary, build/test/unit.  `make check-layering` fails on any
# include that points up the layers, any module include cycle and any
# function over 100 lines (main over 60); `make check` runs it first.

BUILD    ?= build
CXX      ?= g++
PKGS     := libuv ncursesw openssl libcurl zlib
OPT      ?= -O2 -g
SAN      ?=
PREFIX   ?= /usr/local

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# -Wno-maybe-uninitialized: GCC 12 reports false positives inside std::variant
# (clang has no such warning and would reject the flag).
CXX_IS_CLANG := $(findstring clang,$(shell $(CXX) --version 2>/dev/null | head -n 1))
WARNINGS := -Wall -Wextra -Werror $(if $(CXX_IS_CLANG),,-Wno-maybe-uninitialized)
CXXFLAGS += -std=c++20 $(OPT) $(SAN) $(WARNINGS) $(DEFS) -Iinclude $(PKG_CFLAGS) $(UPNP_CFLAGS) -MMD -MP
LDFLAGS  += $(SAN)
# Port mapping: miniupnpc has a .pc file in Debian, libnatpmp does not.
UPNP_CFLAGS := $(shell pkg-config --cflags miniupnpc 2>/dev/null)
UPNP_LIBS   := $(shell pkg-config --libs miniupnpc 2>/dev/null || echo -lminiupnpc) -lnatpmp
LDLIBS   += $(PKG_LIBS) $(UPNP_LIBS) -lpthread

LIB_SRC  := $(filter-out src/bin/%,$(wildcard src/*/*.cpp))
BIN_SRC  := $(wildcard src/bin/*.cpp)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.cpp)
# The fuzz targets' entry points are linked into the unit tests, which
# replay the committed fuzz inputs (test/test_fuzz_replay.cpp).
TEST_SRC := $(wildcard test/*/test_*.cpp) test/doctest_main.cpp $(FUZZ_SRC)
BENCH_SRC:= $(wildcard test/bench/*.cpp)

LIB_OBJ  := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libbtl.a
BINS     := $(BIN_SRC:src/bin/%.cpp=$(BUILD)/bin/%)
BENCHES  := $(BENCH_SRC:test/bench/%.cpp=$(BUILD)/bench/%)
FUZZ_NAMES := $(FUZZ_SRC:test/fuzz/fuzz_%.cpp=%)
UNIT     := $(BUILD)/test/unit

# Debian packages the build, the tests and the demo need.
DEBS := g++ make pkg-config libuv1-dev libncurses-dev libssl-dev doctest-dev \
        libcurl4-openssl-dev zlib1g-dev ca-certificates python3-cryptography \
        python3 python3-libtorrent aria2 opentracker mktorrent tmux time wrk \
        man-db procps psmisc rtorrent clang libclang-rt-14-dev \
        universal-ctags transmission-daemon transmission-cli nlohmann-json3-dev \
        libminiupnpc-dev libnatpmp-dev python3-miniupnpc prometheus chromium nodejs systemd

.PHONY: all check unit integration demo bench install clean deps build-all \
        fuzz fuzz-build check-asan check-layering soak
all: $(BINS) $(UNIT) $(BENCHES)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/src/bin/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/test/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(UNIT): $(TEST_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $(TEST_OBJ) $(LIB) $(LDLIBS) -o $@

# deps first, then a fresh make so pkg-config sees the installed packages;
# the build is parallel, the integration tests run two at a time
# (test/run_integration.sh; BTL_TEST_JOBS=1 for one after the other).
check: deps
	$(MAKE) --no-print-directory check-layering
	$(MAKE) --no-print-directory -j$$(nproc) build-all
	$(MAKE) --no-print-directory -j1 unit
	$(MAKE) --no-print-directory -j1 integration

build-all: $(BINS) $(UNIT) $(BENCHES)

# Layers point down, modules form no include cycle, no function over 100
# lines and no main over 60 (test/check_layering.py, check_function_size.py).
check-layering:
	python3 test/check_layering.py
	python3 test/check_function_size.py

unit: $(UNIT)
	$(UNIT)

integration: $(BINS)
	BUILD=$(BUILD) test/run_integration.sh

bench: deps
	$(MAKE) --no-print-directory -j$$(nproc) build-all
	BUILD=$(BUILD) test/bench/run_bench.sh

demo: deps
	$(MAKE) --no-print-directory -j$$(nproc) build-all
	BUILD=$(BUILD) test/demo.sh

# `make soak` (not in `make check`): SOAK_MINUTES (30) of churn on loopback
# against one btlaunchmany: 200 torrents added and removed through the watch
# dir and RPC, peers joining and leaving, a kill -9, a tracker restart; fails
# on lost data, RSS growth >= 5 %, leaked descriptors/handles/timers or an
# error row (test/soak/soak.py).  SOAK_MINUTES=3 for a quick run.
SOAK_MINUTES ?= 30
soak: deps
	$(MAKE) --no-print-directory -j$$(nproc) build-all
	BTL_BIN=$(abspath $(BUILD))/bin SOAK_MINUTES=$(SOAK_MINUTES) /usr/bin/python3 test/soak/soak.py

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Flood (a web UI for Transmission's RPC) and puppeteer-core, pinned in
	@# test/integration/flood/package.json, for test_rpc_flood.py.
	@# npm: Debian's package, unless the installed nodejs brings its own.
	@command -v npm >/dev/null || { SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	@[ -d test/integration/flood/node_modules/flood ] || \
	  (cd test/integration/flood && npm install --no-audit --no-fund --loglevel=error)

# ---- fuzzing and sanitizers -------------------------------------------------
# `make fuzz`: each libFuzzer target (test/fuzz/fuzz_NAME.cpp) built with
# clang, ASan and UBSan into $(FUZZ_BUILD), then run for FUZZ_SECONDS on a
# copy of its corpus; fails if any target finds a crash (saved under
# $(FUZZ_BUILD)/artifacts/NAME/).  FUZZ_TARGETS="bencode resume" picks some.
FUZZ_BUILD   ?= build/fuzz
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz: deps
	$(MAKE) --no-print-directory -j$$(nproc) fuzz-build BUILD=$(FUZZ_BUILD) CXX=$(FUZZ_CXX) OPT="-O1 -g" \
	  SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" DEFS=-DBTL_LIBFUZZER
	BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run_fuzz.sh $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/test/fuzz/fuzz_%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -fsanitize=fuzzer $< $(LIB) $(LDLIBS) -o $@

# `make check-asan`: everything built with ASan + UBSan into $(ASAN_BUILD),
# then the unit and integration tests against those binaries.  Sanitizer
# reports go to $(ASAN_BUILD)/sanitizer/ (daemons started by the integration
# tests have no terminal), and any report there fails the target.
ASAN_BUILD   ?= build/asan
ASAN_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_LOGS     = $(abspath $(ASAN_BUILD))/sanitizer
ASAN_ENV      = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$(ASAN_LOGS)/asan \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
                BTL_TIME_SCALE=$${BTL_TIME_SCALE:-3} BTL_MEM_SCALE=$${BTL_MEM_SCALE:-4} BTL_TEST_TIMEOUT=$${BTL_TEST_TIMEOUT:-2700} \
                BTL_TEST_JOBS=$${BTL_TEST_JOBS:-1}

check-asan: deps
	$(MAKE) --no-print-directory -j$$(nproc) build-all BUILD=$(ASAN_BUILD) OPT="-O1 -g" SAN="$(ASAN_SAN)"
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	st=0; \
	$(ASAN_ENV) $(ASAN_BUILD)/test/unit || st=1; \
	$(ASAN_ENV) BUILD=$(ASAN_BUILD) test/run_integration.sh $(INTEGRATION_FILTER) || st=1; \
	if [ -n "$$(ls -A $(ASAN_LOGS))" ]; then \
	  echo "check-asan: sanitizer reports:"; cat $(ASAN_LOGS)/*; st=1; \
	fi; \
	[ $$st -eq 0 ] && echo "check-asan: clean"; exit $$st

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BIN_SRC:src/bin/%.cpp=$(BUILD)/obj/src/bin/%.d) $(BENCH_SRC:test/bench/%.cpp=$(BUILD)/obj/test/bench/%.d)

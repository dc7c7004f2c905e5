# btlaunchmany — plain Makefile.  `make check` and `make demo` install what a
# fresh Debian machine lacks (the deps target), then build and run.
#
# Layout: every src/*.cpp and src/*/*.cpp (except src/bin) goes into one
# static library; each src/bin/NAME.cpp becomes build/bin/NAME; every
# test/test_*.cpp is linked into one doctest binary, build/test/unit.

BUILD    ?= build
CXX      ?= g++
PKGS     := libuv ncursesw openssl
OPT      ?= -O2 -g
SAN      ?=
PREFIX   ?= /usr/local

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# -Wno-maybe-uninitialized: GCC 12 reports false positives inside std::variant.
CXXFLAGS += -std=c++20 $(OPT) $(SAN) -Wall -Wextra -Werror -Wno-maybe-uninitialized -Iinclude $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(SAN)
LDLIBS   += $(PKG_LIBS) -lpthread

LIB_SRC  := $(filter-out src/bin/%,$(wildcard src/*.cpp src/*/*.cpp))
BIN_SRC  := $(wildcard src/bin/*.cpp)
TEST_SRC := $(wildcard test/test_*.cpp) test/doctest_main.cpp
BENCH_SRC:= $(wildcard test/bench/*.cpp)

LIB_OBJ  := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libbtl.a
BINS     := $(BIN_SRC:src/bin/%.cpp=$(BUILD)/bin/%)
BENCHES  := $(BENCH_SRC:test/bench/%.cpp=$(BUILD)/bench/%)
UNIT     := $(BUILD)/test/unit

# Debian packages the build, the tests and the demo need.
DEBS := g++ make pkg-config libuv1-dev libncurses-dev libssl-dev doctest-dev \
        python3 python3-libtorrent aria2 opentracker mktorrent tmux time wrk \
        man-db procps psmisc rtorrent

.PHONY: all check unit integration demo bench install clean deps build-all
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
# the build is parallel, the tests run one after the other.
check: deps
	$(MAKE) --no-print-directory -j$$(nproc) build-all
	$(MAKE) --no-print-directory -j1 unit
	$(MAKE) --no-print-directory -j1 integration

build-all: $(BINS) $(UNIT) $(BENCHES)

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

deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BIN_SRC:src/bin/%.cpp=$(BUILD)/obj/src/bin/%.d) $(BENCH_SRC:test/bench/%.cpp=$(BUILD)/obj/test/bench/%.d)

# gitd: self-hosted git push to deploy.
#
#   make            build bin/gitd, bin/gitd-pre-receive, bin/gitd-post-receive, bin/gitd-render
#   make check      install missing packages, build, run unit and end-to-end tests
#   make run        install missing packages, build, start a local instance in ./var
#   make SANITIZE=1 build (and check) with AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (needs clang)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS      = libssh libgit2 libcurl yaml-0.1 jansson

WARNINGS  = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wwrite-strings -fno-common -Werror
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -Ilib \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS)
LIBS        = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS  = $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(SANITIZE),1)
SAN_FLAGS    = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_CFLAGS  += $(SAN_FLAGS)
ALL_LDFLAGS += $(SAN_FLAGS)
endif

B = build

LIB_OBJ      = $(patsubst %.c,$(B)/%.o,$(wildcard lib/*.c))
DAEMON_OBJ   = $(patsubst %.c,$(B)/%.o,$(filter-out gitd/main.c,$(wildcard gitd/*.c)))
RENDER_OBJ   = $(patsubst %.c,$(B)/%.o,$(filter-out renderer/main.c,$(wildcard renderer/*.c)))
UNIT_TESTS   = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZERS      = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

PROGRAMS = bin/gitd bin/gitd-pre-receive bin/gitd-post-receive bin/gitd-render

.PHONY: all deps check unit e2e run install clean fuzz bench format
.DELETE_ON_ERROR:

all: $(PROGRAMS)

# Rebuild everything when the flags change (plain and SANITIZE=1 builds share bin/).
$(B)/FLAGS: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@
FORCE:

$(B)/%.o: %.c $(B)/FLAGS
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(LIB_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libdaemon.a: $(DAEMON_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/librender.a: $(RENDER_OBJ)
	@rm -f $@; ar rcs $@ $^

ARCHIVES = $(B)/libdaemon.a $(B)/librender.a $(B)/libcommon.a

bin/gitd: $(B)/gitd/main.o $(ARCHIVES)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-pre-receive: $(B)/hooks/pre_receive.o $(ARCHIVES)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-post-receive: $(B)/hooks/post_receive.o $(ARCHIVES)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-render: $(B)/renderer/main.o $(ARCHIVES)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

deps:
	@sh tests/deps.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; CK_FORK=yes $$t; done

e2e: $(PROGRAMS)
	@sh tests/e2e/run.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e

run: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/run-local.sh

install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/

# libFuzzer targets: clang only, always with sanitizers, built apart from bin/.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Ilib -fsanitize=fuzzer,address,undefined \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
fuzz:
	@mkdir -p $(B)/fuzz
	@set -e; for f in $(FUZZERS); do \
	  clang $(FUZZ_FLAGS) -o $(B)/fuzz/$$f fuzz/$$f.c lib/*.c $(filter-out gitd/main.c,$(wildcard gitd/*.c)) \
	    $(filter-out renderer/main.c,$(wildcard renderer/*.c)) $(LIBS); \
	  mkdir -p $(B)/fuzz/$$f.corpus; \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(B)/fuzz/$$f.corpus fuzz/corpus/$$f; \
	done

format:
	clang-format -i lib/*.[ch] gitd/*.[ch] hooks/*.[ch] renderer/*.[ch] tests/unit/*.c

clean:
	rm -rf $(B) bin

-include $(shell find $(B) -name '*.d' 2>/dev/null)

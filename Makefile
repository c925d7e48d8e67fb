# gitd: self-hosted git push to deploy.
#
#   make            build bin/gitd, bin/gitd-pre-receive, bin/gitd-post-receive, bin/gitd-render
#   make check      install missing packages, build, run unit and end-to-end tests
#   make run        install missing packages, build, start a local instance in ./var
#   make SANITIZE=1 build (and check) with AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (needs clang)
#   make bench      run every bench/*.sh (gitd against its peers; see docs/benchmarks.md)
#   make install    PREFIX=/usr/local DESTDIR= (see docs/operating.md); make uninstall

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/gitd
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR     ?= $(PREFIX)/lib/sysusers.d
CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS      = libssh libgit2 libcurl yaml-0.1 jansson libcrypto

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

# `make V=1` shows the full command lines.
ifneq ($(V),1)
QUIET_CC   = @echo '   CC $@';
QUIET_LINK = @echo ' LINK $@';
endif

LIB_OBJ      = $(patsubst %.c,$(B)/%.o,$(wildcard lib/*.c))
DAEMON_OBJ   = $(patsubst %.c,$(B)/%.o,$(filter-out gitd/main.c,$(wildcard gitd/*.c)))
RENDER_OBJ   = $(patsubst %.c,$(B)/%.o,$(filter-out renderer/main.c,$(wildcard renderer/*.c)))
UNIT_TESTS   = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZERS      = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

PROGRAMS = bin/gitd bin/gitd-pre-receive bin/gitd-post-receive bin/gitd-render

SHELL = /bin/bash

.PHONY: all deps check unit e2e run install uninstall clean fuzz bench format
.DELETE_ON_ERROR:

all: $(PROGRAMS)

# Rebuild everything when the flags change (plain and SANITIZE=1 builds share bin/).
$(B)/FLAGS: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@
FORCE:

$(B)/%.o: %.c $(B)/FLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(LIB_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libdaemon.a: $(DAEMON_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/librender.a: $(RENDER_OBJ)
	@rm -f $@; ar rcs $@ $^

# The hooks call the renderer's validator; unit tests and fuzzers reach into every module.
$(B)/hooks/%.o $(B)/gitd/%.o: ALL_CFLAGS += -Irenderer
$(B)/tests/unit/%.o: ALL_CFLAGS += -Igitd -Irenderer -Ihooks

ARCHIVES = $(B)/libdaemon.a $(B)/librender.a $(B)/libcommon.a

bin/gitd: $(B)/gitd/main.o $(ARCHIVES)
	@mkdir -p bin
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-pre-receive: $(B)/hooks/pre_receive.o $(ARCHIVES)
	@mkdir -p bin
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-post-receive: $(B)/hooks/post_receive.o $(ARCHIVES)
	@mkdir -p bin
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
bin/gitd-render: $(B)/renderer/main.o $(ARCHIVES)
	@mkdir -p bin
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

deps:
	@sh tests/deps.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; CK_FORK=yes $$t; done

# The webhook builder's end-to-end test talks to this stand-in CI system.
$(B)/tests/webhook-receiver: tests/e2e/webhook_receiver.c $(B)/FLAGS
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

e2e: $(PROGRAMS) $(B)/tests/webhook-receiver
	@sh tests/e2e/run.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e

run: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/run-local.sh

# gitd links its hooks to the programs beside its own executable: install all four together.
MANPAGES = docs/man/gitd.8 docs/man/gitd-render.1 docs/man/gitd.yaml.5
install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSTEMD_UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(addprefix $(DESTDIR)$(MANDIR)/man,1 5 8)
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	set -e; for m in $(MANPAGES); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	sed 's|/usr/bin/gitd|$(BINDIR)/gitd|g' deploy/systemd/gitd.service >$(DESTDIR)$(SYSTEMD_UNITDIR)/gitd.service
	chmod 644 $(DESTDIR)$(SYSTEMD_UNITDIR)/gitd.service
	install -m 644 deploy/systemd/gitd.sysusers $(DESTDIR)$(SYSUSERSDIR)/gitd.conf
	install -m 644 deploy/gitd.yaml.example $(DESTDIR)$(DATADIR)/gitd.yaml.example

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS)))
	rm -f $(foreach m,$(MANPAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(DESTDIR)$(SYSTEMD_UNITDIR)/gitd.service $(DESTDIR)$(SYSUSERSDIR)/gitd.conf
	rm -f $(DESTDIR)$(DATADIR)/gitd.yaml.example
	rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true

# libFuzzer targets: clang only, always with sanitizers, built apart from bin/.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Ilib -Igitd -Irenderer -Ihooks \
              -fsanitize=fuzzer-no-link,address,undefined \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB_OBJ = $(patsubst %.c,$(B)/fuzzobj/%.o,$(wildcard lib/*.c) \
               $(filter-out gitd/main.c,$(wildcard gitd/*.c)) \
               $(filter-out renderer/main.c,$(wildcard renderer/*.c)))

$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)clang $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz: $(addprefix $(B)/fuzz/,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do \
	  mkdir -p $(B)/fuzz/$$f.corpus; \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=$(B)/fuzz/ -print_final_stats=0 \
	    $(B)/fuzz/$$f.corpus fuzz/corpus/$$f 2>&1 | grep -E '^(Done|==[0-9]+==ERROR|SUMMARY)' ; \
	  test $${PIPESTATUS[0]} -eq 0; \
	done

# Each benchmark prints a Markdown report on stdout and its progress on stderr.
bench: $(PROGRAMS)
	@failed=""; for b in bench/*.sh; do echo "== $$b" >&2; bash $$b || failed="$$failed $$b"; done; \
	  if [ -n "$$failed" ]; then echo "bench: FAILED:$$failed" >&2; exit 1; fi

format:
	clang-format -i lib/*.[ch] gitd/*.[ch] hooks/*.[ch] renderer/*.[ch] tests/unit/*.c

clean:
	rm -rf $(B) bin

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# gatehouse: the top-level build.
#   make            the command-line tool and the nginx module, in build/
#   make run        install what is missing, build, initialise ./var once, serve
#                   (LISTEN=ADDR:PORT HTTP_LISTEN=ADDR:PORT|none
#                   METRICS_LISTEN=ADDR:PORT|none for other ports)
#   make test       install, build, every test (checks, unit, integration, sanitizers, fuzz smoke)
#   make check      the checks of the source itself: no circles among the files of src/
#                   (scripts/check-circles, on the objects), the core names no dialect
#   make unit-store the store's contract tests against the store GH_TEST_STORE_URL
#                   names (with GH_TEST_STORE_SECRET_FILE), e.g. a Redis server
#   make bench      gatehouse against plain nginx, side by side (bench/)
#   make bench-instructions  instructions per request under callgrind, against plain nginx
#   make fuzz       each fuzz target for FUZZ_SECONDS (60)
# SANITIZE=1 builds with AddressSanitizer + UndefinedBehaviorSanitizer into build/asan.

SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD    ?= build/asan
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT       = -O1
else
BUILD    ?= build
SANFLAGS  =
OPT       = -O2 -D_FORTIFY_SOURCE=2
endif

CC       ?= gcc
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -fstack-protector-strong \
            -I/usr/include/libxml2 $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
LIBS      = -lssl -lcrypto -ljansson -lxml2 -largon2 -lcrypt -lsqlite3 -linih -lldap -llber -lhiredis -lpthread

LIB_SRC   = $(sort $(wildcard src/core/*.c src/dialects/*/*.c src/pki/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC   = $(sort $(wildcard src/cli/*.c))
CLI_OBJ   = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MOD_SRC   = $(sort $(wildcard src/nginx/*.c src/nginx/*.h)) src/nginx/config

PYTEST    = /usr/bin/python3 -m pytest

.PHONY: all run test check unit unit-store integration asan fuzz fuzz-smoke bench bench-instructions deps clean
all: $(BUILD)/gatehouse $(BUILD)/ngx_http_gatehouse_module.so

deps:
	scripts/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The command line finds the module and the bundled trees where this build put them;
# the configuration keys `module` and `data_tree` override both.
$(CLI_OBJ): CFLAGS += -DGH_MODULE_PATH='"$(abspath $(BUILD))/ngx_http_gatehouse_module.so"' \
                      -DGH_TREE_DIR='"$(abspath data)"'

$(BUILD)/libgatehouse.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/gatehouse: $(CLI_OBJ) $(BUILD)/libgatehouse.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libgatehouse.a $(LIBS)

$(BUILD)/ngx_http_gatehouse_module.so: $(MOD_SRC) $(BUILD)/libgatehouse.a scripts/build-module
	scripts/build-module $(BUILD) "$(SANFLAGS)"

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgatehouse.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(BUILD)/libgatehouse.a $(LIBS) -lcmocka

# Under a throw-away redis-server (GH_TEST_REDIS_URL); a missing redis-server
# fails the run (make test installs it: scripts/install-deps).
# The store's contract tests run twice: with the others on the embedded store,
# then through GH_TEST_STORE_URL on that same throw-away Redis.
unit: $(UNIT_BIN)
	tests/unit/with-redis sh -c 'scripts/run-unit $(UNIT_BIN); status=$$?; \
	    echo "== $(BUILD)/tests/test_store_contract on Redis"; \
	    GH_TEST_STORE_URL="$$GH_TEST_REDIS_URL" $(BUILD)/tests/test_store_contract || status=1; \
	    exit $$status'

# The same contract tests `make unit` runs on the embedded store, once more
# against another backend: each test under a key prefix of its own.
unit-store: $(BUILD)/tests/test_store_contract
	GH_TEST_STORE_URL='$(GH_TEST_STORE_URL)' \
	    GH_TEST_STORE_SECRET_FILE='$(GH_TEST_STORE_SECRET_FILE)' \
	    $(BUILD)/tests/test_store_contract

# The check's own test first (tests/scripts), then the check on this build's
# objects: the library and the command line, and the nginx adapter.
# Each check runs its own self-test first, so a check that can no longer fail fails.
check: all
	$(PYTEST) -q tests/scripts
	scripts/check-circles $(BUILD)/obj $(BUILD)/ngsrc/objs/addon
	scripts/check-core-neutral --self-test
	scripts/check-core-neutral

integration: all
	GATEHOUSE_BUILD=$(abspath $(BUILD)) GATEHOUSE_SANITIZE=$(SANITIZE) \
	    $(PYTEST) -q tests/integration

asan:
	$(MAKE) SANITIZE=1 all unit integration

# make run LISTEN=127.0.0.1:9443 HTTP_LISTEN=127.0.0.1:9080 (or none) serves elsewhere,
# METRICS_LISTEN=127.0.0.1:9146 (or none) puts the metrics elsewhere.
run: deps all
	scripts/run-default $(BUILD) $(if $(LISTEN),--listen '$(LISTEN)') \
	    $(if $(HTTP_LISTEN),--http-listen '$(HTTP_LISTEN)') \
	    $(if $(METRICS_LISTEN),--metrics-listen '$(METRICS_LISTEN)')

test: deps
	$(MAKE) all check unit integration
	$(MAKE) asan
	$(MAKE) fuzz-smoke

fuzz:
	scripts/fuzz $${FUZZ_SECONDS:-60}

fuzz-smoke:
	scripts/fuzz 5

bench: deps all
	GATEHOUSE_BUILD=$(abspath $(BUILD)) bench/run

bench-instructions: deps all
	GATEHOUSE_BUILD=$(abspath $(BUILD)) bench/instructions --annotate

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_BIN:=.d)

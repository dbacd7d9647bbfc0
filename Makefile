# All About Sockets, in C - the top-level Makefile.
#
#   make            build every lesson        make demo     the narrated tour
#   make test       the whole bats suite      make check    the suite under valgrind
#   make test LESSON=03   one lesson's tests  make deps     install what the tests need
#   make sanitize / tsan / lint / fuzz / portable / bench   the quality gates and the benchmark

LESSON_DIRS := $(patsubst %/Makefile,%,$(sort $(wildcard lessons/[0-9][0-9]-*/Makefile)))
LESSON      ?=
VARIANT     ?=
# USE='echo-server=~/hw/server': the tests judge that command as echo-server (tests/run).
USE         ?=
export LESSON USE

.PHONY: all lib testprogs demo test check deps deps-test deps-gates clean sanitize tsan lint fuzz bench \
        mutants progress starters portable \
        $(LESSON_DIRS)

TESTPROG_DIR := $(wildcard tests/common/Makefile)

all: $(LESSON_DIRS) testprogs

# The library first, once; then the lessons (in parallel under make -j).
lib:
	@$(MAKE) --no-print-directory -C common VARIANT=$(VARIANT)

$(LESSON_DIRS): lib
	@$(MAKE) --no-print-directory -C $@ VARIANT=$(VARIANT)

# Small C programs that drive common/ in tests/00-common.bats (built into build/tests/).
testprogs: lib
	@$(if $(TESTPROG_DIR),$(MAKE) --no-print-directory -C tests/common VARIANT=$(VARIANT),:)

demo: all
	@for d in $(LESSON_DIRS); do \
	    printf '\n==== %s ====\n' "$$(basename $$d)"; \
	    $(MAKE) --no-print-directory -s -C $$d run || exit 1; \
	done; printf '\n==== the tour is over: next, run "make test" ====\n'

# make deps: install what is missing (apt-get when root; otherwise print the command).
deps:
	@tests/deps all
deps-test:
	@tests/deps test --quiet-if-present
deps-gates:
	@tests/deps gates --quiet-if-present

test: deps-test all
	@tests/run

# The bug zoo: every classic fault of tests/mutants/ planted alone, each lesson's tests
# against it; every one must be caught. make mutants M="partial-write" runs some.
M ?=
mutants: all
	@tests/gates/mutants $(M)

# Starters, solutions and tests agree: the kit's programs pass every stage through USE=,
# each starter builds and fails the stages of its TODOs, a Python echo server passes 03.
starters: all
	@tests/gates/starters

# Your progress through the lessons: stages passed by your programs in each yours/.
progress: all
	@tests/gates/progress

check: deps-test all
	@VALGRIND=1 tests/run

clean:
	@for d in $(LESSON_DIRS); do $(MAKE) --no-print-directory -C $$d clean; done
	rm -rf build

# ---- quality gates (each also run by .ci/run) ------------------------------------

# Sanitizer reports fail twice over: the program aborts (exit 134, 66 under TSan), so the
# test that ran it fails; and every report is written to a file under build/san-logs/, which
# tests/gates/san-reports prints at the end, failing the gate even when no test looked at
# that process's exit status. valgrind and the sanitizers never run together (VALGRIND=).
SAN_LOGS = $(CURDIR)/build/san-logs/$@
# MAKEOVERRIDES= keeps a command-line LESSON=NN (make sanitize LESSON=03) out of the lesson
# builds, where it would override common.mk's LESSON and misplace their build directories.

# The whole suite against programs built with AddressSanitizer + UBSan into build/asan/.
sanitize: deps-test
	@$(MAKE) --no-print-directory VARIANT=asan MAKEOVERRIDES= all
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	@status=0; VALGRIND= KIT_VARIANT=asan \
	    ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$(SAN_LOGS)/asan \
	    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan \
	    tests/run || status=1; tests/gates/san-reports $(SAN_LOGS) || status=1; exit $$status

# ThreadSanitizer: the threaded lessons' tests, against TSan builds in build/tsan/ (every
# lesson is built, since those tests also drive other lessons' clients).
TSAN_LESSONS := 05
tsan: deps-test
	@$(MAKE) --no-print-directory VARIANT=tsan MAKEOVERRIDES= all
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	@status=0; for n in $(TSAN_LESSONS); do \
	    VALGRIND= KIT_VARIANT=tsan LESSON=$$n \
	    TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$(SAN_LOGS)/tsan \
	    tests/run || status=1; done; tests/gates/san-reports $(SAN_LOGS) || status=1; exit $$status

lint: deps-gates
	@tests/gates/lint

# Every mermaid block of the kit's markdown drawn as docs/diagrams/NAME.svg, with the hash of
# its source in docs/diagrams/MANIFEST (commit both). Installs node, npm and chromium from
# Debian and mermaid-cli from npm, outside the repository, the first time. FORCE=1: redraw all.
.PHONY: diagrams
diagrams:
	@tests/gates/diagrams render $(if $(FORCE),--force)

# common/ and lessons 01-05 use only what Linux, macOS and the BSDs share: no _GNU_SOURCE,
# a build with -std=c17 -D_POSIX_C_SOURCE=200809L (into build/portable/), and nm finding no
# Linux-only symbol (accept4, ppoll, epoll_*, signalfd, pipe2 ...) in their programs.
portable: all
	@tests/gates/portable

FUZZ_SECONDS ?= 60
fuzz: deps-gates
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/gates/fuzz

bench: all
	@$(MAKE) --no-print-directory -C lessons/07-measuring bench

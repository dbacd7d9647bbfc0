# common.mk - included by every lesson Makefile.
#
# A lesson Makefile sets PROGRAMS (its programs) and, for each program P,
# P_SRCS (its C files, relative to the lesson), then includes this file.
# It gets: all, test, check, clean; it writes its own run and trace recipes.
#
# Where things go: the programs stay in the lesson directory, where learners run
# them; every object and dependency file goes under build/LESSON/, so that `ls`
# in a lesson shows only what a learner reads and runs. Variants (`make
# VARIANT=asan`, or tsan) put programs and objects under build/VARIANT/LESSON/.
#
# The build says nothing but warnings and errors; `make V=1` shows each command.

KIT_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
# override: a LESSON=NN on the top-level command line must not rename this lesson.
override LESSON := $(notdir $(CURDIR))
include $(KIT_ROOT)/common/flags.mk

OBJ := $(BUILD)/$(LESSON)/
ifeq ($(VARIANT),)
  O :=
else ifeq ($(VARIANT),yours)
  O := yours/
else
  O := $(OBJ)
endif

BINARIES := $(addprefix $(O),$(PROGRAMS))

.PHONY: all run test check trace clean
.DEFAULT_GOAL := all

all: $(BINARIES)
	@: # nothing to say when everything is up to date

# The library is built by common/Makefile, once: the top-level Makefile builds
# it before any lesson (also under make -j), so here it is already up to date.
# A lesson built alone (make -C lessons/NN-x) builds it first.
$(LIBCOMMON): $(wildcard $(KIT_ROOT)/common/*.[ch]) $(KIT_ROOT)/common/flags.mk
	$(Q)$(MAKE) --no-print-directory -C $(KIT_ROOT)/common VARIANT=$(VARIANT)

# One rule per program P (P_SRCS spelled with '_' for '-': echo_client_SRCS).
define program_rule
$(O)$(1): $$(patsubst %.c,$(OBJ)%.o,$$($(subst -,_,$(1))_SRCS)) $(LIBCOMMON)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

ifneq ($(VARIANT),yours)
$(OBJ)%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
else
# The learner's build: each source from yours/ when it is there, else the lesson's own
# (the files the starter leaves whole); headers from yours/ first too, then the lesson's
# (a source in yours/ includes the lesson's headers that the starter does not copy).
CPPFLAGS := -Iyours -I. $(CPPFLAGS)
ALL_SRCS := $(sort $(foreach p,$(PROGRAMS),$($(subst -,_,$(p))_SRCS)))
define yours_object
$(OBJ)$(1:.c=.o): $(if $(wildcard yours/$(1)),yours/$(1),$(1))
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(CPPFLAGS) $$(CFLAGS) -c -o $$@ $$<
endef
$(foreach s,$(ALL_SRCS),$(eval $(call yours_object,$(s))))
endif

-include $(wildcard $(OBJ)*.d $(OBJ)*/*.d)

NUMBER := $(firstword $(subst -, ,$(LESSON)))

test: all
	@$(MAKE) --no-print-directory -C $(KIT_ROOT) test LESSON=$(NUMBER)

check: all
	@$(MAKE) --no-print-directory -C $(KIT_ROOT) check LESSON=$(NUMBER)

# ---- your turn: the learner's own programs, judged by the same tests -----------------
#
#   make starter      copy starter/ into yours/, never over a file already there
#   make yours        build yours/ (each file from yours/, the rest from the lesson)
#   make test-yours   the lesson's tests, stage by stage, against yours/ (REPORT=junit too)
.PHONY: starter yours test-yours bug

starter:
	@[ -d starter ] || { echo "$(LESSON) has no starter: its README's \"Your turn\" says what to write"; exit 1; }
	@mkdir -p yours
	@for f in starter/*; do \
	    if [ -e "yours/$${f#starter/}" ]; then echo "kept   yours/$${f#starter/} (your work: not overwritten)"; \
	    else cp "$$f" yours/ && echo "copied yours/$${f#starter/}"; fi; \
	done
	@echo "next: edit the TODOs in yours/, then: make test-yours"

yours:
	@[ -d yours ] || { echo "no yours/ here yet: run make starter first"; exit 1; }
	@$(MAKE) --no-print-directory VARIANT=yours all

# The programs built in yours/, as USE= pairs: the tests judge them instead of the kit's.
YOURS_USE = $(foreach p,$(PROGRAMS),$(if $(wildcard yours/$(p)),$(p)=$(CURDIR)/yours/$(p)))

test-yours: yours
	@$(MAKE) --no-print-directory -s -C $(KIT_ROOT) deps-test all
	@cd $(KIT_ROOT) && KIT_PRETTY=1 LESSON=$(NUMBER) USE='$(YOURS_USE)' tests/run

# make bug NAME: this lesson's classic fault NAME (tests/mutants/NN-NAME.patch) planted in a
# copy, built into bugs/NAME/, and the tests run against it; make bug alone lists them.
ifeq ($(firstword $(MAKECMDGOALS)),bug)
  BUG_NAME := $(word 2,$(MAKECMDGOALS))
  ifneq ($(BUG_NAME),)
    $(eval $(BUG_NAME): ; @:)
  endif
endif
bug: all
	@$(KIT_ROOT)/tests/gates/bug $(NUMBER) $(BUG_NAME)

clean:
	rm -f $(PROGRAMS)
	rm -rf bugs $(BUILD)/$(LESSON) $(KIT_ROOT)/build/asan/$(LESSON) $(KIT_ROOT)/build/tsan/$(LESSON) \
	    $(KIT_ROOT)/build/yours/$(LESSON) $(KIT_ROOT)/build/portable/$(LESSON)
	$(if $(wildcard yours),@echo "(yours/ is your work: make clean leaves it alone)")

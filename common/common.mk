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

$(OBJ)%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

-include $(wildcard $(OBJ)*.d $(OBJ)*/*.d)

NUMBER := $(firstword $(subst -, ,$(LESSON)))

test: all
	@$(MAKE) --no-print-directory -C $(KIT_ROOT) test LESSON=$(NUMBER)

check: all
	@$(MAKE) --no-print-directory -C $(KIT_ROOT) check LESSON=$(NUMBER)

clean:
	rm -f $(PROGRAMS)
	rm -rf $(BUILD)/$(LESSON) $(addsuffix /$(LESSON),$(addprefix $(KIT_ROOT)/build/,asan tsan portable))

# flags.mk - compiler flags and build directories shared by common/ and the lessons.
# Expects KIT_ROOT. VARIANT=asan or tsan selects a sanitizer build under build/VARIANT/.

CC      ?= cc
# Quiet builds: only warnings and errors. V=1 shows every command, as kernel builds do.
V       ?=
Q       := $(if $(filter 1,$(V)),,@)
WARN    := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion -Wmissing-declarations
CSTD    := -std=c17 -D_POSIX_C_SOURCE=200809L
OPT     ?= -O2 -g
VARIANT ?=

ifeq ($(VARIANT),asan)
  SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(VARIANT),tsan)
  SAN := -fsanitize=thread
else ifneq ($(filter-out yours,$(VARIANT)),)
  $(error VARIANT must be asan, tsan, yours or empty)
endif

ifeq ($(VARIANT),)
  BUILD := $(KIT_ROOT)/build
else
  BUILD := $(KIT_ROOT)/build/$(VARIANT)
endif

# A learner's programs (VARIANT=yours) link the kit's own common library.
LIBCOMMON := $(if $(filter yours,$(VARIANT)),$(KIT_ROOT)/build,$(BUILD))/libcommon.a
CPPFLAGS  += -I$(KIT_ROOT)/common -MMD -MP
CFLAGS    += $(CSTD) $(WARN) $(OPT) $(SAN)
LDFLAGS   += $(SAN)
LDLIBS    += $(LIBCOMMON) -pthread

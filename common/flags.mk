# flags.mk - compiler flags and build directories shared by common/ and the lessons.
# Expects KIT_ROOT. VARIANT=asan or tsan selects a sanitizer build under build/VARIANT/;
# VARIANT=portable, a plain build of its own there (tests/gates/portable).

CC      ?= cc
# Quiet builds: only warnings and errors. V=1 shows every command, as kernel builds do.
V       ?=
Q       := $(if $(filter 1,$(V)),,@)
WARN    := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion -Wmissing-declarations
# C17 and POSIX 2008, on every system: common/ and lessons 01-05 use nothing else but a
# few socket names every system has (MSG_DONTWAIT; SO_NOSIGPIPE where it exists) and
# getopt_long. glibc shows those with _POSIX_C_SOURCE alone; macOS and the BSDs hide
# them then, and each has its own macro to show them again. No _GNU_SOURCE anywhere:
# `make portable` checks (tests/gates/portable).
UNAME_S := $(shell uname -s)
OS_CSTD_Darwin    := -D_DARWIN_C_SOURCE
OS_CSTD_FreeBSD   := -D__BSD_VISIBLE=1
OS_CSTD_DragonFly := -D__BSD_VISIBLE=1
OS_CSTD_NetBSD    := -D_NETBSD_SOURCE
OS_CSTD_OpenBSD   := -D_BSD_SOURCE
CSTD    := -std=c17 -D_POSIX_C_SOURCE=200809L $(OS_CSTD_$(UNAME_S))
OPT     ?= -O2 -g
VARIANT ?=

ifeq ($(VARIANT),asan)
  SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(VARIANT),tsan)
  SAN := -fsanitize=thread
else ifneq ($(filter-out yours portable,$(VARIANT)),)
  $(error VARIANT must be asan, tsan, yours, portable or empty)
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

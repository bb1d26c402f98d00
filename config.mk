# koda-sandbox build configuration: what a packager changes.

VERSION = 0.1.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANPREFIX = $(PREFIX)/share/man

CC = cc
PKG_CONFIG = pkg-config
AR = ar

# STATIC=1 (default) links the libraries' archives, so that a worker's
# start-up costs no dynamic loading and LD_PRELOAD cannot reach it.
STATIC = 1
# SANITIZE=1 builds with ASan and UBSan (always a dynamic build).
SANITIZE = 0

DEPS = jansson libseccomp libpcre2-8
TESTDEPS = check

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wswitch-enum -Wno-format-nonliteral

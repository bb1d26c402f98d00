#!/bin/sh
# Runs the worker of a `make valgrind` build under memcheck. Any error
# or definite leak turns into exit status 99, which the tests see.
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	--error-exitcode=99 "$KS_VG_BIN" "$@"

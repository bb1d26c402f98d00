#!/bin/sh
# Runs the libFuzzer harnesses built in DIR, each for SECONDS, on its
# seed corpus (tests/fuzz/corpus/NAME, read only) and a working corpus
# (DIR/corpus/NAME, kept between runs). Prints the executions of each at
# the end; exits 1 when any harness found a crash, a leak or a timeout.
# usage: run.sh DIR SECONDS NAME:MAX_LEN...
set -u
dir=$1 secs=$2
shift 2
here=$(dirname "$0")
summary="" failed=""
for t in "$@"; do
	name=${t%%:*} len=${t#*:}
	mkdir -p "$dir/corpus/$name"
	dict=""
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	echo "fuzz: $name for ${secs}s (-max_len=$len)"
	# shellcheck disable=SC2086
	"$dir/fuzz_$name" -max_total_time="$secs" -max_len="$len" \
	    -timeout=25 -print_final_stats=1 $dict \
	    -artifact_prefix="$dir/$name-" \
	    "$dir/corpus/$name" "$here/corpus/$name" >"$dir/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$dir/$name.log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' \
	    "$dir/$name.log" | tail -n 1)
	status=ok
	if [ "$rc" != 0 ]; then
		status="FAILED (exit $rc; $dir/$name.log)"
		failed="$failed $name"
		tail -n 40 "$dir/$name.log"
	fi
	summary="$summary$(printf '%-8s %12s executions %8s/s  %s' \
	    "$name" "${execs:-?}" "${rate:-?}" "$status")
"
done
echo "fuzz: executions per harness"
printf '%s' "$summary"
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi

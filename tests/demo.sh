#!/bin/sh
# The main job, end to end: a real worker session under a policy.
# A worker is started on a fresh project tree with a policy that
# protects one sub-directory; it is sent an allowed write, a denied
# write, a symlink escape and a grep; every reply is shown.
set -eu
bin=${1:-build/koda-sandbox}
export LC_ALL=C
dir=$(mktemp -d "${TMPDIR:-/tmp}/koda-demo-XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/project/src" "$dir/project/secrets"
printf 'int main(void) { return 0; } /* TODO: args */\n' > "$dir/project/src/main.c"
printf 'TODO: write docs\n' > "$dir/project/README"
ln -s /etc/passwd "$dir/project/src/evil"

policy='{"fs":{"deny_write_within_allow":["'"$dir"'/project/secrets"]}}'

# frame JSON: a 4-byte big-endian length, then the bytes.
frame() {
	n=${#1}
	printf "\\$(printf %03o $((n >> 24 & 255)))\\$(printf %03o $((n >> 16 & 255)))"
	printf "\\$(printf %03o $((n >> 8 & 255)))\\$(printf %03o $((n & 255)))"
	printf '%s' "$1"
}

p=$dir/project
set -- \
	'{"kind":"write","path":"'"$p"'/src/hello.txt","content":[104,105,10]}' \
	'{"kind":"write","path":"'"$p"'/secrets/key","content":[120]}' \
	'{"kind":"write","path":"/etc/passwd","content":[120]}' \
	'{"kind":"write","path":"'"$p"'/src/evil","content":[120]}' \
	'{"kind":"grep","pattern":"TODO","root":"'"$p"'"}' \
	'{"kind":"shutdown"}'
for r in "$@"; do frame "$r"; done > "$dir/requests"

echo "policy: $policy"
echo "worker: $bin worker --root $p"
KODA_FS_WORKER_POLICY=$policy "$bin" worker --root "$p" \
	< "$dir/requests" > "$dir/replies"

# Print each request and the reply frame that answers it.
off=0
for r in "$@"; do
	len=$(dd if="$dir/replies" bs=1 skip=$off count=4 2>/dev/null |
	    od -An -tu1 | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4 }')
	echo
	echo "> $r"
	echo "< $(dd if="$dir/replies" bs=1 skip=$((off + 4)) count="$len" 2>/dev/null)"
	off=$((off + 4 + len))
done
echo
echo "written: $(cat "$p/src/hello.txt")"

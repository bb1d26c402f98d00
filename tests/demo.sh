#!/bin/sh
# The main job, end to end, told for a person: one real worker session
# under a policy. A worker is started on a fresh project tree with a
# policy that protects one sub-directory; the demo shows that it has
# confined itself, then sends it an allowed write, a denied write, a
# write to a system file, a write through a symbolic link that leads out
# of the project, and a grep, and says what each reply shows.
set -eu
bin=${1:-build/koda-sandbox}
export LC_ALL=C
dir=$(mktemp -d "${TMPDIR:-/tmp}/koda-demo-XXXXXX")
pid=
client=
trap 'for q in $pid $client; do kill "$q" 2>/dev/null || :; done
	rm -rf "$dir"' EXIT
p=$dir/project
mkdir -p "$p/src" "$p/secrets"
printf 'int main(void) { return 0; } /* TODO: args */\n' > "$p/src/main.c"
printf 'TODO: write docs\n' > "$p/README"
ln -s /etc/passwd "$p/src/evil"

# step TITLE: a heading for what comes next.
step() {
	printf '\n== %s\n' "$1"
}

# say TEXT: an explanation, indented.
say() {
	printf '   %s\n' "$@"
}

step "The project"
say "A fresh tree. src/evil is a symbolic link that leads out of the" \
    "project, to /etc/passwd:"
ls -l "$p/src/evil" | sed "s|$dir/||; s/^/   /"

step "The policy"
policy='{"fs":{"deny_write_within_allow":["'"$p"'/secrets"]}}'
say "$(printf '%s\n' "$policy" | sed "s|$dir/||g")" \
    "The root (--root) is writable, except the carved-out secrets/."

step "The worker"
sock=$dir/worker.sock
KODA_FS_WORKER_POLICY=$policy "$bin" worker --socket "$sock" --root "$p" \
	> "$dir/ready" &
pid=$!
# wait_for FILE PATTERN: until FILE holds PATTERN (5 s at most).
wait_for() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "demo: $1 never showed $2" >&2; exit 1; }
		sleep 0.01
	done
}
wait_for "$dir/ready" ready
say "koda-sandbox worker --socket worker.sock --root project (pid $pid)" \
    "said ready and waits for its one connection."
# host-client connects now and sends the requests later, through a FIFO.
mkfifo "$dir/in"
"$bin" host-client --connect "$sock" batch < "$dir/in" > "$dir/replies" &
client=$!
exec 3> "$dir/in"
wait_for "/proc/$pid/status" '^Seccomp:.*2'
say "Once connected, before it reads the first request, it confines" \
    "itself; its /proc status shows it:"
grep -E '^(NoNewPrivs|Seccomp):' "/proc/$pid/status" | sed 's/^/   /'
say "NoNewPrivs 1: it can never gain privileges (no set-uid, no file" \
    "capabilities). Seccomp 2: a system-call filter is installed (no" \
    "execve, no new sockets, no ptrace). Landlock limits its writes to" \
    "the root, whatever its own checks say."

# The requests, one JSON line each, and what each reply shows.
set -- \
	'{"kind":"write","path":"'"$p"'/src/hello.txt","content":[104,105,10]}' \
	"An allowed write beneath the root: the reply counts the bytes." \
	'{"kind":"write","path":"'"$p"'/secrets/key","content":[120]}' \
	"Denied: secrets/ is inside the root but carved out by the policy." \
	'{"kind":"write","path":"/etc/passwd","content":[120]}' \
	"Denied: /etc/passwd lies outside the writable root." \
	'{"kind":"write","path":"'"$p"'/src/evil","content":[120]}' \
	"Denied: src/evil is inside the root, but the link leads to /etc/passwd; the worker follows the chain and judges where the write would land." \
	'{"kind":"grep","pattern":"TODO","root":"'"$p"'"}' \
	"A grep over the project: every match with its file and line."
req=$dir/requests
why=$dir/why
: > "$req"
: > "$why"
while [ $# -gt 0 ]; do
	printf '%s\n' "$1" >> "$req"
	printf '%s\n' "$2" >> "$why"
	shift 2
done
cat "$req" >&3
exec 3>&-
wait "$client" || { echo "demo: host-client failed" >&2; exit 1; }
client=
wait "$pid" || { echo "demo: the worker failed" >&2; exit 1; }
pid=
# Paths are shown relative to the demo's directory.
n=$(wc -l < "$req")
for r in $(seq 1 "$n"); do
	step "Request $r of $n"
	sed -n "${r}p" "$req" | sed "s|$dir/||g; s/^/   > /"
	sed -n "${r}p" "$dir/replies" | sed "s|$dir/||g; s/^/   < /"
	sed -n "${r}p" "$why" | fold -s -w 70 | sed 's/ *$//; s/^/   /'
done

step "The result"
say "src/hello.txt holds: $(cat "$p/src/hello.txt")" \
    "/etc/passwd and secrets/ are untouched. The worker ended when its" \
    "connection closed, with status 0, and it removed its socket file" \
    "as soon as it had accepted the connection."
[ ! -e "$sock" ]

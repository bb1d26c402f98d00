#!/bin/sh
# Installs the build dependencies from Debian's packages when missing.
# Run as root (CI, a fresh machine); as another user it only reports.
set -eu
need=""
for pkg in jansson libseccomp libpcre2-8 check; do
	pkg-config --exists "$pkg" 2>/dev/null || need="$need $pkg"
done
command -v cc >/dev/null 2>&1 || need="$need cc"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing:$need; as root run: apt-get install build-essential" \
	    "pkg-config libjansson-dev libseccomp-dev libpcre2-dev check" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq build-essential pkg-config libjansson-dev \
    libseccomp-dev libpcre2-dev check libsubunit-dev >/dev/null

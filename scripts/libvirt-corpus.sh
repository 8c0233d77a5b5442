#!/bin/sh
# libvirt-corpus.sh - libvirt's own test data as a corpus for memvisor's
# readers (tests/sim/test_libvirt_corpus.c): tests/qemuxml2argvdata/*.xml
# (libvirt domains) and tests/vmx2xmldata/*.vmx (VMware files).
#
# libvirt's files are not in our repository: they come from Debian's
# source package, fetched with `apt-get source --download-only` through a
# temporary apt configuration (deb-src lines made from the system's own
# deb lines), so the system's apt setup is left as it is. Only the two
# data folders and the two test programs that say which files libvirt
# rejects are extracted, and only they are kept, in CACHE_DIR.
#
# usage: libvirt-corpus.sh [CACHE_DIR]   (default build/libvirt-src)
# On success prints the corpus directory, which holds:
#   qemuxml2argvdata/*.xml, vmx2xmldata/*.vmx
#   xml-rejected.txt  names libvirt's qemuxml2argvtest.c expects to fail
#                     (DO_TEST_*PARSE_ERROR*, DO_TEST_*FAILURE*)
#   vmx-rejected.txt  names vmx2xmltest.c expects to fail (DO_TEST_FAIL)
# Exit status 77 with "SKIP: reason" on stdout when the package cannot be
# fetched (no network, no deb line); 1 on other errors.
set -u
cache=${1:-build/libvirt-src}
corpus=$cache/corpus

if [ -f "$corpus/.done" ]; then
	echo "$corpus"
	exit 0
fi

skip() {
	echo "SKIP: $*"
	exit 77
}

command -v apt-get >/dev/null 2>&1 || skip "apt-get is not installed"
mkdir -p "$cache" || exit 1
cache=$(cd "$cache" && pwd)
corpus=$cache/corpus
apt=$cache/apt
rm -rf "$apt" "$corpus"
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" \
	"$cache/dl" || exit 1

# deb-src lines from the system's Debian deb lines (one-line and deb822)
: >"$apt/sources.list"
if [ -f /etc/apt/sources.list ]; then
	sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list \
		>>"$apt/sources.list"
fi
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	grep -qi '^URIs:.*debian' "$f" || continue
	sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	grep -i 'debian' "$f" |
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' >>"$apt/sources.list"
done
if [ ! -s "$apt/sources.list" ] && [ -z "$(ls "$apt/parts")" ]; then
	skip "no Debian deb line in /etc/apt/sources.list(.d) to make a deb-src line from"
fi

aptopts="-o Dir::Etc::SourceList=$apt/sources.list \
	-o Dir::Etc::SourceParts=$apt/parts \
	-o Dir::State::Lists=$apt/lists \
	-o Dir::Cache=$apt/cache \
	-o APT::Sandbox::User=root"
# shellcheck disable=SC2086
if ! apt-get -q $aptopts update >"$apt/update.log" 2>&1 ||
	! ls "$apt"/lists/*Sources* >/dev/null 2>&1; then
	# apt-get update exits 0 when it only warns that nothing could be
	# fetched: no Sources index means no network (or no mirror)
	skip "cannot fetch Debian's source indexes (no network?): $(grep -E '^(E|W|Err):' "$apt/update.log" | head -n 1)"
fi
# shellcheck disable=SC2086
if ! (cd "$cache/dl" && apt-get -q $aptopts source --download-only libvirt) \
	>"$apt/source.log" 2>&1; then
	skip "apt-get source --download-only libvirt failed: $(tail -n 1 "$apt/source.log")"
fi
orig=$(ls "$cache"/dl/libvirt_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || skip "the libvirt source package has no .orig tarball"

mkdir -p "$corpus/x" || exit 1
if ! tar -xf "$orig" -C "$corpus/x" --wildcards \
	'libvirt-*/tests/qemuxml2argvdata/*.xml' \
	'libvirt-*/tests/vmx2xmldata/*.vmx' \
	'libvirt-*/tests/qemuxml2argvtest.c' \
	'libvirt-*/tests/vmx2xmltest.c'; then
	echo "cannot extract the test data from $orig" >&2
	exit 1
fi
t=$(echo "$corpus"/x/libvirt-*/tests)
mv "$t/qemuxml2argvdata" "$t/vmx2xmldata" "$t/qemuxml2argvtest.c" \
	"$t/vmx2xmltest.c" "$corpus/" || exit 1
rm -rf "$corpus/x"

# the files libvirt itself refuses, from its own test programs
grep -oE 'DO_TEST[A-Z0-9_]*(PARSE_ERROR|FAILURE)[A-Z0-9_]*\("[^"]+"' \
	"$corpus/qemuxml2argvtest.c" | sed 's/.*("//; s/"$//' | sort -u \
	>"$corpus/xml-rejected.txt"
grep -oE 'DO_TEST_FAIL\("[^"]+"' "$corpus/vmx2xmltest.c" |
	sed 's/.*("//; s/"$//' | sort -u >"$corpus/vmx-rejected.txt"
basename "$orig" >"$corpus/.done"
rm -rf "$apt" "$cache/dl" # the corpus is all that is kept
echo "$corpus"

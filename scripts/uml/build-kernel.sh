#!/bin/bash
# Build (once) and cache a User-Mode Linux 6.1 kernel that runs the kernel's
# rpmsg stack against a vhost-user rpmsg device (tests/kernel/).
#
# Source: Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz),
# patched with virtio_uml-vring-irq-workqueue.patch, configured with
# `make ARCH=um allnoconfig` + amplink.config + olddefconfig.
#
# The result is cached under ${AMPLINK_UML_CACHE:-/var/cache/amplink/uml}/<hash>/
# (linux, config, build.log), <hash> being the sha256 of the config
# fragment, the patch and the source package version: a second run only
# checks the cached config and prints the path.
#
# Usage: scripts/uml/build-kernel.sh [--cached-only]
#   --cached-only  never install or build: print the cached kernel's path,
#                  or exit 2 when it is not in the cache (for CMake)
#   AMPLINK_UML_CACHE  cache directory (default /var/cache/amplink/uml)
#   AMPLINK_UML_KEEP_SRC=1  keep the build tree (<cache>/<hash>.src) afterwards
#   AMPLINK_UML_JOBS   make -j (default: nproc)
# The last line printed is the path of the kernel binary. Exit status 1 and a
# message on stderr on any failure (missing package and not root, patch that
# does not apply, config option lost, build error).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/amplink.config
patchfile=$here/virtio_uml-vring-irq-workqueue.patch
cache=${AMPLINK_UML_CACHE:-/var/cache/amplink/uml}
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${AMPLINK_UML_JOBS:-$(nproc)}
cached_only=0
case ${1:-} in
--cached-only) cached_only=1 ;;
'') ;;
*) echo "usage: $0 [--cached-only]" >&2; exit 2 ;;
esac

die() {
	echo "build-kernel.sh: $*" >&2
	# A failed build keeps its log ($work/build.log), not its 1.5 GB tree.
	if [ -n "${src:-}" ] && [ -d "$src" ] && [ "${AMPLINK_UML_KEEP_SRC:-0}" != 1 ]; then
		rm -rf "$src"
	fi
	exit 1
}
log() {
	echo "build-kernel.sh: $*" >&2
}

# Packages: the source, and what the kernel build needs beyond gcc and make.
missing=()
for p in linux-source-6.1 flex bison bc make gcc patch xz-utils; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	[ $cached_only = 1 ] && { log "not cached: missing packages ${missing[*]}"; exit 2; }
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root or apt-get install them)"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${missing[@]}" >&2 ||
		{ apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; } ||
		die "apt-get install ${missing[*]} failed"
fi
[ -r "$tarball" ] || die "$tarball not found although linux-source-6.1 is installed"
version=$(dpkg-query -W -f='${Version}' linux-source-6.1)

hash=$({
	printf 'linux-source-6.1 %s\n' "$version"
	printf '== fragment\n'
	cat "$fragment"
	printf '== patch\n'
	cat "$patchfile"
} | sha256sum | cut -d' ' -f1)
out=$cache/$hash

# check_config FILE: every option of the fragment has its value in FILE.
check_config() {
	local cfg=$1 bad=0 line name id
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$cfg" || {
				name=${line%%=*}
				log "option lost: wanted $line, got '$(grep -E "^(# )?$name[= ]" "$cfg" || echo "$name absent")'"
				bad=1
			}
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$cfg"; then
				log "option lost: wanted $line, got '$(grep "^$name=" "$cfg")'"
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	id=$(sed -n 's/^CONFIG_UML_PCI_OVER_VIRTIO_DEVICE_ID=//p' "$cfg")
	case $id in
	'' | -*) log "CONFIG_UML_PCI_OVER_VIRTIO_DEVICE_ID is '${id:-unset}', must be >= 0"; bad=1 ;;
	esac
	grep -qx 'CONFIG_HAS_DMA=y' "$cfg" || { log "CONFIG_HAS_DMA is not y"; bad=1; }
	return $bad
}

if [ -x "$out/linux" ] && [ -f "$out/config" ]; then
	check_config "$out/config" || die "cached kernel $out/linux has a config that does not match $fragment"
	log "cached: $out (linux-source-6.1 $version)"
	echo "$out/linux"
	exit 0
fi
[ $cached_only = 1 ] && { log "not cached: $out"; exit 2; }

mkdir -p "$cache"
# One build per hash at a time; a second caller waits, then finds the cache.
exec 9>"$cache/$hash.lock"
flock 9
if [ -x "$out/linux" ] && [ -f "$out/config" ]; then
	check_config "$out/config" || die "cached kernel $out/linux has a config that does not match $fragment"
	echo "$out/linux"
	exit 0
fi

work=$cache/$hash.src
start=$(date +%s)
rm -rf "$work"
mkdir -p "$work"
log "unpacking $tarball into $work"
tar -xJf "$tarball" -C "$work"
src=$work/linux-source-6.1
[ -f "$src/Makefile" ] || die "$tarball did not unpack to linux-source-6.1/"

log "applying $(basename "$patchfile")"
(cd "$src" && patch -p1 --forward --batch <"$patchfile" >&2) || die "$patchfile does not apply to linux-source-6.1 $version"

buildlog=$work/build.log
log "configuring (log: $buildlog)"
(
	cd "$src"
	make ARCH=um allnoconfig
	ARCH=um scripts/kconfig/merge_config.sh -m .config "$fragment"
	make ARCH=um olddefconfig
) >"$buildlog" 2>&1 || die "configuration failed, see $buildlog"
check_config "$src/.config" || die "olddefconfig dropped options of $fragment (see above)"

log "building with -j$jobs (4-6 min on 2 cores)"
(cd "$src" && make ARCH=um -j"$jobs" linux) >>"$buildlog" 2>&1 ||
	{ tail -30 "$buildlog" >&2; die "kernel build failed, see $buildlog"; }
[ -x "$src/linux" ] || die "build finished without $src/linux"
if grep -q 'warning:' "$buildlog" && grep -n 'virtio_uml.c.*warning:' "$buildlog" >&2; then
	die "the patched virtio_uml.c builds with warnings (above)"
fi

tmp=$cache/$hash.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/linux" "$tmp/linux"
cp "$src/.config" "$tmp/config"
cp "$buildlog" "$tmp/build.log"
printf 'linux-source-6.1 %s\nbuilt %s in %d s\n' "$version" "$(date -u +%FT%TZ)" \
	$(($(date +%s) - start)) >"$tmp/info"
rm -rf "$out"
mv "$tmp" "$out"
if [ "${AMPLINK_UML_KEEP_SRC:-0}" != 1 ]; then
	rm -rf "$work"
fi
log "built $out/linux in $(($(date +%s) - start)) s"
echo "$out/linux"

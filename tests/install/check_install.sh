#!/usr/bin/env bash
# Install the build tree into a temporary prefix and build a tiny program
# against the installed copy, out of tree: `pkgconfig` mode with
# pkg-config, `cmake` mode with find_package(amplink). Used by CTest
# (install_pkgconfig, install_find_package).
#   check_install.sh MODE BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -euo pipefail
mode=$1 build=$2 src=$3 extra=${4:-}
tmp=$(mktemp -d /tmp/amplink-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in bin/amplink include/amplink/rpmsg.h include/amplink/log.h lib/libamplink.a \
         share/man/man1/amplink.1 lib/pkgconfig/amplink.pc lib/cmake/amplink/amplinkConfig.cmake; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
"$prefix/bin/amplink" --help | grep -q "log      follow"
case $mode in
pkgconfig)
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  pkg-config --exists amplink
  echo "pkg-config: $(pkg-config --modversion amplink) $(pkg-config --cflags --libs amplink)"
  # shellcheck disable=SC2046,SC2086
  cc -std=c11 -Wall -Werror $extra "$src/tests/install/consumer/main.c" -o "$tmp/consumer" \
     $(pkg-config --cflags --libs amplink)
  LD_LIBRARY_PATH=$prefix/lib "$tmp/consumer"
  # shellcheck disable=SC2046,SC2086
  cc -std=c11 -Wall -Werror $extra "$src/tests/install/consumer/main.c" -o "$tmp/consumer_static" \
     $(pkg-config --cflags amplink) "$prefix/lib/libamplink.a" $(pkg-config --static --libs-only-other amplink)
  "$tmp/consumer_static"
  ;;
cmake)
  cmake -S "$src/tests/install/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" >"$tmp/cmake.log"
  cmake --build "$tmp/build" >"$tmp/build.log"
  "$tmp/build/consumer_shared"
  "$tmp/build/consumer_static"
  ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac

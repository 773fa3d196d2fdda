#!/usr/bin/env bash
# libdml as a user meets it: `cmake --install` of this build into a scratch
# prefix, then the examples built against the installed package, by CMake
# (find_package(dml), dml::dml) and by a plain compiler line (pkg-config),
# and run on a small model and images (tests/api/make_deploy_fixture).
# Checks: the installed files; the library exports exactly dml.h's functions;
# the installed Python module loads the installed library;
# a light build's library needs no CUDA, BLAS, zlib or stb; each program
# exits 0 and finds each query image as its own nearest neighbour at
# distance ~0.
#
#   test_install.sh SOURCE_DIR BUILD_DIR FIXTURE_PROGRAM LIGHT(ON|OFF)
set -euo pipefail
source_dir=$1 build_dir=$2 fixture=$3 light=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() {
  echo "test_install: $*" >&2
  exit 1
}

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for f in lib/libdml.so lib/libdml.so.0 lib/libdml.so.0.1.0 include/dml.h include/dml.hpp \
  lib/cmake/dml/dmlConfig.cmake lib/cmake/dml/dmlConfigVersion.cmake \
  lib/cmake/dml/dmlTargets.cmake lib/pkgconfig/dml.pc; do
  [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done
lib=$prefix/lib/libdml.so

# Exported: every function dml.h declares, and nothing else.
declared=$(grep -o '\bdml_[a-z_]*(' "$prefix/include/dml.h" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
[ "$declared" = "$exported" ] ||
  fail "libdml exports other symbols than dml.h declares:"$'\n'"$(diff <(echo "$declared") <(echo "$exported"))"

if [ "$light" = ON ]; then
  heavy=$(ldd "$lib" | grep -E '\blib(cuda[a-z]*|cublas[A-Za-z]*|cudnn[a-z_]*|openblas|z|stb)\.so' || true)
  [ -z "$heavy" ] || fail "the light build's libdml needs:"$'\n'"$heavy"
fi

mkdir "$work/fixture"
"$fixture" "$work/fixture"
images=("$work/fixture/a.png" "$work/fixture/b.png" "$work/fixture/c.png")

# Each query (the first two images) is its own nearest neighbour, at ~0.
# shellcheck source=tests/api/check_embed_search.sh
source "$source_dir/tests/api/check_embed_search.sh"

run_example() {
  local name=$1 program=$2 output
  output=$("$program" "$work/fixture/model.safetensors" "${images[@]}") ||
    fail "$name failed:"$'\n'"$output"
  check_embed_search "$name" "$output" "${images[@]}" || fail "$name: see above"
}

# CMake: find_package(dml) from the prefix alone.
cmake -S "$source_dir/examples" -B "$work/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/examples" >/dev/null
run_example "embed_search_c (CMake)" "$work/examples/embed_search_c"
run_example "embed_search_cpp (CMake)" "$work/examples/embed_search_cpp"

# pkg-config: a plain C99 compiler line, warnings as errors.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
libdir=$(pkg-config --variable=libdir dml)
# shellcheck disable=SC2046  # pkg-config's flags are meant to split
cc -std=c99 -Wall -Wextra -pedantic -Werror "$source_dir/examples/c/embed_search.c" \
  $(pkg-config --cflags --libs dml) -Wl,-rpath,"$libdir" -o "$work/embed_search_pc"
run_example "embed_search_c (pkg-config)" "$work/embed_search_pc"
# Python: the installed module finds the installed library by itself (the
# module needs numpy; without it this part alone is left out).
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  loaded=$(env -u DML_LIBRARY /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
import dml_deploy; print(dml_deploy.library()._name)' "$prefix/share/dml/python")
  [ "$(realpath "$loaded")" = "$(realpath "$lib")" ] ||
    fail "the installed dml_deploy.py loaded $loaded, not $lib"
else
  echo "test_install: numpy missing, the Python module's check left out"
fi
echo "test_install: installed, built and ran the examples (light=$light)"

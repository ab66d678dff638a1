#!/usr/bin/env bash
# Builds libdisni.so, the project's own JNI library for DiSNI 2.1, from disni.c.
# Usage: build-native.sh SOURCE_DIR OUT_DIR
# Where gcc, the JDK's JNI headers or the verbs headers (Debian: libibverbs-dev,
# librdmacm-dev) are missing, it prints why, builds nothing and exits 0: the rdma
# provider then reports the native library missing, and the rest of the build goes on.
set -euo pipefail
src=$1
out=$2

skip() {
  echo "[rdma-native] SKIPPED: libdisni.so not built: $1"
  echo "[rdma-native] (apt-get install -y gcc libibverbs-dev librdmacm-dev, then build dafsclient/rdma again)"
  exit 0
}

command -v gcc >/dev/null 2>&1 || skip "gcc is not installed"
# The JDK that runs Maven: JAVA_HOME if set, else the one java on PATH belongs to.
jdk=${JAVA_HOME:-}
if [[ -z $jdk ]]; then
  jdk=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
fi
[[ -f $jdk/include/jni.h ]] || skip "no jni.h under $jdk/include (a JRE, not a JDK?)"
for h in infiniband/verbs.h rdma/rdma_cma.h; do
  echo "#include <$h>" | gcc -E -x c - >/dev/null 2>&1 || skip "<$h> not found"
done

mkdir -p "$out"
# Rebuild only when the source changed, so repeated builds stay quiet and fast.
if [[ $out/libdisni.so -nt $src/disni.c && $out/libdisni.so -nt $0 ]]; then
  echo "[rdma-native] libdisni.so is up to date"
  exit 0
fi
gcc -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -shared \
  -I"$jdk/include" -I"$jdk/include/linux" \
  "$src/disni.c" -o "$out/libdisni.so.tmp" -libverbs -lrdmacm
mv "$out/libdisni.so.tmp" "$out/libdisni.so"
echo "[rdma-native] built $out/libdisni.so"

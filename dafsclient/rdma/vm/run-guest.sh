#!/usr/bin/env bash
# Builds (once) and boots the rdma test guest, runs guest-run.sh inside it, and reports.
# Usage: run-guest.sh  (from anywhere; dafsclient/rdma must have been packaged first)
#
#   - qemu and debootstrap are installed with apt-get where missing (root, Debian);
#   - the image is cached in ${CACHEDAFS_CACHE:-~/.cache/cachedafs}/rdma-vm/<hash of build-image.sh>,
#     outside the repository's tracked files;
#   - the shared directory (9p) is dafsclient/rdma/target/rdma-vm/share: the jars, libdisni.so and
#     these scripts go in, the guest's results (results/status, one log per step) come out;
#   - KVM is used only where the host has kvm_intel or kvm_amd (the paravirtual kvm of some hosts
#     does not boot Debian's kernel); otherwise single-threaded TCG with a Nehalem CPU, under which
#     HotSpot's compiled code ran clean where multi-threaded TCG crashed it about 1 run in 10.
# Prints how long each step took; exits 0 only if every step in the guest passed.
set -euo pipefail
vm=$(cd "$(dirname "$0")" && pwd)
module=$(dirname "$vm")
target=$module/target
t_all=$(date +%s)

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if (( ${#need[@]} )); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "[rdma-vm] missing ${need[*]}, and this is not root on Debian: install them first" >&2
    exit 1
  fi
  t=$(date +%s)
  apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
  echo "[rdma-vm] installed ${need[*]}: $(( $(date +%s) - t )) s"
fi
[[ -f $target/native/libdisni.so ]] || { echo "[rdma-vm] $target/native/libdisni.so is missing: package dafsclient/rdma first (with libibverbs-dev and librdmacm-dev installed)" >&2; exit 1; }
jar=$(ls "$target"/dafs-transport-rdma-*.jar 2>/dev/null | grep -v -- '-tests\.jar' | head -1 || true)
[[ -n $jar ]] || { echo "[rdma-vm] no dafs-transport-rdma jar in $target: package dafsclient/rdma first" >&2; exit 1; }

key=$(sha256sum "$vm/build-image.sh" | cut -c1-16)
image=${CACHEDAFS_CACHE:-$HOME/.cache/cachedafs}/rdma-vm/$key
t=$(date +%s)
"$vm/build-image.sh" "$image"
echo "[rdma-vm] image ready: $(( $(date +%s) - t )) s"

share=$target/rdma-vm/share
rm -rf "$share"
mkdir -p "$share/jars" "$share/native" "$share/results"
cp "$vm"/guest-run.sh "$vm"/rxe-up.sh "$vm"/pingpong.sh "$share/"
cp "$target/native/libdisni.so" "$share/native/"
repo=${MAVEN_REPO:-$HOME/.m2/repository}
cp "$jar" \
  "$repo/com/ibm/disni/disni/2.1/disni-2.1.jar" \
  "$(ls "$repo"/org/slf4j/slf4j-api/2.*/slf4j-api-2.*.jar | sort -V | tail -1)" \
  "$share/jars/"
cp "$(ls "$module"/../transport/target/dafs-transport-*.jar 2>/dev/null | head -1)" "$share/jars/" 2>/dev/null \
  || cp "$(ls "$repo"/org/cachedafs/dafs-transport/*/dafs-transport-*.jar | head -1)" "$share/jars/"

# The module's tests, for GuestTestRunner: its test classes and JUnit's jars at the pinned versions.
cp -r "$target/test-classes" "$share/test-classes"
mkdir -p "$share/testjars"
for j in org/junit/jupiter/junit-jupiter-api/5.11.4 org/junit/jupiter/junit-jupiter-engine/5.11.4 \
    org/junit/platform/junit-platform-commons/1.11.4 org/junit/platform/junit-platform-engine/1.11.4 \
    org/junit/platform/junit-platform-launcher/1.11.4 org/opentest4j/opentest4j/1.3.0 \
    org/apiguardian/apiguardian-api/1.1.2 org/slf4j/slf4j-simple/2.0.17; do
  cp "$repo/$j"/*.jar "$share/testjars/"
done
# The transport test kit (RdmaTransportKitTest): this tree's build where there is one.
cp "$(ls "$module"/../transport-testkit/target/dafs-transport-testkit-*.jar 2>/dev/null | head -1)" "$share/testjars/" 2>/dev/null \
  || cp "$(ls "$repo"/org/cachedafs/dafs-transport-testkit/*/dafs-transport-testkit-*.jar | head -1)" "$share/testjars/"

if [[ -e /sys/module/kvm_intel || -e /sys/module/kvm_amd ]] && [[ -w /dev/kvm ]]; then
  accel=(-accel kvm -cpu host)
else
  accel=(-accel tcg,thread=single -cpu Nehalem)
fi
console=$target/rdma-vm/console.log
echo "[rdma-vm] booting (${accel[*]}); console: $console"
t=$(date +%s)
set +e
# The image is opened with snapshot=on: the guest's writes go to a temporary overlay, so the
# cached image is never changed by a run. The guest powers itself off; the timeout is the bound.
timeout "${RDMA_VM_TIMEOUT:-900}" qemu-system-x86_64 "${accel[@]}" -m 2048 -smp 1 \
  -display none -no-reboot -serial "file:$console" -monitor none \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 init=/sbin/cachedafs-init panic=-1 quiet" \
  -drive "file=$image/rootfs.img,if=virtio,format=raw,snapshot=on" \
  -virtfs "local,path=$share,mount_tag=cachedafs,security_model=none,id=cachedafs" \
  -nic user,model=virtio-net-pci
qrc=$?
set -e
echo "[rdma-vm] guest ran: $(( $(date +%s) - t )) s (qemu exit $qrc)"
echo "[rdma-vm] guest steps:"
if [[ -s $share/results/status ]]; then
  sed 's/^/[rdma-vm]   /' "$share/results/status"
else
  echo "[rdma-vm]   none reported; the end of the console:"
  tail -30 "$console"
fi

# The guest's steps as one surefire report, so that tools that read surefire's format see them: a
# test case per step, its log as system-out, a failure where the step failed, and one failure if the
# guest reported nothing at all.
reports=$target/rdma-vm/surefire-reports
rm -rf "$reports"
mkdir -p "$reports"
# GuestTestRunner's reports, one per test class, as the guest wrote them.
cp "$share"/results/surefire/*.xml "$reports/" 2>/dev/null || true
report=$reports/TEST-rdma-vm.xml
cdata() { sed 's/]]>/]]]]><![CDATA[>/g' "$1" | tr -cd '\11\12\15\40-\176'; }
{
  steps=0 failures=0
  if [[ -s $share/results/status ]]; then
    steps=$(wc -l < "$share/results/status")
    failures=$(grep -c FAILED "$share/results/status" || true)
  else
    steps=1 failures=1
  fi
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuite name=\"rdma-vm\" tests=\"$steps\" failures=\"$failures\" errors=\"0\" skipped=\"0\">"
  if [[ -s $share/results/status ]]; then
    while read -r name outcome took; do
      echo "  <testcase classname=\"rdma-vm\" name=\"$name\" time=\"${took%s}\">"
      [[ $outcome == ok ]] || echo "    <failure message=\"$outcome\"/>"
      echo -n "    <system-out><![CDATA["
      [[ -f $share/results/$name.log ]] && cdata "$share/results/$name.log"
      echo "]]></system-out>"
      echo "  </testcase>"
    done < "$share/results/status"
  else
    echo "  <testcase classname=\"rdma-vm\" name=\"guest\"><failure message=\"the guest reported no steps (qemu exit $qrc)\"/>"
    echo -n "    <system-out><![CDATA["
    cdata "$console"
    echo "]]></system-out></testcase>"
  fi
  echo "</testsuite>"
} > "$report"
echo "[rdma-vm] report: $report"
echo "[rdma-vm] total: $(( $(date +%s) - t_all )) s"
[[ $qrc -eq 0 && -s $share/results/status ]] && ! grep -q FAILED "$share/results/status"

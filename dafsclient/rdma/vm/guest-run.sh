#!/bin/sh
# Runs inside the guest (from the shared directory, mounted at /mnt/host), as PID 1's child:
# brings up SoftRoCE on the virtio NIC, then the smoke tests. Each step's output goes to the
# console and to /mnt/host/results/; /mnt/host/results/status lists each step as "name ok|FAILED".
host=/mnt/host
res=$host/results
mkdir -p "$res"
: > "$res/status"
addr=10.0.2.15

now() { date +%s; }
# step NAME SECONDS COMMAND...: runs COMMAND with a bound, records its outcome and duration.
step() {
  name=$1
  bound=$2
  shift 2
  t0=$(now)
  echo "=== $name"
  if timeout "$bound" "$@" > "$res/$name.log" 2>&1; then
    outcome=ok
  else
    outcome="FAILED($?)"
  fi
  cat "$res/$name.log"
  echo "$name $outcome $(( $(now) - t0 ))s" | tee -a "$res/status"
}

echo "guest up: $(cat /proc/uptime | cut -d' ' -f1) s since the kernel started; $(uname -r)"
nic=$(ls /sys/class/net | grep -v '^lo$' | head -1)
ip link set lo up
ip link set "$nic" up
ip addr add "$addr/24" dev "$nic"

export nic addr
step rxe-up 60 sh "$host/rxe-up.sh"
# Registering memory pins it: no locked-memory limit for what follows.
ulimit -l unlimited
step ibv_rc_pingpong 120 sh "$host/pingpong.sh"

cp=$(ls "$host"/jars/*.jar | tr '\n' ':')
testcp=$host/test-classes:$(ls "$host"/testjars/*.jar | tr '\n' ':')
# C1 only: under emulation the JIT's second tier costs more than it saves in these short runs.
java_flags="-XX:TieredStopAtLevel=1 -XX:ErrorFile=$res/hs_err_%p.log --add-exports java.base/sun.nio.ch=ALL-UNNAMED -Djava.library.path=$host/native"
step verbs-smoke 300 java $java_flags -cp "$cp" org.cachedafs.transport.rdma.VerbsSmoke "$addr"
step verbs-loopback 300 java $java_flags -cp "$cp" org.cachedafs.transport.rdma.VerbsLoopback "$addr"
# The module's JUnit tests, on the device; a report per class in results/surefire.
step junit 600 java $java_flags -cp "$cp$testcp" -Dcachedafs.rdma.native.dir="$host/native" \
  org.cachedafs.transport.rdma.GuestTestRunner "$res/surefire" \
  org.cachedafs.transport.rdma.NativeLibraryTest org.cachedafs.transport.rdma.RdmaTransportTest \
  org.cachedafs.transport.rdma.DeviceTest org.cachedafs.transport.rdma.RdmaDomainOnDeviceTest \
  org.cachedafs.transport.rdma.RdmaTransportKitTest org.cachedafs.transport.rdma.RdmaBadKeyTest

echo "=== status"
cat "$res/status"
echo "guest done at $(cut -d' ' -f1 /proc/uptime) s"

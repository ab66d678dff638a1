#!/usr/bin/env bash
# faultrig.sh: a small network of hosts on this machine, for fault tests. Each host is a network
# namespace with one interface, eth0, plugged into a bridge that lives in a namespace of its own (the
# "wire"); faults are made on the wire, so a host sees them as a real network's faults would look.
#
#   RUN-rig   bridge br0, one port per host (srv, c1, c2, ...), nftables table "faultrig"
#   RUN-srv   eth0 10.99.0.1/24
#   RUN-cN    eth0 10.99.0.(10+N)/24
#
# Usage: faultrig.sh available                 exit 0 if a rig can be made here, else says why
#        faultrig.sh up RUN CLIENTS            makes the namespaces, links and addresses
#        faultrig.sh down RUN                  kills every process in them and deletes them
#        faultrig.sh sweep                     down for every run whose owner process is gone
#        faultrig.sh list                      the runs that exist
#        faultrig.sh addr HOST                 the host's address (srv, c1, c2, ...)
#        faultrig.sh exec RUN HOST CMD...      runs CMD in the host's namespace (exec: same PID)
#        faultrig.sh partition RUN HOST        drops every frame to and from the host, on the wire
#        faultrig.sh heal RUN HOST             undoes partition
#        faultrig.sh slow RUN HOST RATE        token bucket (tc tbf) at RATE ("2mbit") both ways
#        faultrig.sh fast RUN HOST             undoes slow
#
# RUN names start with "cdafs-". A run named cdafs-PID-... belongs to process PID: `sweep` removes it
# once that process is gone (a test JVM killed before its own cleanup ran); a run named otherwise is
# removed only by `down`.
#
# Why it is built this way:
# - A partition drops frames in the bridge's forward hook (nft, bridge family), not in the host's own
#   output chain: a locally dropped packet fails the sender's send or connect at once (EPERM), which
#   no real network does. On the wire the host's TCP just hears nothing, and retransmits.
# - The addresses are the same for every run: no host of a rig reaches anything outside it (there is
#   no route out, and the wire is not connected to this machine's namespace), so runs cannot collide.
# - The interfaces are created straight into their namespaces (`ip link add ... netns`), so their
#   names are local to each namespace and need no run-unique names of 15 characters or less.
# - `ip netns del` does not end the processes inside a namespace (the namespace lives on while they
#   do), so `down` kills them first: `ip netns pids`, SIGKILL, then waits until none is left.
# - `exec` execs `ip netns exec`, which execs the command: the caller's child PID is the command's.
set -euo pipefail

PREFIX=cdafs-
SUBNET=10.99.0

die() {
  echo "faultrig: $*" >&2
  exit 1
}

# The address of a host name: srv, c1, c2, ...
addr() {
  case "$1" in
    srv) echo "$SUBNET.1" ;;
    c[1-9] | c[1-9][0-9]) echo "$SUBNET.$((10 + ${1#c}))" ;;
    *) die "no host '$1': hosts are srv, c1, c2, ..." ;;
  esac
}

check_run() {
  [[ $1 == "$PREFIX"* && $1 =~ ^[A-Za-z0-9_.-]+$ && ${#1} -le 40 ]] || die "a run name starts with '$PREFIX' and has at most 40 letters, digits, '-', '_' or '.': '$1'"
}

check_host() {
  addr "$1" >/dev/null
  [[ -e /run/netns/$2-$1 ]] || die "no host $1 in run $2 (faultrig.sh up $2 N makes it)"
}

# Prints a reason and returns non-zero when a rig cannot be made here; leaves nothing behind.
check_available() {
  local cmd probe
  [[ $EUID -eq 0 ]] || { echo "must run as root: network namespaces, veth links, nftables and tc need CAP_NET_ADMIN and CAP_SYS_ADMIN"; return 1; }
  for cmd in ip nft tc; do
    command -v "$cmd" >/dev/null || { echo "'$cmd' is not installed (Debian: apt-get install iproute2 nftables)"; return 1; }
  done
  probe=${PREFIX}probe-$$
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "cannot create a network namespace ('ip netns add' failed: no CAP_SYS_ADMIN/CAP_NET_ADMIN here?)"
    return 1
  fi
  local ok=1 why=""
  if ! ip -n "$probe" link add br0 type bridge 2>/dev/null; then
    ok=0 why="the kernel has no bridge support"
  elif ! ip -n "$probe" link add v0 type veth peer name v1 2>/dev/null; then
    ok=0 why="the kernel has no veth support"
  elif ! ip netns exec "$probe" nft -f - 2>/dev/null <<<"table bridge probe { chain forward { type filter hook forward priority 0; policy accept; }; }"; then
    ok=0 why="nftables cannot filter bridged frames here (the kernel needs CONFIG_NF_TABLES_BRIDGE)"
  elif ! ip netns exec "$probe" tc qdisc add dev v0 root tbf rate 1mbit burst 32kb latency 400ms 2>/dev/null; then
    ok=0 why="tc cannot add a tbf qdisc (the kernel needs CONFIG_NET_SCH_TBF)"
  fi
  ip netns del "$probe"
  [[ $ok -eq 1 ]] || { echo "$why"; return 1; }
}

namespaces_of() {
  ip netns list | awk '{print $1}' | grep -E "^$1-(rig|srv|c[0-9]+)$" || true
}

up() {
  local run=$1 clients=$2 host port
  check_run "$run"
  [[ $clients =~ ^[1-9][0-9]?$ && $clients -le 89 ]] || die "CLIENTS is 1 to 89, not '$clients'"
  [[ -z $(namespaces_of "$run") ]] || die "run $run exists already (faultrig.sh down $run)"
  # A failure half-way leaves nothing behind.
  trap 'down "$run" >/dev/null 2>&1 || true' ERR
  ip netns add "$run-rig"
  ip -n "$run-rig" link set lo up
  ip -n "$run-rig" link add br0 type bridge
  ip -n "$run-rig" link set br0 up
  for host in srv $(seq -f 'c%g' 1 "$clients"); do
    port=$host
    ip netns add "$run-$host"
    ip -n "$run-$host" link set lo up
    ip link add eth0 netns "$run-$host" type veth peer name "$port" netns "$run-rig"
    ip -n "$run-rig" link set "$port" master br0 up
    ip -n "$run-$host" addr add "$(addr "$host")/24" dev eth0
    ip -n "$run-$host" link set eth0 up
  done
  trap - ERR
}

# Kills every process in the run's namespaces, waits for them to go, deletes the namespaces.
down() {
  local run=$1 ns pids i
  check_run "$run"
  local all
  all=$(namespaces_of "$run")
  for i in $(seq 1 50); do
    pids=""
    for ns in $all; do
      pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
    [[ -n ${pids// /} ]] || break
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  for ns in $all; do
    [[ $ns == "$run-rig" ]] || ip netns del "$ns" 2>/dev/null || true
  done
  for ns in $all; do
    [[ $ns != "$run-rig" ]] || ip netns del "$ns" 2>/dev/null || true
  done
}

list() {
  ip netns list | awk '{print $1}' | grep -E "^$PREFIX.*-(rig|srv|c[0-9]+)$" | sed -E 's/-(rig|srv|c[0-9]+)$//' | sort -u || true
}

sweep() {
  local run owner
  for run in $(list); do
    if [[ $run =~ ^${PREFIX}([0-9]+)- ]]; then
      owner=${BASH_REMATCH[1]}
      if ! kill -0 "$owner" 2>/dev/null; then
        echo "faultrig: removing $run, left by process $owner, which is gone" >&2
        down "$run"
      fi
    fi
  done
}

# Replaces the host's table on the wire with one holding CHAIN, or with none if CHAIN is empty, in
# one nft transaction: declaring the table first makes its delete succeed when it does not exist yet,
# so partition and heal can each be repeated.
set_cut() {
  local run=$1 host=$2 chain=${3:-}
  check_run "$run"
  check_host "$host" "$run"
  {
    echo "table bridge cut_$host"
    echo "delete table bridge cut_$host"
    [[ -z $chain ]] || printf 'table bridge cut_%s {\n%s\n}\n' "$host" "$chain"
  } | ip netns exec "$run-rig" nft -f -
}

partition() {
  set_cut "$1" "$2" "  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname \"$2\" drop
    oifname \"$2\" drop
  }"
}

heal() {
  set_cut "$1" "$2"
}

# A token bucket on both directions of the host's link: its eth0 sends, the wire's port sends to it.
# The burst is a few full frames, so the rate holds at the scale of a few milliseconds.
slow() {
  local run=$1 host=$2 rate=$3
  check_run "$run"
  check_host "$host" "$run"
  [[ $rate =~ ^[0-9]+(bit|kbit|mbit|gbit)$ ]] || die "RATE is like 512kbit or 2mbit, not '$rate'"
  ip netns exec "$run-$host" tc qdisc replace dev eth0 root tbf rate "$rate" burst 16kb latency 1s
  ip netns exec "$run-rig" tc qdisc replace dev "$host" root tbf rate "$rate" burst 16kb latency 1s
}

fast() {
  local run=$1 host=$2
  check_run "$run"
  check_host "$host" "$run"
  ip netns exec "$run-$host" tc qdisc del dev eth0 root 2>/dev/null || true
  ip netns exec "$run-rig" tc qdisc del dev "$host" root 2>/dev/null || true
}

cmd=${1:-}
[[ -n $cmd ]] || die "usage: faultrig.sh available | up RUN CLIENTS | down RUN | sweep | list | addr HOST | exec RUN HOST CMD... | partition RUN HOST | heal RUN HOST | slow RUN HOST RATE | fast RUN HOST"
shift
case "$cmd" in
  available)
    if why=$(check_available); then exit 0; else echo "faultrig: cannot make a rig here: $why" >&2; exit 1; fi ;;
  up) [[ $# -eq 2 ]] || die "usage: up RUN CLIENTS"; up "$@" ;;
  down) [[ $# -eq 1 ]] || die "usage: down RUN"; down "$1" ;;
  sweep) sweep ;;
  list) list ;;
  addr) [[ $# -eq 1 ]] || die "usage: addr HOST"; addr "$1" ;;
  exec)
    [[ $# -ge 3 ]] || die "usage: exec RUN HOST CMD..."
    run=$1 host=$2
    shift 2
    check_run "$run"
    check_host "$host" "$run"
    exec ip netns exec "$run-$host" "$@" ;;
  partition) [[ $# -eq 2 ]] || die "usage: partition RUN HOST"; partition "$@" ;;
  heal) [[ $# -eq 2 ]] || die "usage: heal RUN HOST"; heal "$@" ;;
  slow) [[ $# -eq 3 ]] || die "usage: slow RUN HOST RATE"; slow "$@" ;;
  fast) [[ $# -eq 2 ]] || die "usage: fast RUN HOST"; fast "$@" ;;
  *) die "unknown command '$cmd'" ;;
esac

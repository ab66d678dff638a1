#!/usr/bin/env bash
# nfs-peer.sh: the NFS comparison peer of the benchmark. NFS-Ganesha (VFS FSAL) exports one local
# directory over NFSv3/TCP inside a network namespace that has only `lo`; the benchmark's JVM joins
# that namespace (`nfs-peer.sh exec java ...`) and reaches 127.0.0.1 through NfsTarget.
#
# Usage: nfs-peer.sh install | available | start EXPORT_DIR | status | stop | exec CMD...
# Env:   NFS_PEER_NS      namespace name            (default cdafs-nfs)
#        NFS_PEER_STATE   config, log and pid files (default /tmp/cdafs-nfs-peer)
#        NFS_PEER_TIMEOUT seconds `start` waits for NFS to answer (default 30)
#
# Traps, and why each is handled the way it is:
# - `rpcbind -h 127.0.0.1` crashes, and Ganesha's `Bind_addr = 127.0.0.1` fails inside a namespace.
#   So both daemons bind every address, and the namespace (only `lo`) is what keeps them local.
# - rpcbind's socket and lock are fixed paths in /run (rpcbind.sock, rpcbind.lock), which network
#   namespaces do not separate, and servers register their ports through that socket. A host
#   rpcbind would take Ganesha's registrations (or its lock would stop ours), and a second peer
#   would collide with the first. So the daemons run in a private mount namespace with a tmpfs
#   over /run; that also hides any host D-Bus, on which Ganesha would otherwise claim its name.
# - Without `Graceless = true` Ganesha refuses service for a 90 s grace period after each start.
# - There is no D-Bus here (the CRIT dbus lines in the log are expected), so Ganesha is stopped
#   with SIGTERM, which it handles as a clean shutdown (0.1 to 2 s; `stop` waits up to 20 s).
# - Ganesha caches names and attributes (MDCACHE) and never hears of changes made to the directory
#   behind its back: a file deleted and re-created locally went on being served from its old,
#   unlinked inode, so reads returned the old data and writes landed in no visible file.
#   `Dir_Chunk = 0` (no name cache) and `Attr_Expiration_Time = 0` make it look every name up and
#   stat every file afresh, as the kernel's nfsd does, so the export can be prepared and checked
#   through the local path while the peer runs.
# - Ganesha's defaults write to /var/lib/nfs/ganesha (recovery) and /var/run/ganesha (pid); both
#   go to the state directory instead, so the peer leaves nothing outside it. NLM and RQUOTA are
#   off: NLM wants rpc.statd, and the client uses neither.
# - The daemons run in the foreground under one small supervisor shell started with setsid, so they
#   outlive this script and have a parent that reaps them. PID 1 here reaps orphans only now and
#   then, so a process is counted as gone once it is a zombie, not once its PID disappears.
# - The daemons' output goes to a file, never to this script's stdout or stderr: a caller that
#   reads the script's output through a pipe ($(...), ProcessBuilder) would otherwise wait for the
#   daemons to exit. The supervisor's PID is recorded by this script, and SIGTERM to the supervisor
#   stops what it has started, so a failed or interrupted start leaves no daemon behind.
# - PIDs are checked against the expected command name before any signal, so a stale pid file
#   cannot make `stop` kill an unrelated process that reused the number.
# - Probes that are expected to fail are written as `if` conditions, so `set -e` does not end the
#   script on them.
set -euo pipefail

NS=${NFS_PEER_NS:-cdafs-nfs}
STATE=${NFS_PEER_STATE:-/tmp/cdafs-nfs-peer}
TIMEOUT=${NFS_PEER_TIMEOUT:-30}
PACKAGES=(nfs-ganesha nfs-ganesha-vfs rpcbind)

die() {
  echo "nfs-peer: $*" >&2
  exit 1
}

need_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (network namespaces and NFS daemons need it)"
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
      echo "$p"
    fi
  done
}

# Prints a reason and returns non-zero when the peer cannot run on this machine; changes nothing.
check_available() {
  local missing
  if ! command -v dpkg-query >/dev/null; then
    echo "not a Debian system (no dpkg-query)"
    return 1
  fi
  missing=$(missing_packages | tr '\n' ' ')
  if [[ -n $missing ]]; then
    echo "packages not installed: ${missing% } (run: $0 install)"
    return 1
  fi
  local cmd
  for cmd in ip unshare mount rpcinfo ganesha.nfsd rpcbind; do
    if ! command -v "$cmd" >/dev/null; then
      echo "command not found: $cmd"
      return 1
    fi
  done
  if [[ $EUID -ne 0 ]]; then
    echo "not root (network namespaces need it)"
    return 1
  fi
  if ! ip netns list >/dev/null 2>&1; then
    echo "ip netns does not work here"
    return 1
  fi
}

# True while PID runs (a zombie does not count) as a process whose name matches the regex COMM.
alive() {
  local pid=$1 comm=$2 stat
  [[ -n $pid ]] || return 1
  stat=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $stat != Z* ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) =~ ^($comm)$ ]]
}

# The state directory holds pid files that decide what `stop` signals, as root: it must be a real
# directory of root's, not a symlink or a directory someone else made in /tmp beforehand.
own_state() {
  if [[ ! -e $STATE ]]; then
    mkdir -m 700 "$STATE"
  fi
  [[ -d $STATE && ! -L $STATE ]] || die "state dir $STATE is not a directory (or is a symlink)"
  [[ $(stat -c %u "$STATE") == 0 ]] || die "state dir $STATE is not owned by root; remove it or set NFS_PEER_STATE"
}

# True when PID's command line names this peer's config: the supervisor through every exec of its
# launch chain (setsid, ip, unshare, bash), and never an unrelated bash that reused the number.
is_supervisor() {
  local pid=$1
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/ganesha.conf"
}

pid_of() {
  local file="$STATE/$1.pid"
  if [[ -r $file ]]; then
    cat "$file"
  fi
}

# Sends TERM to PID (if it still is COMM), waits up to SECONDS, then KILLs.
terminate() {
  local pid=$1 comm=$2 seconds=$3 i
  alive "$pid" "$comm" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  echo "nfs-peer: $comm ($pid) ignored SIGTERM for ${seconds}s, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  echo "nfs-peer: $comm ($pid) survived SIGKILL" >&2
  return 1
}

ns_exists() {
  [[ -e /run/netns/$NS ]]
}

# True when both MOUNT and NFS answer a NULL call over TCP inside the namespace.
ready() {
  ns_exists || return 1
  alive "$(pid_of ganesha)" ganesha.nfsd || return 1
  ip netns exec "$NS" rpcinfo -t 127.0.0.1 mountd 3 >/dev/null 2>&1 || return 1
  ip netns exec "$NS" rpcinfo -t 127.0.0.1 nfs 3 >/dev/null 2>&1 || return 1
}

log_tail() {
  if [[ -s $STATE/ganesha.log ]]; then
    echo "--- tail of $STATE/ganesha.log" >&2
    tail -n 25 "$STATE/ganesha.log" >&2
  fi
  if [[ -s $STATE/daemons.out ]]; then
    echo "--- tail of $STATE/daemons.out" >&2
    tail -n 10 "$STATE/daemons.out" >&2
  fi
}

write_config() {
  local dir=$1
  cat >"$STATE/ganesha.conf" <<EOF
# Generated by nfs-peer.sh; rewritten on every start.
NFS_CORE_PARAM {
  Protocols = 3;
  Enable_NLM = false;
  Enable_RQUOTA = false;
}
NFSV4 {
  Graceless = true;
  RecoveryRoot = "$STATE/recovery";
}
MDCACHE {
  Dir_Chunk = 0;
}
EXPORT {
  Export_Id = 1;
  Path = "$dir";
  Pseudo = "$dir";
  Protocols = 3;
  Transports = TCP;
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  Attr_Expiration_Time = 0;
  FSAL {
    Name = VFS;
  }
}
EOF
}

# Runs inside the namespace, in a private mount namespace: gives rpcbind a /run of its own, starts
# both daemons in the foreground and reaps them. SIGTERM stops whatever it has started so far,
# which covers a stop that comes before the daemons' pids are written. Arguments: STATE CONF.
# shellcheck disable=SC2016 # expanded by the supervisor's own shell, not this one
SUPERVISOR='
set -u
state=$1
conf=$2
trap "kill -TERM \$(jobs -p) 2>/dev/null; wait; exit 0" TERM
mount -t tmpfs -o mode=0755 cdafs-nfs-run /run || exit 1
mkdir -p /run/rpcbind
if getent passwd _rpc >/dev/null; then chown _rpc /run/rpcbind; fi
rpcbind -f &
echo $! >"$state/rpcbind.pid"
for _ in $(seq 50); do
  [ -S /run/rpcbind.sock ] && break
  sleep 0.1
done
ganesha.nfsd -F -f "$conf" -L "$state/ganesha.log" -p "$state/ganesha.nfsd.pid" &
echo $! >"$state/ganesha.pid"
wait
'

cmd_install() {
  need_root
  local missing
  missing=$(missing_packages)
  if [[ -z $missing ]]; then
    echo "nfs-peer: packages already installed"
    return 0
  fi
  local -a pkgs
  mapfile -t pkgs <<<"$missing"
  local err
  err=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  # The package index is refreshed only when installing from the current one fails: it is slow,
  # and usually not needed.
  if ! apt-get install -y -q "${pkgs[@]}" >/dev/null 2>"$err"; then
    apt-get update -q >/dev/null 2>>"$err" || true
    if ! apt-get install -y -q "${pkgs[@]}" >/dev/null 2>>"$err"; then
      tail -n 5 "$err" >&2
      rm -f "$err"
      die "apt-get install failed for: ${pkgs[*]}"
    fi
  fi
  rm -f "$err"
  missing=$(missing_packages)
  [[ -z $missing ]] || die "packages still missing after install: ${missing//$'\n'/ }"
  echo "nfs-peer: installed ${pkgs[*]}"
}

cmd_available() {
  local reason
  if ! reason=$(check_available); then
    echo "nfs peer unavailable: $reason" >&2
    return 1
  fi
  echo "nfs peer available"
}

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $0 start EXPORT_DIR"
  local reason
  reason=$(check_available) || die "$reason"
  [[ -d $1 ]] || die "export dir $1 is not a directory"
  local dir
  dir=$(realpath "$1")
  [[ $dir != *'"'* ]] || die "export dir must not contain a double quote (it goes into ganesha.conf)"

  if ready; then
    local current
    current=$(cat "$STATE/export" 2>/dev/null || true)
    if [[ $current == "$dir" ]]; then
      echo "nfs peer ready: ns=$NS export=$dir"
      return 0
    fi
    die "already running with export $current; stop it first"
  fi
  # Whatever is left of an earlier peer (crashed daemon, stale namespace) goes before starting.
  cmd_stop >/dev/null

  own_state
  mkdir -p "$STATE/recovery"
  rm -f "$STATE"/*.pid
  if [[ -f $STATE/ganesha.log ]]; then
    mv -f "$STATE/ganesha.log" "$STATE/ganesha.log.old"
  fi
  : >"$STATE/daemons.out"
  echo "$dir" >"$STATE/export"
  write_config "$dir"

  ip netns add "$NS"
  ip -n "$NS" link set lo up
  # Neither setsid (not a group leader here), ip netns exec nor unshare (no --fork) forks, so $! is
  # the supervisor itself, known before it runs a single line: a stop can always find it.
  setsid ip netns exec "$NS" unshare --mount --propagation private \
    bash -c "$SUPERVISOR" supervisor "$STATE" "$STATE/ganesha.conf" \
    </dev/null >>"$STATE/daemons.out" 2>&1 &
  echo $! >"$STATE/supervisor.pid"

  local deadline=$((SECONDS + TIMEOUT)) why="NFS did not answer within ${TIMEOUT}s"
  while ((SECONDS < deadline)); do
    if ready; then
      echo "nfs peer ready: ns=$NS export=$dir"
      return 0
    fi
    # Once the supervisor has written the pid, a dead daemon will not come back: fail now.
    if [[ -s $STATE/ganesha.pid ]] && ! alive "$(pid_of ganesha)" ganesha.nfsd; then
      why="ganesha.nfsd exited during start"
      break
    fi
    sleep 0.1
  done
  echo "nfs-peer: $why" >&2
  log_tail
  cmd_stop >/dev/null 2>&1 || true
  exit 1
}

cmd_stop() {
  need_root
  own_state
  local ok=0
  # Ganesha first, so it can unregister from rpcbind; then rpcbind; the supervisor then returns.
  terminate "$(pid_of ganesha)" ganesha.nfsd 20 || ok=1
  terminate "$(pid_of rpcbind)" rpcbind 5 || ok=1
  # Until the exec chain reaches bash the supervisor may still be named after one of its launchers.
  local supervisor
  supervisor=$(pid_of supervisor)
  if is_supervisor "$supervisor"; then
    terminate "$supervisor" 'bash|setsid|ip|unshare' 5 || ok=1
  fi
  if ns_exists; then
    local others
    others=$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')
    if [[ -n $others ]]; then
      echo "nfs-peer: processes still in namespace $NS (not ours to kill): $others" >&2
    fi
    ip netns delete "$NS" || ok=1
  fi
  rm -f "$STATE"/*.pid
  [[ $ok -eq 0 ]] || die "stop incomplete"
  echo "nfs peer stopped: ns=$NS"
}

cmd_status() {
  if ready; then
    echo "nfs peer ready: ns=$NS export=$(cat "$STATE/export" 2>/dev/null || echo '?')"
    return 0
  fi
  echo "nfs peer not ready: ns=$NS" >&2
  return 1
}

cmd_exec() {
  [[ $# -ge 1 ]] || die "usage: $0 exec CMD..."
  ns_exists || die "namespace $NS does not exist (run: $0 start EXPORT_DIR)"
  exec ip netns exec "$NS" "$@"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    install) cmd_install "$@" ;;
    available) cmd_available "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    exec) cmd_exec "$@" ;;
    *)
      echo "usage: $0 install | available | start EXPORT_DIR | status | stop | exec CMD..." >&2
      exit 2
      ;;
  esac
}

main "$@"

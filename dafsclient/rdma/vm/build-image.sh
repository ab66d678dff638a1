#!/usr/bin/env bash
# Builds the guest for the rdma tests: a Debian bookworm root file system made by debootstrap,
# as an ext4 image, with the kernel and initrd beside it. Usage: build-image.sh OUT_DIR
#
# OUT_DIR receives vmlinuz, initrd.img and rootfs.img, and "complete" last: a directory without
# "complete" is a build that was interrupted and is started again from nothing. run-guest.sh
# names OUT_DIR after the hash of this file, so changing what the image holds makes a new one.
#
# The guest boots straight into /sbin/cachedafs-init (below), not into an init system: it mounts
# the host's shared directory and runs guest-run.sh from it, so the tests can change without the
# image being rebuilt.
set -euo pipefail
out=$1

# The packages the guest needs: the kernel (with rdma_rxe), the verbs user space and its tools,
# iproute2 for addresses and the rdma tool, kmod for modprobe, and a Java 17 runtime.
packages=linux-image-amd64,rdma-core,ibverbs-providers,ibverbs-utils,rdmacm-utils,perftest,iproute2,kmod,openjdk-17-jre-headless

# The Debian mirror this host's apt already uses (its deb822 sources), unless DEBIAN_MIRROR says.
mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ {print $2}' "$f" | grep -E '/debian/?$' | head -1 || true)
    if [[ -n $uri ]]; then
      echo "$uri"
      return
    fi
  done
  awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null
}

if [[ -f $out/complete ]]; then
  echo "[rdma-vm] image cached in $out"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
work=$out/build
root=$work/root
mkdir -p "$root"
m=$(mirror)
[[ -n $m ]] || { echo "[rdma-vm] no Debian mirror found in this host's apt sources; set DEBIAN_MIRROR" >&2; exit 1; }

start=$(date +%s)
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$m" > "$work/debootstrap.log" 2>&1 || {
  echo "[rdma-vm] debootstrap failed; the end of $work/debootstrap.log:" >&2
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
echo "[rdma-vm] debootstrap: $(( $(date +%s) - start )) s"

cat > "$root/sbin/cachedafs-init" <<'INIT'
#!/bin/sh
# PID 1 of the test guest. The initramfs has moved /proc, /sys and /dev here already; mount them
# where it has not. Runs the host's guest-run.sh from the shared directory, then powers off.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
modprobe 9pnet_virtio
modprobe 9p
mkdir -p /mnt/host
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 cachedafs /mnt/host; then
  /bin/sh /mnt/host/guest-run.sh
else
  echo "cachedafs-init: the shared directory could not be mounted"
fi
sync
echo 1 > /proc/sys/kernel/sysrq
echo o > /proc/sysrq-trigger
sleep 60
INIT
chmod 755 "$root/sbin/cachedafs-init"
echo cachedafs-rdma-guest > "$root/etc/hostname"

cp "$(ls "$root"/boot/vmlinuz-* | head -1)" "$out/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | head -1)" "$out/initrd.img"
# The image is made from the directory tree directly (mkfs.ext4 -d): no loop device, no mount.
# Sparse: it takes on disk only what the files do.
rm -rf "$root/var/cache/apt/archives"/*.deb
start=$(date +%s)
mkfs.ext4 -q -F -L cachedafs-root -d "$root" "$out/rootfs.img" 3G
echo "[rdma-vm] root image: $(( $(date +%s) - start )) s, $(du -sh --apparent-size "$root" | cut -f1) of files"
rm -rf "$work"
touch "$out/complete"

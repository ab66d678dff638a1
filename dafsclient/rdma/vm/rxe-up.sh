#!/bin/sh
# SoftRoCE on the guest's NIC ($nic): the modules (no udev here: modprobe by hand), the rxe
# link, and what the device looks like. Debian's kernels have no siw, and rxe on 6.1 works only in
# the initial network namespace, which is where this runs.
set -e
modprobe rdma_rxe
modprobe ib_uverbs
modprobe rdma_ucm
rdma link add rxe0 type rxe netdev "$nic"
ibv_devices
ibv_devinfo -d rxe0
# The RoCE v2 GID of the IPv4 address is index 1 (index 0 is the link-local IPv6 one).
echo "GID 1: $(cat /sys/class/infiniband/rxe0/ports/1/gids/1)"
ls -l /dev/infiniband

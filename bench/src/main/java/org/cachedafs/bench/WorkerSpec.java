package org.cachedafs.bench;

import java.util.List;

/**
 * What a client process started by the runner does, passed to it as a JSON file.
 *
 * @param mode {@code workloads} or {@code pingpong}
 * @param config the configuration's label: cached, uncached or nfs
 * @param server the DAFS server's URI (DAFS configurations)
 * @param secret the shared secret, or null
 * @param nfsHost the NFS server's host, in the worker's network namespace (nfs)
 * @param nfsExport the exported path (nfs)
 * @param cacheBytes the client cache's capacity
 * @param blockSize the client cache's block size
 * @param workloads what to run, in order ({@code workloads})
 * @param files the file each workload runs on, in the same order
 * @param seed the seed of the access pattern; each client gets its own
 * @param clients how many clients run at once, for the record
 * @param gated whether to wait for the runner's go between warm-up and timed part
 * @param player 0 or 1 ({@code pingpong})
 * @param turns this player's turns ({@code pingpong})
 */
record WorkerSpec(String mode, String config, String server, String secret, String nfsHost, String nfsExport, long cacheBytes,
    int blockSize, List<Workload> workloads, List<String> files, long seed, int clients, boolean gated, int player, int turns) {}

/**
 * The FUSE mount: {@code java -jar dafs-mount.jar dafs://HOST:PORT/ MOUNTPOINT}, so that unmodified
 * programs reach the cache (docs/fuse.md).
 *
 * <p><b>Design.</b> {@link org.cachedafs.fuse.MountMain} parses the command line and, unless told to
 * stay in the foreground, starts itself again as a process of its own ({@link
 * org.cachedafs.fuse.Background}). {@link org.cachedafs.fuse.Mount} connects a session, makes a
 * {@link org.cachedafs.cache.CacheManager} over it and hands the kernel {@link
 * org.cachedafs.fuse.DafsFuse}, jnr-fuse's binding of libfuse 2's high-level, path-based API, whose
 * callbacks are thin: a path goes through the cache's {@link org.cachedafs.cache.Namespace} (one
 * LOOKUP from the export's root on the server, none for the attributes of a path it remembers under
 * its delegation), an open file is a
 * {@link org.cachedafs.cache.CachedFile} in {@link org.cachedafs.fuse.OpenFiles}, and a failure is
 * minus the errno its status names ({@link org.cachedafs.fuse.Errors}).
 *
 * <p><b>Coherence.</b> The cache is coherent with other clients under its delegations; the kernel's
 * page and attribute caches would not be, since libfuse 2's high-level API cannot tell the kernel to
 * drop them when the server recalls a delegation. So the kernel keeps nothing: the mount is
 * {@code direct_io} (every read and write reaches the cache) with zero attribute and entry timeouts
 * (every stat and lookup asks), and what the kernel sees is what this client's cache sees.
 *
 * <p><b>Locks.</b> fcntl record locks are kept per owner in {@link org.cachedafs.fuse.RecordLocks},
 * against the mount's other processes, and mirrored as the union of all owners on the server, against
 * other clients. flock(2) locks are the kernel's own, local to the mount.
 *
 * <p><b>Ownership.</b> The mount owns its session, cache and open files; they close, writing back what
 * the cache holds, once libfuse's loop ends (fusermount -u, or a signal that unmounts lazily), or when
 * a signalled stop stops waiting for the files still open.
 */
package org.cachedafs.fuse;

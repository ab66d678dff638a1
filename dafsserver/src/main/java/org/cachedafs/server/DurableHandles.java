package org.cachedafs.server;

import java.nio.file.Path;
import org.cachedafs.protocol.FileHandle;

/**
 * Handles that outlive the server: made from the kernel's own file handle, so that a handle given out
 * before a restart still finds its file after it ({@link KernelHandles}). Where the kernel will not
 * (not root, a file system without handles) the server runs with {@link DisabledDurableHandles} and
 * every handle is a random one held in memory, as before.
 */
interface DurableHandles {
  /**
   * A durable handle for the file at {@code p} (a final symlink not followed), or null where the kernel
   * gives none for it: the {@link HandleTable} then makes a random one, good until the server stops.
   */
  FileHandle handleOf(Path p);

  /** Whether {@code h} has the durable form, so that {@link #locate} may be asked where its file is. */
  boolean isDurable(FileHandle h);

  /** Whether a durable handle's seal verifies: this server, under this key, made it for this export. */
  boolean sealed(FileHandle h);

  /**
   * Where the kernel finds a durable handle's file now: a path without symlinks (perhaps outside the
   * export, perhaps ending in " (deleted)", or just "/" when the kernel knows no name for it).
   *
   * @throws OpException STALE when the file no longer exists
   */
  Path locate(FileHandle h) throws OpException;

  void close();
}

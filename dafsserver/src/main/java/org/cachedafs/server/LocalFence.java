package org.cachedafs.server;

import java.io.IOException;
import java.time.Duration;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * The local-writer fence: a process on the server's host that opens an exported file outside the
 * server (or truncates, renames or removes it) must not leave a client's cache or the exported cache
 * serving the file's old bytes. docs/consistency.md ("Local writers") gives the promise and its limits.
 *
 * <p>What the server asks of it: to {@link #watch} every regular file it is about to have state on (an
 * open, and through it delegations and exported slots), before that state exists, and to
 * {@link #forget} a file it forgets. From a watched file's first local open on, the fence holds each
 * local open until the file's delegations are back ({@link Delegations#localOpened}) and its exported
 * slots are wiped ({@link ExportedCache#fenced}); while local opens are counted, neither comes back.
 *
 * <p>{@link FanotifyFence} does it with fanotify(7); {@link DisabledFence} where that cannot run or is
 * turned off, which the server says once at start.
 */
interface LocalFence extends AutoCloseable {
  /**
   * The server is about to have state on {@code node}'s file: from when this returns every local open
   * of it is seen. Called under the node's monitor, by the open, before any grant or fill.
   */
  void watch(FileNode node);

  /** The server forgot the file (removed or replaced): its watch goes. */
  void forget(FileNode node);

  /** Whether local writers are fenced now: false if it never ran or its thread has stopped. */
  boolean active();

  ServerStats.LocalFence stats();

  /** Stops fencing; every local open waiting on it goes on at once. */
  @Override
  void close();

  /**
   * The fence a server starts with: fanotify's if {@code wanted} and the kernel allows it (it needs
   * CAP_SYS_ADMIN), else the disabled one. Says which in one log line.
   */
  static LocalFence start(boolean wanted, Delegations delegations, ExportedCache exported, Duration lease) {
    Logger log = Loggers.get(LocalFence.class);
    String consequence = "a process on this host that writes, truncates, renames or removes an exported file behind the server's back"
        + " may leave clients' caches and the exported cache serving its old bytes";
    if (!wanted) {
      log.info("local writers are not fenced (--no-local-fence): {}", consequence);
      return DisabledFence.INSTANCE;
    }
    try {
      LocalFence f = FanotifyFence.start(Fanotify.load(), delegations, exported, lease);
      log.info("local writers are fenced: a process on this host that opens a file clients use waits until their delegations"
          + " are back and its exported blocks are wiped (fanotify)");
      return f;
    } catch (IOException e) {
      log.warn("local writers are not fenced ({}; it needs root or CAP_SYS_ADMIN): {}", e.getMessage(), consequence);
      return DisabledFence.INSTANCE;
    }
  }
}

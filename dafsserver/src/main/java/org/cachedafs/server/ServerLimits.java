package org.cachedafs.server;

import java.time.Duration;
import org.cachedafs.transport.ConnectionLimits;

/**
 * What one client may take of the server, so that no client, however it behaves, can deny service
 * to the others. docs/operations.md lists each limit with its flag.
 *
 * @param maxConnections connections at once; past it a new connection first evicts the oldest one
 *     that has not authenticated, and is refused if there is none. 0 means as many as the
 *     descriptors left over from open files carry (at most 1,024)
 * @param maxUnauthenticated connections at once that have not yet created or bound a session; past
 *     it the oldest of them is closed (a legitimate client authenticates in milliseconds)
 * @param maxSessions sessions at once; past it a new session ends the session that has been without
 *     a connection longest, and is refused with RESOURCE if every session is connected
 * @param maxRunningPerSession operations of one session that run on the worker pool at once; the
 *     rest of its admitted requests wait in its own queue, so one session cannot hold every worker
 * @param maxOpensPerSession files one session may hold open (RESOURCE past it)
 * @param maxLocksPerSession byte ranges one session may hold locked (RESOURCE past it)
 * @param maxOpenFiles descriptors all opens together may hold; 0 means half the process's
 *     descriptor limit. Past it idle opens give their descriptors back and reopen when next used.
 * @param connection per-connection send queue and stall limits
 * @param inlineAnswers whether cheap requests (a READ of up to 64 KiB, GETATTR, LOOKUP) of a session
 *     with nothing else running are answered on the connection's receive thread, saving the
 *     hand-off to a worker
 */
public record ServerLimits(int maxConnections, int maxUnauthenticated, int maxSessions, int maxRunningPerSession,
    int maxOpensPerSession, int maxLocksPerSession, int maxOpenFiles, ConnectionLimits connection, boolean inlineAnswers) {
  public ServerLimits {
    if (maxConnections < 0 || maxUnauthenticated < 1 || maxSessions < 1 || maxRunningPerSession < 1
        || maxOpensPerSession < 1 || maxLocksPerSession < 1 || maxOpenFiles < 0) {
      throw new IllegalArgumentException("server limits must be positive");
    }
  }

  public static ServerLimits defaults() {
    return new ServerLimits(0, 128, 1024, 4, 1024, 4096, 0, ConnectionLimits.defaults(), true);
  }

  public ServerLimits withMaxConnections(int n) {
    return new ServerLimits(n, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxUnauthenticated(int n) {
    return new ServerLimits(maxConnections, n, maxSessions, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxSessions(int n) {
    return new ServerLimits(maxConnections, maxUnauthenticated, n, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxRunningPerSession(int n) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, n, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxOpensPerSession(int n) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, n, maxLocksPerSession, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxLocksPerSession(int n) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession, n, maxOpenFiles, connection, inlineAnswers);
  }

  public ServerLimits withMaxOpenFiles(int n) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, n, connection, inlineAnswers);
  }

  public ServerLimits withConnection(ConnectionLimits c) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, c, inlineAnswers);
  }

  public ServerLimits withInlineAnswers(boolean b) {
    return new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession, maxLocksPerSession, maxOpenFiles, connection, b);
  }

  /** How long a one-sided transfer may wait for the peer: as long as a stalled queue is tolerated. */
  Duration transferTimeout() {
    return connection.stallTimeout();
  }
}

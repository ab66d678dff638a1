package org.cachedafs.server;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.delegation.Conflict;
import org.cachedafs.delegation.DelegationTable;
import org.cachedafs.delegation.FileAccess;
import org.cachedafs.delegation.Grant;
import org.cachedafs.delegation.ReturnResult;
import org.cachedafs.delegation.Ticker;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Requests;
import org.cachedafs.transport.Connection;
import org.slf4j.Logger;

/**
 * The server's side of delegations: the {@link DelegationTable} plus what it cannot do itself, since
 * it is pure logic: sending CB_RECALL to holders, revoking at the deadline, and marking a revoked
 * holder's opens so its later writes fail loudly.
 */
final class Delegations {
  private static final Logger log = Loggers.get(Delegations.class);

  private final DelegationTable<FileNode, ServerSession> table;
  private final ScheduledExecutorService housekeeping;
  /** Runs recalls and revocations: both can block (a full socket, a write finishing), so never on housekeeping or under a file's lock. */
  private final java.util.concurrent.Executor workers;
  private final long leaseNanos;
  private final AtomicLong callbackIds = new AtomicLong(1);
  final LongAdder granted = new LongAdder();
  final LongAdder recalls = new LongAdder();
  final LongAdder returns = new LongAdder();
  final LongAdder revocations = new LongAdder();
  /** Recalls for processes outside the server (counted in {@link #recalls} too). */
  final LongAdder localRecalls = new LongAdder();

  Delegations(long leaseNanos, ScheduledExecutorService housekeeping, java.util.concurrent.Executor workers, SecureRandom random) {
    this.table = new DelegationTable<>(Ticker.system(), leaseNanos, random::nextLong);
    this.housekeeping = housekeeping;
    this.workers = workers;
    this.leaseNanos = leaseNanos;
  }

  /**
   * Checks an operation of {@code s} on {@code node} against other sessions' delegations; if any must
   * be recalled, recalls them and throws {@link RecallPending}. Call before the operation changes
   * anything.
   */
  void check(FileNode node, ServerSession s, FileAccess access) throws RecallPending {
    if (node == null) {
      return;
    }
    Conflict<FileNode, ServerSession> c = recalled(table.check(node, s, access), false);
    if (c.isNone()) {
      return;
    }
    throw new RecallPending(c.resolved(), node);
  }

  /**
   * A process outside the server is opening {@code node} (the local-writer fence holds its open): every
   * delegation on the file is recalled, and none granted until {@link #localClosed} balances this.
   * The open may go on once the returned conflict resolves (a return, or a revocation at the lease).
   */
  Conflict<FileNode, ServerSession> localOpened(FileNode node) {
    return recalled(table.localOpened(node), true);
  }

  /** {@code closes} of those opens ended; returns how many are left. */
  int localClosed(FileNode node, int closes) {
    return table.localClosed(node, closes);
  }

  /** A process outside the server changed the file or its name already: every delegation on it is recalled, nobody waits. */
  void localChanged(FileNode node) {
    recalled(table.localChanged(node), true);
  }

  /** Sends the recalls a conflict calls for and schedules their deadlines; {@code local}: for a process outside the server. */
  private Conflict<FileNode, ServerSession> recalled(Conflict<FileNode, ServerSession> c, boolean local) {
    for (Grant<FileNode, ServerSession> g : c.toRecall()) {
      recalls.increment();
      if (local) {
        localRecalls.increment();
      }
      sendRecall(g);
    }
    if (!c.toRecall().isEmpty()) {
      scheduleExpiry();
    }
    long next = table.nextDeadline();
    if (next != Long.MAX_VALUE && next - System.nanoTime() <= 0) {
      expireSoon(); // a courtesy holder's: it cannot return it, so it is revoked now
    }
    return c;
  }

  /** An operation of {@code s} that waited on a recall of {@code node} has run again; grants on it may resume. */
  void waitOver(FileNode node, ServerSession s) {
    table.waitOver(node, s);
  }

  /**
   * A directory is about to be renamed: delegations on files below it are recalled as for a rename of
   * the file itself, since a client may cache the path to a file it holds a delegation on. One recall
   * at a time; the rename runs again after each.
   */
  void checkBelow(FileNode directory, ServerSession s) throws RecallPending {
    for (FileNode f : table.delegatedFiles()) {
      if (f != directory && f.isUnder(directory)) {
        check(f, s, FileAccess.NAMESPACE);
      }
    }
  }

  void opened(FileNode node, ServerSession s, boolean read, boolean write) {
    table.opened(node, s, read, write);
  }

  void closed(FileNode node, ServerSession s, boolean read, boolean write) {
    table.closed(node, s, read, write);
  }

  /** The delegation to grant with an open, or null. */
  Grant<FileNode, ServerSession> grant(FileNode node, ServerSession s, boolean write, boolean refused) {
    Grant<FileNode, ServerSession> g = table.grant(node, s, write, refused);
    if (g != null) {
      granted.increment();
    }
    return g;
  }

  /** A delegation {@code s} held before the server restarted, under its old id; null if it no longer fits (see {@link DelegationTable#reclaim}). */
  Grant<FileNode, ServerSession> reclaim(FileNode node, ServerSession s, long id, org.cachedafs.delegation.DelegationType type) {
    return table.localOpens(node) > 0 ? null : table.reclaim(node, s, id, type);
  }

  ReturnResult returned(long id, ServerSession s) {
    ReturnResult r = table.returned(id, s);
    if (r == ReturnResult.RETURNED) {
      returns.increment();
    }
    return r;
  }

  /**
   * The session's lease ran out and it is kept as a courtesy session: its delegations being recalled
   * are revoked now, and from now on a conflict with the others revokes them at once. Called under the
   * session's monitor ({@link ServerSession#lapse}).
   */
  void lapsed(ServerSession s) {
    if (table.holderLapsed(s)) {
      expireSoon();
    }
  }

  /** The courtesy session was heard from again: its delegations are recalled like anyone's. */
  void holderBack(ServerSession s) {
    table.holderBack(s);
  }

  /** The session ended: it loses its delegations without a recall, and whoever waited on them proceeds. */
  void sessionEnded(ServerSession s) {
    table.holderGone(s);
  }

  /** The file is gone: its delegations go with it. */
  void fileGone(FileNode node) {
    table.fileGone(node);
  }

  /** After a reconnect: recalls the session may have missed while it had no connection are sent again. */
  void rebound(ServerSession s) {
    for (Grant<FileNode, ServerSession> g : table.recalling(s)) {
      sendRecall(g);
    }
  }

  /**
   * Revokes what is past its deadline; called at each recall's deadline and by the lease reaper. The
   * old holder's opens of the file are fenced (writes under way finish, later ones fail with
   * DELEG_REVOKED) before the operations waiting on the recall are let go.
   */
  void expire() {
    table.expire(g -> {
      revocations.increment();
      g.holder().revoked(g.id());
      int marked = 0;
      for (OpenState o : g.file().opens()) {
        if (o.owner() == g.holder()) {
          o.revoke();
          marked++;
        }
      }
      log.warn("revoked {} delegation {} on {} from {}: {} ({} opens marked revoked)", g.type(), Long.toHexString(g.id()), g.file(),
          g.holder(), g.holder().courtesy() ? "its lease ran out, and another client needs the file" : "not returned within the lease",
          marked);
    });
  }

  /** Each recall gets its own timer at its deadline. */
  private void scheduleExpiry() {
    try {
      housekeeping.schedule(this::expireSoon, leaseNanos + TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Shutting down: nothing will wait for the deadline.
    }
  }

  /** {@link #expire} on a worker: fencing a revoked holder waits for its writes in flight. */
  void expireSoon() {
    try {
      workers.execute(this::expire);
    } catch (RejectedExecutionException e) {
      // Shutting down.
    }
  }

  /** Sends CB_RECALL from a worker: the caller holds the file's lock, and a send can block on a full socket. */
  private void sendRecall(Grant<FileNode, ServerSession> g) {
    try {
      workers.execute(() -> sendRecallNow(g));
    } catch (RejectedExecutionException e) {
      // Shutting down.
    }
  }

  private void sendRecallNow(Grant<FileNode, ServerSession> g) {
    Connection c = g.holder().connection();
    if (c == null || !c.isOpen()) {
      log.debug("recall of {} waits for {} to reconnect", Long.toHexString(g.id()), g.holder());
      return;
    }
    try {
      c.send(Codec.encode(FrameHeader.callback(Opcode.CB_RECALL, callbackIds.getAndIncrement(), g.holder().id()),
          new Requests.Delegation(g.id(), g.file().handle())));
    } catch (IOException e) {
      log.debug("recall of {} not sent to {}: {}", Long.toHexString(g.id()), g.holder(), e.toString());
    }
  }

  List<Grant<FileNode, ServerSession>> recalling(ServerSession s) {
    return table.recalling(s);
  }
}

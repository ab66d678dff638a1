package org.cachedafs.server;

import org.cachedafs.transport.DomainStats;

/**
 * Counters of a running server.
 *
 * @param sessions live sessions
 * @param executed operations run to completion (a replay from the reply cache does not count)
 * @param replayed retransmissions answered from the reply cache
 * @param malformed frames refused as malformed (bad header, bad body, unknown opcode)
 * @param authFailures handshakes refused for a wrong secret, and binds refused for want of the session's key
 * @param refused connections refused (non-loopback peers of a server without a secret)
 * @param delegationsGranted delegations granted with opens
 * @param recalls delegations recalled because another session's operation conflicted
 * @param returns delegations handed back
 * @param revocations recalled delegations revoked because their holder did not return them within the lease
 * @param domain the server's registered memory and received message sizes
 * @param connections connections admitted and open
 * @param connectionsEvicted connections closed, without a session, to make room for new ones
 * @param connectionsRefused connections refused because every admitted one had a session
 * @param openFiles descriptors held by opens, against the open-files budget
 * @param descriptorsParked idle opens whose descriptor was given back because the budget was used up
 * @param descriptorsReopened parked opens that reopened their file at their next use
 * @param directBytesOut file bytes moved into clients' memory by one-sided writes (direct reads)
 * @param directBytesIn file bytes taken from clients' memory by one-sided reads (direct writes)
 * @param exported the exported block cache's counters (ODAFS)
 * @param localFence the local-writer fence's counters
 * @param handles how the server makes file handles, and what became of those it did not know
 * @param grace the grace period after a restart, and the reclaims in it
 */
public record ServerStats(int sessions, long executed, long replayed, long malformed, long authFailures, long refused,
    long delegationsGranted, long recalls, long returns, long revocations, DomainStats domain, int connections,
    long connectionsEvicted, long connectionsRefused, int openFiles, long descriptorsParked, long descriptorsReopened,
    long directBytesOut, long directBytesIn, Exported exported, LocalFence localFence, Handles handles, Grace grace) {
  /**
   * The exported block cache (ODAFS). A client's valid optimistic read leaves no trace here: it costs
   * the server nothing (on tcp, the transport's receive thread serves it; see {@code DomainStats}).
   *
   * @param slots the slots it has (0: off)
   * @param resident blocks in it now (an estimate)
   * @param fills blocks put into it
   * @param fillsWithdrawn fills taken back because the file changed while they ran
   * @param evictions blocks the replacement policy made room by
   * @param invalidations blocks wiped because their file changed (write, truncation, removal)
   * @param referencesGiven references handed to clients
   */
  public record Exported(int slots, int resident, long fills, long fillsWithdrawn, long evictions, long invalidations, long referencesGiven) {}

  /**
   * The local-writer fence (docs/consistency.md, "Local writers").
   *
   * @param active whether local writers are fenced now
   * @param watched files whose local opens the fence sees now
   * @param localOpens opens of watched files by other processes on the host, each held until the file's delegations were back and its exported blocks wiped
   * @param localCloses closes of those opens
   * @param openWaits local opens that had to wait for a recall
   * @param changesAfterTheFact truncations by path, renames, removals and writes through opens made before the watch, seen after they happened
   * @param recalls delegations recalled for local processes (counted in the server's recalls too)
   */
  public record LocalFence(boolean active, int watched, long localOpens, long localCloses, long openWaits, long changesAfterTheFact, long recalls) {
    static final LocalFence NONE = new LocalFence(false, 0, 0, 0, 0, 0, 0);
  }

  /**
   * File handles (docs/protocol.md §2.1), decided at start.
   *
   * @param durable whether handles are built from the kernel's file handle and sealed, so they outlive
   *     the server; false where the kernel refused, and then every handle goes stale when it stops
   * @param volatileReason why they are not durable (the kernel's refusal); empty when they are
   * @param revived handles this server had not given out, or had forgotten, whose file the kernel found
   *     inside the export (handles from before a restart)
   * @param forged handles of the durable form refused because their seal did not verify
   */
  public record Handles(boolean durable, String volatileReason, long revived, long forged) {}

  /**
   * The grace period after a restart (docs/consistency.md, "Server restart").
   *
   * @param active whether it runs now
   * @param knownClients clients recorded when the server started: those that may reclaim
   * @param reclaimedClients of those, the ones that said they finished reclaiming
   * @param millis how long it has run, or how long it lasted once over
   * @param opensReclaimed opens taken back
   * @param locksReclaimed byte ranges taken back
   * @param delegationsReclaimed delegations taken back
   * @param reclaimsRefused reclaims refused: after grace (NO_GRACE), from clients not recorded
   *     (RECLAIM_BAD), or conflicting (RECLAIM_CONFLICT)
   * @param delayed requests for new state answered DELAY while it ran
   * @param recordedClients clients in the state directory's records now
   */
  public record Grace(boolean active, int knownClients, int reclaimedClients, long millis, long opensReclaimed, long locksReclaimed,
      long delegationsReclaimed, long reclaimsRefused, long delayed, int recordedClients) {}
}

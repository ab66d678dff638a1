package org.cachedafs.cache;

import org.cachedafs.protocol.Status;

/**
 * What one file's opens must be told about bytes this client accepted and the server never got:
 * losses (a revocation, the session's end, a drop under a new grant), reported as an I/O error on the
 * next operation of each open, and failed write-backs, reported with their status at each open's next
 * sync or close (Linux's errseq_t for writeback errors). Each open remembers the sequence numbers it
 * has reported ({@link CachedFile}), so each report reaches each open once.
 *
 * <p>Locking: the fields are volatile and written only under the file's monitor (drops) or its flush
 * lock (write-backs), so each sequence number goes up by one per event.
 */
final class LossReport {
  /** A failed write-back: the {@code seq}-th on this file, its status and what went wrong. */
  record WriteBackError(long seq, Status status, String message) {}

  /** Bumped whenever unflushed bytes are lost. */
  private volatile long lossSeq;
  private volatile String lossMessage;
  /** The last write-back that failed. */
  private volatile WriteBackError writeBackError = new WriteBackError(0, Status.OK, "");

  long lossSeq() {
    return lossSeq;
  }

  String lossMessage() {
    return lossMessage;
  }

  WriteBackError writeBackError() {
    return writeBackError;
  }

  /** Under the file's monitor: the message first, so a reader who sees the new seq sees it. */
  void lost(String message) {
    lossMessage = message;
    lossSeq++;
  }

  /** Under the file's flush lock. */
  void writeBackFailed(Status status, String message) {
    writeBackError = new WriteBackError(writeBackError.seq() + 1, status, message);
  }
}

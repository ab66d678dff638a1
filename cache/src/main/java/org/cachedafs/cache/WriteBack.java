package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

/**
 * Writes one file's dirty blocks back: each as a direct transfer out of the block's own memory, or, for
 * a run of adjacent blocks dirty up to their shared edges, gathered through a bounce buffer into one
 * transfer. A block written again during its transfer keeps its dirty mark for the next round. A
 * transfer that fails drops the blocks it carried and is recorded for the opens to report
 * ({@link LossReport}), as Linux does with writeback errors since 4.13; it is not retried.
 *
 * <p>When to write back is the {@link WriteBackScheduler}'s business; this class only does it.
 *
 * <p>Each transfer takes one of a fixed number of write-back credits, shared by all files, and gives it
 * back when it ends: a flush of thousands of scattered blocks keeps that many transfers going at once,
 * gathered where it can, rather than all of them or one at a time.
 *
 * <p>Locking: the credits are a semaphore, taken with no lock of ours held but the file's flush lock,
 * and given back by the transfers' completions, which take none. A write-back holds the file's {@link FileCache#flushLock} across its
 * transfers, and the file's monitor only to take its jobs and to mark them clean.
 */
final class WriteBack {
  private static final Logger log = Loggers.get(WriteBack.class);

  private final DafsSession session;
  private final BounceBuffers bounce;
  private final BlockIndex index;
  private final Invalidation invalidation;
  private final Recalls failures;
  private final Counters counters;
  private final int blockShift;
  /**
   * Write-back transfers in flight, across files: a quarter of the session's credits (read-ahead may
   * use half), so write-back keeps several transfers going without starving the foreground.
   */
  private final Semaphore credits;
  private final int maxInFlight;

  WriteBack(DafsSession session, BounceBuffers bounce, BlockIndex index, Invalidation invalidation, Recalls failures,
      Counters counters, int blockSize) {
    this.session = session;
    this.bounce = bounce;
    this.index = index;
    this.invalidation = invalidation;
    this.failures = failures;
    this.counters = counters;
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.maxInFlight = Math.max(2, session.credits() / 4);
    this.credits = new Semaphore(maxInFlight);
  }

  /**
   * Starts one transfer once a write-back credit is free, and gives the credit back when it ends. Null
   * if {@code start} gave null (no bounce buffer free): the credit is back at once.
   */
  private CompletableFuture<Integer> counted(Supplier<CompletableFuture<Integer>> start) {
    credits.acquireUninterruptibly(); // freed by transfers ending, which need no lock of ours
    CompletableFuture<Integer> io;
    try {
      io = start.get();
    } catch (RuntimeException e) {
      credits.release();
      return CompletableFuture.failedFuture(e);
    }
    if (io == null) {
      credits.release();
      return null;
    }
    io.whenComplete((n, e) -> credits.release());
    return io;
  }

  /** Write-back transfers under way now. */
  int inFlight() {
    return maxInFlight - credits.availablePermits();
  }

  /**
   * Writes every dirty block of {@code fc} back through {@code writer}. A block whose transfer fails
   * is dropped and the failure recorded, not thrown: the opens report it at sync and close, once each,
   * whoever's write-back met it.
   *
   * @return the bytes written back
   * @throws IOException if there is no open to write back through, or the delegation was revoked
   */
  long flush(FileCache fc, OpenFile writer) throws IOException {
    fc.flushLock.lock();
    try {
      // The caller picked the writer before it held the lock, and that open may have closed since
      // (a close leaves the open set under this lock, then forgets the open on the server): a
      // write-back through it would meet BAD_STATEID and its bytes would be dropped. Pick again.
      OpenFile through = writer != null && fc.opens.holds(writer) ? writer : fc.writer();
      return flushLocked(fc, through);
    } finally {
      fc.flushLock.unlock();
    }
  }

  /** {@link #flush}, for a caller that holds the file's flush lock. */
  long flushLocked(FileCache fc, OpenFile writer) throws IOException {
    List<DirtySet.Job> jobs;
    synchronized (fc) {
      jobs = fc.dirty.take();
    }
    if (jobs.isEmpty()) {
      return 0;
    }
    if (writer == null) {
      for (DirtySet.Job j : jobs) {
        j.block().unpin();
      }
      throw new DafsException(Status.IO, "dirty blocks but no open for writing to write them back through");
    }
    List<CompletableFuture<Integer>> ios = send(jobs, writer);
    Throwable failure = null;
    boolean[] ok = new boolean[jobs.size()];
    long bytes = 0;
    boolean interrupted = false;
    for (int i = 0; i < jobs.size(); i++) {
      // Every transfer is waited for, interrupt or not: the server reads the blocks' memory until it
      // answers, so no block may be unpinned (and perhaps recycled) before then.
      while (true) {
        try {
          ios.get(i).get();
          ok[i] = true;
          bytes += jobs.get(i).to() - jobs.get(i).from();
          break;
        } catch (ExecutionException e) {
          failure = failure == null ? e.getCause() : failure;
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    synchronized (fc) {
      for (int i = 0; i < jobs.size(); i++) {
        DirtySet.Job j = jobs.get(i);
        if (ok[i] && fc.table.get(j.block().blockNo) == j.block() && fc.dirty.cleanIfUnchanged(j)) {
          index.add(j.block());
        }
      }
    }
    counters.bytesFlushed.add(bytes);
    IOException revoked = null;
    boolean dropped = false;
    if (failure != null) {
      IOException e = failures.ioFailure(fc, writer, failure);
      if (revocation(failure)) {
        revoked = e; // the revocation dropped the file and reports its dirty bytes as lost
      } else {
        failed(fc, jobs, ok, e); // while still pinned: the blocks cannot have changed hands
        dropped = true;
      }
    }
    for (DirtySet.Job j : jobs) {
      j.block().unpin();
    }
    if (revoked != null) {
      throw revoked;
    }
    if (dropped) {
      sizeFromServer(fc);
    }
    return bytes;
  }

  /**
   * Sends the jobs' transfers, one future per job (in the jobs' order, which this sorts by block).
   * Runs of adjacent blocks dirty to their shared edge go as one transfer gathered through a bounce
   * buffer: a sequential writer's blocks would otherwise cost one request and one transfer each, and
   * at 64 KiB that per-transfer cost, not the bytes, set the pace (a cached sequential write ran at
   * half the uncached one's speed). The gathering copy is cheap next to a transfer. With no bounce
   * buffer free, the oldest gathered transfer of this flush is waited for; if there is none (other
   * threads hold them all) the run goes block by block.
   */
  private List<CompletableFuture<Integer>> send(List<DirtySet.Job> jobs, OpenFile writer) {
    jobs.sort(Comparator.comparingLong(j -> j.block().blockNo));
    List<CompletableFuture<Integer>> ios = new ArrayList<>(jobs.size());
    ArrayDeque<CompletableFuture<Integer>> gathered = new ArrayDeque<>();
    int blockSize = 1 << blockShift;
    int i = 0;
    while (i < jobs.size()) {
      DirtySet.Job first = jobs.get(i);
      int end = i + 1;
      int bytes = first.to() - first.from();
      while (end < jobs.size()) {
        DirtySet.Job prev = jobs.get(end - 1);
        DirtySet.Job next = jobs.get(end);
        if (prev.to() != blockSize || next.from() != 0 || next.block().blockNo != prev.block().blockNo + 1
            || bytes + next.to() > bounce.size()) {
          break;
        }
        bytes += next.to();
        end++;
      }
      long fileOffset = (first.block().blockNo << blockShift) + first.from();
      CompletableFuture<Integer> io = null;
      if (end - i > 1) {
        List<ByteBuffer> sources = new ArrayList<>(end - i);
        for (int k = i; k < end; k++) {
          DirtySet.Job j = jobs.get(k);
          sources.add(j.block().memory.duplicate().limit(j.to()).position(j.from()));
        }
        io = counted(() -> bounce.gatherWriteAsync(writer, fileOffset, sources));
        while (io == null && !gathered.isEmpty()) {
          gathered.poll().exceptionally(e -> 0).join(); // its failure is reported through its jobs
          io = counted(() -> bounce.gatherWriteAsync(writer, fileOffset, sources));
        }
      }
      if (io != null) {
        gathered.add(io);
        counters.writeBacks.increment();
        for (int k = i; k < end; k++) {
          ios.add(io);
        }
      } else {
        for (int k = i; k < end; k++) {
          DirtySet.Job j = jobs.get(k);
          long at = (j.block().blockNo << blockShift) + j.from();
          ios.add(counted(() -> session.writeDirectAsync(writer, at, j.block().region, j.block().regionOffset + j.from(), j.to() - j.from())));
          counters.writeBacks.increment();
        }
      }
      i = end;
    }
    return ios;
  }

  /**
   * After dropped bytes: the cached size may count bytes that never reached the server (an append that
   * failed), so it becomes the server's again, or the end of what is still dirty if that is further.
   * Only this client changes the file under its delegation, and truncation waits on the flush lock
   * this caller holds.
   */
  private void sizeFromServer(FileCache fc) {
    if (fc.mode == FileCache.NONE) {
      return; // not cached (a recall's write-back): no size to correct
    }
    FileAttributes a;
    try {
      a = session.getattr(fc.handle);
    } catch (DafsException e) {
      log.warn("could not read the size of {} back after a failed write-back: {}", fc.handle, e.getMessage());
      return;
    }
    synchronized (fc) {
      if (fc.mode == FileCache.NONE) {
        return;
      }
      fc.setSize(fc.dirty.end(a.size(), blockShift));
      fc.attributes.set(a);
    }
  }

  private static boolean revocation(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return cause instanceof DafsException d && d.status() == Status.DELEG_REVOKED;
  }

  /**
   * Some transfers of a write-back failed: their blocks are dropped, dirty bytes and all, and the
   * failure is recorded for each open to report at its next sync or close. Kept dirty, they would be
   * read back and written later, after the application was told they failed (as Linux does since
   * 4.13, the error is reported and the pages are not retried); dropped, reads see the server's bytes.
   */
  private void failed(FileCache fc, List<DirtySet.Job> jobs, boolean[] ok, IOException e) {
    long lost = 0;
    synchronized (fc) {
      for (int i = 0; i < jobs.size(); i++) {
        Block b = jobs.get(i).block();
        if (!ok[i] && fc.table.get(b.blockNo) == b) {
          lost += invalidation.discard(fc, b.blockNo, b);
        }
      }
      Status status = e instanceof DafsException d ? d.status() : Status.IO;
      String detail = e instanceof DafsException d ? d.detail() : String.valueOf(e.getMessage());
      String message = "writing back " + lost + " bytes of " + fc.handle + " failed, and they were dropped: " + detail;
      fc.losses.writeBackFailed(status, message);
      counters.lostBytes.add(lost);
      log.error(message);
    }
  }
}

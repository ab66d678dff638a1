package org.cachedafs.client;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.cachedafs.protocol.Replies.Reference;
import org.cachedafs.protocol.Replies.References;
import org.cachedafs.protocol.SlotImage;
import org.cachedafs.protocol.SlotImage.Verdict;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;

/**
 * ODAFS on the client (docs/odafs.md): references to the server's exported cache kept per open file,
 * and reads served by one one-sided read of each slot into scratch memory, accepted only as
 * {@link SlotImage#check} says.
 *
 * <p>A read is tried only if every block it touches has a reference; it succeeds whole or not at
 * all, and then the caller reads by RPC, asking for fresh references ({@link #absorb}). A copy caught
 * changing (torn) is read once more; any other mismatch drops the reference. The tables are bounded
 * ({@link #PER_OPEN} references per open, least recently used first out) and forgotten when the open
 * closes. Scratch memory: {@link #SCRATCH} slot-sized regions allocated {@code LOCAL} in the
 * session's domain on first use, each owned by one read from {@code poll} to {@code offer}, closed
 * with the domain; with all of them in use a read falls back instead of waiting.
 */
final class OptimisticReads {
  static final int PER_OPEN = 4096;
  private static final int SCRATCH = 32;

  /** One reference, its descriptor decoded once. */
  private record Ref(RemoteRegion slab, long slotOffset, long boot, long file, long block, long generation) {}

  /** One open's references by block number, bounded, least recently used evicted. */
  private static final class Table {
    private final LinkedHashMap<Long, Ref> refs = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Ref> eldest) {
        return size() > PER_OPEN;
      }
    };

    synchronized Ref get(long block) {
      return refs.get(block);
    }

    synchronized void put(Ref r) {
      refs.put(r.block(), r);
    }

    synchronized void drop(Ref r) {
      refs.remove(r.block(), r);
    }
  }

  private final Supplier<Connection> connection;
  private final Supplier<MemoryDomain> domain;
  private final ConcurrentHashMap<Long, Table> tables = new ConcurrentHashMap<>();
  private volatile int blockSize;
  /** Allocated on first use, once the block size is known; guarded by this for the allocation. */
  private volatile ArrayBlockingQueue<Region> scratch;
  private final LongAdder attempts = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder blocksAccepted = new LongAdder();
  private final LongAdder tornRetried = new LongAdder();
  private final LongAdder tornDropped = new LongAdder();
  private final LongAdder changed = new LongAdder();
  private final LongAdder shortBlocks = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder noReference = new LongAdder();
  private final LongAdder fallbacks = new LongAdder();
  private final LongAdder received = new LongAdder();

  OptimisticReads(Supplier<Connection> connection, Supplier<MemoryDomain> domain) {
    this.connection = connection;
    this.domain = domain;
  }

  /** Where a validated block's bytes go: {@code length} bytes of {@code image} from its position, for the read's byte {@code at}. */
  interface Sink {
    void put(ByteBuffer image, int at, int length);
  }

  /** Keeps the references a reply brought for the open {@code stateId}. */
  void absorb(long stateId, References refs) {
    if (refs.references().isEmpty()) {
      return;
    }
    if (blockSize == 0) {
      blockSize = refs.blockSize();
    } else if (blockSize != refs.blockSize()) {
      return; // one server, one block size: a reply saying otherwise is ignored
    }
    Table t = tables.computeIfAbsent(stateId, k -> new Table());
    for (Reference r : refs.references()) {
      t.put(new Ref(RemoteRegion.of(r.slab().bytes()), r.slotOffset(), r.boot(), r.file(), r.block(), r.generation()));
    }
    received.add(refs.references().size());
  }

  /** The open closed: its references go. */
  /**
   * The server restarted: every reference names the slot of a server that is gone, whose memory a
   * client on its host may still have mapped, where nothing will ever mark a block changed again.
   */
  void forgetAll() {
    tables.clear();
  }

  void forget(long stateId) {
    tables.remove(stateId);
  }

  /** Counts a read served by RPC instead. */
  void fellBack() {
    fallbacks.increment();
  }

  /**
   * Tries to serve {@code length} bytes of the open's file at {@code offset} from the exported cache
   * into {@code sink}: null if it cannot try (a block without a reference, no connection or scratch
   * memory), else a future of whether it served them all.
   */
  CompletableFuture<Boolean> read(long stateId, long offset, int length, Sink sink) {
    Table t = tables.get(stateId);
    int bs = blockSize;
    Connection c = connection.get();
    if (length <= 0 || bs == 0 || c == null) {
      return null;
    }
    if (t == null) {
      noReference.increment();
      return null;
    }
    long first = offset / bs;
    long last = (offset + length - 1) / bs;
    List<Ref> refs = new ArrayList<>((int) (last - first + 1));
    for (long b = first; b <= last; b++) {
      Ref r = t.get(b);
      if (r == null) {
        noReference.increment();
        return null;
      }
      refs.add(r);
    }
    ArrayBlockingQueue<Region> pool = scratch(bs);
    if (pool == null) {
      return null;
    }
    attempts.increment();
    CompletableFuture<Boolean> all = CompletableFuture.completedFuture(true);
    for (Ref r : refs) {
      long blockStart = r.block() * bs;
      int from = (int) Math.max(0, offset - blockStart);
      int to = (int) Math.min(bs, offset + length - blockStart);
      int at = (int) (blockStart + from - offset);
      all = all.thenCompose(ok -> ok ? readBlock(c, pool, t, r, bs, from, to, at, sink, false) : CompletableFuture.completedFuture(false));
    }
    return all.thenApply(ok -> {
      if (ok) {
        accepted.increment();
      }
      return ok;
    });
  }

  private CompletableFuture<Boolean> readBlock(Connection c, ArrayBlockingQueue<Region> pool, Table t, Ref r, int bs, int from, int to, int at, Sink sink,
      boolean retried) {
    Region s = pool.poll();
    if (s == null) {
      return CompletableFuture.completedFuture(false);
    }
    CompletableFuture<Void> read;
    try {
      read = c.read(s, 0, r.slab(), r.slotOffset(), SlotImage.readLength(bs));
    } catch (RuntimeException e) {
      read = CompletableFuture.failedFuture(e);
    }
    return read.handle((v, e) -> {
      try {
        if (e != null) {
          failed.increment();
          t.drop(r);
          return Verdict.CHANGED;
        }
        ByteBuffer image = s.buffer();
        Verdict verdict = SlotImage.check(image, bs, r.boot(), r.file(), r.block(), r.generation(), from, to);
        switch (verdict) {
          case VALID -> {
            sink.put(image.position(SlotImage.HEADER_BYTES + from), at, to - from);
            blocksAccepted.increment();
          }
          case TORN -> {
            if (retried) {
              tornDropped.increment();
              t.drop(r);
            } else {
              tornRetried.increment();
            }
          }
          case CHANGED -> {
            changed.increment();
            t.drop(r);
          }
          case SHORT -> shortBlocks.increment();
        }
        return e == null ? verdict : Verdict.CHANGED;
      } finally {
        pool.offer(s);
      }
    }).thenCompose(verdict -> verdict == Verdict.TORN && !retried
        ? readBlock(c, pool, t, r, bs, from, to, at, sink, true)
        : CompletableFuture.completedFuture(verdict == Verdict.VALID));
  }

  private ArrayBlockingQueue<Region> scratch(int bs) {
    ArrayBlockingQueue<Region> pool = scratch;
    if (pool != null) {
      return pool;
    }
    synchronized (this) {
      if (scratch == null) {
        ArrayBlockingQueue<Region> q = new ArrayBlockingQueue<>(SCRATCH);
        try {
          MemoryDomain d = domain.get();
          for (int i = 0; i < SCRATCH; i++) {
            q.add(d.allocate(SlotImage.readLength(bs), Access.LOCAL));
          }
        } catch (RuntimeException e) {
          q.forEach(Region::close);
          return null;
        }
        scratch = q;
      }
      return scratch;
    }
  }

  OdafsStats stats() {
    return new OdafsStats(attempts.sum(), accepted.sum(), blocksAccepted.sum(), tornRetried.sum(), tornDropped.sum(), changed.sum(),
        shortBlocks.sum(), failed.sum(), noReference.sum(), fallbacks.sum(), received.sum());
  }
}

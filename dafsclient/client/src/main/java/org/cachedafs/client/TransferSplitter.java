package org.cachedafs.client;

import java.util.function.Consumer;
import org.cachedafs.protocol.Replies.References;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntUnaryOperator;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies.Count;
import org.cachedafs.protocol.Replies.ReadData;
import org.cachedafs.protocol.RegionDescriptor;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/**
 * Reads and writes of any size, as requests within the wire's limits: inline ones in pieces of {@link
 * Limits#MAX_INLINE}, direct ones of {@link Limits#MAX_DIRECT}, scatter lists in requests of at most
 * {@link Limits#MAX_SEGMENTS} segments and {@code MAX_DIRECT} bytes. The pieces are sent at once, so a
 * large transfer fills the credits, and the result counts the bytes up to and including the first short
 * piece, as one request that large would have.
 */
final class TransferSplitter {
  private final RequestPipeline pipeline;
  /** The session's domain: decided when the session starts (it may move to shm), fixed after. */
  private final java.util.function.Supplier<MemoryDomain> domain;

  TransferSplitter(RequestPipeline pipeline, java.util.function.Supplier<MemoryDomain> domain) {
    this.pipeline = pipeline;
    this.domain = domain;
  }

  CompletableFuture<Integer> read(OpenFile file, long offset, ByteBuffer dst) {
    return read(file, offset, dst, 0, r -> { });
  }

  /** A read whose requests carry {@code flags}; the references each reply brings go to {@code references}. */
  CompletableFuture<Integer> read(OpenFile file, long offset, ByteBuffer dst, int flags, Consumer<References> references) {
    int total = dst.remaining();
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid("read at offset " + offset);
    }
    int start = dst.position();
    int chunks = (total + Limits.MAX_INLINE - 1) / Limits.MAX_INLINE;
    if (chunks == 0) {
      return CompletableFuture.completedFuture(0);
    }
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_INLINE;
      int len = Math.min(Limits.MAX_INLINE, total - at);
      parts.add(pipeline.call(Opcode.READ, new Requests.Read(file.stateId(), offset + at, len, flags), ReadData.class).thenApply(rd -> {
        references.accept(rd.references());
        ByteBuffer data = rd.data();
        if (data.remaining() > len) {
          throw new IllegalStateException("server returned " + data.remaining() + " bytes for a read of " + len);
        }
        int n = data.remaining();
        dst.duplicate().position(start + at).put(data);
        return n;
      }));
    }
    return sumUntilShort(parts, Limits.MAX_INLINE, total).thenApply(n -> {
      dst.position(start + n);
      return n;
    });
  }

  CompletableFuture<Integer> write(OpenFile file, long offset, ByteBuffer src) {
    int total = src.remaining();
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid("write at offset " + offset);
    }
    int start = src.position();
    int chunks = Math.max(1, (total + Limits.MAX_INLINE - 1) / Limits.MAX_INLINE);
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_INLINE;
      int len = Math.min(Limits.MAX_INLINE, total - at);
      ByteBuffer piece = src.slice(start + at, len);
      parts.add(pipeline.call(Opcode.WRITE, new Requests.Write(file.stateId(), offset + at, piece), Count.class).thenApply(Count::count));
    }
    return sumUntilShort(parts, Limits.MAX_INLINE, total).thenApply(n -> {
      src.position(start + n);
      return n;
    });
  }

  /** READ_DIRECT or WRITE_DIRECT of {@code length} bytes of {@code region} at {@code regionOffset}. */
  CompletableFuture<Integer> direct(Opcode op, OpenFile file, long offset, Region region, int regionOffset, int length) {
    return direct(op, file, offset, region, regionOffset, length, 0, r -> { });
  }

  /** As above, the requests carrying {@code flags}; the references each reply brings go to {@code references}. */
  CompletableFuture<Integer> direct(Opcode op, OpenFile file, long offset, Region region, int regionOffset, int length, int flags,
      Consumer<References> references) {
    IllegalArgumentException outside = outside(region, regionOffset, length);
    if (outside != null) {
      return CompletableFuture.failedFuture(outside);
    }
    if (offset < 0 || offset > Long.MAX_VALUE - length) {
      return invalid(op + " at offset " + offset);
    }
    int chunks = Math.max(1, (length + Limits.MAX_DIRECT - 1) / Limits.MAX_DIRECT);
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_DIRECT;
      int len = Math.min(Limits.MAX_DIRECT, length - at);
      Requests.Direct d = new Requests.Direct(file.stateId(), offset + at, len, descriptor(region), regionOffset + (long) at, flags);
      parts.add(pipeline.call(op, d, Count.class).thenApply(c -> {
        references.accept(c.references());
        return c.count();
      }));
    }
    return sumUntilShort(parts, Limits.MAX_DIRECT, length);
  }

  CompletableFuture<Integer> readDirectV(OpenFile file, long offset, List<Segment> segments) {
    long total = 0;
    for (Segment sg : segments) {
      IllegalArgumentException outside = outside(sg.region(), sg.regionOffset(), sg.length());
      if (outside != null) {
        return CompletableFuture.failedFuture(outside);
      }
      total += sg.length();
    }
    if (total > Integer.MAX_VALUE) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("segments of " + total + " bytes in all"));
    }
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid(Opcode.READ_DIRECT_V + " at offset " + offset);
    }
    // Each request a run of whole segments where they fit; a segment too long for what is left of one
    // request is cut, and empty segments are left out.
    List<CompletableFuture<Integer>> parts = new ArrayList<>();
    List<Integer> lengths = new ArrayList<>();
    List<Requests.Segment> piece = new ArrayList<>();
    int pieceBytes = 0;
    long at = 0;
    for (Segment sg : segments) {
      int done = 0;
      while (done < sg.length()) {
        int n = Math.min(sg.length() - done, Limits.MAX_DIRECT - pieceBytes);
        piece.add(new Requests.Segment(descriptor(sg.region()), sg.regionOffset() + (long) done, n));
        pieceBytes += n;
        done += n;
        if (piece.size() == Limits.MAX_SEGMENTS || pieceBytes == Limits.MAX_DIRECT) {
          parts.add(scatter(file, offset + at, piece));
          lengths.add(pieceBytes);
          at += pieceBytes;
          piece = new ArrayList<>();
          pieceBytes = 0;
        }
      }
    }
    if (!piece.isEmpty()) {
      parts.add(scatter(file, offset + at, piece));
      lengths.add(pieceBytes);
    }
    if (parts.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    return sumUntilShort(parts, lengths::get);
  }

  private CompletableFuture<Integer> scatter(OpenFile file, long offset, List<Requests.Segment> piece) {
    return pipeline.call(Opcode.READ_DIRECT_V, new Requests.DirectV(file.stateId(), offset, piece), Count.class).thenApply(Count::count);
  }

  /** Why {@code length} bytes at {@code regionOffset} of {@code region} cannot be moved, or null if they can. */
  private IllegalArgumentException outside(Region region, int regionOffset, int length) {
    if (!region.belongsTo(domain.get())) {
      return new IllegalArgumentException(region + " is not registered with this session");
    }
    if (regionOffset < 0 || length < 0 || regionOffset > region.length() - length) {
      return new IllegalArgumentException(length + " bytes at " + regionOffset + " lie outside " + region);
    }
    return null;
  }

  private static RegionDescriptor descriptor(Region region) {
    return RegionDescriptor.of(region.remote().toBytes());
  }

  /** The bytes moved by consecutive chunks of {@code chunk} bytes, up to and including the first short one. */
  private static CompletableFuture<Integer> sumUntilShort(List<CompletableFuture<Integer>> parts, int chunk, int total) {
    return sumUntilShort(parts, i -> Math.min(chunk, total - i * chunk));
  }

  /** The bytes moved by consecutive parts, part i asking for {@code asked(i)}, up to and including the first short one. */
  private static CompletableFuture<Integer> sumUntilShort(List<CompletableFuture<Integer>> parts, IntUnaryOperator asked) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      int sum = 0;
      for (int i = 0; i < parts.size(); i++) {
        int n = parts.get(i).join();
        sum += n;
        if (n < asked.applyAsInt(i)) {
          break;
        }
      }
      return sum;
    });
  }

  private static <T> CompletableFuture<T> invalid(String message) {
    return CompletableFuture.failedFuture(new DafsException(Status.INVAL, message));
  }
}

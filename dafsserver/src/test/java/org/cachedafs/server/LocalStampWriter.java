package org.cachedafs.server;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The local writer of {@link LocalWriterOdafsTest}, a process of its own on the server's host: it
 * rewrites random blocks of a file with stamps of a rising generation, mostly opening and closing the
 * file around each write (so that the exported cache refills in between), and after each write has
 * returned it prints {@code BLOCK GENERATION}: from then on no read that begins may see an older one.
 *
 * <p>Arguments: file, blocks, writes, seed.
 */
public final class LocalStampWriter {
  static final int BLOCK = 4096;
  private static final long MAGIC = 0x5eedf00dcafe1234L;

  private LocalStampWriter() {}

  /** Block {@code block} at generation {@code generation}: 16-byte units of (block, generation) and a check. */
  static ByteBuffer stamp(int block, long generation) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    long v = (long) block << 32 | generation;
    while (b.hasRemaining()) {
      b.putLong(v).putLong(v ^ MAGIC);
    }
    return b.flip();
  }

  /**
   * The oldest generation in a block read back, or -1 if any unit is not a stamp of that block (a
   * torn unit, or another block's bytes). Units of newer generations beside older ones are a read that
   * raced a write: each unit is still whole.
   */
  static long oldestGeneration(ByteBuffer read, int block) {
    long oldest = Long.MAX_VALUE;
    while (read.remaining() >= 16) {
      long v = read.getLong();
      if ((v ^ MAGIC) != read.getLong() || (v >>> 32) != block) {
        return -1;
      }
      oldest = Math.min(oldest, v & 0xffffffffL);
    }
    return oldest == Long.MAX_VALUE ? -1 : oldest;
  }

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int blocks = Integer.parseInt(args[1]);
    int writes = Integer.parseInt(args[2]);
    SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[3]));
    long[] generation = new long[blocks];
    PrintStream out = new PrintStream(System.out, false);
    FileChannel ch = null;
    for (int i = 0; i < writes; i++) {
      int b = rnd.nextInt(blocks);
      long g = ++generation[b];
      if (ch == null) {
        ch = FileChannel.open(file, StandardOpenOption.WRITE);
      }
      ByteBuffer data = stamp(b, g);
      long at = (long) b * BLOCK;
      while (data.hasRemaining()) {
        at += ch.write(data, at);
      }
      out.println(b + " " + g);
      out.flush();
      if (rnd.nextInt(4) != 0) {
        ch.close(); // most writes open and close: between them the exported cache fills again
        ch = null;
      }
      if (rnd.nextBoolean()) {
        LockSupport.parkNanos(rnd.nextLong(1_000_000));
      }
    }
    if (ch != null) {
      ch.close();
    }
    out.println("done");
    out.flush();
  }
}

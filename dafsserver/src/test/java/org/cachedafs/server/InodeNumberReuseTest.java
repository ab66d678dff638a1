package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server knows files by device and inode, and the file system gives a removed file's inode
 * number to the next file created (ext4 at once). A new file must never get the removed file's node:
 * its handle, its delegations, its exported blocks and its local-writer watch, whose fanotify marks
 * went with the old inode, so that local writes to the new file would go unseen. OdafsStressTest's
 * soak found exactly that: ODAFS served a local writer's file stale for the whole incarnation that
 * got the node of a file another client had just removed.
 *
 * <p>Two windows let it happen, each forced here without timing: a lookup (an open, a readdir) of the
 * new file between the removal's unlink and the server forgetting the removed file's node; and a
 * lookup that read a file's attributes just before its removal and made it a node just after. Both
 * need a file system that reuses inode numbers at once (ext4, where the build's temporary files are);
 * skipped, saying so, where it does not (tmpfs).
 */
class InodeNumberReuseTest {
  private static final int BLOCK = 4096;
  @TempDir Path tmp;

  /**
   * A client removes x while a new file y is looked up in the same instant: the test holds the
   * handle table (as any lookup does), lets the removal run until it needs the table too, then
   * creates and looks up y, the way an open of y would. Whatever that order allows, y must get a node
   * of its own; and the file that does get x's inode number, opened by an ODAFS reader, must not be
   * served from the exported cache after a local write to it.
   */
  @Test
  void aFileGivenTheInodeNumberOfAFileBeingRemovedGetsANodeOfItsOwn() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp)) {
      assumeInodeNumbersAreReused(f.export);
      HandleTable handles = f.server.handles();
      DafsSession a = f.connect();
      OpenFile x = a.open(a.root(), "x", OpenMode.readWrite().create(0644).noDelegation()); // the server watches x from here
      a.write(x, 0, ByteBuffer.wrap(block((byte) 'x')));
      a.close(x);
      FileNode nodeX = handles.peek(x.handle());
      Object keyX = nodeX.fileKey();

      // Hold x's node (the removal takes it before it unlinks), so that the removal is known to be past its first look at the table.
      CountDownLatch letGo = new CountDownLatch(1);
      CountDownLatch holding = new CountDownLatch(1);
      Thread holder = new Thread(() -> {
        synchronized (nodeX) {
          holding.countDown();
          awaitQuietly(letGo);
        }
      });
      holder.setDaemon(true);
      holder.start();
      holding.await();
      Path y;
      FileNode nodeY;
      boolean xGoneFirst;
      CompletableFuture<Void> removal;
      try {
        removal = a.removeAsync(a.root(), "x");
        await("the removal waits for x's node", () -> blockedOn(nodeX));
        synchronized (handles) {
          letGo.countDown();
          await("the removal waits for the handle table", () -> blockedOn(handles));
          xGoneFirst = !Files.exists(f.export.resolve("x")); // x unlinked, its node not yet forgotten
          // If x is gone, a new file gets its inode number once nothing holds x (a queued fanotify event may, briefly).
          y = xGoneFirst ? createWithKey(f.export, "y", keyX) : Files.write(f.export.resolve("y"), block((byte) 'y'), StandardOpenOption.CREATE_NEW);
          nodeY = handles.child(handles.root(), y.getFileName().toString(), attributes(y)); // what an open or a lookup of y does
        }
      } finally {
        letGo.countDown();
      }
      removal.get(10, TimeUnit.SECONDS);
      holder.join();

      // The file that has x's inode number now: y if it was created in the window, else the next one.
      Path reused = keyX.equals(attributes(y).fileKey()) ? y : createWithKey(f.export, "z", keyX);
      byte[] original = Files.readAllBytes(reused);
      DafsSession b = f.connect(ClientOptions.defaults().withOptimisticReads(true));
      OpenFile r = b.open(b.root(), reused.getFileName().toString(), OpenMode.read().noDelegation());
      boolean fenced = f.server.localWritersFenced();
      long firstAccepted = 0;
      byte[] afterLocalWrite = null;
      if (fenced) {
        assertArrayEquals(original, read(b, r));
        firstAccepted = b.odafsStats().accepted();
        assertArrayEquals(original, read(b, r)); // from the exported cache
        firstAccepted = b.odafsStats().accepted() - firstAccepted;
        // A local writer, a process of its own (this one is the server's, whose opens the fence lets by).
        LocalCommand.Ran dd = LocalCommand.run(f.export, 10_000, "bash", "-c",
            "head -c " + BLOCK + " /dev/zero | tr '\\0' L | dd of=" + reused.getFileName() + " bs=" + BLOCK + " conv=notrunc status=none");
        assertEquals(0, dd.exit(), dd.output());
        assertArrayEquals(block((byte) 'L'), Files.readAllBytes(reused));
        afterLocalWrite = read(b, r);
      }
      String window = xGoneFirst ? " (y was created between x's unlink and the server forgetting x)" : "";
      byte[] seen = afterLocalWrite;
      long oneSided = firstAccepted;
      assertAll(
          () -> assertNotSame(nodeX, nodeY, "y was given the node of x, which was being removed" + window),
          () -> assertTrue(nodeX.isRemoved(), "x's node outlived x"),
          () -> assertNotEquals(x.handle(), r.handle(), "the file that got x's inode number was given x's handle" + window),
          () -> {
            if (fenced) { // the local-writer fence needs CAP_SYS_ADMIN
              assertEquals(1, oneSided, "the exported cache served the read before the local write");
              assertArrayEquals(block((byte) 'L'), seen, "after a local write, a read was served the exported cache's older block" + window);
            }
          });
    }
  }

  /**
   * An open or a lookup reads a file's attributes, the file is removed, and only then does the
   * lookup ask the table for the file's node: it must not make one. Such a node would live on, keyed
   * by an inode number the next file created gets.
   */
  @Test
  void aLookupThatReadAFileJustBeforeItsRemovalMakesItNoNode() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("export"));
    assumeInodeNumbersAreReused(dir);
    HandleTable handles = new HandleTable(dir, DisabledDurableHandles.INSTANCE, "the test's own table holds its handles in memory");
    Path x = Files.createFile(dir.resolve("x"));
    BasicFileAttributes seen = attributes(x);
    Files.delete(x);
    assertThrows(NoSuchFileException.class, () -> handles.child(handles.root(), "x", seen), "a node was made for a removed file");
    Path y = Files.createFile(dir.resolve("y"));
    Assumptions.assumeTrue(seen.fileKey().equals(attributes(y).fileKey()), "the file system did not give x's inode number to y");
    FileNode nodeY = handles.child(handles.root(), "y", attributes(y));
    assertEquals(y, nodeY.path());
    assertEquals(nodeY, handles.child(handles.root(), "y", attributes(y)));
  }

  private static void assumeInodeNumbersAreReused(Path dir) throws Exception {
    Path probe = Files.createFile(dir.resolve(".probe-a"));
    Object key = attributes(probe).fileKey();
    Files.delete(probe);
    probe = Files.createFile(dir.resolve(".probe-b"));
    boolean reused = key.equals(attributes(probe).fileKey());
    Files.delete(probe);
    Assumptions.assumeTrue(reused, "this file system does not give a removed file's inode number to the next file at once");
  }

  /**
   * A new file, {@code prefix} and a number, that got the inode number {@code key} (the files made
   * before it that did not are kept, so that the number ends up the lowest free); skips the test if
   * none does within two seconds.
   */
  static Path createWithKey(Path dir, String prefix, Object key) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (int i = 0; System.nanoTime() < deadline; i++) {
      Path p = Files.write(dir.resolve(prefix + i), block((byte) prefix.charAt(0)), StandardOpenOption.CREATE_NEW);
      if (key.equals(attributes(p).fileKey())) {
        return p;
      }
      Thread.sleep(5);
    }
    Assumptions.abort("the file system did not give the removed file's inode number to a new file within 2 s");
    return null;
  }

  private static BasicFileAttributes attributes(Path p) throws Exception {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static byte[] block(byte b) {
    byte[] a = new byte[BLOCK];
    Arrays.fill(a, b);
    return a;
  }

  private static byte[] read(DafsSession s, OpenFile o) throws Exception {
    ByteBuffer buf = ByteBuffer.allocate(BLOCK);
    assertEquals(BLOCK, s.read(o, 0, buf));
    return buf.array();
  }

  /** Whether a thread waits to enter {@code monitor}. */
  private static boolean blockedOn(Object monitor) {
    for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, false)) {
      LockInfo l = t.getLockInfo();
      if (t.getThreadState() == Thread.State.BLOCKED && l != null && l.getIdentityHashCode() == System.identityHashCode(monitor)
          && l.getClassName().equals(monitor.getClass().getName())) {
        return true;
      }
    }
    return false;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s: " + what);
      Thread.sleep(1);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

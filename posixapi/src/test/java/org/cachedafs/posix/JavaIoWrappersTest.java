package org.cachedafs.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The java.io-style wrappers behave as java.io's own classes, on DAFS paths and local ones alike. */
class JavaIoWrappersTest {
  @TempDir Path tmp;

  /** The same RandomAccessFile session, returning what it saw. */
  interface Raf {
    int read(byte[] b, int off, int len) throws IOException;

    void write(byte[] b) throws IOException;

    void seek(long p) throws IOException;

    long getFilePointer() throws IOException;

    long length() throws IOException;

    void setLength(long n) throws IOException;

    void readFully(byte[] b) throws IOException;
  }

  static String session(Raf f) throws IOException {
    StringBuilder sb = new StringBuilder();
    f.write("0123456789".getBytes(StandardCharsets.UTF_8));
    sb.append(f.getFilePointer()).append(',').append(f.length());
    f.seek(3);
    byte[] b = new byte[4];
    f.readFully(b);
    sb.append(',').append(new String(b, StandardCharsets.UTF_8)).append(',').append(f.getFilePointer());
    f.seek(20);
    f.write("X".getBytes(StandardCharsets.UTF_8));
    sb.append(',').append(f.length());
    f.setLength(5);
    sb.append(',').append(f.getFilePointer()).append(',').append(f.length());
    sb.append(',').append(f.read(new byte[3], 0, 3));
    f.seek(0);
    sb.append(',').append(f.read(new byte[10], 0, 10));
    try {
      f.seek(4);
      f.readFully(new byte[5]);
      sb.append(",no eof");
    } catch (EOFException e) {
      sb.append(",EOF");
    }
    return sb.toString();
  }

  @Test
  void randomAccessFileAndStreamsMatchJavaIo() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(8 << 20));
        DafsPosix posix = new DafsPosix()) {
      posix.mount("/mnt/dafs", cache);
      String expected;
      try (RandomAccessFile jdk = new RandomAccessFile(tmp.resolve("jdk.bin").toFile(), "rw")) {
        expected = session(wrap(jdk));
      }
      for (String path : new String[] {"/mnt/dafs/raf.bin", tmp.resolve("passthrough.bin").toString()}) {
        try (DafsRandomAccessFile f = new DafsRandomAccessFile(posix, path, "rw")) {
          assertEquals(expected, session(wrap(f)), path);
        }
        assertThrows(FileNotFoundException.class, () -> new DafsRandomAccessFile(posix, path + ".missing", "r"));
      }
      byte[] data = new byte[300_000];
      new java.util.Random(3).nextBytes(data);
      try (OutputStream out = new DafsOutputStream(posix, "/mnt/dafs/stream.bin", false)) {
        out.write(data, 0, 1000);
        out.write(data, 1000, data.length - 1000);
      }
      try (OutputStream out = new DafsOutputStream(posix, "/mnt/dafs/stream.bin", true)) {
        out.write(7);
      }
      try (InputStream in = new DafsInputStream(posix, "/mnt/dafs/stream.bin")) {
        assertEquals(10, in.skip(10));
        byte[] rest = in.readAllBytes();
        assertEquals(data.length - 10 + 1, rest.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, data.length), java.util.Arrays.copyOf(rest, rest.length - 1));
        assertEquals(7, rest[rest.length - 1]);
        assertEquals(-1, in.read());
      }
      assertThrows(FileNotFoundException.class, () -> new DafsInputStream(posix, "/mnt/dafs/none"));
      assertThrows(FileNotFoundException.class, () -> new DafsOutputStream(posix, "/mnt/dafs/no-such-dir/f", false));
      assertEquals(0, posix.mkdir("/mnt/dafs/adir", 0755));
      assertThrows(FileNotFoundException.class, () -> new DafsInputStream(posix, "/mnt/dafs/adir"));
      assertThrows(FileNotFoundException.class, () -> new DafsRandomAccessFile(posix, "/mnt/dafs/adir", "r"));
    }
  }

  static Raf wrap(RandomAccessFile f) {
    return new Raf() {
      public int read(byte[] b, int off, int len) throws IOException {
        return f.read(b, off, len);
      }

      public void write(byte[] b) throws IOException {
        f.write(b);
      }

      public void seek(long p) throws IOException {
        f.seek(p);
      }

      public long getFilePointer() throws IOException {
        return f.getFilePointer();
      }

      public long length() throws IOException {
        return f.length();
      }

      public void setLength(long n) throws IOException {
        f.setLength(n);
      }

      public void readFully(byte[] b) throws IOException {
        f.readFully(b);
      }
    };
  }

  static Raf wrap(DafsRandomAccessFile f) {
    return new Raf() {
      public int read(byte[] b, int off, int len) throws IOException {
        return f.read(b, off, len);
      }

      public void write(byte[] b) throws IOException {
        f.write(b);
      }

      public void seek(long p) throws IOException {
        f.seek(p);
      }

      public long getFilePointer() throws IOException {
        return f.getFilePointer();
      }

      public long length() throws IOException {
        return f.length();
      }

      public void setLength(long n) throws IOException {
        f.setLength(n);
      }

      public void readFully(byte[] b) throws IOException {
        f.readFully(b);
      }
    };
  }
}

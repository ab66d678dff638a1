package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file system's own errors keep their kind on the wire: a full disk is NOSPC, a file past the size
 * limit FBIG, a read-only file system ROFS, never just IO. Each is made for real: a small tmpfs, a
 * server process under {@code ulimit -f}, a server option.
 */
class FileSystemErrorsTest {
  private static final int CHUNK = 64 * 1024;

  @TempDir Path tmp;

  /** Writes {@code total} bytes in chunks from offset 0; the first failure is thrown. */
  private static void fill(DafsSession s, OpenFile of, long total) throws DafsException {
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
    for (long at = 0; at < total; at += CHUNK) {
      s.write(of, at, chunk.clear());
    }
  }

  @Test
  void aFullDiskIsNospc() throws Exception {
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("export"), "1m"); ServerFixture f = new ServerFixture(tmp)) {
      DafsSession s = f.connect();
      OpenFile of = s.open(s.root(), "big", OpenMode.readWrite().create(0644));
      DafsException e = assertThrows(DafsException.class, () -> fill(s, of, 4 << 20));
      assertEquals(Status.NOSPC, e.status(), e.getMessage());
    }
  }

  @Test
  void aReadOnlyFileSystemIsRofs() throws Exception {
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("export"), "1m"); ServerFixture f = new ServerFixture(tmp)) {
      DafsSession s = f.connect();
      s.close(s.open(s.root(), "there", OpenMode.readWrite().create(0644)));
      fs.remount("ro");
      DafsException create = assertThrows(DafsException.class, () -> s.open(s.root(), "new", OpenMode.readWrite().create(0644)));
      assertEquals(Status.ROFS, create.status(), create.getMessage());
      DafsException write = assertThrows(DafsException.class, () -> s.open(s.root(), "there", OpenMode.readWrite()));
      assertEquals(Status.ROFS, write.status(), write.getMessage());
      fs.remount("rw");
    }
  }

  @Test
  void theProcessFileSizeLimitIsFbigAndReportedInStatfs() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // ulimit -f counts KiB in bash: 256 KiB. HotSpot ignores SIGXFSZ, so the kernel's answer is EFBIG.
    String command = "ulimit -f 256; exec '" + java + "' -cp '" + System.getProperty("java.class.path") + "' " + ServerMain.class.getName()
        + " --export '" + export + "' --listen tcp://127.0.0.1:0 --lease-ms 3000";
    Process server = new ProcessBuilder("bash", "-c", command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      URI uri = awaitListening(server);
      try (DafsSession s = DafsClient.connect(uri, ClientOptions.defaults())) {
        assertEquals(256 * 1024, s.statfs(s.root()).maxFileSize());
        OpenFile of = s.open(s.root(), "big", OpenMode.readWrite().create(0644));
        fill(s, of, 256 * 1024); // up to the limit: fine
        DafsException past = assertThrows(DafsException.class, () -> s.write(of, 256 * 1024 - 1, ByteBuffer.allocate(2)));
        assertEquals(Status.FBIG, past.status(), past.getMessage());
        DafsException grow = assertThrows(DafsException.class, () -> s.setattr(of.handle(), of, SetAttributes.size(1 << 20)));
        assertEquals(Status.FBIG, grow.status(), grow.getMessage());
        assertEquals(256 * 1024, Files.size(export.resolve("big")), "nothing past the limit was written");
      }
    } finally {
      server.destroy();
      server.waitFor();
    }
  }

  @Test
  void theServersOwnLimitIsFbigBeforeAnythingIsWritten() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp, o -> o.withMaxFileSize(100_000))) {
      DafsSession s = f.connect();
      assertEquals(100_000, s.statfs(s.root()).maxFileSize());
      OpenFile of = s.open(s.root(), "f", OpenMode.readWrite().create(0644));
      DafsException e = assertThrows(DafsException.class, () -> s.write(of, 99_000, ByteBuffer.allocate(2000)));
      assertEquals(Status.FBIG, e.status(), e.getMessage());
      assertEquals(0, Files.size(f.export.resolve("f")), "all or nothing");
      s.write(of, 98_000, ByteBuffer.allocate(2000));
      assertEquals(100_000, Files.size(f.export.resolve("f")));
    }
  }

  private static URI awaitListening(Process p) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("listening on ")) {
        return URI.create(line.substring("listening on ".length()).strip());
      }
    }
    throw new IOException("the server process ended without listening (exit " + p.exitValue() + ")");
  }

  /** What the JDK throws carries errno only as strerror text, in a FileSystemException or a plain IOException. */
  @Test
  void errnoTextMapsToItsStatus() {
    assertEquals(Status.NOSPC, IoErrors.status(new IOException("No space left on device")));
    assertEquals(Status.DQUOT, IoErrors.status(new IOException("Disk quota exceeded")));
    assertEquals(Status.FBIG, IoErrors.status(new IOException("File too large")));
    assertEquals(Status.ROFS, IoErrors.status(new FileSystemException("/x", null, "Read-only file system")));
    assertEquals(Status.MLINK, IoErrors.status(new FileSystemException("/x", null, "Too many links")));
    assertEquals(Status.DQUOT, IoErrors.status(new IOException("/x: Disk quota exceeded")));
    assertEquals(Status.ACCES, IoErrors.status(new AccessDeniedException("/x")));
    assertEquals(Status.RESOURCE, IoErrors.status(new IOException("Too many open files")));
    assertEquals(Status.RESOURCE, IoErrors.status(new FileSystemException("/x", null, "Too many open files in system")));
    assertEquals(Status.IO, IoErrors.status(new IOException("Input/output error")));
    assertEquals(Status.IO, IoErrors.status(new IOException((String) null)));
  }
}

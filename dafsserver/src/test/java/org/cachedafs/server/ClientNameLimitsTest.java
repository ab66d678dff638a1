package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client refuses, before sending, every name and path the server's decoder or name checks would
 * refuse, so a bad name never costs a request (nor, with a server that did not record a malformed
 * request's sequence, the session); and the session goes on working on every slot afterwards.
 */
class ClientNameLimitsTest {
  @TempDir Path tmp;
  ServerFixture fixture;
  DafsSession s;
  FileHandle root;

  @BeforeEach
  void start() throws IOException {
    fixture = new ServerFixture(tmp);
    s = fixture.connect();
    root = s.root();
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  /** Fails with {@code status}, and sends nothing. */
  void refused(Status status, String limit, Executable call) {
    long sent = s.stats().requestsSent();
    DafsException e = assertThrows(DafsException.class, call);
    assertEquals(status, e.status(), e.getMessage());
    if (limit != null) {
      assertTrue(e.getMessage().contains(limit), e.getMessage());
    }
    assertEquals(sent, s.stats().requestsSent(), "nothing was sent for " + e.getMessage());
  }

  @Test
  void namesAndPathsOverTheLimitsAreNameTooLong() throws IOException {
    String longest = "n".repeat(Limits.MAX_NAME);
    String tooLong = longest + "n";
    String longPath = "d/".repeat(2_500); // 5,000 bytes of short components
    refused(Status.NAMETOOLONG, "MAX_PATH", () -> s.lookup(root, longPath));
    refused(Status.NAMETOOLONG, "MAX_PATH", () -> s.lookup(root, "x".repeat(5_000)));
    refused(Status.NAMETOOLONG, "MAX_PATH", () -> s.lookup(root, "x".repeat(70_000))); // more than the wire's 16-bit length
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.lookup(root, "a/" + tooLong + "/b"));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.create(root, tooLong, 0644, false));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.mkdir(root, tooLong, 0755));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.remove(root, tooLong));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.rmdir(root, tooLong));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.open(root, tooLong, OpenMode.readWrite().create(0644)));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.rename(root, "a", root, tooLong));
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.rename(root, tooLong, root, "a"));
    // Counted in UTF-8 bytes, as the server counts: 128 two-byte characters are 256 bytes.
    refused(Status.NAMETOOLONG, "MAX_NAME", () -> s.create(root, "é".repeat(128), 0644, false));

    // Exactly at the limits is accepted, and reaches the server.
    s.create(root, longest, 0644, true);
    s.create(root, "é".repeat(127), 0644, true);
    assertEquals(Status.NOENT, assertThrows(DafsException.class, () -> s.lookup(root, "d/".repeat(Limits.MAX_PATH / 2 - 1) + "d")).status());
    s.lookup(root, longest);
  }

  @Test
  void aNulAnywhereIsInvalid() {
    refused(Status.INVAL, "NUL", () -> s.lookup(root, "a\0b"));
    refused(Status.INVAL, "NUL", () -> s.lookup(root, "dir/\0"));
    refused(Status.INVAL, "NUL", () -> s.create(root, "a\0", 0644, false));
    refused(Status.INVAL, "NUL", () -> s.mkdir(root, "\0", 0755));
    refused(Status.INVAL, "NUL", () -> s.remove(root, "a\0b"));
    refused(Status.INVAL, "NUL", () -> s.rmdir(root, "a\0b"));
    refused(Status.INVAL, "NUL", () -> s.open(root, "a\0b", OpenMode.read()));
    refused(Status.INVAL, "NUL", () -> s.rename(root, "a", root, "b\0"));
    // A lone surrogate has no UTF-8 form: sent, it would silently become '?'.
    refused(Status.INVAL, "surrogate", () -> s.create(root, "a\uD800b", 0644, false));
  }

  @Test
  void theRefusalIsAFailedFutureNotAThrow() {
    var f = s.lookupAsync(root, "x".repeat(5_000));
    assertTrue(f.isCompletedExceptionally());
  }

  @Test
  void aClientNameOverItsLimitOrWithANulIsRefusedBeforeConnecting() {
    DafsException e = assertThrows(DafsException.class,
        () -> DafsClient.connect(fixture.uri(), ClientOptions.defaults().withClientName("c".repeat(Limits.MAX_CLIENT_NAME + 1))));
    assertEquals(Status.NAMETOOLONG, e.status(), e.getMessage());
    assertTrue(e.getMessage().contains("MAX_CLIENT_NAME"), e.getMessage());
    e = assertThrows(DafsException.class, () -> DafsClient.connect(fixture.uri(), ClientOptions.defaults().withClientName("a\0b")));
    assertEquals(Status.INVAL, e.status(), e.getMessage());
  }

  @Test
  void afterRefusalsTheSessionWorksOnEverySlot() throws IOException {
    for (int i = 0; i < 3; i++) {
      assertThrows(DafsException.class, () -> s.lookup(root, "x".repeat(5_000)));
      assertThrows(DafsException.class, () -> s.create(root, "a\0b", 0644, false));
    }
    OpenFile f = s.open(root, "f", OpenMode.readWrite().create(0644));
    s.write(f, 0, ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
    s.close(f);
    // Several times the credits, one at a time: every slot is used more than once.
    for (int i = 0; i < 4 * s.credits() + 1; i++) {
      assertEquals(5, s.lookup(root, "f").attributes().size());
    }
    assertEquals("hello", Files.readString(fixture.export.resolve("f")));
  }
}

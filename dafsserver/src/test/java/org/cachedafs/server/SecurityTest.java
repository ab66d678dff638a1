package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Authentication, export confinement, handle and state isolation. */
class SecurityTest {
  @TempDir Path tmp;

  static Status statusOf(org.junit.jupiter.api.function.Executable e) {
    return assertThrows(DafsException.class, e).status();
  }

  @Test
  void wrongOrMissingSecretIsRefusedAndTheRightOneWorks() throws Exception {
    byte[] secret = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    try (ServerFixture f = new ServerFixture(tmp, o -> o.withSecret(secret))) {
      assertEquals(Status.AUTH_FAILED, statusOf(() -> DafsClient.connect(f.uri(), ClientOptions.defaults().withSecret("wrong".getBytes(StandardCharsets.UTF_8)))));
      assertEquals(Status.AUTH_FAILED, statusOf(() -> DafsClient.connect(f.uri(), ClientOptions.defaults())));
      assertEquals(2, f.server.stats().authFailures());
      // Each mistake says which it was.
      String refused = f.uri().getHost() + ":" + f.uri().getPort() + " refused the session: ";
      assertEquals(refused + "wrong secret", assertThrows(DafsException.class,
          () -> DafsClient.connect(f.uri(), ClientOptions.defaults().withSecret("wrong".getBytes(StandardCharsets.UTF_8)))).detail());
      assertEquals(refused + "server requires a secret", assertThrows(DafsException.class,
          () -> DafsClient.connect(f.uri(), ClientOptions.defaults())).detail());
      try (DafsSession s = DafsClient.connect(f.uri(), ClientOptions.defaults().withSecret(secret))) {
        s.create(s.root(), "ok", 0644, true);
      }
      assertTrue(Files.exists(f.export.resolve("ok")));
      // A raw client that skips the handshake gets nothing done.
      try (RawClient raw = new RawClient(f.server.address())) {
        raw.send(raw.request(Opcode.MKDIR, new Requests.Entry(new FileHandle(new byte[16]), "x", 0755, false), 0, 1));
        assertEquals(Status.BADSESSION, raw.await(5000).reply().status());
      }
    }
  }

  @Test
  void aSecretGivenToAServerWithoutOneIsToldSo() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp)) {
      DafsException e = assertThrows(DafsException.class,
          () -> DafsClient.connect(f.uri(), ClientOptions.defaults().withSecret("s3cret".getBytes(StandardCharsets.UTF_8))));
      assertEquals(Status.AUTH_FAILED, e.status());
      assertEquals(f.uri().getHost() + ":" + f.uri().getPort() + " refused the session: server has no secret", e.detail());
    }
  }

  @Test
  void pathsThatEscapeTheExportAreRefused() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "private");
    try (ServerFixture f = new ServerFixture(tmp)) {
      Files.createDirectories(f.export.resolve("sub"));
      Files.writeString(f.export.resolve("sub/inside.txt"), "public");
      Files.createSymbolicLink(f.export.resolve("escape"), outside);
      Files.createSymbolicLink(f.export.resolve("escape-file"), outside.resolve("secret.txt"));
      Files.createSymbolicLink(f.export.resolve("sub/up"), Path.of(".."));
      Files.createSymbolicLink(f.export.resolve("sub/upup"), Path.of("../.."));
      Files.createSymbolicLink(f.export.resolve("inside-link"), Path.of("sub/inside.txt"));
      DafsSession s = f.connect();
      FileHandle root = s.root();

      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "..")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "sub/../..")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "sub/../sub/inside.txt")), "'..' is refused outright");
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "/etc/passwd")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "escape")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "escape/secret.txt")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "escape-file")));
      assertEquals(Status.ACCES, statusOf(() -> s.lookup(root, "sub/upup")));
      assertEquals(Status.ACCES, statusOf(() -> s.open(root, "escape-file", OpenMode.read())));
      assertEquals(Status.ACCES, statusOf(() -> s.open(s.lookup(root, "sub").handle(), "upup", OpenMode.read())));
      // Links that stay inside work, as they would locally.
      assertEquals(root, s.lookup(root, "sub/up").handle());
      assertEquals(6, s.lookup(root, "inside-link").attributes().size());
      OpenFile o = s.open(root, "inside-link", OpenMode.read());
      ByteBuffer b = ByteBuffer.allocate(16);
      s.read(o, 0, b);
      assertEquals("public", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
      s.close(o);
      // Names must be single components.
      assertEquals(Status.INVAL, statusOf(() -> s.create(root, "../evil", 0644, false)));
      assertEquals(Status.INVAL, statusOf(() -> s.create(root, "..", 0644, false)));
      assertEquals(Status.INVAL, statusOf(() -> s.mkdir(root, "a/b", 0755)));
      assertEquals(Status.INVAL, statusOf(() -> s.rename(root, "sub", root, "..")));
      assertEquals(Status.NAMETOOLONG, statusOf(() -> s.create(root, "n".repeat(Limits.MAX_NAME + 1), 0644, false)));
      // Removing a symlink removes the link, never what it points to.
      s.remove(root, "escape-file");
      assertEquals("private", Files.readString(outside.resolve("secret.txt")));
      assertTrue(Files.exists(outside.resolve("secret.txt")));
    }
  }

  @Test
  void forgedAndStaleHandlesAreStale() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp)) {
      DafsSession s = f.connect();
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      FileHandle forged = new FileHandle(random);
      assertEquals(Status.STALE, statusOf(() -> s.getattr(forged)));
      assertEquals(Status.STALE, statusOf(() -> s.lookup(forged, "x")));
      assertEquals(Status.STALE, statusOf(() -> s.open(forged, "x", OpenMode.read())));

      FileHandle h = s.create(s.root(), "f", 0644, false).handle();
      s.remove(s.root(), "f");
      assertEquals(Status.STALE, statusOf(() -> s.getattr(h)));
      // A file replaced behind the server's back: the old handle does not silently name the new file.
      // (Replaced by a rename, so the new file surely has another inode; see docs/protocol.md on inode reuse.)
      FileHandle g = s.create(s.root(), "g", 0644, false).handle();
      Files.writeString(f.export.resolve("g.new"), "another file");
      Files.move(f.export.resolve("g.new"), f.export.resolve("g"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      assertEquals(Status.STALE, statusOf(() -> s.getattr(g)));
      FileHandle d = s.mkdir(s.root(), "d", 0755).handle();
      s.rmdir(s.root(), "d");
      assertEquals(Status.STALE, statusOf(() -> s.create(d, "inside-removed-dir", 0644, false)));
    }
  }

  @Test
  void aSessionCannotUseAnotherSessionsState() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp)) {
      DafsSession a = f.connect();
      DafsSession b = f.connect();
      OpenFile mine = a.open(a.root(), "private", OpenMode.readWrite().create(0600));
      a.write(mine, 0, ByteBuffer.wrap(new byte[] {1}));
      assertEquals(Status.BAD_STATEID, statusOf(() -> b.read(mine, 0, ByteBuffer.allocate(1))));
      assertEquals(Status.BAD_STATEID, statusOf(() -> b.write(mine, 0, ByteBuffer.wrap(new byte[] {9}))));
      assertEquals(Status.BAD_STATEID, statusOf(() -> b.close(mine)));
      assertEquals(Status.BAD_STATEID, statusOf(() -> b.lock(mine, new org.cachedafs.protocol.LockRange(0, 1, true))));
      a.read(mine, 0, ByteBuffer.allocate(1)); // still a's
      // A frame naming a's session on b's connection is refused.
      try (RawClient raw = new RawClient(f.server.address())) {
        assertEquals(Status.OK, raw.handshake(new byte[0]));
        raw.sessionId = a.sessionId();
        raw.send(raw.request(Opcode.CLOSE, new Requests.StateArg(mine.stateId()), 0, 1));
        assertEquals(Status.BADSESSION, raw.await(5000).reply().status());
      }
      a.close(mine);
      assertEquals(1, Files.readAllBytes(f.export.resolve("private"))[0]);
    }
  }

  @Test
  void slotsOutsideTheCreditsAndMisorderedSequencesAreRefused() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp); RawClient raw = new RawClient(f.server.address())) {
      assertEquals(Status.OK, raw.handshake(new byte[0]));
      raw.send(raw.request(Opcode.GETATTR, new Requests.HandleArg(raw.root, false), 4, 1));
      assertEquals(Status.BADSLOT, raw.await(5000).reply().status());
      raw.send(raw.request(Opcode.GETATTR, new Requests.HandleArg(raw.root, false), 0, 5));
      assertEquals(Status.SEQ_MISORDERED, raw.await(5000).reply().status());
      raw.send(raw.request(Opcode.GETATTR, new Requests.HandleArg(raw.root, false), 0, 1));
      assertEquals(Status.OK, raw.await(5000).reply().status());
    }
  }
}

package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The namespace core every door goes through, against a real server. */
class NamespaceTest {
  @TempDir Path tmp;
  Path export;
  DafsServer server;
  DafsSession session;
  CacheManager cache;
  Namespace names;

  @BeforeEach
  void start() throws Exception {
    export = Files.createDirectories(tmp.resolve("export"));
    server = DafsServer.start(ServerOptions.of(export));
    session = DafsClient.connect(server.uri(), ClientOptions.defaults());
    cache = CacheManager.create(session, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(4 << 20));
    names = cache.namespace();
  }

  @AfterEach
  void stop() {
    cache.close();
    session.close();
    server.close();
  }

  static Status status(Executable e) {
    return assertThrows(DafsException.class, e::run).status();
  }

  interface Executable {
    void run() throws Exception;
  }

  @Test
  void pathsSplitIntoParentAndLeaf() {
    assertEquals("", Namespace.parent("f"));
    assertEquals("a/b", Namespace.parent("a/b/c"));
    assertEquals("c", Namespace.leaf("a/b/c"));
    assertEquals("f", Namespace.leaf("f"));
  }

  @Test
  void createsLooksUpAndListsByPath() throws Exception {
    names.mkdir("d", 0755);
    names.mkdir("d/e", 0700);
    try (CachedFile f = names.open("d/f", OpenMode.readWrite().create(0644), false)) {
      f.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
    }
    assertTrue(names.lookup("").attributes().isDirectory());
    assertEquals(session.root(), names.handle(""));
    assertTrue(names.lookup("d/e").attributes().isDirectory());
    assertEquals(3, names.attributes("d/f").size(), "this client's own size");
    List<String> listed = names.list(names.handle("d")).stream().map(DirEntry::name).sorted().toList();
    assertEquals(List.of("e", "f"), listed);
    assertEquals(Status.NOENT, status(() -> names.lookup("d/none")));
    assertEquals(Status.EXIST, status(() -> names.mkdir("d/e", 0755)));
  }

  @Test
  void removeDeleteAndRmdir() throws Exception {
    Files.createDirectories(export.resolve("d/sub"));
    Files.write(export.resolve("d/f"), new byte[10]);
    Files.write(export.resolve("d/g"), new byte[10]);
    names.remove("d/f");
    assertFalse(Files.exists(export.resolve("d/f")));
    assertEquals(Status.NOENT, status(() -> names.remove("d/f")));
    names.delete("d/g");
    assertEquals(Status.NOTEMPTY, status(() -> names.rmdir("d")));
    names.delete("d/sub");
    names.rmdir("d");
    assertFalse(Files.exists(export.resolve("d")));
  }

  @Test
  void inodeNumbersFollowTheFileAcrossRenames() throws Exception {
    Files.createDirectories(export.resolve("a"));
    Files.write(export.resolve("a/f"), new byte[] {7});
    Files.write(export.resolve("target"), new byte[] {8, 8});
    long ino = names.attributes("a/f").fileId();
    names.rename("a/f", "target");
    assertEquals(ino, names.attributes("target").fileId());
    assertEquals(1, names.attributes("target").size(), "the rename replaced the old target");
    assertEquals(Status.NOENT, status(() -> names.attributes("a/f")));
    names.rename("a", "b");
    assertEquals(Status.NOENT, status(() -> names.attributes("a")));
    assertTrue(names.attributes("b").isDirectory());
  }

  @Test
  void aRenameOverAFileTheCacheHoldsDropsIt() throws Exception {
    Files.write(export.resolve("old"), new byte[] {1});
    Files.write(export.resolve("new"), new byte[] {2, 2});
    CachedFile replaced = names.open("old", OpenMode.readWrite(), false);
    replaced.write(0, ByteBuffer.wrap(new byte[] {5}));
    replaced.close();
    names.rename("new", "old");
    assertEquals(0, cache.cachingDelegation(names.handle("old")), "the new file is not the one cached");
    ByteBuffer b = ByteBuffer.allocate(2);
    try (CachedFile f = names.open("old", OpenMode.read(), false)) {
      f.read(0, b);
    }
    assertArrayEquals(new byte[] {2, 2}, b.array());
  }

  @Test
  void aRememberedNameIsServedWithoutARoundTripUnderItsDelegation() throws Exception {
    Files.write(export.resolve("f"), new byte[100]);
    try (CachedFile f = names.open("f", OpenMode.readWrite(), false)) {
      assertTrue(f.isWriteBack());
      f.write(100, ByteBuffer.wrap(new byte[50]));
      assertEquals(150, names.attributes("f").size());
      long sent = session.stats().requestsSent();
      for (int i = 0; i < 100; i++) {
        assertEquals(150, names.attributes("f").size());
      }
      assertEquals(sent, session.stats().requestsSent(), "no LOOKUP for a path remembered under a delegation");
      names.setattr("f", SetAttributes.mode(0600));
      assertEquals(0600, names.attributes("f").mode() & 0777);
    }
  }

  @Test
  void anotherClientsRenameEndsTheRememberedName() throws Exception {
    Files.write(export.resolve("f"), new byte[100]);
    try (DafsSession other = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager otherCache = CacheManager.create(other, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(4 << 20))) {
      try (CachedFile f = names.open("f", OpenMode.readWrite(), false)) {
        assertTrue(f.isWriteBack());
        assertEquals(100, names.attributes("f").size());
        otherCache.namespace().rename("f", "g"); // recalls this client's delegation
        assertEquals(Status.NOENT, status(() -> names.attributes("f")));
        assertEquals(100, names.attributes("g").size());
      }
    }
  }

  @Test
  void currentAttributesAskTheServerForAFileNotCached() throws Exception {
    Files.write(export.resolve("f"), new byte[10]);
    assertEquals(10, names.currentAttributes("f").size());
    assertTrue(names.currentAttributes("").isDirectory());
    Files.write(export.resolve("f"), new byte[20]);
    assertEquals(20, names.currentAttributes("f").size());
  }
}

package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeTest {
  @TempDir Path tmp;

  @Test
  void writeThenReadBack() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp)) {
      DafsSession s = f.connect();
      OpenFile o = s.open(s.root(), "hello.txt", OpenMode.readWrite().create(0644));
      s.write(o, 0, ByteBuffer.wrap("hello dafs".getBytes(StandardCharsets.UTF_8)));
      ByteBuffer dst = ByteBuffer.allocate(64);
      assertEquals(10, s.read(o, 0, dst));
      assertEquals("hello dafs", new String(dst.array(), 0, 10, StandardCharsets.UTF_8));
      s.close(o);
      assertEquals("hello dafs", Files.readString(f.export.resolve("hello.txt")));
    }
  }
}

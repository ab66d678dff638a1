package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16: the {@code env} of newFileSystem as a new user writes it. A typo in a key, or a value of the
 * wrong type, is refused naming the key (and a bad size or duration its value), before anything
 * connects; every key works in each of the forms docs/nio.md gives.
 */
class NioEnvTest {
  @RegisterExtension final ServedExport served = new ServedExport();

  private String refused(Map<String, ?> env) {
    String message = assertThrows(IllegalArgumentException.class, () -> FileSystems.newFileSystem(served.uri(), env)).getMessage();
    assertEquals(0, served.server().stats().connections(), "refused before connecting");
    return message;
  }

  @Test
  void anUnknownKeyIsRefusedByName() {
    assertEquals("unknown dafs env key \"cache.sise\"; the keys are block.size, cache.size, client.name, connect.timeout, read.ahead, "
        + "secret, transport, uncached", refused(Map.of("cache.sise", "8m")));
    assertEquals("unknown dafs env key \"create\"; the keys are block.size, cache.size, client.name, connect.timeout, read.ahead, "
        + "secret, transport, uncached", refused(Map.of("create", "true")));
  }

  @Test
  void aValueOfTheWrongTypeNamesItsKey() {
    assertEquals("dafs env key \"secret\" must be a String, byte[] or char[], not 42 (Integer)", refused(Map.of("secret", 42)));
    assertEquals("dafs env key \"client.name\" must be a String, not a StringBuilder", refused(Map.of("client.name", new StringBuilder("me"))));
    assertEquals("dafs env key \"uncached\" must be true or false, not \"yes\"", refused(Map.of("uncached", "yes")));
    assertEquals("dafs env key \"read.ahead\" must be true or false, not 1 (Integer)", refused(Map.of("read.ahead", 1)));
    assertEquals("dafs env key \"transport\" must be auto, tcp or shm, not \"udp\"", refused(Map.of("transport", "udp")));
  }

  @Test
  void aBadSizeOrDurationNamesItsKeyAndValue() {
    assertEquals("dafs env key \"cache.size\" has a bad size \"12q\": bytes, with an optional k, m or g suffix, as \"256m\"",
        refused(Map.of("cache.size", "12q")));
    assertEquals("dafs env key \"cache.size\" has a bad size 1.5 (Double): bytes as a whole Number, or a String with an optional k, m or g "
        + "suffix, as \"256m\"", refused(Map.of("cache.size", 1.5)));
    assertEquals("dafs env key \"cache.size\" has a bad size \"99999999999g\": too large", refused(Map.of("cache.size", "99999999999g")));
    assertEquals("dafs env key \"cache.size\" has a bad size \"16k\": the cache needs room for at least 8 blocks",
        refused(Map.of("cache.size", "16k")));
    assertEquals("dafs env key \"block.size\" has a bad size \"3k\": block size must be a power of two from 4 KiB to 1 MiB, not 3072",
        refused(Map.of("block.size", "3k")));
    assertEquals("dafs env key \"connect.timeout\" has a bad duration \"soon\": a java.time.Duration, a Number of milliseconds, or a "
        + "String as \"500ms\" or \"10s\"", refused(Map.of("connect.timeout", "soon")));
    assertEquals("dafs env key \"connect.timeout\" has a bad duration 0 (Integer): it must be positive", refused(Map.of("connect.timeout", 0)));
  }

  @Test
  void everyKeyWorksInEachOfItsForms() throws IOException {
    String transport = System.getProperty("cachedafs.transport", "auto");
    Map<String, Object> text = new HashMap<>();
    text.put("cache.size", "8M");
    text.put("block.size", " 64k ");
    text.put("client.name", "env-test");
    text.put("transport", transport);
    text.put("connect.timeout", "5s");
    text.put("read.ahead", "FALSE");
    text.put("uncached", "false");
    text.put("secret", null); // as if not given
    roundTrip(text);

    Map<String, Object> typed = new HashMap<>();
    typed.put("cache.size", 8L << 20);
    typed.put("block.size", 64 << 10);
    typed.put("connect.timeout", Duration.ofSeconds(5));
    typed.put("read.ahead", true);
    typed.put("uncached", Boolean.TRUE);
    typed.put("transport", transport);
    roundTrip(typed);

    roundTrip(Map.of("connect.timeout", 5000, "cache.size", 8 << 20));
  }

  private void roundTrip(Map<String, ?> env) throws IOException {
    try (FileSystem fs = FileSystems.newFileSystem(served.uri(), env)) {
      Files.writeString(fs.getPath("/f"), "with " + env.keySet());
      assertEquals("with " + env.keySet(), Files.readString(fs.getPath("/f")));
    }
  }
}

package org.cachedafs.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.DirectoryPage;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileHandle;

/** A tree as a map from relative path to "dir" or "file size sha256", read locally or through DAFS. */
final class TreeSnapshot {
  private TreeSnapshot() {}

  static Map<String, String> local(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> !p.equals(root)).forEach(p -> {
        String rel = root.relativize(p).toString();
        try {
          if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            out.put(rel, "dir");
          } else {
            byte[] b = Files.readAllBytes(p);
            out.put(rel, "file " + b.length + " " + sha(b));
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return out;
  }

  static Map<String, String> remote(DafsSession s) throws IOException {
    Map<String, String> out = new TreeMap<>();
    walk(s, s.root(), "", out);
    return out;
  }

  private static void walk(DafsSession s, FileHandle dir, String prefix, Map<String, String> out) throws IOException {
    long cookie = 0;
    while (true) {
      DirectoryPage page = s.readdir(dir, cookie, 50);
      for (DirEntry e : page.entries()) {
        String rel = prefix.isEmpty() ? e.name() : prefix + "/" + e.name();
        if (e.attributes().isDirectory()) {
          out.put(rel, "dir");
          walk(s, e.handle(), rel, out);
        } else {
          out.put(rel, "file " + e.attributes().size() + " " + sha(content(s, dir, e.name())));
        }
      }
      if (page.eof()) {
        return;
      }
      cookie = page.nextCookie();
    }
  }

  static byte[] content(DafsSession s, FileHandle dir, String name) throws DafsException {
    OpenFile o = s.open(dir, name, OpenMode.read());
    try {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) o.attributes().size());
      s.read(o, 0, b);
      return java.util.Arrays.copyOf(b.array(), b.position());
    } finally {
      s.close(o);
    }
  }

  static String sha(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

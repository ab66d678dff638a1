package org.cachedafs.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Where the server keeps what must outlive it (the handle key): a directory outside the export, so no
 * client can read or change it. By default it is the same at every start for the same export,
 * {@code $XDG_STATE_HOME/cachedafs/NAME-HASH} (else {@code ~/.local/state/cachedafs/NAME-HASH}), with
 * NAME the export directory's name and HASH taken from its canonical path: a plain restart with the
 * same {@code --export} finds it again without being told, and two exports never share one.
 */
final class StateDirectory {
  private StateDirectory() {}

  /** The default state directory of the export whose canonical path is {@code exportRoot}. */
  static Path defaultFor(Path exportRoot, Map<String, String> environment, String userHome) {
    String xdg = environment.get("XDG_STATE_HOME");
    // The XDG spec: a relative path in the variable is invalid and is ignored.
    Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(userHome, ".local", "state");
    return base.resolve("cachedafs").resolve(name(exportRoot));
  }

  static Path defaultFor(Path exportRoot) {
    return defaultFor(exportRoot, System.getenv(), System.getProperty("user.home"));
  }

  /** A readable name (the export's own, tamed) and 64 bits of its path's SHA-256, which tell exports apart. */
  private static String name(Path exportRoot) {
    Path leaf = exportRoot.getFileName();
    String readable = (leaf == null ? "root" : leaf.toString()).replaceAll("[^A-Za-z0-9._-]", "_");
    if (readable.length() > 40) {
      readable = readable.substring(0, 40);
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(exportRoot.toString().getBytes(StandardCharsets.UTF_8));
      return readable + "-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * Makes the state directory if it is missing (mode 0700: the key inside is the server's alone) and
   * returns its canonical path; refuses one inside the export, where clients could read the key.
   */
  static Path prepare(Path dir, Path exportRoot) throws IOException {
    Path absolute = dir.toAbsolutePath();
    if (!Files.isDirectory(absolute)) {
      try {
        Files.createDirectories(absolute, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (IOException e) {
        throw new IOException("the state directory " + absolute + " cannot be made: " + e, e);
      }
    }
    Path real = absolute.toRealPath();
    if (real.startsWith(exportRoot)) {
      throw new IOException("the state directory " + real + " is inside the export " + exportRoot
          + ", where clients could read the handle key; give --state-dir a directory outside it");
    }
    if (!Files.isWritable(real)) {
      throw new IOException("the state directory " + real + " is not writable by this user (" + System.getProperty("user.name") + ")");
    }
    return real;
  }
}

package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * The key that seals durable handles: {@link #BYTES} random bytes in the file {@link #FILE_NAME} of
 * the state directory, made at the first start and read at every later one, so that handles survive
 * restarts. Whoever reads it can forge handles (to files inside the export only: the server checks
 * where every handle leads), so it is made readable by the server's user alone.
 *
 * <p>It is made atomically: written in full under a temporary name with mode 0600, then linked to its
 * name, which fails if another server starting on the same state directory got there first (its key
 * is then read). So no one ever reads half a key, and two servers never seal with different keys.
 */
final class HandleKey {
  static final String FILE_NAME = "handle-key";
  static final int BYTES = 32;
  private static final Logger log = Loggers.get(HandleKey.class);
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private HandleKey() {}

  /** The key in {@code stateDir}, made now if there is none; a clear IOException if it cannot be used. */
  static byte[] loadOrCreate(Path stateDir, SecureRandom random) throws IOException {
    Path file = stateDir.resolve(FILE_NAME);
    while (true) {
      try {
        return read(file);
      } catch (NoSuchFileException e) {
        create(file, random); // then read it back, whoever made it
      }
    }
  }

  private static byte[] read(Path file) throws IOException {
    PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isRegularFile()) {
      throw new IOException("the handle key " + file + " is not a regular file; move it away and a new key is made"
          + " (every handle given out so far then goes stale)");
    }
    if (a.size() != BYTES) {
      throw new IOException("the handle key " + file + " has " + a.size() + " bytes, not " + BYTES
          + ": it is damaged or not a key; restore it, or move it away and a new key is made (every handle given out so far then goes stale)");
    }
    byte[] key;
    try {
      key = Files.readAllBytes(file);
    } catch (AccessDeniedException e) {
      throw new IOException("the handle key " + file + " cannot be read by this user (" + System.getProperty("user.name")
          + "): run the server as the key's owner, or give it a state directory of its own with --state-dir", e);
    }
    if (key.length != BYTES) {
      throw new IOException("the handle key " + file + " changed size while it was read");
    }
    if (!OWNER_ONLY.containsAll(a.permissions())) {
      log.warn("the handle key {} is readable by others ({}): they can forge file handles; chmod 600 it",
          file, PosixFilePermissions.toString(a.permissions()));
    }
    return key;
  }

  private static void create(Path file, SecureRandom random) throws IOException {
    byte[] key = new byte[BYTES];
    random.nextBytes(key);
    byte[] suffix = new byte[8];
    random.nextBytes(suffix);
    Path temporary = file.resolveSibling(FILE_NAME + ".new-" + HexFormat.of().formatHex(suffix));
    try {
      try (FileChannel ch = FileChannel.open(temporary, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          PosixFilePermissions.asFileAttribute(OWNER_ONLY))) {
        Files.setPosixFilePermissions(temporary, OWNER_ONLY); // the umask may have taken bits away
        ByteBuffer b = ByteBuffer.wrap(key);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      try {
        Files.createLink(file, temporary);
      } catch (FileAlreadyExistsException e) {
        return; // another server on this state directory made one first: that is the key
      }
      try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
        dir.force(true); // the new name survives a crash, or handles given out would not
      }
      log.info("made a new handle key {}", file);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}

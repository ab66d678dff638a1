package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.Map;
import org.cachedafs.protocol.Status;

/** Maps what the local file system threw onto a protocol status. */
final class IoErrors {
  /**
   * glibc's strerror(3) text for each errno that has a status of its own. EMFILE and ENFILE are the
   * server's own resources running out, not anything about the file: RESOURCE.
   */
  private static final Map<String, Status> BY_STRERROR = Map.ofEntries(
      Map.entry("Not a directory", Status.NOTDIR),
      Map.entry("Is a directory", Status.ISDIR),
      Map.entry("Directory not empty", Status.NOTEMPTY),
      Map.entry("File exists", Status.EXIST),
      Map.entry("Invalid argument", Status.INVAL),
      Map.entry("File name too long", Status.NAMETOOLONG),
      Map.entry("No space left on device", Status.NOSPC),
      Map.entry("Disk quota exceeded", Status.DQUOT),
      Map.entry("File too large", Status.FBIG),
      Map.entry("Read-only file system", Status.ROFS),
      Map.entry("Too many links", Status.MLINK),
      Map.entry("Operation not permitted", Status.PERM),
      Map.entry("Permission denied", Status.ACCES),
      Map.entry("Invalid cross-device link", Status.XDEV),
      Map.entry("Too many levels of symbolic links", Status.ACCES),
      Map.entry("Too many open files", Status.RESOURCE),
      Map.entry("Too many open files in system", Status.RESOURCE));

  private IoErrors() {}

  static OpException toOp(IOException e) {
    return new OpException(status(e), reason(e));
  }

  /**
   * What a client is told of {@code e}: a {@link FileSystemException}'s reason (strerror's words, or
   * nothing), never its files. Those are the server's absolute paths, which are none of a client's
   * business, and the client knows which names it asked about.
   */
  static String reason(IOException e) {
    String text = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
    return text == null ? "" : text;
  }

  static Status status(IOException e) {
    if (e instanceof NoSuchFileException) {
      return Status.NOENT;
    }
    if (e instanceof FileAlreadyExistsException) {
      return Status.EXIST;
    }
    if (e instanceof DirectoryNotEmptyException) {
      return Status.NOTEMPTY;
    }
    if (e instanceof NotDirectoryException) {
      return Status.NOTDIR;
    }
    if (e instanceof AccessDeniedException) {
      return Status.ACCES;
    }
    if (e instanceof FileSystemLoopException || e instanceof NotLinkException) {
      return Status.INVAL;
    }
    // The JDK reports other errno values only as strerror(3) text: the reason of a FileSystemException,
    // or the whole message of a plain IOException (FileChannel.write throws one for ENOSPC and EFBIG).
    String text = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
    if (text == null) {
      return Status.IO;
    }
    Status s = BY_STRERROR.get(text);
    if (s == null) {
      int colon = text.lastIndexOf(": ");
      s = colon < 0 ? null : BY_STRERROR.get(text.substring(colon + 2)); // "path: reason"
    }
    return s == null ? Status.IO : s;
  }
}

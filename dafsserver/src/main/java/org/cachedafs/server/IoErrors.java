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
import org.cachedafs.protocol.Status;

/** Maps what the local file system threw onto a protocol status. */
final class IoErrors {
  private IoErrors() {}

  static OpException toOp(IOException e) {
    return new OpException(status(e), e.getMessage());
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
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      // The JDK reports other errno values only as strerror(3) text.
      return switch (fse.getReason()) {
        case "Not a directory" -> Status.NOTDIR;
        case "Is a directory" -> Status.ISDIR;
        case "Directory not empty" -> Status.NOTEMPTY;
        case "File exists" -> Status.EXIST;
        case "Invalid argument" -> Status.INVAL;
        case "File name too long" -> Status.NAMETOOLONG;
        case "No space left on device", "Disk quota exceeded" -> Status.NOSPC;
        case "File too large" -> Status.FBIG;
        case "Operation not permitted" -> Status.PERM;
        case "Permission denied" -> Status.ACCES;
        case "Invalid cross-device link" -> Status.XDEV;
        case "Read-only file system" -> Status.ACCES;
        case "Too many levels of symbolic links" -> Status.ACCES;
        default -> Status.IO;
      };
    }
    return Status.IO;
  }
}

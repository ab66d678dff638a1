package org.cachedafs.nio;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.cachedafs.client.DafsException;

/** Turns a DAFS status into the exception the JDK's own providers throw for it. */
final class NioErrors {
  private NioErrors() {}

  static IOException of(IOException e, Path path) {
    return of(e, path, null);
  }

  static IOException of(IOException e, Path path, Path other) {
    if (!(e instanceof DafsException d)) {
      return e;
    }
    String file = path == null ? null : path.toString();
    String second = other == null ? null : other.toString();
    if (path != null && path.getFileSystem() instanceof DafsFileSystem fs) {
      DafsException lost = fs.lost();
      if (lost != null) {
        // Whatever this call's own status, the reason is that the session is gone: say so, and where.
        FileSystemException x = new FileSystemException(file, second, fs.lostMessage(lost));
        x.initCause(d);
        return x;
      }
    }
    IOException x = switch (d.status()) {
      // As the JDK's: the exception's kind says what happened and its file says where; what the server
      // added, if anything, is the reason (it never names the file again, nor the server's paths).
      case NOENT, STALE -> new NoSuchFileException(file, second, detail(d));
      case EXIST -> new FileAlreadyExistsException(file, second, detail(d));
      case NOTEMPTY -> new DirectoryNotEmptyException(file);
      case NOTDIR -> new NotDirectoryException(file);
      case ACCES, PERM -> new AccessDeniedException(file, second, detail(d));
      // The reasons the JDK's Unix provider gives (strerror), so code matching on them works here too.
      default -> new FileSystemException(file, second, reason(d));
    };
    x.initCause(d);
    return x;
  }

  private static String detail(DafsException d) {
    return d.detail().isEmpty() ? null : d.detail();
  }

  /**
   * The reason names the error as the JDK's own provider does (strerror's words), and the status, so
   * a caller sees "No space left on device (NOSPC)", not an I/O error; then what the server said.
   */
  private static String reason(DafsException d) {
    String words = d.status().description();
    String reason = Character.toUpperCase(words.charAt(0)) + words.substring(1) + " (" + d.status().name() + ")";
    return d.detail().isEmpty() || d.detail().equalsIgnoreCase(words) ? reason : reason + ": " + d.detail();
  }
}

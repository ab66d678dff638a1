package org.cachedafs.h2;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.h2.message.DbException;
import org.h2.store.fs.FilePath;

/**
 * H2's way to a {@code dafs} path: its {@link FilePath} extension point, over the java.nio provider.
 * Open the server's file system ({@code FileSystems.newFileSystem(URI.create("dafs://HOST:PORT/"), env)},
 * which H2 then finds: a dafs name never connects by itself), register this once ({@link #register()}),
 * then use {@code jdbc:h2:dafs://HOST:PORT/dir/db}. H2 then reads and writes its files through the
 * cache, locks them with the server's locks, and forces them to the server's disk on commit.
 */
public final class FilePathDafs extends FilePath {
  /** Makes {@code dafs:} names known to H2. Idempotent. */
  public static void register() {
    FilePath.register(new FilePathDafs());
  }

  /**
   * The dafs path a name means: {@code dafs://HOST:PORT} then the path, taken literally (an H2 name is
   * not URI-encoded, so a space is just a space).
   */
  private Path path() {
    int slash = name.indexOf('/', "dafs://".length());
    String server = slash < 0 ? name : name.substring(0, slash);
    String rest = slash < 0 ? "/" : name.substring(slash);
    return Path.of(URI.create(server + "/")).getFileSystem().getPath(rest);
  }

  private String nameOf(Path p) {
    int slash = name.indexOf('/', "dafs://".length());
    return (slash < 0 ? name : name.substring(0, slash)) + p.toAbsolutePath();
  }

  @Override
  public FilePathDafs getPath(String path) {
    FilePathDafs p = new FilePathDafs();
    p.name = path;
    return p;
  }

  @Override
  public String getScheme() {
    return "dafs";
  }

  @Override
  public long size() {
    try {
      return Files.size(path());
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void moveTo(FilePath newName, boolean atomicReplace) {
    if (!exists()) {
      throw DbException.get(org.h2.api.ErrorCode.FILE_RENAME_FAILED_2, name + " (not found)", newName.name);
    }
    try {
      if (atomicReplace) {
        Files.move(path(), ((FilePathDafs) newName).path(), StandardCopyOption.ATOMIC_MOVE);
      } else {
        Files.move(path(), ((FilePathDafs) newName).path());
      }
    } catch (IOException e) {
      throw DbException.convertIOException(e, name + " -> " + newName.name);
    }
  }

  @Override
  public boolean createFile() {
    try {
      Files.createFile(path());
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw DbException.convertIOException(e, name);
    }
  }

  @Override
  public boolean exists() {
    return Files.exists(path());
  }

  @Override
  public void delete() {
    try {
      Files.deleteIfExists(path());
    } catch (IOException e) {
      throw DbException.convertIOException(e, name);
    }
  }

  @Override
  public List<FilePath> newDirectoryStream() {
    List<FilePath> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(path())) {
      for (Path p : ds) {
        out.add(getPath(nameOf(p)));
      }
    } catch (java.nio.file.NoSuchFileException e) {
      return out; // as H2's own disk FilePath: a missing directory lists as empty
    } catch (IOException e) {
      throw DbException.convertIOException(e, name);
    }
    return out;
  }

  @Override
  public FilePath toRealPath() {
    return getPath(nameOf(path().normalize()));
  }

  @Override
  public FilePath getParent() {
    Path parent = path().getParent();
    return parent == null ? null : getPath(nameOf(parent));
  }

  @Override
  public boolean isDirectory() {
    return Files.isDirectory(path());
  }

  @Override
  public boolean isRegularFile() {
    return Files.isRegularFile(path());
  }

  @Override
  public boolean isAbsolute() {
    return true; // a dafs URI names its server and an absolute path on it
  }

  @Override
  public long lastModified() {
    try {
      return Files.getLastModifiedTime(path()).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public boolean canWrite() {
    return Files.isWritable(path());
  }

  @Override
  public void createDirectory() {
    try {
      Files.createDirectories(path());
    } catch (IOException e) {
      throw DbException.convertIOException(e, name);
    }
  }

  @Override
  public FileChannel open(String mode) throws IOException {
    // H2's own mapping of "r", "rw", "rws" and "rwd" to open options, synchronous writes included.
    return FileChannel.open(path(), org.h2.store.fs.FileUtils.modeToOptions(mode));
  }

  @Override
  public boolean setReadOnly() {
    try {
      Files.setPosixFilePermissions(path(), PosixFilePermissions.fromString("r--r--r--"));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}

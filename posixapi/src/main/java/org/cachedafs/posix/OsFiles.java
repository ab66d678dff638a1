package org.cachedafs.posix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jnr.constants.platform.Errno;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * The pass-through backend: the operating system's own calls through JNR-POSIX, as libc would make
 * them, with its errno. Paths are absolute.
 */
final class OsFiles implements Backend {
  private static final int AT_FDCWD = -100;

  /** The operating system, with a handler that leaves failures to errno instead of throwing. */
  private final POSIX os = POSIXFactory.getNativePOSIX(new ErrnoOnlyHandler());

  /** {@code r}, or the call's errno if it failed. */
  long check(long r) throws ErrnoException {
    if (r < 0) {
      throw new ErrnoException(os.errno());
    }
    return r;
  }

  int euid() {
    return os.geteuid();
  }

  int egid() {
    return os.getegid();
  }

  @Override
  public OpenFile open(String path, int flags, int mode) throws ErrnoException {
    return new NativeFile((int) check(os.open(path, flags & ~DafsPosix.O_DIRECT, mode)));
  }

  @Override
  public Stat stat(String path) throws ErrnoException {
    FileStat st = os.allocateStat();
    check(os.stat(path, st));
    return of(st);
  }

  private static Stat of(FileStat st) {
    return new Stat(st.mode(), st.st_size(), st.nlink(), st.uid(), st.gid(), TimeUnit.SECONDS.toNanos(st.atime()),
        TimeUnit.SECONDS.toNanos(st.mtime()), TimeUnit.SECONDS.toNanos(st.ctime()), st.ino());
  }

  @Override
  public void access(String path, int amode) throws ErrnoException {
    check(os.access(path, amode));
  }

  @Override
  public void chmod(String path, int mode) throws ErrnoException {
    check(os.chmod(path, mode));
  }

  @Override
  public void utimes(String path, long accessNanos, long modifyNanos) throws ErrnoException {
    long[] a = {accessNanos / 1_000_000_000L, accessNanos % 1_000_000_000L};
    long[] m = {modifyNanos / 1_000_000_000L, modifyNanos % 1_000_000_000L};
    check(os.utimensat(AT_FDCWD, path, a, m, 0));
  }

  @Override
  public void unlink(String path) throws ErrnoException {
    check(os.unlink(path));
  }

  @Override
  public void mkdir(String path, int mode) throws ErrnoException {
    check(os.mkdir(path, mode));
  }

  @Override
  public void rmdir(String path) throws ErrnoException {
    check(os.rmdir(path));
  }

  @Override
  public void rename(String from, String to) throws ErrnoException {
    check(os.rename(from, to));
  }

  @Override
  public List<String> list(String path) throws ErrnoException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of(path))) {
      for (Path p : ds) {
        names.add(p.getFileName().toString());
      }
      return names;
    } catch (NoSuchFileException e) {
      throw new ErrnoException(Errno.ENOENT);
    } catch (NotDirectoryException e) {
      throw new ErrnoException(Errno.ENOTDIR);
    } catch (AccessDeniedException e) {
      throw new ErrnoException(Errno.EACCES);
    } catch (IOException e) {
      throw ErrnoException.of(e);
    }
  }

  /** A descriptor of the operating system's. */
  private final class NativeFile implements OpenFile {
    private final int fd;

    NativeFile(int fd) {
      this.fd = fd;
    }

    @Override
    public long read(byte[] buf, int off, int len) throws ErrnoException {
      return check(os.read(fd, ByteBuffer.wrap(buf, off, len).slice(), (long) len));
    }

    @Override
    public long pread(byte[] buf, int off, int len, long offset) throws ErrnoException {
      return check(os.pread(fd, ByteBuffer.wrap(buf, off, len).slice(), (long) len, offset));
    }

    @Override
    public long write(byte[] buf, int off, int len) throws ErrnoException {
      return check(os.write(fd, ByteBuffer.wrap(buf, off, len).slice(), (long) len));
    }

    @Override
    public long pwrite(byte[] buf, int off, int len, long offset) throws ErrnoException {
      return check(os.pwrite(fd, ByteBuffer.wrap(buf, off, len).slice(), (long) len, offset));
    }

    @Override
    public long lseek(long offset, int whence) throws ErrnoException {
      return check(os.lseekLong(fd, offset, whence));
    }

    @Override
    public void truncate(long length) throws ErrnoException {
      check(os.ftruncate(fd, length));
    }

    @Override
    public void sync(boolean dataOnly) throws ErrnoException {
      check(dataOnly ? os.fdatasync(fd) : os.fsync(fd));
    }

    @Override
    public Stat stat() throws ErrnoException {
      FileStat st = os.allocateStat();
      check(os.fstat(fd, st));
      return of(st);
    }

    @Override
    public void close() throws ErrnoException {
      check(os.close(fd));
    }
  }
}

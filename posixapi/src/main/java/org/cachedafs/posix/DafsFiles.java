package org.cachedafs.posix;

import static org.cachedafs.posix.DafsPosix.O_APPEND;
import static org.cachedafs.posix.DafsPosix.O_DIRECT;
import static org.cachedafs.posix.DafsPosix.O_DIRECTORY;
import static org.cachedafs.posix.DafsPosix.SEEK_CUR;
import static org.cachedafs.posix.DafsPosix.SEEK_END;
import static org.cachedafs.posix.DafsPosix.SEEK_SET;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import jnr.constants.platform.Errno;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.cache.Namespace;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.SetAttributes;

/**
 * The DAFS backend of one mount: its paths through the cache's {@link Namespace}, its open files as
 * {@link CachedFile}s with the descriptor's offset. Paths are relative to the export's root; "" is the
 * mount point.
 */
final class DafsFiles implements Backend {
  private final CacheManager cache;
  private final Namespace names;
  private final ReadBuffers buffers;
  /** For {@link #access}: this process's effective ids, as the kernel would check them. */
  private final OsFiles os;

  DafsFiles(CacheManager cache, ReadBuffers buffers, OsFiles os) {
    this.cache = cache;
    this.names = cache.namespace();
    this.buffers = buffers;
    this.os = os;
  }

  CacheManager cache() {
    return cache;
  }

  private interface Call {
    void run() throws IOException;
  }

  private static void call(Call c) throws ErrnoException {
    try {
      c.run();
    } catch (IOException e) {
      throw ErrnoException.of(e);
    }
  }

  @Override
  public OpenFile open(String path, int flags, int mode) throws ErrnoException {
    if (path.isEmpty()) {
      throw new ErrnoException(Errno.EISDIR); // the mount root itself: only as a directory stream
    }
    try {
      if ((flags & O_DIRECTORY) != 0) {
        // Checked before opening, so that O_DIRECTORY|O_TRUNC on a file truncates nothing.
        if (!names.lookup(path).attributes().isDirectory()) {
          throw new ErrnoException(Errno.ENOTDIR);
        }
      }
      return new DafsFile(names.open(path, Flags.open(flags, mode), (flags & O_DIRECT) != 0), flags);
    } catch (IOException e) {
      throw ErrnoException.of(e);
    }
  }

  @Override
  public Stat stat(String path) throws ErrnoException {
    try {
      // Under a delegation, this client's unflushed writes count.
      return of(names.attributes(path));
    } catch (IOException e) {
      throw ErrnoException.of(e);
    }
  }

  static Stat of(FileAttributes a) {
    return new Stat(a.mode(), a.size(), a.nlink(), a.uid(), a.gid(), a.accessTimeNanos(), a.modifyTimeNanos(), a.changeTimeNanos(), a.fileId());
  }

  /** Checked against this process's effective uid and gid, as the kernel would. */
  @Override
  public void access(String path, int amode) throws ErrnoException {
    Stat st = stat(path);
    if (amode == DafsPosix.F_OK) {
      return;
    }
    int uid = os.euid();
    int bits;
    if (uid == 0) {
      // root: read and write always; execute if anyone may, or for a directory
      bits = 6 | ((st.mode() & 0111) != 0 || st.isDirectory() ? 1 : 0);
    } else if (uid == st.uid()) {
      bits = (st.mode() >> 6) & 7;
    } else if (os.egid() == st.gid()) {
      bits = (st.mode() >> 3) & 7;
    } else {
      bits = st.mode() & 7;
    }
    if ((bits & amode) != amode) {
      throw new ErrnoException(Errno.EACCES);
    }
  }

  @Override
  public void chmod(String path, int mode) throws ErrnoException {
    call(() -> names.setattr(path, SetAttributes.mode(mode)));
  }

  @Override
  public void utimes(String path, long accessNanos, long modifyNanos) throws ErrnoException {
    call(() -> names.setattr(path, SetAttributes.times(accessNanos, modifyNanos)));
  }

  @Override
  public void unlink(String path) throws ErrnoException {
    call(() -> names.remove(path));
  }

  @Override
  public void mkdir(String path, int mode) throws ErrnoException {
    if (path.isEmpty()) {
      throw new ErrnoException(Errno.EEXIST); // the mount point
    }
    call(() -> names.mkdir(path, mode));
  }

  @Override
  public void rmdir(String path) throws ErrnoException {
    if (path.isEmpty()) {
      throw new ErrnoException(Errno.EBUSY); // the mount point
    }
    call(() -> names.rmdir(path));
  }

  @Override
  public void rename(String from, String to) throws ErrnoException {
    call(() -> names.rename(from, to));
  }

  @Override
  public List<String> list(String path) throws ErrnoException {
    try {
      List<String> out = new ArrayList<>();
      for (DirEntry e : names.list(names.handle(path))) {
        out.add(e.name());
      }
      return out;
    } catch (IOException e) {
      throw ErrnoException.of(e);
    }
  }

  /** A file through the cache, with the descriptor's offset and flags. */
  private final class DafsFile implements OpenFile {
    private final CachedFile file;
    private final int flags;
    /** Guarded by this. */
    private long position;

    DafsFile(CachedFile file, int flags) {
      this.file = file;
      this.flags = flags;
    }

    @Override
    public long read(byte[] buf, int off, int len) throws ErrnoException {
      checkReadable();
      synchronized (this) {
        long n = readAt(buf, off, len, position);
        if (n > 0) {
          position += n;
        }
        return n;
      }
    }

    @Override
    public long pread(byte[] buf, int off, int len, long offset) throws ErrnoException {
      checkReadable();
      return readAt(buf, off, len, offset);
    }

    private void checkReadable() throws ErrnoException {
      if (!Flags.readable(flags)) {
        throw new ErrnoException(Errno.EBADF);
      }
    }

    private void checkWritable() throws ErrnoException {
      if (!Flags.writable(flags)) {
        throw new ErrnoException(Errno.EBADF);
      }
    }

    private long readAt(byte[] buf, int off, int len, long at) throws ErrnoException {
      try {
        ByteBuffer dst = buffers.over(buf, off, len);
        long total = 0;
        while (dst.hasRemaining()) {
          int n = file.read(at + total, dst);
          if (n < 0) {
            break;
          }
          total += n;
        }
        return total;
      } catch (IOException e) {
        throw ErrnoException.of(e);
      }
    }

    @Override
    public long write(byte[] buf, int off, int len) throws ErrnoException {
      checkWritable();
      synchronized (this) {
        try {
          if ((flags & O_APPEND) != 0) {
            // The end and the write are one step against this client's other appenders.
            long at = file.append(ByteBuffer.wrap(buf, off, len));
            position = at + len;
            return len;
          }
          long n = file.write(position, ByteBuffer.wrap(buf, off, len));
          if (n > 0) {
            position += n;
          }
          return n;
        } catch (IOException e) {
          throw ErrnoException.of(e);
        }
      }
    }

    @Override
    public long pwrite(byte[] buf, int off, int len, long offset) throws ErrnoException {
      checkWritable();
      try {
        // Linux ignores the offset of pwrite(2) on an O_APPEND descriptor and appends.
        if ((flags & O_APPEND) != 0) {
          file.append(ByteBuffer.wrap(buf, off, len));
          return len;
        }
        return file.write(offset, ByteBuffer.wrap(buf, off, len));
      } catch (IOException e) {
        throw ErrnoException.of(e);
      }
    }

    @Override
    public synchronized long lseek(long offset, int whence) throws ErrnoException {
      try {
        long base = switch (whence) {
          case SEEK_SET -> 0;
          case SEEK_CUR -> position;
          case SEEK_END -> file.size();
          default -> -1;
        };
        if (base < 0 || base + offset < 0) {
          throw new ErrnoException(Errno.EINVAL);
        }
        position = base + offset;
        return position;
      } catch (IOException e) {
        throw ErrnoException.of(e);
      }
    }

    @Override
    public void truncate(long length) throws ErrnoException {
      if (!Flags.writable(flags)) {
        throw new ErrnoException(Errno.EINVAL); // Linux: ftruncate on a descriptor not open for writing
      }
      call(() -> file.truncate(length));
    }

    @Override
    public void sync(boolean dataOnly) throws ErrnoException {
      call(() -> file.sync(dataOnly));
    }

    @Override
    public Stat stat() throws ErrnoException {
      try {
        return of(file.attributes());
      } catch (IOException e) {
        throw ErrnoException.of(e);
      }
    }

    @Override
    public void close() throws ErrnoException {
      call(file::close);
    }
  }
}

package org.cachedafs.nio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.cachedafs.client.DirectoryPage;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileHandle;

/**
 * The entries of a directory, read a page at a time as the iterator advances (READDIR by cookie), so
 * an entry that stays in the directory is seen exactly once even while it changes.
 */
final class DafsDirectoryStream implements DirectoryStream<Path> {
  private final DafsFileSystem fs;
  private final DafsPath dir;
  private final FileHandle handle;
  private final Filter<? super Path> filter;
  private boolean iterated;
  private volatile boolean closed;

  DafsDirectoryStream(DafsFileSystem fs, DafsPath dir, FileHandle handle, Filter<? super Path> filter) {
    this.fs = fs;
    this.dir = dir;
    this.handle = handle;
    this.filter = filter;
  }

  @Override
  public synchronized Iterator<Path> iterator() {
    if (closed || iterated) {
      throw new IllegalStateException(closed ? "the stream is closed" : "the stream can be iterated only once");
    }
    iterated = true;
    return new Iterator<>() {
      private final List<Path> page = new ArrayList<>();
      private int next;
      private long cookie;
      private boolean eof;

      @Override
      public boolean hasNext() {
        while (next >= page.size() && !eof && !closed) {
          page.clear();
          next = 0;
          try {
            DirectoryPage p = fs.session.readdir(handle, cookie, 256);
            for (DirEntry e : p.entries()) {
              Path child = dir.resolve(e.name());
              if (filter == null || filter.accept(child)) {
                page.add(child);
              }
            }
            cookie = p.nextCookie();
            eof = p.eof();
          } catch (IOException e) {
            throw new DirectoryIteratorException(NioErrors.of(e, dir));
          }
        }
        return !closed && next < page.size();
      }

      @Override
      public Path next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.get(next++);
      }
    };
  }

  @Override
  public void close() {
    closed = true;
  }

  static UncheckedIOException unchecked(IOException e) {
    return new UncheckedIOException(e);
  }
}

package org.cachedafs.posix;

/** An open descriptor's file, of either backend: the calls on a descriptor, each failing with an errno. */
interface OpenFile extends Descriptors.Descriptor {
  /** Reads at the descriptor's offset and moves it on; 0 at end of file. */
  long read(byte[] buf, int off, int len) throws ErrnoException;

  long pread(byte[] buf, int off, int len, long offset) throws ErrnoException;

  /** Writes at the descriptor's offset, or at the end with {@code O_APPEND}, and moves it on. */
  long write(byte[] buf, int off, int len) throws ErrnoException;

  long pwrite(byte[] buf, int off, int len, long offset) throws ErrnoException;

  long lseek(long offset, int whence) throws ErrnoException;

  void truncate(long length) throws ErrnoException;

  void sync(boolean dataOnly) throws ErrnoException;

  Stat stat() throws ErrnoException;

  /** Closes the file; a failure is reported, and the file is closed all the same, as with close(2). */
  void close() throws ErrnoException;
}

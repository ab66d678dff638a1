package org.cachedafs.posix;

import java.util.List;

/**
 * Where a path's calls go: the operating system ({@link OsFiles}) or one DAFS mount ({@link
 * DafsFiles}). Paths are the backend's own: absolute for the operating system, relative to the
 * export's root for a mount.
 */
interface Backend {
  OpenFile open(String path, int flags, int mode) throws ErrnoException;

  /** The attributes of a path, following a final symlink. */
  Stat stat(String path) throws ErrnoException;

  void access(String path, int amode) throws ErrnoException;

  void chmod(String path, int mode) throws ErrnoException;

  /** Sets access and modification times, in nanoseconds since the epoch. */
  void utimes(String path, long accessNanos, long modifyNanos) throws ErrnoException;

  void unlink(String path) throws ErrnoException;

  void mkdir(String path, int mode) throws ErrnoException;

  void rmdir(String path) throws ErrnoException;

  /** Renames within this backend; the facade refuses a rename across backends (EXDEV). */
  void rename(String from, String to) throws ErrnoException;

  /** The names in a directory, without "." and "..". */
  List<String> list(String path) throws ErrnoException;
}

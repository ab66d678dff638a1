package org.cachedafs.posix;

import java.util.List;

/** An open directory stream: the names read at opendir, "." and ".." first, and the next one to return. */
final class DirectoryListing implements Descriptors.Descriptor {
  private final List<String> names;
  /** Guarded by this. */
  private int next;

  DirectoryListing(List<String> names) {
    this.names = names;
  }

  /** The next name, or null at the end. */
  synchronized String next() {
    return next < names.size() ? names.get(next++) : null;
  }
}

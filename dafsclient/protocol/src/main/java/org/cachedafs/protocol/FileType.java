package org.cachedafs.protocol;

/** The kind of a file, as the server sees it without following a final symlink. */
public enum FileType {
  REGULAR,
  DIRECTORY,
  SYMLINK,
  OTHER;

  static FileType ofWire(int b) throws MalformedFrameException {
    if (b < 0 || b >= values().length) {
      throw new MalformedFrameException("file type " + b);
    }
    return values()[b];
  }
}

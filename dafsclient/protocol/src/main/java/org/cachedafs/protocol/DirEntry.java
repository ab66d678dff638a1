package org.cachedafs.protocol;

/**
 * One READDIR entry: the name, its handle and attributes, and the cookie that resumes after it. A name
 * on disk that is not valid UTF-8 arrives with replacement characters, so it may exceed
 * {@link Limits#MAX_NAME} bytes; it is bounded by {@link Limits#MAX_PATH} instead.
 */
public record DirEntry(String name, FileHandle handle, FileAttributes attributes, long cookie) {
  void encode(WireWriter w) {
    w.putString(name).putHandle(handle);
    attributes.encode(w);
    w.putLong(cookie);
  }

  static DirEntry decode(WireReader r) throws MalformedFrameException {
    return new DirEntry(r.getString("entry name", Limits.MAX_PATH), r.getHandle(), FileAttributes.decode(r), r.getLong());
  }
}

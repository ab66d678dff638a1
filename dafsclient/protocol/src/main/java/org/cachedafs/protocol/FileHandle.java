package org.cachedafs.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An opaque, unforgeable name for a file on the server: 1 to {@link Limits#MAX_HANDLE_BYTES} bytes
 * the server chose. It stays valid across a rename; once the file is removed it is stale. Whether it
 * also outlives the server depends on the server's file system (docs/protocol.md §2.1). A server gives
 * one file one handle, so two handles are the same file exactly when their bytes are equal. The array
 * is copied in and out, so a handle is immutable.
 */
public record FileHandle(byte[] bytes) {
  public FileHandle {
    if (bytes.length < 1 || bytes.length > Limits.MAX_HANDLE_BYTES) {
      throw new IllegalArgumentException("a file handle has 1 to " + Limits.MAX_HANDLE_BYTES + " bytes, not " + bytes.length);
    }
    bytes = bytes.clone();
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FileHandle h && Arrays.equals(bytes, h.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "FileHandle[" + HexFormat.of().formatHex(bytes) + "]";
  }
}

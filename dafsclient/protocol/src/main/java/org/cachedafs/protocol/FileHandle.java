package org.cachedafs.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An opaque, unforgeable name for a file on the server: {@link Limits#HANDLE_BYTES} random bytes the
 * server chose. It stays valid across a rename; once the file is removed, or the server restarts, it
 * is stale. The array is copied in and out, so a handle is immutable.
 */
public record FileHandle(byte[] bytes) {
  public FileHandle {
    if (bytes.length != Limits.HANDLE_BYTES) {
      throw new IllegalArgumentException("a file handle is " + Limits.HANDLE_BYTES + " bytes");
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

package org.cachedafs.nio;

import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.cachedafs.client.OpenMode;

/** A channel's {@link OpenOption}s, checked and read as the JDK's Unix provider reads them. */
record ChannelOptions(boolean read, boolean write, boolean append, boolean create, boolean createNew, boolean truncate,
    boolean sync, boolean deleteOnClose, boolean direct) {

  /** @throws IllegalArgumentException for READ with APPEND, or APPEND with TRUNCATE_EXISTING */
  static ChannelOptions of(Set<? extends OpenOption> options) {
    boolean append = options.contains(StandardOpenOption.APPEND);
    boolean write = options.contains(StandardOpenOption.WRITE) || append;
    boolean read = options.contains(StandardOpenOption.READ) || !write;
    if (append && options.contains(StandardOpenOption.READ)) {
      throw new IllegalArgumentException("READ + APPEND not allowed");
    }
    if (append && options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
      throw new IllegalArgumentException("APPEND + TRUNCATE_EXISTING not allowed");
    }
    boolean createNew = write && options.contains(StandardOpenOption.CREATE_NEW);
    boolean create = write && (createNew || options.contains(StandardOpenOption.CREATE));
    boolean truncate = write && options.contains(StandardOpenOption.TRUNCATE_EXISTING);
    boolean sync = options.contains(StandardOpenOption.SYNC) || options.contains(StandardOpenOption.DSYNC);
    return new ChannelOptions(read, write, append, create, createNew, truncate, sync, options.contains(StandardOpenOption.DELETE_ON_CLOSE),
        options.contains(com.sun.nio.file.ExtendedOpenOption.DIRECT));
  }

  /** The cache's open mode; a file it creates gets {@code permissions}. */
  OpenMode mode(int permissions) {
    OpenMode mode = read && write ? OpenMode.readWrite() : write ? OpenMode.write() : OpenMode.read();
    if (create) {
      mode = mode.create(permissions);
      if (createNew) {
        mode = mode.exclusive();
      }
    }
    return truncate ? mode.truncate() : mode;
  }
}

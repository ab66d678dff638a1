package org.cachedafs.posix;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jnr.constants.platform.Errno;

/**
 * The facade's descriptor numbers: one number space for open files of both backends and for
 * directory streams, the lowest free number first, from 3, as the kernel gives them. Looked up
 * without a lock; numbers are given out holding this.
 */
final class Descriptors {
  /** What a number stands for. */
  interface Descriptor {}

  private final Map<Integer, Descriptor> open = new ConcurrentHashMap<>();

  synchronized int add(Descriptor d) {
    int fd = 3;
    while (open.containsKey(fd)) {
      fd++;
    }
    open.put(fd, d);
    return fd;
  }

  /** The descriptor {@code fd} if it is a {@code type}; EBADF if it is none or another kind. */
  <D extends Descriptor> D get(int fd, Class<D> type) throws ErrnoException {
    Descriptor d = open.get(fd);
    if (!type.isInstance(d)) {
      throw new ErrnoException(Errno.EBADF);
    }
    return type.cast(d);
  }

  /** Takes {@code fd} out of the table if it is a {@code type}; EBADF if it is none or another kind. */
  <D extends Descriptor> D remove(int fd, Class<D> type) throws ErrnoException {
    D d = get(fd, type);
    if (!open.remove(fd, d)) {
      throw new ErrnoException(Errno.EBADF); // another thread closed it first
    }
    return d;
  }

  /** Takes {@code fd} out of the table, whatever it is; null if it is not in use. */
  Descriptor remove(int fd) {
    return open.remove(fd);
  }

  /** The numbers in use now. */
  List<Integer> numbers() {
    return new ArrayList<>(open.keySet());
  }
}

package org.cachedafs.transport.shm;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Maps memory files by descriptor, and unmaps them at a moment of our choosing.
 *
 * <p>A descriptor is mapped through its {@code /proc/self/fd} link; the channel is closed at once,
 * the mapping stays. Unmapping goes through {@code sun.misc.Unsafe.invokeCleaner} (module
 * {@code jdk.unsupported}, open to class-path code without flags): after it, any access through the
 * buffer or a view of it faults, so it is only called once a {@link Guard} says that no copy runs.
 */
final class Mappings {
  private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

  private Mappings() {}

  private static MethodHandle invokeCleaner() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field f = unsafeClass.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      Object unsafe = f.get(null);
      return MethodHandles.lookup()
          .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
          .bindTo(unsafe);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // left to the garbage collector: late, but never unsafe
    }
  }

  /** Maps the first {@code length} bytes of the file behind {@code fd}, writable or read-only. */
  static MappedByteBuffer map(int fd, long length, boolean writable) throws IOException {
    Path link = Path.of("/proc/self/fd/" + fd);
    try (FileChannel ch = writable
        ? FileChannel.open(link, StandardOpenOption.READ, StandardOpenOption.WRITE)
        : FileChannel.open(link, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < length) {
        throw new IOException("the memory file holds " + size + " bytes, fewer than the " + length + " announced");
      }
      return ch.map(writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0, length);
    }
  }

  /** Unmaps at once. The caller guarantees that nothing touches the buffer or its views any more. */
  static void unmap(MappedByteBuffer buffer) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}

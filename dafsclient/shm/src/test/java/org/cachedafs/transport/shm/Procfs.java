package org.cachedafs.transport.shm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** What this process holds, as /proc and /dev/shm show it. */
final class Procfs {
  private Procfs() {}

  /** The lines of /proc/self/maps that map a memfd. */
  static List<String> memfdMappings() {
    List<String> out = new ArrayList<>();
    for (String line : lines(Path.of("/proc/self/maps"))) {
      if (line.contains("/memfd:")) {
        out.add(line);
      }
    }
    return out;
  }

  /** The lines of /proc/self/maps that map a memory file of the domain tagged {@code tag}. */
  static List<String> mappingsOf(String tag) {
    List<String> out = new ArrayList<>();
    for (String line : memfdMappings()) {
      if (line.contains("dafs-shm-" + tag)) {
        out.add(line);
      }
    }
    return out;
  }

  /** This process's descriptors that are memfds, as "fd -> target". */
  static Set<String> memfdDescriptors() {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("/memfd:")) {
            out.add(fd.getFileName() + " -> " + target);
          }
        } catch (IOException gone) {
          // closed while listing (the listing's own descriptor, or another thread's)
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The names in /dev/shm. */
  static Set<String> devShm() {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
      s.forEach(p -> out.add(p.getFileName().toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static List<String> lines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits up to 10 s for {@code condition}; returns whether it held (threads unmap asynchronously). */
  static boolean eventually(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }
}

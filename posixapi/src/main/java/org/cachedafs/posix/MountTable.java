package org.cachedafs.posix;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Which path prefixes are DAFS mounts. A path under none of them belongs to the operating system. */
final class MountTable {
  record Mount(String prefix, DafsFiles files) {}

  /** A path under a mount, and its components below the mount's root. */
  record Resolved(Mount mount, List<String> components) {
    String relative() {
      return String.join("/", components);
    }
  }

  private final List<Mount> mounts = new CopyOnWriteArrayList<>();

  /**
   * Mounts {@code files} at {@code prefix}, in place of any mount there already (as after a session was
   * lost: a new session and cache take the prefix over; the caller closes the old ones).
   */
  void add(String prefix, DafsFiles files) {
    Mount m = new Mount("/" + String.join("/", components(absolute(prefix))), files);
    synchronized (mounts) {
      mounts.removeIf(old -> old.prefix().equals(m.prefix()));
      mounts.add(m);
    }
  }

  /** The mount {@code path} is under, longest prefix first, or null for an operating-system path. */
  Resolved resolve(String path) {
    List<String> parts = components(absolute(path));
    Mount best = null;
    int bestLen = -1;
    for (Mount m : mounts) {
      List<String> prefix = components(m.prefix());
      if (prefix.size() > bestLen && parts.size() >= prefix.size() && parts.subList(0, prefix.size()).equals(prefix)) {
        best = m;
        bestLen = prefix.size();
      }
    }
    return best == null ? null : new Resolved(best, parts.subList(bestLen, parts.size()));
  }

  /** Relative paths are taken from the process's working directory, as the kernel does. */
  static String absolute(String path) {
    return path.startsWith("/") ? path : Path.of(System.getProperty("user.dir")).resolve(path).toString();
  }

  /**
   * The components of an absolute path, with "." dropped and ".." taken back lexically (never above
   * "/"), before a mount is chosen: "/mnt/x/../dafs/f" is under "/mnt/dafs". (The kernel resolves ".."
   * through symlinks; a path that goes back out of a symlinked directory may resolve differently.)
   */
  static List<String> components(String absolute) {
    List<String> out = new ArrayList<>();
    for (String c : absolute.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
        continue;
      }
      out.add(c);
    }
    return out;
  }
}

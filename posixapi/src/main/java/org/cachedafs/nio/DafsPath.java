package org.cachedafs.nio;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;

/**
 * A path of a DAFS file system, with the rules of the JDK's Unix paths: '/' separates names, a
 * leading '/' makes it absolute, "." and ".." are names until {@link #normalize}, and the working
 * directory is the root. Immutable.
 */
final class DafsPath implements Path {
  private final DafsFileSystem fs;
  private final boolean absolute;
  private final List<String> names;

  DafsPath(DafsFileSystem fs, boolean absolute, List<String> names) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = List.copyOf(names);
  }

  static DafsPath parse(DafsFileSystem fs, String first, String... more) {
    StringBuilder sb = new StringBuilder(first);
    for (String m : more) {
      if (!m.isEmpty()) {
        if (sb.length() > 0) {
          sb.append('/');
        }
        sb.append(m);
      }
    }
    String s = sb.toString();
    if (s.indexOf('\0') >= 0) {
      throw new java.nio.file.InvalidPathException(s, "Nul character not allowed");
    }
    List<String> names = new ArrayList<>();
    for (String part : s.split("/")) {
      if (!part.isEmpty()) {
        names.add(part);
      }
    }
    return new DafsPath(fs, s.startsWith("/"), names);
  }

  static DafsPath of(Path p) {
    if (p instanceof DafsPath d) {
      return d;
    }
    throw new ProviderMismatchException("not a dafs path: " + p);
  }

  List<String> names() {
    return names;
  }

  /** The path below the export's root, as LOOKUP takes it ("" for the root). */
  String relativeToRoot() {
    return String.join("/", ((DafsPath) toAbsolutePath().normalize()).names);
  }

  @Override
  public FileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public Path getRoot() {
    return absolute ? new DafsPath(fs, true, List.of()) : null;
  }

  @Override
  public Path getFileName() {
    return names.isEmpty() ? null : new DafsPath(fs, false, List.of(names.get(names.size() - 1)));
  }

  @Override
  public Path getParent() {
    if (names.isEmpty() || (names.size() == 1 && !absolute)) {
      return null;
    }
    return new DafsPath(fs, absolute, names.subList(0, names.size() - 1));
  }

  @Override
  public int getNameCount() {
    return names.size();
  }

  @Override
  public Path getName(int index) {
    return new DafsPath(fs, false, List.of(names.get(index)));
  }

  @Override
  public Path subpath(int begin, int end) {
    if (begin < 0 || end > names.size() || begin >= end) {
      throw new IllegalArgumentException("subpath(" + begin + ", " + end + ") of " + this);
    }
    return new DafsPath(fs, false, names.subList(begin, end));
  }

  @Override
  public boolean startsWith(Path other) {
    if (!(other instanceof DafsPath o) || o.fs != fs || o.absolute != absolute || o.names.size() > names.size()) {
      return false;
    }
    return names.subList(0, o.names.size()).equals(o.names);
  }

  @Override
  public boolean endsWith(Path other) {
    if (!(other instanceof DafsPath o) || o.fs != fs || o.names.size() > names.size() || (o.absolute && !absolute)) {
      return false;
    }
    if (o.absolute) {
      return equals(o);
    }
    return names.subList(names.size() - o.names.size(), names.size()).equals(o.names);
  }

  @Override
  public Path normalize() {
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".")) {
        continue;
      }
      if (n.equals("..")) {
        if (!out.isEmpty() && !out.get(out.size() - 1).equals("..")) {
          out.remove(out.size() - 1);
          continue;
        }
        if (absolute) {
          continue; // "/.." is "/"
        }
      }
      out.add(n);
    }
    return new DafsPath(fs, absolute, out);
  }

  @Override
  public Path resolve(Path other) {
    DafsPath o = of(other);
    if (o.absolute) {
      return o;
    }
    if (o.names.isEmpty()) {
      return this;
    }
    List<String> all = new ArrayList<>(names);
    all.addAll(o.names);
    return new DafsPath(fs, absolute, all);
  }

  @Override
  public Path relativize(Path other) {
    DafsPath o = of(other);
    if (o.absolute != absolute) {
      throw new IllegalArgumentException("'other' is different type of Path");
    }
    int common = 0;
    while (common < names.size() && common < o.names.size() && names.get(common).equals(o.names.get(common))) {
      common++;
    }
    List<String> out = new ArrayList<>();
    for (int i = common; i < names.size(); i++) {
      out.add("..");
    }
    out.addAll(o.names.subList(common, o.names.size()));
    return new DafsPath(fs, false, out);
  }

  @Override
  public URI toUri() {
    try {
      URI server = URI.create("dafs://" + fs.authority());
      return new URI("dafs", null, server.getHost(), server.getPort(), "/" + String.join("/", ((DafsPath) toAbsolutePath()).names), null, null);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Path toAbsolutePath() {
    return absolute ? this : new DafsPath(fs, true, names);
  }

  @Override
  public Path toRealPath(LinkOption... options) throws java.io.IOException {
    DafsPath real = (DafsPath) toAbsolutePath().normalize();
    fs.provider().checkAccess(real);
    return real;
  }

  @Override
  public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("dafs paths cannot be watched");
  }

  @Override
  public int compareTo(Path other) {
    return toString().compareTo(of(other).toString());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DafsPath p && p.fs == fs && p.absolute == absolute && p.names.equals(names);
  }

  @Override
  public int hashCode() {
    return names.hashCode() * 31 + (absolute ? 1 : 0);
  }

  @Override
  public String toString() {
    return (absolute ? "/" : "") + String.join("/", names);
  }
}

package org.cachedafs.nio;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.client.ClientOptions;

/**
 * The {@code env} of {@code FileSystems.newFileSystem(URI, env)}, checked and turned into the session's
 * and the cache's settings. The one place that knows the keys (docs/nio.md lists them):
 *
 * <table>
 *   <caption>The keys</caption>
 *   <tr><th>key</th><th>value</th></tr>
 *   <tr><td>{@code secret}</td><td>String (UTF-8), byte[] or char[]</td></tr>
 *   <tr><td>{@code cache.size}, {@code block.size}</td><td>bytes: a Number, or a String with an optional k, m or g suffix</td></tr>
 *   <tr><td>{@code transport}</td><td>{@code auto}, {@code tcp} or {@code shm}</td></tr>
 *   <tr><td>{@code client.name}</td><td>String</td></tr>
 *   <tr><td>{@code connect.timeout}</td><td>a Duration; a Number of milliseconds; a String such as {@code 500ms} or {@code 10s}</td></tr>
 *   <tr><td>{@code read.ahead}, {@code uncached}</td><td>a Boolean, or the String {@code true} or {@code false}</td></tr>
 * </table>
 *
 * <p>A mistake is refused before anything connects: an unknown key (a typo would otherwise be a setting
 * silently not made) or a value of the wrong type is an {@link IllegalArgumentException} that names the
 * key, and a bad size or duration names the value as well. A key mapped to null counts as not given.
 *
 * @param client how the session connects
 * @param cache the cache's shape
 * @param uncached whether every file is opened around the cache
 */
record FileSystemEnv(ClientOptions client, CacheConfig cache, boolean uncached) {
  static final Set<String> KEYS = Set.of("secret", "cache.size", "block.size", "transport", "client.name", "connect.timeout", "read.ahead",
      "uncached");
  private static final Set<String> TRANSPORTS = Set.of("auto", "tcp", "shm");
  private static final String DURATIONS = "a java.time.Duration, a Number of milliseconds, or a String as \"500ms\" or \"10s\"";

  static FileSystemEnv parse(Map<String, ?> env) {
    for (String key : env.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown dafs env key \"" + key + "\"; the keys are " + String.join(", ", new TreeSet<>(KEYS)));
      }
    }
    ClientOptions options = ClientOptions.defaults();
    Object secret = env.get("secret");
    if (secret instanceof String s) {
      options = options.withSecret(s.getBytes(StandardCharsets.UTF_8));
    } else if (secret instanceof byte[] b) {
      options = options.withSecret(b);
    } else if (secret instanceof char[] c) {
      options = options.withSecret(new String(c).getBytes(StandardCharsets.UTF_8));
    } else if (secret != null) {
      throw wrongType("secret", "a String, byte[] or char[]", secret);
    }
    Object transport = env.get("transport");
    if (transport != null) {
      if (!(transport instanceof String t) || !TRANSPORTS.contains(t.trim().toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("dafs env key \"transport\" must be auto, tcp or shm, not " + shown(transport));
      }
      options = options.withTransport(t);
    }
    Object name = env.get("client.name");
    if (name != null) {
      if (!(name instanceof String n)) {
        throw wrongType("client.name", "a String", name);
      }
      options = options.withClientName(n);
    }
    Object timeout = env.get("connect.timeout");
    if (timeout != null) {
      options = options.withConnectTimeout(duration("connect.timeout", timeout));
    }
    CacheConfig config = CacheConfig.defaults();
    Object block = env.get("block.size");
    if (block != null) {
      long b = bytes("block.size", block);
      // Clamped into an int, which the cache then refuses with its own reason (a power of two, at most 1 MiB).
      config = sized("block.size", block, () -> CacheConfig.defaults().withBlockSize((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, b))));
    }
    Object size = env.get("cache.size");
    if (size != null) {
      long c = bytes("cache.size", size);
      CacheConfig withBlock = config;
      config = sized("cache.size", size, () -> withBlock.withCapacity(c));
    }
    Boolean readAhead = bool("read.ahead", env.get("read.ahead"));
    if (readAhead != null) {
      config = config.withReadAhead(readAhead);
    }
    Boolean uncached = bool("uncached", env.get("uncached"));
    return new FileSystemEnv(options, config, uncached != null && uncached);
  }

  /** A size as a Number, or text with an optional k, m or g suffix: "256m", "64k", "1048576". */
  private static long bytes(String key, Object v) {
    if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
      return ((Number) v).longValue();
    }
    if (!(v instanceof String text)) {
      throw badSize(key, v, "bytes as a whole Number, or a String with an optional k, m or g suffix, as \"256m\"");
    }
    String s = text.trim().toLowerCase(Locale.ROOT);
    int shift = s.endsWith("k") ? 10 : s.endsWith("m") ? 20 : s.endsWith("g") ? 30 : 0;
    if (shift != 0) {
      s = s.substring(0, s.length() - 1).trim();
    }
    try {
      long n = Long.parseLong(s);
      if (n > Long.MAX_VALUE >> shift || n < Long.MIN_VALUE >> shift) {
        throw badSize(key, v, "too large");
      }
      return n << shift;
    } catch (NumberFormatException e) {
      throw badSize(key, v, "bytes, with an optional k, m or g suffix, as \"256m\"");
    }
  }

  /** The cache's own checks (a power of two, room for 8 blocks, ...), named as the key and value that failed them. */
  private static CacheConfig sized(String key, Object value, Supplier<CacheConfig> config) {
    try {
      return config.get();
    } catch (IllegalArgumentException e) {
      throw badSize(key, value, e.getMessage());
    }
  }

  /** A duration as a {@link Duration}, a Number of milliseconds, or text: "500ms", "10s", "2500". */
  private static Duration duration(String key, Object v) {
    Duration d;
    if (v instanceof Duration given) {
      d = given;
    } else if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
      d = Duration.ofMillis(((Number) v).longValue());
    } else if (v instanceof String text) {
      String s = text.trim().toLowerCase(Locale.ROOT);
      boolean seconds = s.endsWith("s") && !s.endsWith("ms");
      s = s.endsWith("ms") ? s.substring(0, s.length() - 2) : seconds ? s.substring(0, s.length() - 1) : s;
      try {
        long n = Long.parseLong(s.trim());
        d = seconds ? Duration.ofSeconds(n) : Duration.ofMillis(n);
      } catch (NumberFormatException e) {
        throw badDuration(key, v, DURATIONS);
      }
    } else {
      throw badDuration(key, v, DURATIONS);
    }
    if (d.isNegative() || d.isZero()) {
      throw badDuration(key, v, "it must be positive");
    }
    return d;
  }

  /** A Boolean, or the text true or false in any case; null if not given. */
  private static Boolean bool(String key, Object v) {
    if (v == null || v instanceof Boolean) {
      return (Boolean) v;
    }
    if (v instanceof String s && (s.trim().equalsIgnoreCase("true") || s.trim().equalsIgnoreCase("false"))) {
      return Boolean.valueOf(s.trim());
    }
    throw new IllegalArgumentException("dafs env key \"" + key + "\" must be true or false, not " + shown(v));
  }

  private static IllegalArgumentException wrongType(String key, String expected, Object v) {
    return new IllegalArgumentException("dafs env key \"" + key + "\" must be " + expected + ", not " + shown(v));
  }

  private static IllegalArgumentException badSize(String key, Object v, String why) {
    return new IllegalArgumentException("dafs env key \"" + key + "\" has a bad size " + shown(v) + ": " + why);
  }

  private static IllegalArgumentException badDuration(String key, Object v, String why) {
    return new IllegalArgumentException("dafs env key \"" + key + "\" has a bad duration " + shown(v) + ": " + why);
  }

  /** A value as a message shows it: text quoted, a number or flag with its type, anything else by its type alone. */
  private static String shown(Object v) {
    if (v instanceof String s) {
      return "\"" + s + "\"";
    }
    if (v instanceof Number || v instanceof Boolean || v instanceof Duration) {
      return v + " (" + v.getClass().getSimpleName() + ")";
    }
    return "a " + v.getClass().getSimpleName();
  }
}

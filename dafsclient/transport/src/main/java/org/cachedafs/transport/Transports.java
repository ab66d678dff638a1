package org.cachedafs.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds transport providers by scheme through {@link ServiceLoader}. */
public final class Transports {
  private Transports() {}

  /** Every provider on the class path, available or not. */
  public static List<Transport> all() {
    List<Transport> list = new ArrayList<>();
    ServiceLoader.load(Transport.class, Transports.class.getClassLoader()).forEach(list::add);
    return list;
  }

  /**
   * The provider for {@code scheme}.
   *
   * @throws IllegalArgumentException if none is installed, or if it cannot run here (with its reason)
   */
  public static Transport forScheme(String scheme) {
    for (Transport t : all()) {
      if (t.scheme().equalsIgnoreCase(scheme)) {
        if (!t.isAvailable()) {
          throw new IllegalArgumentException("transport '" + scheme + "' is not available here: " + t.unavailableReason());
        }
        return t;
      }
    }
    throw new IllegalArgumentException("no transport named '" + scheme + "' is installed");
  }
}

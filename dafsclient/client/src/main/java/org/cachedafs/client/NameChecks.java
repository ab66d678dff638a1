package org.cachedafs.client;

import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;

/**
 * The names and paths the server would refuse, refused by the client before anything is sent.
 *
 * <p>The server's decoder ({@code WireReader.getString}) refuses a string over its limit, with a NUL,
 * or not valid UTF-8, as a malformed request (BADXDR), and its name checks ({@code Export.checkName},
 * {@code Export.lookup}) refuse a name or path component over {@link Limits#MAX_NAME} as NAMETOOLONG.
 * A malformed request is the peer's fault and gets no useful status; refused here, the caller gets the
 * status a local file system gives (ENAMETOOLONG, EINVAL) and no request is spent. Lengths are counted
 * in UTF-8 bytes, as on the wire. A lone surrogate has no UTF-8 form (Java would send {@code '?'} in
 * its place, naming another file), so it is refused too, as the JDK's own paths refuse it.
 *
 * <p>Only what makes a string unsendable or too long is checked; what a name means ({@code ..}, a
 * {@code '/'} in a name, an empty name) is the server's to judge, and its answer costs nothing more.
 */
final class NameChecks {
  private NameChecks() {}

  /** Why the server would refuse the names {@code body} carries, or null if it carries none it would refuse. */
  static DafsException refusal(Requests.Request body) {
    if (body instanceof Requests.Lookup r) {
      return path("path", r.path());
    }
    if (body instanceof Requests.Entry r) {
      return name("name", r.name());
    }
    if (body instanceof Requests.Open r) {
      return name("name", r.name());
    }
    if (body instanceof Requests.Rename r) {
      DafsException from = name("from name", r.fromName());
      return from != null ? from : name("to name", r.toName());
    }
    if (body instanceof Requests.AuthInit r) {
      return limited("client name", r.clientName(), Limits.MAX_CLIENT_NAME, "MAX_CLIENT_NAME");
    }
    return null;
  }

  /** One directory entry's name. */
  static DafsException name(String what, String name) {
    return limited(what, name, Limits.MAX_NAME, "MAX_NAME");
  }

  /** A relative path: as a whole within {@link Limits#MAX_PATH}, each component within {@link Limits#MAX_NAME}. */
  static DafsException path(String what, String path) {
    DafsException whole = limited(what, path, Limits.MAX_PATH, "MAX_PATH");
    if (whole != null) {
      return whole;
    }
    for (String component : path.split("/")) {
      int bytes = utf8Length(component);
      if (bytes > Limits.MAX_NAME) {
        return new DafsException(Status.NAMETOOLONG,
            "a component of the " + what + " is " + bytes + " bytes, over the limit of " + Limits.MAX_NAME + " (Limits.MAX_NAME)");
      }
    }
    return null;
  }

  private static DafsException limited(String what, String s, int limit, String limitName) {
    int bytes = utf8Length(s);
    if (bytes > limit) {
      return new DafsException(Status.NAMETOOLONG, "the " + what + " is " + bytes + " bytes, over the limit of " + limit + " (Limits." + limitName + ")");
    }
    if (s.indexOf('\0') >= 0) {
      return new DafsException(Status.INVAL, "the " + what + " contains a NUL character");
    }
    if (hasUnpairedSurrogate(s)) {
      return new DafsException(Status.INVAL, "the " + what + " contains an unpaired surrogate, which has no UTF-8 form");
    }
    return null;
  }

  /** The length of {@code s} in UTF-8, as the JDK encodes it (an unpaired surrogate as one byte, '?'), without encoding it. */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        n += 1;
      } else {
        n += 3;
      }
    }
    return n;
  }

  private static boolean hasUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}

package org.cachedafs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a process waiting in the mount has been signalled, read from {@code /proc/PID/status}.
 *
 * <p>An F_SETLKW waits in the mount, not in the kernel, and libfuse 2's high-level API passes the
 * kernel's interrupt on only by signalling the mount's own thread (its {@code intr} option), which a JVM
 * cannot take. So the wait looks at the waiter instead: a signal it neither blocks nor ignores is
 * pending (a SIGKILL, or one its handler will take), or it is gone, and the lock call then ends with
 * EINTR, as fcntl(2) does when a signal interrupts it. Without this a killed waiter would stay in the
 * kernel until the lock came free.
 */
final class PendingSignals {
  private PendingSignals() {}

  static boolean interrupted(int pid) {
    long pending = 0;
    long blocked = 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("SigPnd:") || line.startsWith("ShdPnd:")) {
          pending |= mask(line);
        } else if (line.startsWith("SigBlk:") || line.startsWith("SigIgn:")) {
          blocked |= mask(line);
        }
      }
    } catch (IOException e) {
      return true; // gone
    }
    return (pending & ~blocked) != 0;
  }

  private static long mask(String line) {
    return Long.parseUnsignedLong(line.substring(line.indexOf(':') + 1).trim(), 16);
  }
}

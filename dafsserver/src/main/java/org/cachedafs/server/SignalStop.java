package org.cachedafs.server;

import java.util.concurrent.CountDownLatch;

/**
 * Turns SIGTERM and SIGINT into an orderly stop: the main thread closes the server (ending sessions,
 * closing files) and the process exits 0, rather than dying in a shutdown hook with 143.
 */
final class SignalStop {
  private SignalStop() {}

  @SuppressWarnings("sunapi")
  static void install(CountDownLatch stop) {
    sun.misc.SignalHandler handler = sig -> stop.countDown();
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
  }
}

package org.cachedafs.client;

import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Locale;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.slf4j.Logger;

/**
 * Moving a session from the tcp connection it authenticated on to {@code shm}, when the server is on
 * this host and offers it (the {@code transport} setting: {@code auto}, {@code tcp} or {@code shm}).
 *
 * <p>The move: TRANSPORT_OFFERS over the authenticated connection returns the server's shm socket
 * path and a one-time credential; the shm listener admits the credential before it shares any
 * memory with this process; the session is then bound to the shm connection with its key, as on a
 * reconnect, and the bind's reply proves that the server there holds the session key: the same
 * server process, not another one at that path (which only the server's own user can reach: the
 * socket's directory is 0700). Only a client that reached the server over loopback is offered shm. A session whose memory lives in the shm domain must move again after every reconnect,
 * since its regions cannot be reached over tcp.
 *
 * <p>Owns the shm domain while the session might use it: {@link #close} releases it.
 */
final class TransportMove {
  private static final Logger log = Loggers.get(TransportMove.class);

  /** The transport setting. */
  enum Mode {
    AUTO, TCP, SHM;

    static Mode of(String setting) {
      try {
        return valueOf(setting.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("transport must be auto, tcp or shm, not '" + setting + "'");
      }
    }
  }

  private final Mode mode;
  /** The shm provider, or null where it cannot run here ({@link #unavailable} says why). */
  private final Transport shm;
  private final String unavailable;
  /** Opened only when a move may happen; owned here until {@link #close}. */
  private final MemoryDomain domain;
  /** Guarded by this. */
  private boolean closed;

  TransportMove(Mode mode) {
    this.mode = mode;
    Transport found = null;
    String why = "the shm transport is not installed";
    if (mode != Mode.TCP) {
      for (Transport t : Transports.all()) {
        if (t.scheme().equals("shm")) {
          why = t.isAvailable() ? null : t.unavailableReason();
          found = t.isAvailable() ? t : null;
        }
      }
    }
    if (mode == Mode.SHM && found == null) {
      throw new IllegalArgumentException("transport=shm: shm cannot be used here: " + why);
    }
    this.shm = found;
    this.unavailable = why;
    this.domain = found == null ? null : found.openDomain();
  }

  /** Whether sessions try to move at all. */
  boolean wanted() {
    return shm != null;
  }

  /** Whether a session that cannot move must fail ({@code transport=shm}) rather than stay on tcp. */
  boolean required() {
    return mode == Mode.SHM;
  }

  /** The domain of the transport sessions move to (null if they never do). */
  MemoryDomain domain() {
    return domain;
  }

  /**
   * Asks the server on {@code bootstrap} (a connection bound to the session) for its shm offer and
   * connects there. Returns the new connection, not yet bound; null if it cannot be done and
   * {@code required} is false (the reason is logged).
   *
   * @throws DafsException if it cannot be done and {@code required} (the mode is {@code shm}, or the
   *     session's memory already lives in the shm domain), saying why
   */
  Connection connect(Connection bootstrap, RequestPipeline pipeline, ConnectionHandler handler, String server, boolean required,
      Duration timeout) throws DafsException {
    Replies.Offers offers = (Replies.Offers) pipeline.exchange(bootstrap, Opcode.TRANSPORT_OFFERS, Requests.NoArgs.INSTANCE, timeout);
    Replies.Offer offer = offers.offers().stream().filter(o -> o.scheme().equals("shm")).findFirst().orElse(null);
    if (offer == null) {
      return stayOrFail(required, "the server at " + server + " offers no shm transport (only clients that reach it over loopback "
          + "are offered it; or it runs with --no-shm, or cannot run shm)");
    }
    SocketAddress address;
    try {
      address = shm.parseAddress(offer.address());
    } catch (IllegalArgumentException e) {
      return stayOrFail(required, "the server at " + server + " offered an unusable shm address: " + e.getMessage());
    }
    try {
      return shm.connect(address, domain, handler, ConnectionLimits.defaults(), offer.credential());
    } catch (IOException | RuntimeException e) {
      return stayOrFail(required, "could not reach the shm endpoint " + offer.address() + " of the server at " + server + ": "
          + e.getMessage() + " (its socket is in a directory only the server's user may enter)");
    }
  }

  private Connection stayOrFail(boolean required, String why) throws DafsException {
    if (required) {
      throw new DafsException(Status.NOTSUPP, "transport=shm: " + why);
    }
    log.debug("staying on tcp: {}", why);
    return null;
  }

  /** Releases the shm domain; the caller no longer uses it (never moved, or the session is over). */
  synchronized void close() {
    if (domain != null && !closed) {
      closed = true;
      domain.close();
    }
  }

  @Override
  public String toString() {
    return "transport=" + mode.name().toLowerCase(Locale.ROOT) + (shm == null && mode != Mode.TCP ? " (shm: " + unavailable + ")" : "");
  }
}

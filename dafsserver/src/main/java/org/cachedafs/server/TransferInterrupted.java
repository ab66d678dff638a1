package org.cachedafs.server;

/**
 * A direct transfer's connection went away (or the session moved to a new one) while its data was on
 * the wire. The data may never have arrived, so the request gets no reply and its slot keeps no
 * cached reply: the client's retransmission on the new connection runs it again.
 */
final class TransferInterrupted extends Exception {
  TransferInterrupted(String message) {
    super(message, null, false, false);
  }
}

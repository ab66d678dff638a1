package org.cachedafs.server;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.MalformedFrameException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;

/** A hand-driven connection for sending exactly the bytes a test wants, well-formed or not. */
final class RawClient implements AutoCloseable {
  /** What came back after a frame. */
  record Outcome(FrameHeader reply, int transportType, boolean closed) {
    static final Outcome CLOSED = new Outcome(null, 0, true);
    static final Outcome NOTHING = new Outcome(null, 0, false);

    boolean answered() {
      return closed || transportType != 0;
    }
  }

  final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  long sessionId;
  FileHandle root;
  private long nextId = 1;

  RawClient(InetSocketAddress server) throws IOException {
    this(server, 0);
  }

  /** @param receiveBuffer the socket's receive buffer, set before connecting (0: the default) */
  RawClient(InetSocketAddress server, int receiveBuffer) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(server, 10_000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** The tcp transport's frame header, in bytes. */
  static final int TCP_HEADER = 40;

  /** Wraps a protocol frame in a tcp transport MSG header. */
  static byte[] msg(ByteBuffer frame) {
    ByteBuffer b = ByteBuffer.allocate(TCP_HEADER + frame.remaining());
    b.putInt(frame.remaining()).put((byte) 1).put((byte) 0).putShort((short) 0).putLong(0).putInt(0).putInt(0).putLong(0).putLong(0);
    b.put(frame.duplicate());
    return b.array();
  }

  void send(ByteBuffer frame) throws IOException {
    sendRaw(msg(frame));
  }

  ByteBuffer request(Opcode op, Requests.Request body, int slot, int sequence) {
    return Codec.encode(FrameHeader.request(op, nextId++, sessionId, slot, sequence), body);
  }

  /** Waits for the next message, or for the server to close the connection. */
  Outcome await(int timeoutMillis) throws IOException {
    socket.setSoTimeout(timeoutMillis);
    try {
      byte[] header = new byte[TCP_HEADER];
      in.readFully(header);
      int length = ByteBuffer.wrap(header).getInt(0);
      byte[] payload = new byte[length];
      in.readFully(payload);
      int type = header[4];
      if (type != 1) {
        return new Outcome(null, type, false);
      }
      return new Outcome(Codec.decodeHeader(ByteBuffer.wrap(payload)), type, false);
    } catch (EOFException | java.net.SocketException e) {
      return Outcome.CLOSED;
    } catch (SocketTimeoutException e) {
      return Outcome.NOTHING;
    } catch (MalformedFrameException e) {
      throw new IOException("the server sent a malformed frame", e);
    }
  }

  /** Runs the handshake; returns the status of SESSION_CREATE. */
  Status handshake(byte[] secret) throws IOException {
    return handshake(secret, "raw", 4);
  }

  /** Runs the handshake as {@code name}, asking for {@code credits}; returns the status of SESSION_CREATE. */
  Status handshake(byte[] secret, String name, int credits) throws IOException {
    byte[] clientId = new byte[org.cachedafs.protocol.Limits.CLIENT_ID_BYTES];
    new SecureRandom().nextBytes(clientId);
    return handshake(secret, name, credits, clientId);
  }

  /** The server's boot verifier, from the last AUTH_INIT's reply. */
  long boot;

  /** Runs the handshake as the client {@code clientId} named {@code name}; returns the status of SESSION_CREATE. */
  Status handshake(byte[] secret, String name, int credits, byte[] clientId) throws IOException {
    send(request(Opcode.AUTH_INIT, new Requests.AuthInit(name), -1, 0));
    ByteBuffer reply = readMessage();
    FrameHeader h = decodeHeader(reply);
    Replies.Challenge challenge = (Replies.Challenge) decodeBody(h, reply);
    byte[] serverNonce = challenge.serverNonce();
    boot = challenge.boot();
    byte[] clientNonce = Handshake.nonce(new SecureRandom());
    java.security.KeyPair ephemeral = Handshake.ephemeral();
    byte[] share = Handshake.share(ephemeral);
    byte[] proof = Handshake.clientProof(secret, serverNonce, clientNonce, name, share, clientId);
    send(request(Opcode.SESSION_CREATE, new Requests.SessionCreate(clientNonce, share, proof, credits, 30_000, clientId), -1, 0));
    reply = readMessage();
    h = decodeHeader(reply);
    if (h.status() == Status.OK) {
      Replies.SessionGranted g = (Replies.SessionGranted) decodeBody(h, reply);
      sessionId = g.sessionId();
      root = g.root();
    }
    return h.status();
  }

  /** AUTH_INIT as {@code name}; returns the server's challenge. */
  byte[] challenge(String name) throws IOException {
    Answer a = call(Opcode.AUTH_INIT, new Requests.AuthInit(name), -1, 0);
    return ((Replies.Challenge) a.body()).serverNonce();
  }

  /** A reply and its decoded body (null if the body did not decode). */
  record Answer(FrameHeader header, org.cachedafs.protocol.Body body) {
    Status status() {
      return header.status();
    }
  }

  /** Sends one request and reads its reply, skipping anything else the server sends meanwhile. */
  Answer call(Opcode op, Requests.Request body, int slot, int sequence) throws IOException {
    ByteBuffer frame = request(op, body, slot, sequence);
    long id = frame.getLong(16);
    send(frame);
    return answerTo(id);
  }

  /** Reads messages until the reply to request {@code id}. */
  Answer answerTo(long id) throws IOException {
    while (true) {
      ByteBuffer m = readMessage();
      FrameHeader h = decodeHeader(m);
      if (h.kind() != org.cachedafs.protocol.FrameKind.REPLY || h.requestId() != id) {
        continue;
      }
      try {
        return new Answer(h, Codec.decodeBody(h, m));
      } catch (MalformedFrameException e) {
        return new Answer(h, null);
      }
    }
  }

  ByteBuffer readMessage() throws IOException {
    socket.setSoTimeout(10_000);
    while (true) {
      byte[] header = new byte[TCP_HEADER];
      in.readFully(header);
      byte[] payload = new byte[ByteBuffer.wrap(header).getInt(0)];
      in.readFully(payload);
      if (header[4] == 1) {
        return ByteBuffer.wrap(payload); // a message; one-sided data frames are not for this reader
      }
    }
  }

  static FrameHeader decodeHeader(ByteBuffer b) throws IOException {
    try {
      return Codec.decodeHeader(b);
    } catch (MalformedFrameException e) {
      throw new IOException(e);
    }
  }

  static org.cachedafs.protocol.Body decodeBody(FrameHeader h, ByteBuffer b) throws IOException {
    try {
      return Codec.decodeBody(h, b);
    } catch (MalformedFrameException e) {
      throw new IOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

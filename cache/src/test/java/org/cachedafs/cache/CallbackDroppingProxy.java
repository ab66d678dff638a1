package org.cachedafs.cache;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;

/**
 * A loopback proxy that breaks only the callback path: it forwards everything except the server's
 * callbacks (CB_RECALL), so a client behind it keeps renewing its lease but never hears a recall.
 */
final class CallbackDroppingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final InetSocketAddress upstream;

  CallbackDroppingProxy(InetSocketAddress upstream) throws IOException {
    this.upstream = upstream;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon(this::acceptLoop);
  }

  URI uri() {
    return URI.create("tcp://127.0.0.1:" + listener.getLocalPort());
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r, "callback-dropping-proxy");
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(upstream.getAddress(), upstream.getPort());
        daemon(() -> copy(client, server));
        daemon(() -> filter(server, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void copy(Socket from, Socket to) {
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      in.transferTo(out);
    } catch (IOException ignored) {
      // One side closed.
    }
  }

  /** Server to client, frame by frame (40-byte transport header, then payload); callbacks are dropped. */
  private static void filter(Socket server, Socket client) {
    try (DataInputStream in = new DataInputStream(server.getInputStream()); OutputStream out = client.getOutputStream()) {
      byte[] header = new byte[40]; // the tcp transport's frame header
      while (true) {
        in.readFully(header);
        int length = java.nio.ByteBuffer.wrap(header).getInt(0);
        byte[] payload = new byte[length];
        in.readFully(payload);
        boolean callback = header[4] == 1 && length > 5 && payload[5] == 3;
        if (!callback) {
          out.write(header);
          out.write(payload);
          out.flush();
        }
      }
    } catch (IOException ignored) {
      // One side closed.
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}

package org.cachedafs.server;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Small processes for {@link FaultRigIT}, run inside the rig's hosts or beside it:
 * <ul>
 *   <li>{@code sink ADDRESS PORT}: accepts connections; reads a count, then that many bytes, and answers
 *       with one byte (a connection closed before is just dropped);
 *   <li>{@code send ADDRESS PORT BYTES}: sends BYTES to a sink and prints {@code sent N in MS ms};
 *   <li>{@code rig-then-exit FILE}: makes a rig, writes its name to FILE and exits without closing it
 *       (its shutdown hook must clean up);
 *   <li>{@code rig-then-wait FILE}: the same, then waits to be killed (the next rig's start must sweep it).
 * </ul>
 */
public final class RigProbeMain {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "sink" -> sink(args[1], Integer.parseInt(args[2]));
      case "send" -> send(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      case "rig-then-exit", "rig-then-wait" -> {
        FaultRig rig = FaultRig.start(1);
        rig.exec(rig.client(1), java.util.List.of("sleep", "600")); // something running in it, for the cleanup to end
        Files.writeString(Path.of(args[1]), rig.name());
        if (args[0].equals("rig-then-wait")) {
          Thread.sleep(600_000);
        }
        System.exit(0);
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  private static void sink(String address, int port) throws Exception {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(address, port));
      System.out.println("listening");
      System.out.flush();
      while (true) {
        try (Socket c = s.accept()) {
          DataInputStream in = new DataInputStream(c.getInputStream());
          in.skipNBytes(in.readInt());
          c.getOutputStream().write(1);
        } catch (java.io.IOException e) {
          // A peer that only connected (a reachability probe) and left: wait for the next.
        }
      }
    }
  }

  private static void send(String address, int port, int bytes) throws Exception {
    long t0 = System.nanoTime();
    try (Socket c = new Socket()) {
      c.connect(new InetSocketAddress(address, port), 10_000);
      DataOutputStream out = new DataOutputStream(c.getOutputStream());
      out.writeInt(bytes);
      out.write(new byte[bytes]);
      out.flush();
      if (c.getInputStream().read() != 1) {
        throw new IllegalStateException("the sink did not confirm");
      }
    }
    System.out.println("sent " + bytes + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }
}

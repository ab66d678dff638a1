package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;

/**
 * A process on the server's host that changes exported files behind the server's back, one command a
 * line, answering "ok done" once the change is done and every descriptor it opened is closed (or "error
 * ..."). It must be a process of its own: the local-writer fence lets the server's own process by.
 *
 * <ul>
 *   <li>{@code write NAME OFFSET HEX}: opens the file, writes the bytes there, closes (as dd does);
 *   <li>{@code truncate-open NAME LENGTH}: opens the file, truncates it, closes (as truncate -s does);
 *   <li>{@code truncate-path NAME LENGTH}: truncate(2) by path, opening nothing (perl's truncate);
 *   <li>{@code rename NAME}: renames the file away and back (two rename(2)s, the same inode);
 *   <li>{@code replace NAME HEX}: writes a new file beside it and renames it over the name;
 *   <li>{@code recreate NAME HEX}: unlink(2), then a new file under the name.
 * </ul>
 */
public final class LocalOpsMain {
  private LocalOpsMain() {}

  /** The bytes given in hex as word {@code i}: none when the word is missing (an empty file). */
  private static byte[] bytesAt(String[] w, int i) {
    return w.length > i ? HexFormat.of().parseHex(w[i]) : new byte[0];
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    out.println("ready");
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.split(" ");
      try {
        Path file = dir.resolve(w[1]);
        switch (w[0]) {
          case "write" -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
              ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(w[3]));
              long at = Long.parseLong(w[2]);
              while (b.hasRemaining()) {
                at += ch.write(b, at);
              }
            }
          }
          case "truncate-open" -> {
            // ftruncate(2) either way: FileChannel.truncate never extends a file.
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
              raf.setLength(Long.parseLong(w[2]));
            }
          }
          case "truncate-path" -> {
            Process p = new ProcessBuilder("perl", "-e", "truncate($ARGV[0], $ARGV[1]) or die \"$!\\n\"", file.toString(), w[2])
                .redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
              throw new IllegalStateException("perl truncate: " + said);
            }
          }
          case "rename" -> {
            Path away = file.resolveSibling(w[1] + ".away");
            Files.move(file, away);
            Files.move(away, file);
          }
          case "replace" -> {
            Path fresh = file.resolveSibling(w[1] + ".new");
            Files.write(fresh, bytesAt(w, 2));
            Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          }
          case "recreate" -> {
            Files.delete(file);
            Files.write(file, bytesAt(w, 2));
          }
          default -> throw new IllegalArgumentException("unknown command " + w[0]);
        }
        out.println("ok done");
      } catch (Exception e) {
        out.println("error " + e);
      }
    }
  }
}

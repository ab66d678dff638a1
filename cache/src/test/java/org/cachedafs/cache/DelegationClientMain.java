package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.SetAttributes;

/**
 * A client process for the multi-process delegation tests, driven line by line on stdin. Under a
 * WRITE delegation it keeps writes in memory (dirty, not yet on the server), as a cache does, and
 * flushes them when the delegation is recalled; what it prints lets the test see each step.
 *
 * <p>Commands: {@code open NAME r|rw|rwt}, {@code write NAME OFFSET TEXT}, {@code writethrough NAME OFFSET TEXT},
 * {@code read NAME}, {@code setsize NAME N}, {@code getattr NAME}, {@code remove NAME}, {@code rename FROM TO},
 * {@code lock NAME}, {@code close NAME}, {@code listener delay MS|never}, {@code stats}, {@code quit}. Each
 * gets one line, {@code ok ... ms=N at=EPOCHMS} or {@code error STATUS ...}; asynchronous lines start
 * with {@code event}.
 */
public final class DelegationClientMain {
  private record Dirty(long offset, byte[] data) {}

  private final DafsSession session;
  private final SessionDelegations delegations;
  private final Map<String, OpenFile> opens = new ConcurrentHashMap<>();
  private final Map<FileHandle, OpenFile> byHandle = new ConcurrentHashMap<>();
  private final Map<FileHandle, List<Dirty>> dirty = new ConcurrentHashMap<>();
  private volatile long delayMillis;
  private volatile boolean never;

  DelegationClientMain(URI uri) throws Exception {
    session = DafsClient.connect(uri, ClientOptions.defaults().withClientName("proc-" + ProcessHandle.current().pid()));
    delegations = new SessionDelegations(session, new DelegationTracker.Listener<>() {
      @Override
      public CompletableFuture<Void> onRecall(DelegationTracker.Held<FileHandle> d) {
        say("event recalled " + Long.toHexString(d.id()) + " at=" + System.currentTimeMillis());
        if (never) {
          return new CompletableFuture<>();
        }
        return CompletableFuture.runAsync(() -> flush(d.key()), CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS));
      }

      @Override
      public void onRevoked(DelegationTracker.Held<FileHandle> d) {
        List<Dirty> lost = dirty.remove(d.key());
        say("event revoked " + Long.toHexString(d.id()) + " lost=" + (lost == null ? 0 : lost.size()));
      }
    });
  }

  private void flush(FileHandle h) {
    List<Dirty> pending = dirty.remove(h);
    OpenFile o = byHandle.get(h);
    try {
      if (pending != null && o != null) {
        for (Dirty d : pending) {
          session.write(o, d.offset(), ByteBuffer.wrap(d.data()));
        }
        session.fsync(h, false);
      }
      say("event flushed " + (pending == null ? 0 : pending.size()) + " at=" + System.currentTimeMillis());
    } catch (DafsException e) {
      say("event flush-failed " + e.status());
    }
  }

  static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private String run(String[] w) throws Exception {
    switch (w[0]) {
      case "open": {
        OpenMode m = switch (w[2]) {
          case "r" -> OpenMode.read();
          case "rw" -> OpenMode.readWrite().create(0644);
          case "rwt" -> OpenMode.readWrite().create(0644).truncate();
          default -> throw new IllegalArgumentException(w[2]);
        };
        OpenFile o = session.open(session.root(), w[1], m);
        delegations.opened(o);
        opens.put(w[1], o);
        byHandle.put(o.handle(), o);
        return "opened deleg=" + (o.hasWriteDelegation() ? "WRITE" : o.hasDelegation() ? "READ" : "NONE");
      }
      case "write": {
        OpenFile o = opens.get(w[1]);
        byte[] data = w[3].getBytes(StandardCharsets.UTF_8);
        DelegationTracker.Held<FileHandle> use = delegations.tracker().tryUse(o.handle());
        if (use != null && o.hasWriteDelegation()) {
          try {
            dirty.computeIfAbsent(o.handle(), k -> new ArrayList<>()).add(new Dirty(Long.parseLong(w[2]), data));
            return "cached";
          } finally {
            delegations.tracker().endUse(use);
          }
        }
        if (use != null) {
          delegations.tracker().endUse(use);
        }
        session.write(o, Long.parseLong(w[2]), ByteBuffer.wrap(data));
        return "written";
      }
      case "writethrough": {
        OpenFile o = opens.get(w[1]);
        try {
          session.write(o, Long.parseLong(w[2]), ByteBuffer.wrap(w[3].getBytes(StandardCharsets.UTF_8)));
        } catch (DafsException e) {
          delegations.refused(o, e);
          throw e;
        }
        return "written";
      }
      case "read": {
        OpenFile o = session.open(session.root(), w[1], OpenMode.read());
        try {
          ByteBuffer b = ByteBuffer.allocate((int) o.attributes().size());
          session.read(o, 0, b);
          return "data " + new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        } finally {
          session.close(o);
        }
      }
      case "setsize":
        session.setattr(session.lookup(session.root(), w[1]).handle(), null, SetAttributes.size(Long.parseLong(w[2])));
        return "resized";
      case "getattr":
        return "size " + session.getattr(session.lookup(session.root(), w[1]).handle()).size();
      case "remove":
        session.remove(session.root(), w[1]);
        return "removed";
      case "rename":
        session.rename(session.root(), w[1], session.root(), w[2]);
        return "renamed";
      case "lock":
        session.lock(opens.get(w[1]), new LockRange(0, 0, true));
        return "locked";
      case "close": {
        OpenFile o = opens.remove(w[1]);
        session.close(o);
        return "closed";
      }
      case "listener":
        never = w[1].equals("never");
        delayMillis = never ? 0 : Long.parseLong(w[2]);
        return "listener";
      case "stats":
        return "stats " + delegations.tracker().stats();
      default:
        throw new IllegalArgumentException("unknown command " + w[0]);
    }
  }

  public static void main(String[] args) throws Exception {
    DelegationClientMain m = new DelegationClientMain(URI.create(args[0]));
    say("ready");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.equals("quit")) {
        break;
      }
      long t0 = System.nanoTime();
      try {
        String r = m.run(line.trim().split(" ", 4));
        long took = System.nanoTime() - t0;
        say("ok " + r + " ms=" + TimeUnit.NANOSECONDS.toMillis(took) + " us=" + TimeUnit.NANOSECONDS.toMicros(took) + " at=" + System.currentTimeMillis());
      } catch (DafsException e) {
        say("error " + e.status() + " ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      } catch (RuntimeException e) {
        say("error " + e);
      }
    }
    m.session.close();
    System.exit(0);
  }
}

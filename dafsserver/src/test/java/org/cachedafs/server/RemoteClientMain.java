package org.cachedafs.server;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;

/** A client run inside a network namespace: connects, creates a file, prints "ok" or "error ...". */
public final class RemoteClientMain {
  public static void main(String[] args) {
    ClientOptions o = ClientOptions.defaults().withReconnectTimeout(java.time.Duration.ofSeconds(1));
    if (args.length > 1) {
      o = o.withSecret(args[1].getBytes(StandardCharsets.UTF_8));
    }
    try (DafsSession s = DafsClient.connect(URI.create(args[0]), o)) {
      s.create(s.root(), "from-another-host", 0644, false);
      System.out.println("ok");
    } catch (DafsException e) {
      System.out.println("error " + e.status());
    } catch (Exception e) {
      System.out.println("error " + e);
    }
    System.exit(0);
  }
}

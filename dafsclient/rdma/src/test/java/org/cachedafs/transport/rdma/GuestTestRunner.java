package org.cachedafs.transport.rdma;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs this module's JUnit tests where Maven does not run: in the SoftRoCE guest. Writes one report
 * per test class in surefire's format ({@code TEST-<class>.xml}) into the directory named first, and
 * prints surefire's summary line. Exits 1 if any test failed, and 2 if any was skipped with
 * {@code --no-skips} (in the guest, a skip means the device was not seen).
 *
 * <p>Usage: {@code GuestTestRunner REPORT_DIR [--no-skips] CLASS...}
 */
final class GuestTestRunner {
  private GuestTestRunner() {}

  /** One test's outcome: null failure and not skipped means it passed. */
  private record Outcome(String name, double seconds, boolean skipped, String skipReason, Throwable failure) {}

  public static void main(String[] args) throws IOException {
    Path reports = Path.of(args[0]);
    Files.createDirectories(reports);
    boolean noSkips = false;
    List<String> classes = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--no-skips")) {
        noSkips = true;
      } else {
        classes.add(args[i]);
      }
    }
    Map<String, List<Outcome>> byClass = new LinkedHashMap<>();
    for (String c : classes) {
      byClass.put(c, new ArrayList<>());
    }
    TestExecutionListener listener = new TestExecutionListener() {
      private final Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();

      @Override
      public void executionStarted(TestIdentifier id) {
        started.put(id.getUniqueId(), System.nanoTime());
        if (id.isTest()) {
          // As it happens, so that a test that hangs or crashes the VM is named in the log.
          System.out.println("  started " + id.getDisplayName());
        }
      }

      @Override
      public void executionSkipped(TestIdentifier id, String reason) {
        record(id, 0, true, reason, null);
      }

      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        Long t0 = started.remove(id.getUniqueId());
        double seconds = t0 == null ? 0 : (System.nanoTime() - t0) / 1e9;
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
          // An assumption that did not hold: a skip, of one test or of a whole class.
          record(id, seconds, true, result.getThrowable().map(Throwable::getMessage).orElse("aborted"), null);
        } else if (id.isTest()) {
          record(id, seconds, false, null, result.getThrowable().orElse(null));
        } else if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
          // A class-level failure (a @BeforeAll) fails the class as one test.
          record(id, seconds, false, null, result.getThrowable().orElse(new AssertionError(result.toString())));
        }
      }

      private void record(TestIdentifier id, double seconds, boolean skipped, String reason, Throwable failure) {
        String source = id.getSource().map(Object::toString).orElse("");
        for (String c : byClass.keySet()) {
          if (source.contains("className = '" + c + "'")) {
            byClass.get(c).add(new Outcome(id.getDisplayName(), seconds, skipped, reason, failure));
            return;
          }
        }
      }
    };
    LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
    for (String c : classes) {
      request.selectors(DiscoverySelectors.selectClass(c));
    }
    LauncherDiscoveryRequest built = request.build();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(built, listener);

    int run = 0;
    int failed = 0;
    int skipped = 0;
    for (Map.Entry<String, List<Outcome>> e : byClass.entrySet()) {
      List<Outcome> outcomes = e.getValue();
      int f = (int) outcomes.stream().filter(o -> o.failure() != null).count();
      int s = (int) outcomes.stream().filter(Outcome::skipped).count();
      run += outcomes.size();
      failed += f;
      skipped += s;
      Files.writeString(reports.resolve("TEST-" + e.getKey() + ".xml"), report(e.getKey(), outcomes, f, s), StandardCharsets.UTF_8);
      System.out.printf("Tests run: %d, Failures: %d, Errors: 0, Skipped: %d -- in %s%n", outcomes.size(), f, s, e.getKey());
      for (Outcome o : outcomes) {
        if (o.failure() != null) {
          System.out.println("  FAILED " + o.name() + ": " + o.failure());
        } else if (o.skipped()) {
          System.out.println("  skipped " + o.name() + ": " + o.skipReason());
        } else {
          System.out.printf("  ok %s (%.1f s)%n", o.name(), o.seconds());
        }
      }
    }
    System.out.printf("Tests run: %d, Failures: %d, Errors: 0, Skipped: %d%n", run, failed, skipped);
    System.exit(failed > 0 ? 1 : noSkips && skipped > 0 ? 2 : 0);
  }

  private static String report(String cls, List<Outcome> outcomes, int failures, int skipped) {
    StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    double total = outcomes.stream().mapToDouble(Outcome::seconds).sum();
    b.append(String.format("<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">%n", xml(cls), outcomes.size(), failures, skipped, total));
    for (Outcome o : outcomes) {
      b.append(String.format("  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\">", xml(cls), xml(o.name()), o.seconds()));
      if (o.skipped()) {
        b.append("<skipped message=\"").append(xml(String.valueOf(o.skipReason()))).append("\"/>");
      } else if (o.failure() != null) {
        StringWriter trace = new StringWriter();
        o.failure().printStackTrace(new PrintWriter(trace));
        b.append("<failure message=\"").append(xml(String.valueOf(o.failure().getMessage()))).append("\" type=\"")
            .append(xml(o.failure().getClass().getName())).append("\">").append(xml(trace.toString())).append("</failure>");
      }
      b.append("</testcase>\n");
    }
    return b.append("</testsuite>\n").toString();
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}

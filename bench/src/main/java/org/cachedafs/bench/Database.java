package org.cachedafs.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.cachedafs.h2.FilePathDafs;

/**
 * The database workload: H2 (MVStore, one connection, by default {@code WRITE_DELAY=0} so that each
 * commit is written to the file system before it returns) running TPC-B-like transactions over a bank
 * of 2 branches, 20 tellers and 2,000 accounts, each transaction updating an account, a teller and a
 * branch and inserting a history row, then committing. Its database lives
 * on local disk, or on DAFS through H2's {@code FilePath} extension over the java.nio provider, cached
 * or uncached. The check: after the timed part the database is reopened and every balance total must
 * equal the sum of the history's deltas, with one history row per committed transaction.
 */
final class Database {
  private static final int ACCOUNTS = 2000;
  private static final int TELLERS = 20;
  private static final int BRANCHES = 2;

  private Database() {}

  /**
   * Runs the workload for {@code seconds} on a new database in {@code dir} (under the export) through
   * {@code config}, and removes it afterwards; {@code h2Settings} is appended to the JDBC URL (for
   * example {@code ;WRITE_DELAY=0}).
   */
  static Result run(Fixture fixture, Config config, String dir, double seconds, long seed, long cacheBytes, int blockSize,
      String h2Settings) throws IOException {
    if (config == Config.LOCAL) {
      Path local = fixture.onDisk(dir);
      try {
        return measure("jdbc:h2:" + local.resolve("bank").toAbsolutePath() + h2Settings, config, seconds, seed, h2Settings);
      } catch (SQLException e) {
        throw new IOException("H2 over " + config.label() + ": " + e.getMessage(), e);
      } finally {
        deleteTree(local);
      }
    }
    if (config != Config.CACHED && config != Config.UNCACHED) {
      throw new IllegalArgumentException("the database runs local, cached or uncached, not " + config);
    }
    FilePathDafs.register();
    Map<String, Object> env = new HashMap<>();
    if (fixture.secret() != null) {
      env.put("secret", fixture.secret());
    }
    env.put("client.name", "bench-h2-" + config.label());
    env.put("transport", config.transport());
    env.put("cache.size", cacheBytes);
    env.put("block.size", blockSize);
    env.put("uncached", config == Config.UNCACHED);
    try (FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://" + fixture.server().getAuthority() + "/"), env)) {
      Path remote = fs.getPath("/" + dir);
      Files.createDirectories(remote);
      try {
        return measure("jdbc:h2:dafs://" + fixture.server().getAuthority() + "/" + dir + "/bank" + h2Settings, config, seconds,
            seed, h2Settings);
      } finally {
        deleteTree(remote);
      }
    } catch (SQLException e) {
      throw new IOException("H2 over " + config.label() + ": " + e.getMessage(), e);
    }
  }

  /** Removes the database's directory, deepest first; one that is not there is fine. */
  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static Result measure(String url, Config config, double seconds, long seed, String h2Settings)
      throws SQLException, IOException {
    Histogram latency = new Histogram(3);
    long transactions = 0;
    long committed = 0;
    long timed = 0;
    try (Connection c = DriverManager.getConnection(url, "sa", "")) {
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE branches(id INT PRIMARY KEY, balance BIGINT)");
        st.execute("CREATE TABLE tellers(id INT PRIMARY KEY, branch INT, balance BIGINT)");
        st.execute("CREATE TABLE accounts(id INT PRIMARY KEY, branch INT, balance BIGINT, filler VARCHAR(84))");
        st.execute("CREATE TABLE history(id IDENTITY, account INT, teller INT, branch INT, delta BIGINT)");
        st.execute("INSERT INTO branches SELECT X, 0 FROM SYSTEM_RANGE(1, " + BRANCHES + ")");
        st.execute("INSERT INTO tellers SELECT X, MOD(X, " + BRANCHES + ") + 1, 0 FROM SYSTEM_RANGE(1, " + TELLERS + ")");
        st.execute("INSERT INTO accounts SELECT X, MOD(X, " + BRANCHES + ") + 1, 0, SPACE(84) FROM SYSTEM_RANGE(1, " + ACCOUNTS + ")");
      }
      c.setAutoCommit(false);
      UniformRandomProvider rnd = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
      try (PreparedStatement a = c.prepareStatement("UPDATE accounts SET balance = balance + ? WHERE id = ?");
          PreparedStatement t = c.prepareStatement("UPDATE tellers SET balance = balance + ? WHERE id = ?");
          PreparedStatement b = c.prepareStatement("UPDATE branches SET balance = balance + ? WHERE id = ?");
          PreparedStatement h = c.prepareStatement("INSERT INTO history(account, teller, branch, delta) VALUES (?, ?, ?, ?)")) {
        // A third of the time, untimed, first: the JIT compiles H2 and the I/O path on the first configuration.
        long warmUntil = System.nanoTime() + (long) (seconds / 3 * 1e9);
        long deadline = warmUntil + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
          boolean timedPart = System.nanoTime() >= warmUntil;
          int account = 1 + rnd.nextInt(ACCOUNTS);
          int teller = 1 + rnd.nextInt(TELLERS);
          int branch = 1 + rnd.nextInt(BRANCHES);
          long delta = rnd.nextInt(2_000_001) - 1_000_000;
          long t0 = System.nanoTime();
          a.setLong(1, delta);
          a.setInt(2, account);
          a.executeUpdate();
          t.setLong(1, delta);
          t.setInt(2, teller);
          t.executeUpdate();
          b.setLong(1, delta);
          b.setInt(2, branch);
          b.executeUpdate();
          h.setInt(1, account);
          h.setInt(2, teller);
          h.setInt(3, branch);
          h.setLong(4, delta);
          h.executeUpdate();
          c.commit();
          long t1 = System.nanoTime();
          committed++;
          if (timedPart) {
            latency.recordValue(Math.max(1, t1 - t0));
            timed += t1 - t0;
            transactions++;
          }
        }
      }
    }
    // Reopened, the committed state must all be there and add up.
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT (SELECT SUM(balance) FROM accounts), (SELECT SUM(balance) FROM tellers), "
            + "(SELECT SUM(balance) FROM branches), (SELECT SUM(delta) FROM history), (SELECT COUNT(*) FROM history)")) {
      r.next();
      long history = r.getLong(4);
      if (r.getLong(1) != history || r.getLong(2) != history || r.getLong(3) != history || r.getLong(5) != committed) {
        throw new CellRunner.WrongDataException("H2 over " + config.label() + ": balances " + r.getLong(1) + "/" + r.getLong(2)
            + "/" + r.getLong(3) + ", history " + history + " in " + r.getLong(5) + " rows, after " + committed
            + " committed transactions");
      }
    }
    double s = timed / 1e9;
    return new Result(Ratios.DB, config.label(), 1, 1, 0, 0, transactions, 0, s, 0, transactions / s,
        latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
        latency.getValueAtPercentile(99.9) / 1e3, true, Map.of(), "H2 " + org.h2.engine.Constants.VERSION
            + ", one connection" + (h2Settings.isEmpty() ? "" : ", " + h2Settings) + "; ops are committed transactions");
  }
}

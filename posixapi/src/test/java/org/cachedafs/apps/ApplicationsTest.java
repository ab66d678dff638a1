package org.cachedafs.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.sql.Statement;
import java.util.Map;
import java.util.Random;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.NIOFSDirectory;
import org.cachedafs.h2.FilePathDafs;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Third-party code, unmodified, over dafs paths, each run checked against the same run on the local
 * file system: Apache Lucene (NIOFSDirectory: FSDirectory.open would pick MMapDirectory, and dafs
 * cannot be mapped) and H2 with a TPC-B-like workload through its FilePath extension point.
 */
class ApplicationsTest {
  static final String[] WORDS = {"delegation", "recall", "lease", "region", "block", "handle", "cache", "server", "client", "direct"};
  @TempDir Path tmp;
  DafsServer server;
  FileSystem fs;
  URI root;

  @BeforeEach
  void start() throws IOException {
    server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))));
    root = URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/");
    fs = FileSystems.newFileSystem(root, Map.of("cache.size", "32m"));
  }

  @AfterEach
  void stop() throws IOException {
    fs.close();
    server.close();
  }

  /** Indexes, commits, reopens, searches, deletes; returns what it saw. */
  static String lucene(Path dir) throws IOException {
    StringBuilder seen = new StringBuilder();
    Random rnd = new Random(42);
    try (NIOFSDirectory d = new NIOFSDirectory(dir);
        IndexWriter w = new IndexWriter(d, new IndexWriterConfig(new StandardAnalyzer()))) {
      for (int i = 0; i < 10_000; i++) {
        Document doc = new Document();
        doc.add(new StringField("id", Integer.toString(i), Field.Store.YES));
        StringBuilder text = new StringBuilder();
        for (int k = 0; k < 8; k++) {
          text.append(WORDS[rnd.nextInt(WORDS.length)]).append(' ');
        }
        doc.add(new TextField("body", text.toString(), Field.Store.NO));
        w.addDocument(doc);
      }
      w.commit();
    }
    try (NIOFSDirectory d = new NIOFSDirectory(dir)) {
      try (DirectoryReader r = DirectoryReader.open(d)) {
        IndexSearcher s = new IndexSearcher(r);
        seen.append(r.numDocs());
        for (String word : WORDS) {
          seen.append(',').append(s.count(new TermQuery(new Term("body", word))));
        }
      }
      try (IndexWriter w = new IndexWriter(d, new IndexWriterConfig(new StandardAnalyzer()))) {
        w.deleteDocuments(new TermQuery(new Term("body", "recall")));
        w.commit();
      }
      try (DirectoryReader r = DirectoryReader.open(d)) {
        seen.append("|after delete ").append(r.numDocs()).append(',').append(new IndexSearcher(r).count(new TermQuery(new Term("body", "recall"))));
      }
    }
    return seen.toString();
  }

  @Test
  void luceneIndexesSearchesAndDeletesOverDafs() throws IOException {
    String local = lucene(Files.createDirectories(tmp.resolve("lucene-local")));
    Path remote = Files.createDirectories(fs.getPath("/lucene"));
    String dafs = lucene(remote);
    assertEquals(local, dafs);
    assertTrue(dafs.startsWith("10000,"), dafs);
  }

  /** A TPC-B-like bank: accounts, tellers, branches and a history, in transactions; returns the totals. */
  static String tpcb(String url, int transactions) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", "")) {
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE branches(id INT PRIMARY KEY, balance BIGINT)");
        st.execute("CREATE TABLE tellers(id INT PRIMARY KEY, branch INT, balance BIGINT)");
        st.execute("CREATE TABLE accounts(id INT PRIMARY KEY, branch INT, balance BIGINT)");
        st.execute("CREATE TABLE history(id IDENTITY, account INT, teller INT, branch INT, delta BIGINT)");
        st.execute("INSERT INTO branches VALUES (1, 0), (2, 0)");
        st.execute("INSERT INTO tellers SELECT X, MOD(X, 2) + 1, 0 FROM SYSTEM_RANGE(1, 20)");
        st.execute("INSERT INTO accounts SELECT X, MOD(X, 2) + 1, 0 FROM SYSTEM_RANGE(1, 2000)");
      }
      c.setAutoCommit(false);
      Random rnd = new Random(7);
      try (PreparedStatement a = c.prepareStatement("UPDATE accounts SET balance = balance + ? WHERE id = ?");
          PreparedStatement t = c.prepareStatement("UPDATE tellers SET balance = balance + ? WHERE id = ?");
          PreparedStatement b = c.prepareStatement("UPDATE branches SET balance = balance + ? WHERE id = ?");
          PreparedStatement h = c.prepareStatement("INSERT INTO history(account, teller, branch, delta) VALUES (?, ?, ?, ?)")) {
        for (int i = 0; i < transactions; i++) {
          int account = 1 + rnd.nextInt(2000);
          int teller = 1 + rnd.nextInt(20);
          int branch = 1 + rnd.nextInt(2);
          long delta = rnd.nextInt(2_000_001) - 1_000_000;
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
        }
      }
    }
    // Reopen: the committed state must have reached storage.
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT (SELECT SUM(balance) FROM accounts), (SELECT SUM(balance) FROM tellers), "
            + "(SELECT SUM(balance) FROM branches), (SELECT SUM(delta) FROM history), (SELECT COUNT(*) FROM history)")) {
      r.next();
      return r.getLong(1) + "," + r.getLong(2) + "," + r.getLong(3) + "," + r.getLong(4) + "," + r.getLong(5);
    }
  }

  @Test
  void h2RunsATpcbLikeWorkloadOverDafs() throws Exception {
    FilePathDafs.register();
    String local = tpcb("jdbc:h2:" + tmp.resolve("h2-local/bank").toAbsolutePath(), 1000);
    String dafs = tpcb("jdbc:h2:" + root.resolve("h2/bank"), 1000);
    assertEquals(local, dafs);
    String[] totals = dafs.split(",");
    assertEquals(totals[0], totals[1]);
    assertEquals(totals[0], totals[2]);
    assertEquals(totals[0], totals[3]);
    assertEquals("1000", totals[4]);
    assertTrue(Files.exists(tmp.resolve("export/h2/bank.mv.db")), "the database lives in the export");
  }
}

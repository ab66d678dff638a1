package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unmodified programs on the mount, each checked against the same run on a local directory (its twin):
 * SQLite, Berkeley DB's utilities and fio. Each test has a real server and a real mount process.
 */
class FuseApplicationsIT {
  @TempDir Path tmp;

  /** Runs {@code body} with a server on {@code tmp/export} and its export mounted on {@code tmp/mnt}. */
  private interface OnMount {
    void run(Path mnt, Path local, Path export) throws Exception;
  }

  private void mounted(OnMount body) throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Path local = Files.createDirectories(tmp.resolve("local"));
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        MountProcess m = MountProcess.start(server.uri(), mnt)) {
      body.run(m.mountPoint, local, export);
    }
  }

  /**
   * sqlite3: a table, 100,000 rows in 100 transactions (each a journal created, written, synced and
   * deleted), an index, an integrity check and queries. Both runs print the same, and leave the same
   * bytes in the database file.
   */
  @Test
  void sqliteGivesTheSameAnswersAndTheSameFileAsOnALocalDirectory() throws Exception {
    String sqlite = Programs.require("sqlite3", "sqlite3");
    StringBuilder sql = new StringBuilder("PRAGMA journal_mode=DELETE;\nCREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);\n");
    for (int batch = 0; batch < 100; batch++) {
      sql.append("BEGIN;\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) ")
          .append("INSERT INTO t(k, v) SELECT (x * 7919 + ").append(batch).append(") % 1000, printf('row %d of batch %d', x, ")
          .append(batch).append(") FROM c;\nCOMMIT;\n");
    }
    sql.append("CREATE INDEX tk ON t(k);\nPRAGMA integrity_check;\n")
        .append("SELECT count(*), sum(k), total(length(v)) FROM t;\n")
        .append("SELECT k, count(*), min(id), max(id) FROM t WHERE k BETWEEN 10 AND 14 GROUP BY k ORDER BY k;\n")
        .append("DELETE FROM t WHERE k % 3 = 0;\nVACUUM;\nPRAGMA integrity_check;\nSELECT count(*) FROM t;\n");
    Path script = Files.writeString(tmp.resolve("script.sql"), sql);
    mounted((mnt, local, export) -> {
      Programs.Result there = Programs.run(mnt, script, 300, List.of(sqlite, "test.db")).expectSuccess("sqlite3 on the mount");
      Programs.Result here = Programs.run(local, script, 300, List.of(sqlite, "test.db")).expectSuccess("sqlite3 on a local directory");
      assertEquals(here.out(), there.out());
      assertTrue(there.out().startsWith("delete\nok\n100000|"), there.out());
      assertFalse(Files.exists(mnt.resolve("test.db-journal")), "the last journal is gone");
      byte[] db = Files.readAllBytes(local.resolve("test.db"));
      assertArrayEquals(db, Files.readAllBytes(mnt.resolve("test.db")), "the same database, read through the mount");
      assertArrayEquals(db, Files.readAllBytes(export.resolve("test.db")), "the same database, on the server");
    });
  }

  /**
   * Berkeley DB: db_load a B-tree and a hash database, db_verify them, db_dump them: the same records
   * as on a local directory.
   */
  @Test
  void berkeleyDbLoadsVerifiesAndDumpsAsOnALocalDirectory() throws Exception {
    String load = berkeleyDb("load");
    String verify = berkeleyDb("verify");
    String dump = berkeleyDb("dump");
    StringBuilder records = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      records.append(String.format("key-%06d%n", (i * 7919) % 20_000)).append("value ").append(i).append(' ').append("x".repeat(i % 200)).append('\n');
    }
    Path input = Files.writeString(tmp.resolve("records.txt"), records, StandardCharsets.UTF_8);
    mounted((mnt, local, export) -> {
      for (String type : List.of("btree", "hash")) {
        String db = type + ".db";
        String dumped = null;
        for (Path dir : List.of(local, mnt)) {
          Programs.run(dir, null, 300, List.of(load, "-T", "-t", type, "-f", input.toString(), db)).expectSuccess("db_load -t " + type + " in " + dir);
          Programs.run(dir, null, 300, List.of(verify, db)).expectSuccess("db_verify " + db + " in " + dir);
          String out = records(Programs.run(dir, null, 300, List.of(dump, "-p", db)).expectSuccess("db_dump " + db + " in " + dir).out());
          assertTrue(out.contains("key-019999"), "the dump has the last key");
          if (dumped != null) {
            assertEquals(dumped, out, "db_dump -p of the " + type + " database");
          }
          dumped = out;
        }
      }
    });
  }

  /**
   * A dump's header and its records, sorted. Berkeley DB sizes its pages from st_blksize, which the
   * mount gives as 128 KiB (as NFS gives its wsize), so the page size differs from the local twin's,
   * and with it the order a hash database's records come out in; the records themselves do not.
   */
  private static String records(String dump) {
    List<String> lines = dump.lines().filter(l -> !l.startsWith("db_pagesize=")).toList();
    int data = lines.indexOf("HEADER=END") + 1;
    List<String> pairs = new java.util.ArrayList<>();
    for (int i = data; i + 1 < lines.size() && !lines.get(i).equals("DATA=END"); i += 2) {
      pairs.add(lines.get(i) + "\n" + lines.get(i + 1));
    }
    pairs.sort(null);
    return String.join("\n", lines.subList(0, data)) + "\n" + String.join("\n", pairs);
  }

  /** Debian's db5.3-util names them db5.3_load and so on; db-util adds the plain names. */
  private static String berkeleyDb(String tool) {
    try {
      return Programs.require("db5.3_" + tool, "db5.3-util");
    } catch (org.opentest4j.AssertionFailedError e) {
      return Programs.require("db_" + tool, "db5.3-util");
    }
  }

  /**
   * fio with crc32c verification: sequential and random writers, several of each, one of them through
   * O_DIRECT (so through the cache's uncached door) and one syncing as it goes; every block read back
   * checks, on the mount as on a local directory.
   */
  @Test
  void fioVerifiesEveryBlockItWroteAsOnALocalDirectory() throws Exception {
    String fio = Programs.require("fio", "fio");
    String job = String.join("\n",
        "[global]",
        "ioengine=psync",
        "verify=crc32c",
        "do_verify=1",
        "verify_fatal=1",
        "fallocate=none",
        "size=8m",
        "[sequential]",
        "rw=write",
        "bs=128k",
        "numjobs=2",
        "[random]",
        "rw=randwrite",
        "bs=4k",
        "size=4m",
        "numjobs=2",
        "fsync=64",
        "[direct]",
        "rw=randwrite",
        "bs=16k",
        "direct=1",
        "size=4m",
        "");
    Path jobFile = Files.writeString(tmp.resolve("verify.fio"), job);
    mounted((mnt, local, export) -> {
      for (Path dir : List.of(local, mnt)) {
        Programs.Result r = Programs.run(dir, null, 300, List.of(fio, "--directory=" + dir, "--output-format=terse", jobFile.toString()))
            .expectSuccess("fio in " + dir);
        assertFalse(r.err().contains("verify"), "no verification failure in " + dir + ": " + r.err());
        assertEquals(5, r.out().lines().count(), "five jobs reported: " + r.out());
      }
    });
  }
}

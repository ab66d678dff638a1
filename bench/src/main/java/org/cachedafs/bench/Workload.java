package org.cachedafs.bench;

/**
 * One thing the runner measures, run the same way against every configuration.
 *
 * @param name the name in the table, JSON and charts
 * @param op what each operation does
 * @param access how offsets are chosen
 * @param zipfSkew the Zipf exponent, for {@link Access#ZIPF}
 * @param ioSize bytes per operation, a multiple of 8
 * @param file the file, relative to the export root; write workloads get a scratch copy per configuration
 * @param fileBytes the file's size, a multiple of {@code ioSize}
 * @param readFraction the share of reads, for {@link Op#MIX}
 * @param warm whether the file is read once, untimed, before the timed part
 * @param seconds the time limit of the timed part
 * @param onePass whether the timed part stops after {@code fileBytes} (sequential workloads)
 */
record Workload(String name, Op op, Access access, double zipfSkew, int ioSize, String file, long fileBytes,
    double readFraction, boolean warm, double seconds, boolean onePass) {

  enum Op { READ, WRITE, MIX }

  enum Access { SEQUENTIAL, UNIFORM, ZIPF }

  Workload {
    if (ioSize <= 0 || ioSize % 8 != 0 || fileBytes < ioSize || fileBytes % ioSize != 0) {
      throw new IllegalArgumentException(name + ": io size " + ioSize + " and file size " + fileBytes);
    }
  }

  /** Whether the workload changes the file, so each configuration gets its own scratch copy. */
  boolean writes() {
    return op != Op.READ;
  }

  long chunks() {
    return fileBytes / ioSize;
  }

  Workload withSeconds(double s) {
    return new Workload(name, op, access, zipfSkew, ioSize, file, fileBytes, readFraction, warm, s, onePass);
  }

  Workload named(String n) {
    return new Workload(n, op, access, zipfSkew, ioSize, file, fileBytes, readFraction, warm, seconds, onePass);
  }
}

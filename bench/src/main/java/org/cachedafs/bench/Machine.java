package org.cachedafs.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The machine a run ran on, read off it.
 *
 * @param cpu the CPU model
 * @param cores processors the JVM sees
 * @param memoryGiB physical memory
 * @param os operating system, kernel and architecture
 * @param java the JVM's vendor and version
 * @param maxHeapMiB the runner's heap limit
 */
record Machine(String cpu, int cores, double memoryGiB, String os, String java, long maxHeapMiB) {
  static Machine current() {
    String cpu = "unknown";
    double mem = Double.NaN;
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
      List<String> meminfo = Files.readAllLines(Path.of("/proc/meminfo"));
      mem = meminfo.stream().filter(l -> l.startsWith("MemTotal:")).map(l -> l.replaceAll("[^0-9]", ""))
          .mapToLong(Long::parseLong).findFirst().orElse(0) / (1024.0 * 1024.0);
    } catch (IOException | RuntimeException e) {
      // not Linux: leave what cannot be read as unknown
    }
    if (Double.isNaN(mem)) {
      mem = 0;
    }
    return new Machine(cpu, Runtime.getRuntime().availableProcessors(), Math.round(mem * 10) / 10.0,
        System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
        System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version")
            + " (" + ManagementFactory.getRuntimeMXBean().getVmName() + ")",
        Runtime.getRuntime().maxMemory() >> 20);
  }

  /** The machine as a sentence, for the reports. */
  String describe() {
    return String.format(Locale.ROOT, "%s, %d cores, %.1f GiB of memory; %s; %s; the runner's heap at most %,d MiB",
        cpu, cores, memoryGiB, os, java, maxHeapMiB);
  }
}

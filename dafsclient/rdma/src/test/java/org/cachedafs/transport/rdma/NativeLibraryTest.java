package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.disni.util.NativeAffinity;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCm;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The project's {@code libdisni.so} against DiSNI 2.1's Java side, on a host without an RDMA device:
 * every native method DiSNI declares is exported under its JNI name, the layout handshake DiSNI makes
 * at start succeeds and adopts this platform's struct sizes, and a call that needs a device fails
 * with an {@link IOException}, not a crash.
 */
class NativeLibraryTest {
  private static final String DISPATCHER = "com.ibm.disni.verbs.impl.NativeDispatcher";
  private static final String AFFINITY = "com.ibm.disni.util.NativeAffinity";

  @BeforeAll
  static void libraryBuilt() {
    Path dir = Path.of(System.getProperty("cachedafs.rdma.native.dir", "target/native"));
    assumeTrue(Files.isRegularFile(dir.resolve(Availability.LIBRARY)),
        "libdisni.so was not built (the build printed why: [rdma-native] SKIPPED ...)");
  }

  private static Path library() {
    Path p = Availability.findLibrary(System.getProperty("java.library.path", ""));
    assertTrue(p != null, "libdisni.so is not on java.library.path");
    return p;
  }

  /** Java_<class>_<method>, with '_' escaped as "_1" and '.' as '_' (the JNI short name). */
  private static String jniName(Method m) {
    return "Java_" + mangle(m.getDeclaringClass().getName()) + "_" + mangle(m.getName());
  }

  private static String mangle(String s) {
    return s.replace("_", "_1").replace('.', '_');
  }

  private static Set<String> declaredNatives() throws ClassNotFoundException {
    Set<String> names = new TreeSet<>();
    for (String c : new String[] {DISPATCHER, AFFINITY}) {
      // Not initialised: the static initialiser would load the library and log.
      Class<?> cls = Class.forName(c, false, NativeLibraryTest.class.getClassLoader());
      Arrays.stream(cls.getDeclaredMethods()).filter(m -> Modifier.isNative(m.getModifiers())).map(NativeLibraryTest::jniName).forEach(names::add);
    }
    return names;
  }

  @Test
  void everyNativeMethodDiSNIDeclaresIsExported() throws Exception {
    Set<String> declared = declaredNatives();
    assertEquals(50, declared.size(), "DiSNI 2.1 declares 48 native methods in NativeDispatcher and 2 in NativeAffinity");
    Process nm;
    try {
      nm = new ProcessBuilder("nm", "-D", "--defined-only", library().toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      // binutils is not in the SoftRoCE guest; the host's build runs this test.
      assumeTrue(false, "nm (binutils) is not installed: " + e.getMessage());
      return;
    }
    String out = new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(nm.waitFor(30, TimeUnit.SECONDS), "nm did not finish");
    assertEquals(0, nm.exitValue(), out);
    Set<String> exported = out.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1)).filter(s -> s.startsWith("Java_")).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(declared, exported);
  }

  /**
   * DiSNI's NativeDispatcher constructor checks the version (32) and adopts the library's struct
   * sizes and offsets; these are the values of rdma-core's headers on x86-64 Linux.
   */
  @Test
  void layoutHandshakeSucceedsAndAdoptsThisPlatformsLayout() throws Exception {
    assumeTrue(System.getProperty("os.arch").equals("amd64"), "the expected sizes are x86-64's");
    Class<?> cls = Class.forName(DISPATCHER);
    Constructor<?> ctor = cls.getDeclaredConstructor();
    ctor.setAccessible(true);
    Object dispatcher = ctor.newInstance();
    Method version = cls.getMethod("_getVersion");
    assertEquals(32, version.invoke(dispatcher));
    assertEquals(16, staticInt("com.ibm.disni.verbs.impl.SockAddrIn", "CSIZE"), "sizeof(struct sockaddr_in)");
    assertEquals(128, staticInt("com.ibm.disni.verbs.impl.NatIbvSendWR", "CSIZE"), "sizeof(struct ibv_send_wr)");
    assertEquals(32, staticInt("com.ibm.disni.verbs.impl.NatIbvRecvWR", "CSIZE"), "sizeof(struct ibv_recv_wr)");
    assertEquals(16, staticInt("com.ibm.disni.verbs.impl.NatIbvSge", "CSIZE"), "sizeof(struct ibv_sge)");
    assertEquals(48, IbvWC.CSIZE, "sizeof(struct ibv_wc)");
    assertEquals(40, staticInt("com.ibm.disni.verbs.impl.NatIbvSendWR", "REMOTEADDR_OFFSET"), "offsetof wr.rdma.remote_addr");
    assertEquals(48, staticInt("com.ibm.disni.verbs.impl.NatIbvSendWR", "RKEY_OFFSET"), "offsetof wr.rdma.rkey");
  }

  private static int staticInt(String cls, String field) throws ReflectiveOperationException {
    var f = Class.forName(cls).getDeclaredField(field);
    f.setAccessible(true);
    return f.getInt(null);
  }

  /** Without a device the connection manager cannot open its device node: an IOException says so. */
  @Test
  void aCallThatNeedsADeviceFailsWithAnIOException() throws Exception {
    assumeFalse(Files.exists(Path.of("/dev/infiniband/rdma_cm")), "this host has an RDMA device");
    RdmaCm cm = RdmaCm.open();
    IOException e = assertThrows(IOException.class, cm::createEventChannel);
    assertTrue(e.getMessage().contains("rdma_create_event_channel"), e.getMessage());
  }

  @Test
  void affinityIsReadable() {
    assertNotEquals(0L, NativeAffinity.getAffinity(), "the calling thread may run on no CPU?");
  }
}

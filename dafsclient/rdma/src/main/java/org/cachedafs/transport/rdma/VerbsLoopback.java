package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * One RC connection over a real device, both ends in this process, through DiSNI's verbs API and the
 * project's native library: what the provider will do, done by hand once, so that every native call
 * it needs has run on a device before the provider is written. Steps: listen; resolve address and
 * route; queue pairs on both sides (retries and RNR retries 7); connect and accept; a SEND into a
 * posted receive, its completion awaited on the completion channel (request notification, event,
 * acknowledge, poll); an RDMA WRITE into the passive side's region and an RDMA READ from it, each
 * checked byte for byte; an RDMA READ with a key the passive side never gave, which must complete with
 * a remote access error; then everything released in reverse order of creation. Prints each step;
 * exits non-zero at the first failure.
 *
 * <p>Usage as {@link VerbsSmoke}: {@code VerbsLoopback IPV4-ADDRESS-OF-THE-RDMA-DEVICE}.
 */
final class VerbsLoopback {
  private static final int TIMEOUT_MS = 5000;
  private static final int REGION = 64 << 10;
  private static final int ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_WRITE | IbvMr.IBV_ACCESS_REMOTE_READ;

  /** A release action; all of them run in reverse order of creation, once, in {@link #main}. */
  private interface Release {
    void run() throws Exception;
  }

  /** One side's verbs objects. Every one is released through {@link #releases}. */
  private static final class Side {
    final String name;
    final RdmaCmId id;
    IbvPd pd;
    IbvCompChannel channel;
    IbvCQ cq;
    IbvQP qp;
    ByteBuffer memory;
    IbvMr mr;

    Side(String name, RdmaCmId id) {
      this.name = name;
      this.id = id;
    }
  }

  private final Deque<Release> releases = new ArrayDeque<>();
  private final IbvWC[] completions = {new IbvWC()};

  private VerbsLoopback() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: VerbsLoopback <IPv4 address of the RDMA device>");
      System.exit(2);
    }
    VerbsLoopback run = new VerbsLoopback();
    int releaseFailures;
    try {
      run.run(InetAddress.getByName(args[0]));
    } finally {
      releaseFailures = run.releaseAll();
    }
    if (releaseFailures > 0) {
      System.out.println(releaseFailures + " release(s) failed");
      System.exit(1);
    }
    System.out.println("VERBS LOOPBACK OK");
  }

  /** Runs every release, even after one fails; answers how many failed. */
  private int releaseAll() {
    int failed = 0;
    while (!releases.isEmpty()) {
      try {
        releases.pop().run();
      } catch (Exception e) {
        failed++;
        System.out.println("release failed: " + e);
      }
    }
    return failed;
  }

  private void run(InetAddress address) throws Exception {
    RdmaCm cm = RdmaCm.open();
    // One event channel per side, so that each side waits for its own events in order.
    RdmaEventChannel passiveEvents = cm.createEventChannel();
    releases.push(passiveEvents::destroyEventChannel);
    RdmaEventChannel activeEvents = cm.createEventChannel();
    releases.push(activeEvents::destroyEventChannel);

    RdmaCmId listenId = passiveEvents.createId(RdmaCm.RDMA_PS_TCP);
    releases.push(listenId::destroyId);
    listenId.bindAddr(new InetSocketAddress(address, 0));
    listenId.listen(8);
    InetSocketAddress listening = (InetSocketAddress) listenId.getSource();
    System.out.println("listening on " + listening);

    Side active = new Side("active", activeEvents.createId(RdmaCm.RDMA_PS_TCP));
    releases.push(active.id::destroyId);
    active.id.resolveAddr(null, new InetSocketAddress(address, listening.getPort()), TIMEOUT_MS);
    expect(activeEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_ADDR_RESOLVED);
    active.id.resolveRoute(TIMEOUT_MS);
    expect(activeEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_ROUTE_RESOLVED);
    System.out.println("address and route resolved");
    resources(active, active.id.getVerbs());
    postReceive(active);
    active.id.connect(RdmaTransport.connParam());

    RdmaCmEvent request = expect(passiveEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_REQUEST);
    Side passive = new Side("passive", request.getConnIdPriv());
    releases.push(passive.id::destroyId);
    resources(passive, passive.id.getVerbs());
    postReceive(passive);
    passive.id.accept(RdmaTransport.connParam());
    // The active side first: librdmacm answers the passive side's reply (moving the queue pair to
    // ready-to-send and sending the RTU that establishes the passive side) only when the active
    // side takes the connect-response event, inside rdma_get_cm_event.
    expect(activeEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_ESTABLISHED);
    expect(passiveEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_ESTABLISHED);
    // From here a disconnect comes first in the releases, before the queue pairs go.
    releases.push(() -> disconnect(active, activeEvents, passive, passiveEvents));
    System.out.println("connected: qp " + active.qp.getQp_num() + " <-> qp " + passive.qp.getQp_num());

    byte[] hello = "hello over rxe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    active.memory.clear();
    active.memory.put(hello);
    post(active, IbvSendWR.IBV_WR_SEND, 1, active.mr.getAddr(), hello.length, 0, 0);
    awaitOk(active, "SEND");
    IbvWC received = awaitBlocking(passive);
    check(received.getStatus() == IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal(), "receive completed with status " + received.getStatus());
    check(received.getByte_len() == hello.length, "received " + received.getByte_len() + " bytes, sent " + hello.length);
    byte[] got = new byte[hello.length];
    passive.memory.get(0, got);
    check(java.util.Arrays.equals(got, hello), "received bytes differ from those sent");
    System.out.println("SEND -> posted receive: " + received.getByte_len() + " bytes, awaited on the completion channel");

    int length = 4096;
    for (int i = 0; i < length; i++) {
      active.memory.put(i, (byte) (i * 7));
    }
    post(active, IbvSendWR.IBV_WR_RDMA_WRITE, 2, active.mr.getAddr(), length, passive.mr.getAddr(), passive.mr.getRkey());
    awaitOk(active, "RDMA WRITE");
    for (int i = 0; i < length; i++) {
      check(passive.memory.get(i) == (byte) (i * 7), "RDMA WRITE: byte " + i + " differs");
    }
    System.out.println("RDMA WRITE: " + length + " bytes placed in the passive side's region");

    for (int i = 0; i < length; i++) {
      passive.memory.put(REGION / 2 + i, (byte) (i * 13 + 1));
    }
    post(active, IbvSendWR.IBV_WR_RDMA_READ, 3, active.mr.getAddr() + REGION / 2, length, passive.mr.getAddr() + REGION / 2, passive.mr.getRkey());
    awaitOk(active, "RDMA READ");
    for (int i = 0; i < length; i++) {
      check(active.memory.get(REGION / 2 + i) == (byte) (i * 13 + 1), "RDMA READ: byte " + i + " differs");
    }
    System.out.println("RDMA READ: " + length + " bytes read from the passive side's region");

    // A key the passive side never gave: the read must fail with a remote access error (and the
    // queue pair goes to its error state, as the SPI's "fatal to the connection" expects).
    int badKey = passive.mr.getRkey() ^ 0x5a5a00;
    post(active, IbvSendWR.IBV_WR_RDMA_READ, 4, active.mr.getAddr(), 64, passive.mr.getAddr(), badKey);
    IbvWC bad = awaitPolled(active);
    check(bad.getStatus() == IbvWC.IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal(),
        "RDMA READ with an unknown key completed with status " + bad.getStatus() + ", not a remote access error");
    System.out.println("RDMA READ with a key never given: remote access error (status " + bad.getStatus() + ")");
  }

  /** Protection domain, completion channel and queue, RC queue pair, and one registered region. */
  private void resources(Side side, IbvContext context) throws Exception {
    side.pd = context.allocPd();
    releases.push(side.pd::deallocPd);
    side.channel = context.createCompChannel();
    releases.push(side.channel::destroyCompChannel);
    side.cq = context.createCQ(side.channel, 16, 0);
    releases.push(side.cq::destroyCQ);
    side.qp = side.id.createQP(side.pd, QueuePair.rcAttributes(side.cq, 8, 8));
    releases.push(side.id::destroyQP);
    side.memory = ByteBuffer.allocateDirect(REGION);
    side.mr = side.pd.regMr(side.memory, ACCESS).execute().free().getMr();
    releases.push(() -> side.mr.deregMr().execute().free());
    System.out.printf("%s: pd %d, qp %d, region rkey 0x%x%n", side.name, side.pd.getHandle(), side.qp.getQp_num(), side.mr.getRkey());
  }

  private static void postReceive(Side side) throws IOException {
    IbvRecvWR wr = new IbvRecvWR();
    wr.setWr_id(100);
    wr.setSg_list(QueuePair.sge(side.mr.getAddr(), 1024, side.mr.getLkey()));
    side.qp.postRecv(List.of(wr), null).execute().free();
  }

  private static void post(Side side, int opcode, long wrId, long local, int length, long remote, int rkey) throws IOException {
    IbvSendWR wr = new IbvSendWR();
    wr.setWr_id(wrId);
    wr.setOpcode(opcode);
    wr.setSend_flags(IbvSendWR.IBV_SEND_SIGNALED);
    wr.setSg_list(QueuePair.sge(local, length, side.mr.getLkey()));
    wr.getRdma().setRemote_addr(remote);
    wr.getRdma().setRkey(rkey);
    side.qp.postSend(List.of(wr), null).execute().free();
  }

  private void awaitOk(Side side, String what) throws IOException, InterruptedException {
    IbvWC wc = awaitPolled(side);
    check(wc.getStatus() == IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal(), what + " completed with status " + wc.getStatus());
  }

  /**
   * The next completion, by polling alone; between polls it sleeps a millisecond, because under
   * emulation with one CPU a spinning poller would starve the kernel's rxe work that completes it.
   */
  private IbvWC awaitPolled(Side side) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
    while (System.nanoTime() < deadline) {
      if (poll(side) > 0) {
        return completions[0];
      }
      Thread.sleep(1);
    }
    throw new IOException(side.name + ": no completion within " + TIMEOUT_MS + " ms");
  }

  /**
   * The next completion, the way the provider will wait once polling finds nothing: ask for a
   * notification, poll once more (a completion may have come before the request), then block on the
   * completion channel, acknowledge the event, and poll.
   */
  private IbvWC awaitBlocking(Side side) throws IOException {
    long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
    while (System.nanoTime() < deadline) {
      side.cq.reqNotification(false).execute().free();
      if (poll(side) > 0) {
        return completions[0];
      }
      if (side.channel.getCqEvent(side.cq, 1000)) {
        side.cq.ackEvents(1);
      }
      if (poll(side) > 0) {
        return completions[0];
      }
    }
    throw new IOException(side.name + ": no completion event within " + TIMEOUT_MS + " ms");
  }

  private int poll(Side side) throws IOException {
    var call = side.cq.poll(completions, 1);
    try {
      return call.execute().getPolls();
    } finally {
      call.free();
    }
  }

  private static RdmaCmEvent expect(RdmaEventChannel channel, RdmaCmEvent.EventType type) throws IOException {
    RdmaCmEvent event = channel.getCmEvent(TIMEOUT_MS);
    if (event == null) {
      throw new IOException("no connection-manager event within " + TIMEOUT_MS + " ms, expected " + type);
    }
    event.ackEvent();
    if (event.getEvent() != type.ordinal()) {
      throw new IOException("connection-manager event " + RdmaCmEvent.EventType.values()[event.getEvent()] + ", expected " + type);
    }
    return event;
  }

  private static void disconnect(Side active, RdmaEventChannel activeEvents, Side passive, RdmaEventChannel passiveEvents) throws IOException {
    active.id.disconnect();
    expect(passiveEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED);
    // The usual answer of the side that was disconnected; its result is not checked, since the
    // connection manager may have answered the request itself already.
    passive.id.disconnect();
    expect(activeEvents, RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED);
    System.out.println("disconnected");
  }

  private static void check(boolean ok, String failure) throws IOException {
    if (!ok) {
      throw new IOException(failure);
    }
  }
}

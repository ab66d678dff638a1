package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvQPInitAttr;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCPostRecv;
import com.ibm.disni.verbs.SVCReqNotify;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Access;
import org.slf4j.Logger;

/**
 * The verbs objects of one connection: a completion channel, one completion queue for sends and
 * receives, the RC queue pair (made on the connection's cm id, in the domain's protection domain),
 * the receive buffers and the send staging buffers, each one region registered once for the life of
 * the connection, and DiSNI's prepared calls (one receive per buffer, reposted as is; the poll and
 * the notification request), made once because each allocates native memory.
 *
 * <p>Ownership: everything here is this object's, released by {@link #release}, its one release
 * path, in reverse order of creation; the cm id is not (its channel owns it, see {@link CmChannel}).
 * The buffers are deregistered only after the queue pair is gone, so the device never places a
 * message in memory that was given back.
 */
final class QueuePair {
  private static final Logger log = Loggers.get(QueuePair.class);
  /** How many completions one poll takes. */
  static final int POLL_BATCH = 16;
  /** The receive work requests' ids carry this bit; the send side's never do. */
  static final long RECEIVE_TAG = 1L << 62;

  private final RdmaCmId id;
  private final int slotSize;
  private final IbvCompChannel completions;
  private final IbvCQ cq;
  private final IbvQP qp;
  private final RdmaRegion receiveBuffers;
  private final RdmaRegion stagingBuffers;
  private final SVCPostRecv[] receives;
  private final IbvWC[] polled;
  private final SVCPollCq poll;
  private final SVCReqNotify notify;

  private QueuePair(Builder b) {
    this.id = b.id;
    this.slotSize = b.slotSize;
    this.completions = b.completions;
    this.cq = b.cq;
    this.qp = b.qp;
    this.receiveBuffers = b.receiveBuffers;
    this.stagingBuffers = b.stagingBuffers;
    this.receives = b.receives;
    this.polled = b.polled;
    this.poll = b.poll;
    this.notify = b.notify;
  }

  /** What has been made so far, so that a failure half way releases exactly that. */
  private static final class Builder {
    RdmaCmId id;
    int slotSize;
    IbvCompChannel completions;
    IbvCQ cq;
    IbvQP qp;
    RdmaRegion receiveBuffers;
    RdmaRegion stagingBuffers;
    SVCPostRecv[] receives;
    IbvWC[] polled;
    SVCPollCq poll;
    SVCReqNotify notify;
  }

  /**
   * Makes the verbs objects on {@code id} (whose address is resolved: it has a device context) and
   * posts every receive buffer, so that the peer's first message finds one.
   */
  static QueuePair create(RdmaCmId id, RdmaDomain domain, int receiveDepth, int sendDepth, int stagingSlots, int slotSize) throws IOException {
    Builder b = new Builder();
    b.id = id;
    b.slotSize = slotSize;
    try {
      IbvContext context = id.getVerbs();
      b.completions = context.createCompChannel();
      b.cq = context.createCQ(b.completions, receiveDepth + sendDepth + POLL_BATCH, 0);
      b.qp = id.createQP(domain.protectionDomain(), rcAttributes(b.cq, sendDepth, receiveDepth));
      b.receiveBuffers = (RdmaRegion) domain.allocate(receiveDepth * slotSize, Access.LOCAL);
      b.stagingBuffers = (RdmaRegion) domain.allocate(stagingSlots * slotSize, Access.LOCAL);
      b.polled = new IbvWC[POLL_BATCH];
      for (int i = 0; i < POLL_BATCH; i++) {
        b.polled[i] = new IbvWC();
      }
      b.poll = b.cq.poll(b.polled, POLL_BATCH);
      b.notify = b.cq.reqNotification(false);
      b.receives = new SVCPostRecv[receiveDepth];
      for (int slot = 0; slot < receiveDepth; slot++) {
        IbvRecvWR wr = new IbvRecvWR();
        wr.setWr_id(RECEIVE_TAG | slot);
        wr.setSg_list(sge(b.receiveBuffers.address() + (long) slot * slotSize, slotSize, b.receiveBuffers.lkey()));
        b.receives[slot] = b.qp.postRecv(List.of(wr), null);
      }
      QueuePair qp = new QueuePair(b);
      for (int slot = 0; slot < receiveDepth; slot++) {
        qp.postReceive(slot);
      }
      return qp;
    } catch (IOException | RuntimeException e) {
      release(b);
      throw e;
    }
  }

  /** An RC queue pair's attributes: one completion queue for both sides, one SGE per request, nothing inline. */
  static IbvQPInitAttr rcAttributes(IbvCQ cq, int sendDepth, int receiveDepth) {
    IbvQPInitAttr attr = new IbvQPInitAttr();
    attr.cap().setMax_send_wr(sendDepth);
    attr.cap().setMax_recv_wr(receiveDepth);
    attr.cap().setMax_send_sge(1);
    attr.cap().setMax_recv_sge(1);
    attr.cap().setMax_inline_data(0);
    attr.setQp_type(IbvQP.IBV_QPT_RC);
    attr.setSend_cq(cq);
    attr.setRecv_cq(cq);
    return attr;
  }

  /** One scatter-gather element, as DiSNI takes it. */
  static LinkedList<IbvSge> sge(long address, int length, int lkey) {
    IbvSge sge = new IbvSge();
    sge.setAddr(address);
    sge.setLength(length);
    sge.setLkey(lkey);
    LinkedList<IbvSge> list = new LinkedList<>();
    list.add(sge);
    return list;
  }

  int slotSize() {
    return slotSize;
  }

  RdmaRegion receiveBuffers() {
    return receiveBuffers;
  }

  RdmaRegion stagingBuffers() {
    return stagingBuffers;
  }

  /** Gives receive buffer {@code slot} back to the device. */
  void postReceive(int slot) throws IOException {
    receives[slot].execute();
  }

  /**
   * Posts one signaled work request. {@code opcode} is a SEND from staging slot {@code localAddress}
   * (then {@code remoteAddress} and {@code rkey} are unused), or an RDMA WRITE or READ.
   */
  void postSend(long wrId, int opcode, long localAddress, int lkey, int length, long remoteAddress, int rkey) throws IOException {
    IbvSendWR wr = new IbvSendWR();
    wr.setWr_id(wrId);
    wr.setOpcode(opcode);
    wr.setSend_flags(IbvSendWR.IBV_SEND_SIGNALED);
    wr.setSg_list(sge(localAddress, length, lkey));
    wr.getRdma().setRemote_addr(remoteAddress);
    wr.getRdma().setRkey(rkey);
    // A call per request: its fields differ each time, and DiSNI reuses the native memory of freed calls.
    qp.postSend(List.of(wr), null).execute().free();
  }

  /** Polls once; the completions are {@link #polled}{@code [0..n)}, valid until the next poll. */
  int poll() throws IOException {
    return poll.execute().getPolls();
  }

  IbvWC polled(int i) {
    return polled[i];
  }

  /** Asks for an event at the next completion; poll once more after this, one may have come before. */
  void armNotification() throws IOException {
    notify.execute();
  }

  /** Waits up to {@code millis} for a completion event, and acknowledges it (a CQ with unacknowledged events cannot be destroyed). */
  void awaitEvent(int millis) throws IOException {
    if (completions.getCqEvent(cq, millis)) {
      cq.ackEvents(1);
    }
  }

  /** The one release path: the queue pair, the prepared calls, the queue, the channel, then the buffers. */
  void release() {
    Builder b = new Builder();
    b.id = id;
    b.completions = completions;
    b.cq = cq;
    b.qp = qp;
    b.receiveBuffers = receiveBuffers;
    b.stagingBuffers = stagingBuffers;
    b.receives = receives;
    b.poll = poll;
    b.notify = notify;
    release(b);
  }

  private static void release(Builder b) {
    List<String> failed = new ArrayList<>();
    if (b.qp != null) {
      step(failed, "rdma_destroy_qp", () -> b.id.destroyQP());
    }
    if (b.receives != null) {
      for (SVCPostRecv r : b.receives) {
        if (r != null) {
          r.free();
        }
      }
    }
    if (b.poll != null) {
      b.poll.free();
    }
    if (b.notify != null) {
      b.notify.free();
    }
    if (b.cq != null) {
      step(failed, "ibv_destroy_cq", () -> b.cq.destroyCQ());
    }
    if (b.completions != null) {
      step(failed, "ibv_destroy_comp_channel", () -> b.completions.destroyCompChannel());
    }
    if (b.stagingBuffers != null) {
      step(failed, "deregistering the staging buffers", b.stagingBuffers::close);
    }
    if (b.receiveBuffers != null) {
      step(failed, "deregistering the receive buffers", b.receiveBuffers::close);
    }
    if (!failed.isEmpty()) {
      log.warn("releasing a queue pair: {} failed", failed);
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  /** Runs one release step; a failure is noted and the next steps still run. */
  private static void step(List<String> failed, String what, Step s) {
    try {
      s.run();
    } catch (Exception e) {
      failed.add(what + ": " + e);
    }
  }
}

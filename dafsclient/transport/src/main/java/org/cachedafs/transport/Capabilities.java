package org.cachedafs.transport;

/**
 * What a provider can do, so that the layers above size themselves to it instead of assuming tcp.
 *
 * @param maxMessage the largest message {@link Connection#send} takes, in bytes
 * @param maxOneSided the largest single one-sided transfer, in bytes
 * @param receiveDepth how many received messages a connection can hold unreleased before it stops
 *     taking more from the peer (posted receives on verbs, ring slots on shm); a protocol that grants
 *     credits grants at most this many
 * @param sendDepth how many messages can be in flight towards the peer before sends queue locally
 * @param oneSidedWithoutPeerCpu whether one-sided transfers run no code of the peer at all (shm,
 *     rdma), rather than being placed by the peer's receive thread (tcp)
 * @param registersForeignMemory whether {@link MemoryDomain#register} takes any direct buffer, or
 *     only memory the domain allocated
 * @param peerSeesOneSided whether the target side of a one-sided transfer can count it (tcp places
 *     the bytes itself; shm and rdma never learn of it)
 * @param oneSidedDoneOnReturn whether a one-sided transfer is finished when the call returns (shm: a
 *     copy made by the calling thread), so that waiting for it can never block the caller; false
 *     where completion comes later (tcp: the send queue; rdma: a completion queue)
 */
public record Capabilities(
    int maxMessage,
    int maxOneSided,
    int receiveDepth,
    int sendDepth,
    boolean oneSidedWithoutPeerCpu,
    boolean registersForeignMemory,
    boolean peerSeesOneSided,
    boolean oneSidedDoneOnReturn) {
  public Capabilities {
    if (maxMessage < 4096 || maxOneSided < 4096 || receiveDepth < 1 || sendDepth < 1) {
      throw new IllegalArgumentException("implausible capabilities: " + maxMessage + ", " + maxOneSided + ", " + receiveDepth + ", " + sendDepth);
    }
  }
}

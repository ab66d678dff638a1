package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.Map;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * One connection-manager event channel and the thread that takes its events and hands each to the
 * owner of the id it concerns. A listener has one (its listening id and the ids of the connections it
 * accepts live on it, since librdmacm puts an accepted id on its listener's channel), and so does each
 * connection this side makes.
 *
 * <p>Why a thread per channel, never one thread waiting for a particular event: librdmacm answers the
 * passive side's reply (the RTU that establishes the passive side) only when the active side takes its
 * own connect-response event, inside {@code rdma_get_cm_event}; a thread that waited on the passive
 * channel for {@code ESTABLISHED} before taking the active one would wait forever. Here every channel
 * is served all the time, so each side's events are taken as they come.
 *
 * <p>Ownership: the channel owns the native event channel; it owns every id made on it or adopted from
 * a connect request until {@link #destroyId}, which is each id's one release path. When the last id is
 * destroyed (and at least one existed) the thread ends and destroys the event channel: a channel
 * with an id on it cannot be destroyed, and one with none left has nothing to serve.
 */
final class CmChannel {
  private static final Logger log = Loggers.get(CmChannel.class);
  /** How long the thread waits for an event before it looks whether it should stop. */
  private static final int WAIT_MS = 100;

  /** Receives the events of one id, on the channel's thread. It must not block. */
  interface Owner {
    /**
     * @param type the event's type
     * @param event the event: for a connect request, its new id is {@link RdmaCmEvent#getConnIdPriv}
     */
    void onCmEvent(RdmaCmEvent.EventType type, RdmaCmEvent event);
  }

  private final RdmaEventChannel channel;
  private final Thread thread;
  /** Guarded by itself: each live id's owner. Identity: DiSNI hands back the same id objects. */
  private final Map<RdmaCmId, Owner> owners = new IdentityHashMap<>();
  private boolean stopping;

  private CmChannel(RdmaEventChannel channel, String name) {
    this.channel = channel;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
  }

  static CmChannel open(String name) throws IOException {
    CmChannel c = new CmChannel(RdmaCm.open().createEventChannel(), name);
    c.thread.start();
    return c;
  }

  /** A new id on this channel, whose events go to {@code owner}. */
  RdmaCmId createId(Owner owner) throws IOException {
    synchronized (owners) {
      if (stopping) {
        throw new IOException("connection-manager channel closed");
      }
      RdmaCmId id = channel.createId(RdmaCm.RDMA_PS_TCP);
      owners.put(id, owner);
      return id;
    }
  }

  /**
   * Takes over an id the channel reported (a connect request's), so that its later events go to
   * {@code owner}. Called on the channel's own thread, which looks at {@code stopping} only between
   * events: an id adopted just after the listening id went keeps the channel alive.
   */
  void adopt(RdmaCmId id, Owner owner) {
    synchronized (owners) {
      owners.put(id, owner);
      stopping = false;
    }
  }

  /**
   * Destroys an id of this channel: its one release path. Its queue pair, if any, must be destroyed
   * first. The last one stops the channel.
   */
  void destroyId(RdmaCmId id) {
    synchronized (owners) {
      if (owners.remove(id) == null) {
        return;
      }
      if (owners.isEmpty()) {
        stopping = true;
      }
    }
    try {
      id.destroyId();
    } catch (Exception e) {
      log.warn("rdma_destroy_id failed", e);
    }
  }

  /** Stops the channel if no id was ever made on it or all are gone (a setup that failed early). */
  void closeIfUnused() {
    synchronized (owners) {
      if (owners.isEmpty()) {
        stopping = true;
      }
    }
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(WAIT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try {
      while (true) {
        synchronized (owners) {
          if (stopping) {
            return;
          }
        }
        RdmaCmEvent event;
        try {
          event = channel.getCmEvent(WAIT_MS);
        } catch (Exception e) {
          // The ids on the channel still need it (it cannot be destroyed under them): go on.
          log.warn("rdma_get_cm_event failed", e);
          sleepQuietly();
          continue;
        }
        if (event == null) {
          continue;
        }
        // Not acknowledged here: the native library acknowledged it when it took it (docs/rdma.md).
        RdmaCmEvent.EventType type = RdmaCmEvent.EventType.values()[event.getEvent()];
        RdmaCmId about = type == RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_REQUEST ? event.getListenIdPriv() : event.getConnIdPriv();
        Owner owner;
        synchronized (owners) {
          owner = about == null ? null : owners.get(about);
        }
        if (owner == null) {
          log.debug("connection-manager event {} for an id no longer served", type);
          continue;
        }
        try {
          owner.onCmEvent(type, event);
        } catch (RuntimeException e) {
          log.warn("handling connection-manager event " + type + " failed", e);
        }
      }
    } finally {
      try {
        channel.destroyEventChannel();
      } catch (Exception e) {
        log.warn("rdma_destroy_event_channel failed", e);
      }
    }
  }
}

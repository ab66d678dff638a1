package org.cachedafs.client;

import java.util.concurrent.CompletableFuture;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;

/**
 * What an error means for a request that was sent to the server before it restarted, was not
 * answered, and was sent again in the new session. The reply cache that made such a retransmission
 * exactly-once died with the server, so the request may have run twice, and its second run may fail
 * because the first one did what was asked:
 *
 * <ul>
 *   <li>REMOVE or RMDIR answered NOENT: taken as done. (Had the name never existed, the application
 *       is told it removed it: the one wrong answer this allows.)
 *   <li>RENAME answered NOENT: done if the target name now exists, else NOENT.
 *   <li>MKDIR answered EXIST: done if the name is a directory, with its handle, else EXIST.
 *   <li>CREATE or OPEN with EXCLUSIVE answered EXIST: EXIST, saying that the first attempt may have
 *       made the file. Nothing tells this client's creation from another's.
 * </ul>
 * Everything else is answered as the server answered: reads, writes (by offset), SETATTR and
 * non-exclusive opens and creates do the same thing twice, and opens, locks and delegations the
 * client had are reclaimed under their old ids before any resent request runs ({@link Reclaimer}).
 */
final class AcrossRestart {
  private AcrossRestart() {}

  /** Null to fail the request with {@code failed}; else the outcome to give it instead. */
  static CompletableFuture<Body> outcome(Outstanding o, DafsException failed, RequestPipeline pipeline) {
    Status s = failed.status();
    switch (o.op) {
      case REMOVE, RMDIR -> {
        return s == Status.NOENT ? CompletableFuture.completedFuture(Replies.Empty.INSTANCE) : null;
      }
      case RENAME -> {
        if (s != Status.NOENT) {
          return null;
        }
        Requests.Rename r = (Requests.Rename) o.body;
        return pipeline.call(Opcode.LOOKUP, new Requests.Lookup(r.toDir(), r.toName()))
            .handle((found, e) -> e == null ? (Body) Replies.Empty.INSTANCE : rethrow(failed));
      }
      case MKDIR -> {
        if (s != Status.EXIST) {
          return null;
        }
        Requests.Entry r = (Requests.Entry) o.body;
        return pipeline.call(Opcode.LOOKUP, new Requests.Lookup(r.dir(), r.name()))
            .handle((found, e) -> e == null && ((Replies.HandleAttrs) found).attributes().type() == FileType.DIRECTORY ? found : rethrow(failed));
      }
      case CREATE, OPEN -> {
        boolean exclusive = o.op == Opcode.CREATE ? ((Requests.Entry) o.body).flag() : (((Requests.Open) o.body).flags() & Requests.Open.EXCLUSIVE) != 0;
        if (s != Status.EXIST || !exclusive) {
          return null;
        }
        return CompletableFuture.failedFuture(new DafsException(Status.EXIST, failed.detail()
            + " (sent again after the server restarted: its first attempt, unanswered, may have created it)"));
      }
      default -> {
        return null;
      }
    }
  }

  private static Body rethrow(DafsException failed) {
    throw new java.util.concurrent.CompletionException(failed);
  }
}

/*
 * cachedafs's own implementation of the 50 native methods DiSNI 2.1 declares
 * (com.ibm.disni.verbs.impl.NativeDispatcher and com.ibm.disni.util.NativeAffinity),
 * over libibverbs and librdmacm. DiSNI's own libdisni.so is in no package reachable
 * here, so this file is written from DiSNI's Java side, which is the contract:
 *
 *  - Every object id DiSNI keeps (event channel, cm id, context, pd, cq, qp, mr,
 *    completion channel) is the address of the native object as a jlong. DiSNI's Java
 *    object is the owner; the one release path is the matching destroy/dealloc/dereg
 *    method below, which DiSNI calls once (its isOpen checks guard double release).
 *    Nothing here keeps state between calls: no globals, no caches.
 *  - Work requests arrive already laid out as struct ibv_send_wr / ibv_recv_wr /
 *    ibv_sge chains in native memory, with real pointers: DiSNI's Java code writes them
 *    using the sizes and offsets this library reports at start (_getIbvSendWRSize,
 *    _getRemoteAddressOffset, ...), so _postSend and _postRecv pass them on unchanged.
 *  - Completions are written as struct ibv_wc (size from _getIbvWCSize) into the
 *    buffer DiSNI gives _pollCQ.
 *  - _getVersion must answer 32, the version DiSNI 2.1's Java side insists on.
 *  - Methods declared "throws IOException" throw one, with errno's text, on failure;
 *    the others return a negative value as DiSNI expects.
 */
#define _GNU_SOURCE /* sched_setaffinity and the CPU_* macros */
#include <jni.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/* The layout handshake version DiSNI 2.1's NativeDispatcher compares with its own. */
#define CACHEDAFS_DISNI_VERSION 32
/* Scatter/gather entries per work request: DiSNI passes no value, and the provider
   sends at most a header and a payload per request. */
#define CACHEDAFS_MAX_SGE 4
/* Outstanding RDMA READs per QP in each direction, capped below the device's limit:
   enough for the client's read pipeline, small enough for rxe's defaults. */
#define CACHEDAFS_MAX_RD_ATOMIC 16

#define PTR(type, v) ((type *)(uintptr_t)(v))
#define ID(p) ((jlong)(uintptr_t)(p))

static void throw_io(JNIEnv *env, const char *what, int err) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s failed: %s (errno %d)", what, strerror(err), err);
    jclass cls = (*env)->FindClass(env, "java/io/IOException");
    if (cls != NULL) {
        (*env)->ThrowNew(env, cls, msg);
    }
}

/* Puts a channel's descriptor in non-blocking mode, so that a read after poll() never
   blocks the calling Java thread past the timeout DiSNI asked for. On failure throws and
   answers 0: the caller then destroys the channel it just made. */
static int nonblocking_or_throw(JNIEnv *env, int fd, const char *channel) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0) {
        return 1;
    }
    char what[96];
    snprintf(what, sizeof what, "fcntl(O_NONBLOCK) on the %s", channel);
    throw_io(env, what, errno);
    return 0;
}

/* Waits for fd to become readable; 1 if it is, 0 on timeout, -1 on error. */
static int wait_readable(int fd, int timeout_ms) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    int rc;
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

/* Both sides of a connection ask for the same read depth: the device's, capped. */
static int rd_atomic_depth(struct ibv_context *ctx) {
    struct ibv_device_attr attr;
    if (ctx == NULL || ibv_query_device(ctx, &attr) != 0) {
        return 1;
    }
    int depth = attr.max_qp_rd_atom;
    if (attr.max_qp_init_rd_atom < depth) {
        depth = attr.max_qp_init_rd_atom;
    }
    if (depth > CACHEDAFS_MAX_RD_ATOMIC) {
        depth = CACHEDAFS_MAX_RD_ATOMIC;
    }
    return depth < 1 ? 1 : depth;
}

/* ---------------------------------------------------------------- rdmacm */

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1createEventChannel(
        JNIEnv *env, jobject self) {
    struct rdma_event_channel *ch = rdma_create_event_channel();
    if (ch == NULL) {
        throw_io(env, "rdma_create_event_channel", errno);
        return -1;
    }
    if (!nonblocking_or_throw(env, ch->fd, "cm event channel")) {
        rdma_destroy_event_channel(ch);
        return -1;
    }
    return ID(ch);
}

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1createId(
        JNIEnv *env, jobject self, jlong channel, jshort ps) {
    struct rdma_cm_id *id = NULL;
    if (rdma_create_id(PTR(struct rdma_event_channel, channel), &id, NULL,
                       (enum rdma_port_space)(uint16_t)ps) != 0) {
        throw_io(env, "rdma_create_id", errno);
        return -1;
    }
    return ID(id);
}

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1createQP(
        JNIEnv *env, jobject self, jlong id, jlong pd, jlong sendcq, jlong recvcq,
        jint qptype, jint maxsendwr, jint maxrecvwr, jint maxinline) {
    struct rdma_cm_id *cm = PTR(struct rdma_cm_id, id);
    struct ibv_qp_init_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.send_cq = PTR(struct ibv_cq, sendcq);
    attr.recv_cq = PTR(struct ibv_cq, recvcq);
    attr.qp_type = (enum ibv_qp_type)qptype;
    attr.cap.max_send_wr = (uint32_t)maxsendwr;
    attr.cap.max_recv_wr = (uint32_t)maxrecvwr;
    attr.cap.max_send_sge = CACHEDAFS_MAX_SGE;
    attr.cap.max_recv_sge = CACHEDAFS_MAX_SGE;
    attr.cap.max_inline_data = (uint32_t)maxinline;
    /* Completions only for the work requests that ask (IBV_SEND_SIGNALED). */
    attr.sq_sig_all = 0;
    if (rdma_create_qp(cm, PTR(struct ibv_pd, pd), &attr) != 0) {
        throw_io(env, "rdma_create_qp", errno);
        return -1;
    }
    return ID(cm->qp);
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1bindAddr(
        JNIEnv *env, jobject self, jlong id, jlong addr) {
    if (rdma_bind_addr(PTR(struct rdma_cm_id, id), PTR(struct sockaddr, addr)) != 0) {
        throw_io(env, "rdma_bind_addr", errno);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1listen(
        JNIEnv *env, jobject self, jlong id, jint backlog) {
    if (rdma_listen(PTR(struct rdma_cm_id, id), backlog) != 0) {
        throw_io(env, "rdma_listen", errno);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1resolveAddr(
        JNIEnv *env, jobject self, jlong id, jlong src, jlong dst, jint timeout) {
    if (rdma_resolve_addr(PTR(struct rdma_cm_id, id), PTR(struct sockaddr, src),
                          PTR(struct sockaddr, dst), timeout) != 0) {
        throw_io(env, "rdma_resolve_addr", errno);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1resolveRoute(
        JNIEnv *env, jobject self, jlong id, jint timeout) {
    if (rdma_resolve_route(PTR(struct rdma_cm_id, id), timeout) != 0) {
        throw_io(env, "rdma_resolve_route", errno);
    }
}

/* Writes the event's listening id and its own id (0 where absent) as two 64-bit words
   and answers the event type, or -1 when none came within timeout ms. The event is
   acknowledged here, after its ids are copied out: DiSNI's _ackCmEvent passes only the
   event type, so the event itself could not be found again, and an unacknowledged event
   would make rdma_destroy_id wait forever. */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getCmEvent(
        JNIEnv *env, jobject self, jlong channel, jlong listen_id_out, jlong client_id_out,
        jint timeout) {
    struct rdma_event_channel *ch = PTR(struct rdma_event_channel, channel);
    if (wait_readable(ch->fd, timeout) <= 0) {
        return -1;
    }
    struct rdma_cm_event *event = NULL;
    if (rdma_get_cm_event(ch, &event) != 0) {
        return -1;
    }
    jint type = (jint)event->event;
    *PTR(uint64_t, listen_id_out) = (uint64_t)(uintptr_t)event->listen_id;
    *PTR(uint64_t, client_id_out) = (uint64_t)(uintptr_t)event->id;
    rdma_ack_cm_event(event);
    return type;
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1connect(
        JNIEnv *env, jobject self, jlong id, jint retry, jint rnr_retry, jlong private_data,
        jbyte private_data_len) {
    struct rdma_cm_id *cm = PTR(struct rdma_cm_id, id);
    struct rdma_conn_param param;
    memset(&param, 0, sizeof param);
    int depth = rd_atomic_depth(cm->verbs);
    param.initiator_depth = (uint8_t)depth;
    param.responder_resources = (uint8_t)depth;
    param.retry_count = (uint8_t)retry;
    param.rnr_retry_count = (uint8_t)rnr_retry;
    param.private_data = PTR(const void, private_data);
    param.private_data_len = (uint8_t)private_data_len;
    if (rdma_connect(cm, &param) != 0) {
        throw_io(env, "rdma_connect", errno);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1accept(
        JNIEnv *env, jobject self, jlong id, jint retry, jint rnr_retry) {
    struct rdma_cm_id *cm = PTR(struct rdma_cm_id, id);
    struct rdma_conn_param param;
    memset(&param, 0, sizeof param);
    int depth = rd_atomic_depth(cm->verbs);
    param.initiator_depth = (uint8_t)depth;
    param.responder_resources = (uint8_t)depth;
    param.retry_count = (uint8_t)retry;
    param.rnr_retry_count = (uint8_t)rnr_retry;
    if (rdma_accept(cm, &param) != 0) {
        throw_io(env, "rdma_accept", errno);
    }
}

/* The event was acknowledged when it was taken (see _getCmEvent). */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1ackCmEvent(
        JNIEnv *env, jobject self, jint event) {
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1disconnect(
        JNIEnv *env, jobject self, jlong id) {
    return rdma_disconnect(PTR(struct rdma_cm_id, id)) == 0 ? 0 : -errno;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyEventChannel(
        JNIEnv *env, jobject self, jlong channel) {
    rdma_destroy_event_channel(PTR(struct rdma_event_channel, channel));
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyCmId(
        JNIEnv *env, jobject self, jlong id) {
    return rdma_destroy_id(PTR(struct rdma_cm_id, id)) == 0 ? 0 : -errno;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyQP(
        JNIEnv *env, jobject self, jlong id) {
    rdma_destroy_qp(PTR(struct rdma_cm_id, id));
    return 0;
}

/* Copies an IPv4 address out; DiSNI's buffer is _getSockAddrInSize() bytes. */
static jint copy_sockaddr_in(struct sockaddr *sa, jlong out) {
    if (sa == NULL || sa->sa_family != AF_INET) {
        return -1;
    }
    memcpy(PTR(void, out), sa, sizeof(struct sockaddr_in));
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getSrcAddr(
        JNIEnv *env, jobject self, jlong id, jlong out) {
    return copy_sockaddr_in(rdma_get_local_addr(PTR(struct rdma_cm_id, id)), out);
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getDstAddr(
        JNIEnv *env, jobject self, jlong id, jlong out) {
    return copy_sockaddr_in(rdma_get_peer_addr(PTR(struct rdma_cm_id, id)), out);
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyEp(
        JNIEnv *env, jobject self, jlong id) {
    rdma_destroy_ep(PTR(struct rdma_cm_id, id));
    return 0;
}

/* ---------------------------------------------------------------- verbs */

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1allocPd(
        JNIEnv *env, jobject self, jlong ctx) {
    struct ibv_pd *pd = ibv_alloc_pd(PTR(struct ibv_context, ctx));
    if (pd == NULL) {
        throw_io(env, "ibv_alloc_pd", errno);
        return -1;
    }
    return ID(pd);
}

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1createCompChannel(
        JNIEnv *env, jobject self, jlong ctx) {
    struct ibv_comp_channel *ch = ibv_create_comp_channel(PTR(struct ibv_context, ctx));
    if (ch == NULL) {
        throw_io(env, "ibv_create_comp_channel", errno);
        return -1;
    }
    if (!nonblocking_or_throw(env, ch->fd, "completion channel")) {
        ibv_destroy_comp_channel(ch);
        return -1;
    }
    return ID(ch);
}

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1createCQ(
        JNIEnv *env, jobject self, jlong ctx, jlong channel, jint ncqe, jint comp_vector) {
    struct ibv_cq *cq = ibv_create_cq(PTR(struct ibv_context, ctx), ncqe, NULL,
                                      PTR(struct ibv_comp_channel, channel), comp_vector);
    if (cq == NULL) {
        throw_io(env, "ibv_create_cq", errno);
        return -1;
    }
    return ID(cq);
}

/* DiSNI passes no attributes (always 0): the connection manager moves an RC queue pair
   through its states in rdma_connect/rdma_accept, so there is nothing to do. */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1modifyQP(
        JNIEnv *env, jobject self, jlong qp, jlong attr) {
    return 0;
}

/* Writes lkey, rkey and the pd's handle as three 32-bit words. */
JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1regMr(
        JNIEnv *env, jobject self, jlong pd, jlong addr, jint len, jint access,
        jlong lkey_out, jlong rkey_out, jlong handle_out) {
    struct ibv_mr *mr = ibv_reg_mr(PTR(struct ibv_pd, pd), PTR(void, addr), (size_t)(uint32_t)len,
                                   access);
    if (mr == NULL) {
        throw_io(env, "ibv_reg_mr", errno);
        return -1;
    }
    *PTR(uint32_t, lkey_out) = mr->lkey;
    *PTR(uint32_t, rkey_out) = mr->rkey;
    *PTR(uint32_t, handle_out) = mr->handle;
    return ID(mr);
}

/* The RC on-demand-paging capabilities, or -1 where the device has no ODP. */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1queryOdpSupport(
        JNIEnv *env, jobject self, jlong ctx) {
    struct ibv_device_attr_ex attr;
    memset(&attr, 0, sizeof attr);
    if (ibv_query_device_ex(PTR(struct ibv_context, ctx), NULL, &attr) != 0) {
        return -1;
    }
    if ((attr.odp_caps.general_caps & IBV_ODP_SUPPORT) == 0) {
        return -1;
    }
    return (jint)attr.odp_caps.per_transport_caps.rc_odp_caps;
}

/* DiSNI's prefetch is Mellanox's experimental verbs, which upstream rdma-core never
   had; the provider does not use on-demand paging, so this is refused plainly. */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1expPrefetchMr(
        JNIEnv *env, jobject self, jlong mr, jlong addr, jint len) {
    throw_io(env, "expPrefetchMr (experimental verbs, not in rdma-core)", ENOTSUP);
    return -1;
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1deregMr(
        JNIEnv *env, jobject self, jlong mr) {
    int rc = ibv_dereg_mr(PTR(struct ibv_mr, mr));
    if (rc != 0) {
        throw_io(env, "ibv_dereg_mr", rc);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1postSend(
        JNIEnv *env, jobject self, jlong qp, jlong wr) {
    struct ibv_send_wr *bad = NULL;
    int rc = ibv_post_send(PTR(struct ibv_qp, qp), PTR(struct ibv_send_wr, wr), &bad);
    if (rc != 0) {
        throw_io(env, "ibv_post_send", rc);
    }
}

JNIEXPORT void JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1postRecv(
        JNIEnv *env, jobject self, jlong qp, jlong wr) {
    struct ibv_recv_wr *bad = NULL;
    int rc = ibv_post_recv(PTR(struct ibv_qp, qp), PTR(struct ibv_recv_wr, wr), &bad);
    if (rc != 0) {
        throw_io(env, "ibv_post_recv", rc);
    }
}

/* 0 when a completion event was taken, -1 when none came within timeout ms. The caller
   acknowledges it through _ackCqEvent on the cq it polls. */
JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getCqEvent(
        JNIEnv *env, jobject self, jlong channel, jint timeout) {
    struct ibv_comp_channel *ch = PTR(struct ibv_comp_channel, channel);
    int ready = wait_readable(ch->fd, timeout);
    if (ready < 0) {
        throw_io(env, "poll on the completion channel", errno);
        return -1;
    }
    if (ready == 0) {
        return -1;
    }
    struct ibv_cq *cq = NULL;
    void *cq_context = NULL;
    if (ibv_get_cq_event(ch, &cq, &cq_context) != 0) {
        /* Another thread took the event between poll and read: no event for us. */
        return -1;
    }
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1pollCQ(
        JNIEnv *env, jobject self, jlong cq, jint ne, jlong wc) {
    return ibv_poll_cq(PTR(struct ibv_cq, cq), ne, PTR(struct ibv_wc, wc));
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1reqNotifyCQ(
        JNIEnv *env, jobject self, jlong cq, jint solicited_only) {
    int rc = ibv_req_notify_cq(PTR(struct ibv_cq, cq), solicited_only);
    if (rc != 0) {
        throw_io(env, "ibv_req_notify_cq", rc);
        return -1;
    }
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1ackCqEvent(
        JNIEnv *env, jobject self, jlong cq, jint nevents) {
    ibv_ack_cq_events(PTR(struct ibv_cq, cq), (unsigned int)nevents);
    return 0;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyCompChannel(
        JNIEnv *env, jobject self, jlong channel) {
    return ibv_destroy_comp_channel(PTR(struct ibv_comp_channel, channel)) == 0 ? 0 : -errno;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1deallocPd(
        JNIEnv *env, jobject self, jlong pd) {
    int rc = ibv_dealloc_pd(PTR(struct ibv_pd, pd));
    return rc == 0 ? 0 : -rc;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1destroyCQ(
        JNIEnv *env, jobject self, jlong cq) {
    int rc = ibv_destroy_cq(PTR(struct ibv_cq, cq));
    return rc == 0 ? 0 : -rc;
}

JNIEXPORT jlong JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getContext(
        JNIEnv *env, jobject self, jlong id) {
    struct rdma_cm_id *cm = PTR(struct rdma_cm_id, id);
    if (cm->verbs == NULL) {
        /* An id is bound to a device only once its address is bound or resolved. */
        throw_io(env, "getContext (the cm id has no device yet)", ENODEV);
        return -1;
    }
    return ID(cm->verbs);
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getQpNum(
        JNIEnv *env, jobject self, jlong qp) {
    return (jint)PTR(struct ibv_qp, qp)->qp_num;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getContextFd(
        JNIEnv *env, jobject self, jlong ctx) {
    return PTR(struct ibv_context, ctx)->cmd_fd;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getContextNumCompVectors(
        JNIEnv *env, jobject self, jlong ctx) {
    return PTR(struct ibv_context, ctx)->num_comp_vectors;
}

JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1getPdHandle(
        JNIEnv *env, jobject self, jlong pd) {
    return (jint)PTR(struct ibv_pd, pd)->handle;
}

/* ------------------------------------------- the layout handshake DiSNI makes at start */

/* Each query answers one constant of this platform's headers; DiSNI adopts the answers in
   place of its own defaults, so its serialised work requests and completions match. */
#define LAYOUT_QUERY(method, value)                                                        \
    JNIEXPORT jint JNICALL Java_com_ibm_disni_verbs_impl_NativeDispatcher__1##method(      \
            JNIEnv *env, jobject self) {                                                   \
        return (jint)(value);                                                              \
    }

LAYOUT_QUERY(getSockAddrInSize, sizeof(struct sockaddr_in))
LAYOUT_QUERY(getIbvRecvWRSize, sizeof(struct ibv_recv_wr))
LAYOUT_QUERY(getIbvSendWRSize, sizeof(struct ibv_send_wr))
LAYOUT_QUERY(getIbvSgeSize, sizeof(struct ibv_sge))
LAYOUT_QUERY(getIbvWCSize, sizeof(struct ibv_wc))
LAYOUT_QUERY(getRemoteAddressOffset, offsetof(struct ibv_send_wr, wr.rdma.remote_addr))
LAYOUT_QUERY(getRKeyOffset, offsetof(struct ibv_send_wr, wr.rdma.rkey))
LAYOUT_QUERY(getVersion, CACHEDAFS_DISNI_VERSION)

/* ---------------------------------------------------------------- affinity */

/* Pins the calling thread to the CPUs set in the low 64 bits of mask. */
JNIEXPORT void JNICALL Java_com_ibm_disni_util_NativeAffinity__1setAffinity(
        JNIEnv *env, jclass cls, jlong mask) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu = 0; cpu < 64; cpu++) {
        if (((uint64_t)mask >> cpu) & 1u) {
            CPU_SET(cpu, &set);
        }
    }
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        /* _setAffinity declares no IOException, so the failure (a mask naming no CPU
           this process may use) is reported unchecked. */
        jclass iae = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
        if (iae != NULL) {
            (*env)->ThrowNew(env, iae, "sched_setaffinity refused the mask");
        }
    }
}

/* The calling thread's CPUs among the first 64, as a mask; 0 if it cannot be read. */
JNIEXPORT jlong JNICALL Java_com_ibm_disni_util_NativeAffinity__1getAffinity(
        JNIEnv *env, jclass cls) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return 0;
    }
    uint64_t mask = 0;
    for (int cpu = 0; cpu < 64; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            mask |= (uint64_t)1 << cpu;
        }
    }
    return (jlong)mask;
}

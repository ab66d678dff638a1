/**
 * The {@code tcp} transport: runs on any network, with one-sided operations emulated the iWARP/DDP way.
 *
 * <p>A region's descriptor is its key: 8 random bytes, unique within its domain. Every transport
 * frame starts with a fixed 40-byte header:
 * <pre>
 *  offset size field
 *  0      4    payload length (bytes that follow the header)
 *  4      1    type: 1 MSG, 2 WRITE, 3 READ_REQ, 4 READ_RESP
 *  5      1    status (READ_RESP: 0 ok, 1 remote access error)
 *  6      2    reserved, 0
 *  8      8    region key (WRITE: target; READ_REQ: source)
 *  16     4    length (READ_REQ: bytes wanted)
 *  20     4    reserved, 0
 *  24     8    region offset (WRITE: target; READ_REQ: source)
 *  32     8    operation id (READ_REQ, READ_RESP)
 * </pre>
 *
 * <p>The receive thread reads exactly the header, then the payload. No payload is longer than 16 MiB
 * (a one-sided transfer's largest), and a header whose length says more breaks the connection as
 * soon as its first four bytes are in, before the rest of the header is waited for: so a peer that
 * speaks another protocol, whose text would read as a length of hundreds of MiB, is found out at once. For WRITE and READ_RESP the
 * payload is read from the socket straight into the target region's memory: the "tagged receive
 * buffer" of DAFS over iWARP, with no intermediate copy. A frame that names an unknown region, or
 * one outside the region's bounds or access, breaks the connection, as a remote access error breaks
 * an RDMA queue pair; a READ_REQ that does so is answered with an error status, and then the
 * connection closes on both sides.
 */
package org.cachedafs.transport.tcp;

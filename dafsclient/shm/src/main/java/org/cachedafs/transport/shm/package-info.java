/**
 * The {@code shm} transport: a client and a server on the same Linux host share memory. A one-sided
 * transfer is a copy done by the initiator alone, running no code of the peer at all; messages go
 * through rings in shared memory; a Unix socket carries what memory cannot (descriptors, wake-ups).
 * Only {@link org.cachedafs.transport.shm.ShmTransport} is public. Native calls (sockets with
 * SCM_RIGHTS, poll, memfd, seals) go through jnr-ffi ({@code Native}); Linux on x86-64 or aarch64
 * only, and {@code isAvailable()} says why not elsewhere.
 *
 * <h2>Segments</h2>
 * Every {@code MemoryDomain.allocate} creates one anonymous memory file ({@code memfd_create}) of
 * exactly the requested length, maps it, and seals it against shrinking and growing, so that no one
 * holding it (the peer included) can make a mapping of it fault (SIGBUS). A {@code REMOTE_READ}
 * segment is also sealed with {@code F_SEAL_FUTURE_WRITE} once this side's own writable mapping
 * exists: from then on nobody can map it writable or write it, even after reopening the descriptor
 * read-write through {@code /proc} (which a memfd allows, so the read-only descriptor alone would
 * not hold). A memory file never has a name in any file system: nothing is created in
 * {@code /dev/shm}, nothing is ever unlinked because nothing was ever linked, and the kernel frees
 * it when its last descriptor and mapping go, so a killed process leaves nothing behind. (This is
 * the strongest form of "files created 0600, unlinked once both sides have them mapped": there is
 * no moment at which another process could open one by name.) {@code register} accepts only views
 * of memory the domain allocated, with access no wider than the segment's; it names part of a
 * segment and owns nothing.
 *
 * <h2>What a peer can reach</h2>
 * A segment with remote access is sent, as a descriptor over the connection's control socket
 * (SCM_RIGHTS), to every <em>admitted</em> connection of its domain: at admission for segments that
 * exist, and before {@code allocate} returns for later ones. {@code LOCAL} memory is never sent. So
 * a peer can reach, with its own loads and stores, exactly:
 * <ul>
 *   <li>every remote-access segment of the domain its connection uses, whole: read-only if
 *       {@code REMOTE_READ} (kernel-enforced, above), readable and writable otherwise. There is no
 *       write-only memory: a hostile peer can read a {@code REMOTE_WRITE} segment;
 *   <li>the ring file of its own connection.
 * </ul>
 * Nothing else: not {@code LOCAL} memory, not another domain's, not another connection's ring, and
 * nothing before its credential was admitted. Regions within a segment (their bounds, their access
 * when narrower than the segment's) and the closing of a region are enforced by the initiating side:
 * they stop mistakes and stale descriptors, not a hostile peer, which keeps what it was sent until
 * the owner closes the region that owns the segment. Like the server's exported cache in ODAFS,
 * exposed memory is readable by every admitted peer of the domain.
 *
 * <h2>Descriptors and announcements</h2>
 * A {@code RemoteRegion} is 24 bytes: the region's random 64-bit key, the random 64-bit id of its
 * segment, and its offset and length in the segment. The owner announces on the control socket
 * (32-byte records, see {@code ControlRecord}): SEGMENT (with the descriptor), REGION, REGION_CLOSED,
 * SEGMENT_CLOSED. The initiator checks a descriptor against these announcements: a key it was not
 * told of, a mismatch, an offset outside the region, or an access the region lacks is a remote access
 * error, which closes the connection (as on an RC queue pair); a write into a region closed lately
 * is dropped and a read of one is an error. Because one-sided operations never involve the peer,
 * the initiator must learn of a closed region by itself before its next operation: the owner sends
 * REGION_CLOSED before {@code Region.close} returns, and counts each control record it has sent in
 * the shared ring page ("control sent"). Any thread about to use a descriptor, and the receive thread
 * before it delivers ring messages, first reads that count and, if records are missing here, takes
 * them off the socket, where they already are, without waiting. So an announcement always precedes
 * a message that names its region, and a descriptor handed over any other way after
 * {@code allocate} returned is known too (unless the control socket was full, when the record
 * waits in the send queue, ahead of any later message).
 *
 * <h2>Rings and doorbell</h2>
 * The accepting side creates the ring file (a sealed memfd) after admission: a header page and two
 * single-producer, single-consumer rings of 2 MiB, one per direction, each with a control page whose
 * fields (produced, consumed, sleeping, control sent) sit on cache lines of their own and are
 * published with release and read with acquire ordering ({@code VarHandle} on the mapping). A record
 * is an 8-byte header (length, type) and the message, padded to 8 bytes; a message that does not fit
 * before the end follows a SKIP record. The consumer copies each message into a new heap buffer, so
 * {@code Received.detach()} gives it away and holding it holds no ring space. Both sides keep their
 * own index locally and never read it back; everything read of the other side (indices, record
 * headers, counts) is treated as hostile: read once, validated, and any violation closes the
 * connection with a logged reason. No length read from the ring is allocated before it is checked
 * against the largest message, and a drain stops at the produced index it read.
 * <p>A consumer with nothing to read spins for about 20 µs (by the clock, not a PAUSE count, which
 * virtualization can stretch), then sets its sleeping flag, looks once more, and blocks in
 * {@code poll}. A producer that publishes, fences and finds the flag set clears it and writes one
 * byte to the doorbell socket (if that socket is full, a wake-up is pending already). The doorbell is
 * a socket pair of its own, passed in the ACCEPT record, rather than the control socket: threads
 * that pick up announcements read the control socket at any time, and must not swallow the byte the
 * receive thread sleeps on. Closing shuts both sockets down, which wakes a blocked receiver.
 *
 * <h2>A hostile peer</h2>
 * Everything that comes from the peer is checked before it is used, and a failed check closes that
 * connection alone, with the reason logged (as a warning): control records (types, reserved bytes,
 * ids announced once and closed once, regions inside their segments with no wider access), the
 * descriptors they carry (each must be a plain memfd, not a hugetlb one, sealed against shrinking,
 * at least as long as announced, and mappable with the access announced; descriptors no record asked
 * for are a violation and are closed), the ring file (the same checks, and its format), every ring
 * index and record header, and the count of control records it claims to have sent. What a peer can
 * make this side hold is bounded: 4096 segments, 2^16 regions and
 * 1 TiB of address space mapped per connection, 16 descriptors waiting for their records, one
 * message buffer of at most the largest message at a time. Only the connection's own threads ever
 * wait for the peer (the receive thread on its doorbell, the drain thread for room), and closing
 * the connection wakes both.
 *
 * <h2>Opening a connection</h2>
 * The listener binds a Unix socket; {@code localAddress()} names a fresh path in a new directory
 * under {@code java.io.tmpdir}, which the listener creates owner-only (0700) and removes with the
 * socket when it closes. The connector sends a hello (magic, version, credential of at most 4 KiB);
 * the listener reads exactly that within 5 s (garbage, a longer one, descriptors attached to it, or
 * silence close the socket) and calls {@code ConnectionHandler.admit} before it creates or passes any
 * memory. Refused: a REFUSED record, the socket closes, and {@code connect} fails saying the peer
 * refused the credential. Admitted: ACCEPT carries the ring file and the doorbell; each side then
 * announces its domain's remote-access regions, and calls {@code onOpen}.
 *
 * <h2>Sending, limits, threads</h2>
 * A send copies the message into the ring if it fits now (the ring's single producer is whoever
 * holds the sender's lock); otherwise it is queued and a drain thread ({@code dafs-shm-tx-N}, started
 * the first time something queues) writes it as the peer makes room. {@code ConnectionLimits} apply
 * as on tcp: above the high water an accepting side stops consuming the peer's messages, past the
 * hard limit a send fails and the connection closes, and a queue that does not move for the stall
 * timeout closes it. Each connection has one receive thread ({@code dafs-shm-rx-N}; on the accepting
 * side it also runs the handshake). All threads are daemons. One-sided operations run on the caller's
 * thread and complete before they return.
 *
 * <h2>Lifetimes</h2>
 * <ul>
 *   <li>A segment is owned by the region that allocated it. Closing that region announces it closed,
 *       closes the descriptor and lays anonymous memory over this side's mapping (so a stale view of
 *       the region reads zeros instead of faulting); the pages are freed when the peers unmap.
 *       Memory files are never reused, so a peer's late write can only land in pages nobody else
 *       sees.
 *   <li>A peer's segment is mapped here until its SEGMENT_CLOSED arrives or the connection closes,
 *       and unmapped ({@code Unsafe.invokeCleaner}) only once no copy runs through it: every
 *       operation holds the segment's {@code Guard} while it copies.
 *   <li>The ring file and the two sockets belong to the connection, and are released when it has
 *       closed and its threads and operations have left it (its own {@code Guard}).
 *   <li>If the peer process dies, the kernel closes its descriptors: this side reads the end of both
 *       sockets, delivers what the peer had published, closes, and unmaps everything of the peer.
 * </ul>
 * A connection holds two descriptors (the sockets); each remote-access segment holds one in its
 * domain, whatever the number of connections. Once its rings have wrapped, a connection uses 4 MiB
 * of shared memory.
 *
 * <h2>Where this differs from the first design</h2>
 * <ul>
 *   <li>Descriptors carry a region key besides segment, offset and length, and regions are announced
 *       one by one: a region's closing must reach an initiator that runs no code of the peer, and a
 *       registered view must be closable on its own.
 *   <li>Doorbells have a socket of their own (above), and a "control sent" count in shared memory
 *       tells an initiator when announcements are waiting.
 *   <li>This side's own mapping of a closed segment is replaced, not unmapped: views of a region are
 *       handed to code the transport cannot guard.
 * </ul>
 */
package org.cachedafs.transport.shm;

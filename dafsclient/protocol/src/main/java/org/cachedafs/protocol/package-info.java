/**
 * The DAFS wire protocol: what the client and the server say to each other, and nothing else.
 *
 * <p>Two kinds of type live here. The <em>values</em> that the client API hands to applications —
 * {@link org.cachedafs.protocol.FileHandle}, {@link org.cachedafs.protocol.FileAttributes},
 * {@link org.cachedafs.protocol.SetAttributes}, {@link org.cachedafs.protocol.FsStats},
 * {@link org.cachedafs.protocol.DirEntry}, {@link org.cachedafs.protocol.LockRange},
 * {@link org.cachedafs.protocol.FileType} and {@link org.cachedafs.protocol.Status} — are promises:
 * they change only compatibly. Everything else — {@code Codec}, {@code FrameHeader}, {@code Frame},
 * {@code FrameKind}, {@code WireReader}, {@code WireWriter}, {@code Handshake}, {@code Opcode},
 * {@code Requests}, {@code Replies}, {@code RegionDescriptor}, {@code Limits} — is the two sides'
 * shared implementation, public only because the client and the server live in other packages, and
 * may change with any protocol version ({@code Codec.VERSION}). No public signature of the client
 * API ({@code DafsClient}, {@code DafsSession}) names one of them; a test keeps it so.
 *
 * <p>Why not a {@code module-info} with qualified exports: the values above must be exported to
 * every application, so the package as a whole is exported either way, and the modules that would
 * receive a qualified export (the server, the cache, the doors) run on the class path, where a
 * module declaration is not read. The line is drawn by the rule above and its test instead.
 */
package org.cachedafs.protocol;

/**
 * The transport SPI: how bytes move between a DAFS client and server. The layers above never know
 * which provider runs.
 *
 * <p>It maps one to one onto RDMA verbs, so that a verbs provider is a thin shim:
 * <table>
 *   <caption>SPI and verbs</caption>
 *   <tr><th>SPI</th><th>verbs</th></tr>
 *   <tr><td>{@link org.cachedafs.transport.MemoryDomain}</td><td>protection domain ({@code ibv_alloc_pd})</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.MemoryDomain#register}</td><td>{@code ibv_reg_mr}; the {@link org.cachedafs.transport.RemoteRegion} descriptor is the address and rkey</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.MemoryDomain#allocate}</td><td>memory placed by the provider, then {@code ibv_reg_mr}</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.Region#close}</td><td>{@code ibv_dereg_mr}</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.Connection#send}</td><td>SEND; received by {@link org.cachedafs.transport.ConnectionHandler#onMessage} into a posted buffer ({@link org.cachedafs.transport.Received}), released to be posted again</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.Connection#write}</td><td>RDMA WRITE into the peer's region</td></tr>
 *   <tr><td>{@link org.cachedafs.transport.Connection#read}</td><td>RDMA READ from the peer's region</td></tr>
 * </table>
 *
 * <p>Ordering follows a reliable-connected queue pair: a message sent after a one-sided write is
 * delivered after the written bytes are in the peer's region. That is how a direct read works: the
 * server writes into the client's region, then sends the reply. A remote access error is fatal to
 * the connection, as it is to a queue pair; the layers above survive the loss of a connection by
 * reconnecting and retrying what is safe.
 *
 * <p>Ownership: a {@link org.cachedafs.transport.Region} is owned by whoever registered or
 * allocated it, and {@link org.cachedafs.transport.Region#close} is its one release path; the domain
 * closes what is left when it closes. A registered {@code ByteBuffer} stays the caller's memory: the
 * transport never frees it; allocated memory is the region's, freed with it. A received message is
 * the provider's until the handler releases or detaches it. Sizes and depths are stated by
 * {@link org.cachedafs.transport.Capabilities}. Providers are found by {@link org.cachedafs.transport.Transports} through
 * {@link java.util.ServiceLoader}.
 */
package org.cachedafs.transport;

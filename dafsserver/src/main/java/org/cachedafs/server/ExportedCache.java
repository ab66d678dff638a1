package org.cachedafs.server;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.protocol.RegionDescriptor;
import org.cachedafs.protocol.Replies.Reference;
import org.cachedafs.protocol.SlotImage;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/**
 * The server's exported block cache (ODAFS, after Magoutis et al., FAST'03): file blocks in slabs
 * registered once for remote reading, which clients read by one-sided reads and validate themselves,
 * so that a valid read costs the server no CPU. docs/odafs.md gives the design and why it is safe.
 *
 * <p><b>Slots.</b> Slabs are allocated once, in one transport's domain (shm where offered, whose
 * memory must be its own), and the same memory is registered in every other domain that can expose
 * foreign memory (tcp), so that each slot has a descriptor per transport. A slot is laid out as
 * {@link SlotImage} says: a header on its own cache line, the block, a trailer repeating the
 * generation.
 *
 * <p><b>The seqlock.</b> Every change to a slot ({@link #write}) is made by the one thread that owns
 * the slot at that moment (it took it from the free list, or removed its entry from the map): the
 * generation at both ends goes odd (volatile stores, then a store-store fence), the bytes and header
 * fields change, the checksum is set, and then (release stores) the trailer and the header go to the
 * next even generation. A reader that copies the slot front to back and finds both generations even
 * and equal, and the checksum right, copied one stable state; the checksum also catches a copy whose
 * loads were reordered (a memcpy promises no order).
 *
 * <p><b>Residency.</b> Caffeine (W-TinyLFU) decides which blocks stay, as in the client's cache; an
 * eviction runs on the calling thread (the listener wipes the slot and frees it). A fill is
 * best-effort: with no free slot after evicting the coldest entry, nothing is filled.
 *
 * <p><b>Staleness.</b> Each file has an epoch that every change bumps after the file itself changed
 * and before its slots are wiped. A fill reads the epoch before it reads the file, and publishes only
 * if the epoch is unchanged after publication (else it withdraws the slot), so a fill racing a write
 * can never leave the old bytes behind.
 *
 * <p><b>Local writers.</b> While processes on the host have the file open outside the server (the
 * local-writer fence counts them: {@link LocalFence}), the file is {@link #fenced}: its slots were
 * wiped, through the same epoch bump and sweep as a write, before the first such open went on, and
 * nothing is filled until it is {@link #unfenced}. A fill reads the epoch before the fence flag, and
 * the fence sets the flag before it bumps the epoch, so a fill either sees the flag or is withdrawn.
 *
 * <p><b>File ids</b> are the run's random 64-bit boot prefix and a counter: a file removed, or an old
 * run's file, never has the id of a live one, so its references never validate.
 */
final class ExportedCache implements AutoCloseable {
  private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  /** The largest slab; a domain allocation is an int. */
  private static final int MAX_SLAB_BYTES = 64 << 20;

  /**
   * One file's entry: its id, its epoch, and which slot holds each of its resident blocks. That map
   * is the one truth of what is resident: a slot is owned by whoever puts it there or removes it.
   */
  static final class FileEntry {
    final long id;
    final AtomicLong epoch = new AtomicLong();
    final ConcurrentSkipListMap<Long, Integer> slots = new ConcurrentSkipListMap<>();
    volatile boolean dropped;
    /** Processes outside the server have the file open: it is not filled. Set and cleared by the fence's thread. */
    volatile boolean fenced;

    FileEntry(long id) {
      this.id = id;
    }
  }

  record SlotKey(FileEntry file, long block) {}

  private final int blockSize;
  private final int slotBytes;
  private final int slotsPerSlab;
  private final int slots;
  private final long boot;
  private final AtomicLong nextFileId = new AtomicLong(1);
  private final List<Region> slabs = new ArrayList<>();
  /** Each slab's descriptor in each domain it can be read through. */
  private final Map<MemoryDomain, RegionDescriptor[]> descriptors = new IdentityHashMap<>();
  private final List<Region> registrations = new ArrayList<>();
  private final ConcurrentHashMap<FileNode, FileEntry> files = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Integer> free = new ConcurrentLinkedQueue<>();
  /** The generation each slot has, or will have once its change in progress ends (the owner's copy). */
  private final AtomicLongArray generation;
  /**
   * The replacement policy only: which blocks to keep. An entry whose block is no longer in its
   * file's map (a change took it) is a leftover its eviction ignores.
   */
  private final Cache<SlotKey, Integer> residency;
  final LongAdder fills = new LongAdder();
  final LongAdder fillsWithdrawn = new LongAdder();
  final LongAdder evictions = new LongAdder();
  final LongAdder invalidations = new LongAdder();
  final LongAdder referencesGiven = new LongAdder();

  private ExportedCache(int blockSize, int slots, MemoryDomain home, List<MemoryDomain> others, SecureRandom random) {
    this.blockSize = blockSize;
    this.slotBytes = SlotImage.slotBytes(blockSize);
    this.slots = slots;
    this.slotsPerSlab = Math.max(1, Math.min(Math.max(slots, 1), MAX_SLAB_BYTES / slotBytes));
    long b;
    do {
      b = random.nextLong();
    } while (b == 0);
    this.boot = b;
    this.generation = new AtomicLongArray(slots);
    this.residency = Caffeine.newBuilder()
        .maximumSize(slots)
        .executor(Runnable::run)
        .<SlotKey, Integer>evictionListener((k, slot, cause) -> {
          if (k != null && slot != null && cause == RemovalCause.SIZE && k.file().slots.remove(k.block(), slot)) {
            evictions.increment();
            release(slot);
          }
        })
        .build();
    if (slots == 0) {
      return;
    }
    try {
      int left = slots;
      List<RegionDescriptor> home_ = new ArrayList<>();
      Map<MemoryDomain, List<RegionDescriptor>> other = new IdentityHashMap<>();
      while (left > 0) {
        int n = Math.min(left, slotsPerSlab);
        Region slab = home.allocate(n * slotBytes, Access.REMOTE_READ);
        slabs.add(slab);
        home_.add(RegionDescriptor.of(slab.remote().toBytes()));
        for (MemoryDomain d : others) {
          Region r = d.register(slab.buffer(), Access.REMOTE_READ);
          registrations.add(r);
          other.computeIfAbsent(d, x -> new ArrayList<>()).add(RegionDescriptor.of(r.remote().toBytes()));
        }
        left -= n;
      }
      descriptors.put(home, home_.toArray(RegionDescriptor[]::new));
      other.forEach((d, l) -> descriptors.put(d, l.toArray(RegionDescriptor[]::new)));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    for (int i = 0; i < slots; i++) {
      free.add(i);
    }
  }

  /**
   * An exported cache of {@code bytes} (rounded down to whole slots) of {@code blockSize}-byte
   * blocks, allocated in {@code home} and registered in each of {@code others}; {@link #disabled}
   * if {@code bytes} holds no slot.
   */
  static ExportedCache create(long bytes, int blockSize, MemoryDomain home, List<MemoryDomain> others, SecureRandom random) {
    if (!SlotImage.validBlockSize(blockSize)) {
      throw new IllegalArgumentException("the exported block size must be a power of two from " + SlotImage.MIN_BLOCK + " to "
          + SlotImage.MAX_BLOCK + " bytes, not " + blockSize);
    }
    long n = bytes / SlotImage.slotBytes(blockSize);
    if (n < 1) {
      return disabled();
    }
    return new ExportedCache(blockSize, (int) Math.min(n, Integer.MAX_VALUE / 2), home, others, random);
  }

  /** An exported cache of no slots: nothing is filled, no reference given, every change a no-op. */
  static ExportedCache disabled() {
    return new ExportedCache(SlotImage.MIN_BLOCK, 0, null, List.of(), new SecureRandom());
  }

  boolean enabled() {
    return slots > 0;
  }

  int blockSize() {
    return blockSize;
  }

  int slots() {
    return slots;
  }

  long boot() {
    return boot;
  }

  int resident() {
    return (int) residency.estimatedSize();
  }

  /** Whether references can be given to a connection of {@code domain}. */
  boolean reachableFrom(MemoryDomain domain) {
    return descriptors.containsKey(domain);
  }

  // --- filling ---------------------------------------------------------------------------------

  /**
   * The file's epoch, to be read before its bytes are read for a {@link #fill}; the entry is made
   * here, so that a change made from now on bumps it. Negative for a file that cannot be cached.
   */
  long epochBeforeRead(FileNode node) {
    if (slots == 0 || node.isRemoved()) {
      return -1;
    }
    FileEntry f = entry(node);
    if (f == null) {
      return -1;
    }
    long epoch = f.epoch.get();
    return f.dropped || f.fenced ? -1 : epoch; // the flag after the epoch: see the class comment
  }

  /** The node's entry, made if it has none; null if the node is removed (then it must have none). */
  private FileEntry entry(FileNode node) {
    FileEntry f = files.computeIfAbsent(node, n -> new FileEntry(nextFileId.getAndIncrement()));
    if (node.isRemoved()) {
      // Removed since the caller looked, and perhaps swept already: this entry must not live on.
      removed(node);
      return null;
    }
    return f;
  }

  /**
   * Puts the {@code data.remaining()} bytes of block {@code block} (read from the file after
   * {@link #epochBeforeRead} returned {@code epoch}) into a slot, unless a change to the file came
   * in between or the block is resident already. Returns whether the block is resident now.
   */
  boolean fill(FileNode node, long block, ByteBuffer data, long epoch) {
    if (epoch < 0 || data.remaining() > blockSize) {
      return false;
    }
    FileEntry f = files.get(node);
    if (f == null || f.dropped || f.epoch.get() != epoch) {
      return false;
    }
    if (f.slots.containsKey(block)) {
      return true;
    }
    Integer slot = takeFree();
    if (slot == null) {
      return false;
    }
    write(slot, f.id, block, data);
    if (f.slots.putIfAbsent(block, slot) != null) {
      release(slot);
      return true;
    }
    if (f.dropped || f.epoch.get() != epoch) {
      // A change came while this fill ran: it may have swept the file's blocks before this one was
      // in the map. Withdraw it (unless the change already took it).
      if (f.slots.remove(block, slot)) {
        release(slot);
      }
      fillsWithdrawn.increment();
      return false;
    }
    residency.put(new SlotKey(f, block), slot);
    fills.increment();
    return true;
  }

  private Integer takeFree() {
    Integer slot = free.poll();
    if (slot != null) {
      return slot;
    }
    residency.cleanUp();
    for (Map.Entry<SlotKey, Integer> e : residency.policy().eviction().orElseThrow().coldest(4).entrySet()) {
      SlotKey k = e.getKey();
      if (residency.asMap().remove(k, e.getValue()) && k.file().slots.remove(k.block(), e.getValue())) {
        evictions.increment();
        release(e.getValue());
      }
    }
    return free.poll();
  }

  // --- references ------------------------------------------------------------------------------

  /**
   * A reference to block {@code block} of {@code node} for a connection of {@code domain}, or null
   * if the block is not resident. The slot may change right after: the reader's validation catches
   * it.
   */
  Reference reference(FileNode node, long block, MemoryDomain domain) {
    RegionDescriptor[] d = descriptors.get(domain);
    FileEntry f = files.get(node);
    if (d == null || f == null || f.dropped) {
      return null;
    }
    Integer slot = f.slots.get(block);
    if (slot == null) {
      return null;
    }
    residency.getIfPresent(new SlotKey(f, block)); // a use, for the policy
    long g = generation.get(slot);
    referencesGiven.increment();
    return new Reference(d[slot / slotsPerSlab], (long) (slot % slotsPerSlab) * slotBytes, boot, f.id, block, g);
  }

  // --- changes ---------------------------------------------------------------------------------

  /**
   * The bytes {@code [offset, offset + length)} of the file changed (a write, the tail cut by a
   * truncation): called after the file changed, it wipes the slots of the blocks touched.
   */
  void changed(FileNode node, long offset, long length) {
    FileEntry f = files.get(node);
    if (f == null || length <= 0) {
      return;
    }
    f.epoch.incrementAndGet();
    long first = offset / blockSize;
    long last = offset > Long.MAX_VALUE - length ? Long.MAX_VALUE : (offset + length - 1) / blockSize;
    for (Long b : f.slots.subMap(first, true, last, true).keySet()) {
      drop(f, b);
    }
  }

  /**
   * A process outside the server is opening the file: every slot of it is wiped (as by a write of the
   * whole file), and it is filled no more until {@link #unfenced}. Called before that open may go on.
   */
  void fenced(FileNode node) {
    if (slots == 0 || node.isRemoved()) {
      return;
    }
    FileEntry f = entry(node);
    if (f != null) {
      f.fenced = true; // before the epoch moves: a fill that sees the new epoch sees this too
      changed(node, 0, Long.MAX_VALUE);
    }
  }

  /** No process outside the server has the file open any more: it may be filled again. */
  void unfenced(FileNode node) {
    FileEntry f = files.get(node);
    if (f != null) {
      f.fenced = false;
    }
  }

  /** The file was truncated to {@code size} bytes: its blocks from the one holding {@code size} go. */
  void truncated(FileNode node, long size) {
    changed(node, size, Long.MAX_VALUE - size);
  }

  /** The file is gone (removed, renamed over, replaced): every slot of it goes, and it is never filled again. */
  void removed(FileNode node) {
    FileEntry f = files.remove(node);
    if (f == null) {
      return;
    }
    f.dropped = true;
    f.epoch.incrementAndGet();
    for (Long b : f.slots.keySet()) {
      drop(f, b);
    }
  }

  private void drop(FileEntry f, long block) {
    Integer slot = f.slots.remove(block);
    if (slot != null) {
      residency.asMap().remove(new SlotKey(f, block), slot);
      invalidations.increment();
      release(slot);
    }
  }

  /** Called by the one thread that took the slot out of its file's map (or never put it there): the slot is its own. */
  private void release(int slot) {
    wipe(slot);
    free.add(slot);
  }

  private void wipe(int slot) {
    write(slot, 0, -1, ByteBuffer.allocate(0));
  }

  /**
   * Rewrites a slot under its seqlock: both generations odd, the contents, then both even again.
   * Only the slot's owner calls it.
   */
  private void write(int slot, long file, long block, ByteBuffer data) {
    ByteBuffer slab = slabs.get(slot / slotsPerSlab).buffer().order(ByteOrder.LITTLE_ENDIAN);
    int base = (slot % slotsPerSlab) * slotBytes;
    int trailer = base + SlotImage.trailerAt(blockSize);
    long g = generation.get(slot) + 2; // the next stable state; only the owner writes it
    generation.set(slot, g);
    LONGS.setVolatile(slab, base + SlotImage.GENERATION_AT, g - 1);
    LONGS.setVolatile(slab, trailer, g - 1);
    VarHandle.storeStoreFence();
    int valid = data.remaining();
    slab.putInt(base + SlotImage.MAGIC_AT, SlotImage.MAGIC);
    slab.putInt(base + SlotImage.VALID_AT, valid);
    slab.putLong(base + SlotImage.BOOT_AT, file == 0 ? 0 : boot);
    slab.putLong(base + SlotImage.FILE_AT, file);
    slab.putLong(base + SlotImage.BLOCK_AT, block);
    slab.put(base + SlotImage.HEADER_BYTES, data, data.position(), valid);
    int sum = SlotImage.checksum(valid, file == 0 ? 0 : boot, file, block, g, slab.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(base + SlotImage.HEADER_BYTES));
    slab.putInt(base + SlotImage.CHECKSUM_AT, sum);
    VarHandle.releaseFence();
    LONGS.setRelease(slab, trailer, g);
    LONGS.setRelease(slab, base + SlotImage.GENERATION_AT, g);
  }

  /** The slab a slot lies in and its offset there, for tests that read slots as a client would. */
  Region slabOf(int slot) {
    return slabs.get(slot / slotsPerSlab);
  }

  int offsetOf(int slot) {
    return (slot % slotsPerSlab) * slotBytes;
  }

  /** The slot holding block {@code block} of {@code node}, or -1 (for tests). */
  int slotOf(FileNode node, long block) {
    FileEntry f = files.get(node);
    Integer s = f == null ? null : f.slots.get(block);
    return s == null ? -1 : s;
  }

  @Override
  public void close() {
    registrations.forEach(Region::close);
    slabs.forEach(Region::close);
  }
}

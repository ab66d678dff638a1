package org.cachedafs.cache;

/** A block's name in the policy's index: which file (the cache's own id for it) and which block of it. */
record BlockKey(long fileId, long blockNo) {}

package org.cachedafs.server;

/** No local-writer fence: local opens are not seen, as before the fence existed. */
enum DisabledFence implements LocalFence {
  INSTANCE;

  @Override
  public void watch(FileNode node) {
    // Nothing watches: local writers are not fenced, which the server said at start.
  }

  @Override
  public void forget(FileNode node) {
    // Nothing was watched.
  }

  @Override
  public boolean active() {
    return false;
  }

  @Override
  public ServerStats.LocalFence stats() {
    return ServerStats.LocalFence.NONE;
  }

  @Override
  public void close() {
    // Nothing to stop.
  }
}

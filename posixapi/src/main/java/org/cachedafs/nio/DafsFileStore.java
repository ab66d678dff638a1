package org.cachedafs.nio;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import org.cachedafs.protocol.FsStats;

/** The exported directory's file store, with the space figures the server reports (STATFS). */
final class DafsFileStore extends FileStore {
  private final DafsFileSystem fs;

  DafsFileStore(DafsFileSystem fs) {
    this.fs = fs;
  }

  private FsStats stats() throws IOException {
    return fs.session.statfs(fs.session.root());
  }

  @Override
  public String name() {
    return "dafs://" + fs.authority();
  }

  @Override
  public String type() {
    return "dafs";
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public long getTotalSpace() throws IOException {
    return stats().totalBytes();
  }

  @Override
  public long getUsableSpace() throws IOException {
    return stats().usableBytes();
  }

  @Override
  public long getUnallocatedSpace() throws IOException {
    return stats().freeBytes();
  }

  @Override
  public long getBlockSize() throws IOException {
    return stats().blockSize();
  }

  @Override
  public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
    return type == BasicFileAttributeView.class || type == PosixFileAttributeView.class;
  }

  @Override
  public boolean supportsFileAttributeView(String name) {
    return name.equals("basic") || name.equals("posix");
  }

  @Override
  public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
    return null;
  }

  @Override
  public Object getAttribute(String attribute) {
    throw new UnsupportedOperationException("no file store attribute " + attribute);
  }
}

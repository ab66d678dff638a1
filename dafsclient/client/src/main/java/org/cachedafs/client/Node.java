package org.cachedafs.client;

import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;

/**
 * A file or directory as a lookup found it or a create or mkdir made it: the handle to name it by
 * from now on, and its attributes as the server saw them in the same operation.
 */
public record Node(FileHandle handle, FileAttributes attributes) {}

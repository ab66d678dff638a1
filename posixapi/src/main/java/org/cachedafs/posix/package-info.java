/** The POSIX facade and the java.nio FileSystemProvider, both over the cache. */
package org.cachedafs.posix;

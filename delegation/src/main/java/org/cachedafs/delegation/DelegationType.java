package org.cachedafs.delegation;

/** An open delegation: READ lets its holder cache reads; WRITE lets it also cache writes (write-back). */
public enum DelegationType {
  READ,
  WRITE
}

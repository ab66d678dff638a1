package org.cachedafs.delegation;

/**
 * What an operation by some client does to a file, as far as other clients' delegations care
 * (RFC 8881 section 10.4.4 lists the conflicting operations). A READ delegation is recalled by
 * anything that changes the file or its name; a WRITE delegation by any access at all.
 */
public enum FileAccess {
  OPEN_READ(false),
  OPEN_WRITE(true),
  READ_DATA(false),
  WRITE_DATA(true),
  READ_ATTRIBUTES(false),
  /** setattr: size (truncate), mode, times. */
  WRITE_ATTRIBUTES(true),
  /** remove, or rename of the file or onto its name. */
  NAMESPACE(true),
  LOCK_SHARED(false),
  LOCK_EXCLUSIVE(true);

  private final boolean changes;

  FileAccess(boolean changes) {
    this.changes = changes;
  }

  /** Whether this access by another client means a delegation of {@code type} must be recalled. */
  public boolean conflictsWith(DelegationType type) {
    return changes || type == DelegationType.WRITE;
  }
}

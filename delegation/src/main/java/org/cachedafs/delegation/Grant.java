package org.cachedafs.delegation;

/** A delegation the server granted: its id, the file, its holder and its type. */
public record Grant<F, H>(long id, F file, H holder, DelegationType type) {}

package org.cachedafs.client;

import java.util.List;
import org.cachedafs.protocol.DirEntry;

/**
 * One page of a directory listing ({@link DafsSession#readdir}). Cookies come from the names, not
 * from positions, so a listing resumed from one stays right while the directory changes (see
 * docs/protocol.md, "READDIR cookies").
 *
 * @param entries in cookie order, each with the cookie that resumes after it
 * @param nextCookie where the next page resumes
 * @param eof whether no entries are left after this page
 */
public record DirectoryPage(List<DirEntry> entries, long nextCookie, boolean eof) {
  public DirectoryPage {
    entries = List.copyOf(entries);
  }
}

/** cacheDAFS: the user-level block cache, keyed on open delegations. */
package org.cachedafs.cache;

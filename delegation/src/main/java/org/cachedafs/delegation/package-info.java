/** Delegation state machines over an injectable clock: the server's table and the client's tracker. */
package org.cachedafs.delegation;

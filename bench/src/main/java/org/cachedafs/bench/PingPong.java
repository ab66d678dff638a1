package org.cachedafs.bench;

/**
 * Two client processes taking turns writing one file through their caches.
 *
 * @param turns turns taken, by both players
 * @param medianMs median wait of a turn (the open that recalled the other's delegation), ms
 * @param p99Ms 99th percentile of that wait, ms
 * @param turnsPerSec turns per second, from the start of the first turn to the end of the last
 * @param recalls recalls the two caches answered
 * @param verified whether the counter in the file ended at exactly the number of turns
 */
record PingPong(int turns, double medianMs, double p99Ms, double turnsPerSec, long recalls, boolean verified) {}

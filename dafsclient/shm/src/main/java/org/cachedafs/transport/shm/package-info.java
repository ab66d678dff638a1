/** The shm transport (documentation to come). */
package org.cachedafs.transport.shm;

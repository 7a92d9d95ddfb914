/** {@link org.proxykit.spawn.SpawningHandler}: backend processes started on demand and stopped when idle. */
@NonNullByDefault
package org.proxykit.spawn;

import org.proxykit.api.NonNullByDefault;

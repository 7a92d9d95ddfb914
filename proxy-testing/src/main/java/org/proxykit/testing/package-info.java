/**
 * Test support for proxykit and for third parties implementing its SPIs: a loopback HTTP
 * server that records exactly what it received, and contract test kits to subclass.
 */
@NonNullByDefault
package org.proxykit.testing;

import org.proxykit.api.NonNullByDefault;

/** {@link org.proxykit.middleware.ProxyMiddleware}: verifies who sent the proxy headers and restores the original request. */
@NonNullByDefault
package org.proxykit.middleware;

import org.proxykit.api.NonNullByDefault;

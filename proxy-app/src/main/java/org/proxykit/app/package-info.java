/** {@link org.proxykit.app.ProxyApp}: the reverse proxy that passes the original request's facts in signed headers. */
@NonNullByDefault
package org.proxykit.app;

import org.proxykit.api.NonNullByDefault;

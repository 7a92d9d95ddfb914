/**
 * {@link org.proxykit.exact.ExactProxy}, which sends a request exactly where it says, the
 * forward-proxy filter, and the built-in transports ({@code httpclient5}, {@code jdk}).
 */
@NonNullByDefault
package org.proxykit.exact;

import org.proxykit.api.NonNullByDefault;

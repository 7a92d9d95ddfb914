/**
 * Extension points found with {@link java.util.ServiceLoader}: a small provider (a factory
 * with a name and a priority) makes the product that does the work. Transports send a
 * request over the wire; header codecs turn request attributes into header values.
 * {@link org.proxykit.api.spi.ProviderRegistry} finds and selects providers.
 */
@NonNullByDefault
package org.proxykit.api.spi;

import org.proxykit.api.NonNullByDefault;

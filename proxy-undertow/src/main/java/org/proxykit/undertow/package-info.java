/**
 * The proxykit server: an Undertow host for {@link org.proxykit.api.ProxyHandler}s, the YAML
 * configuration, the handler-factory SPI that maps a config {@code type:} to a handler, and
 * the Guice wiring that composes them.
 */
@NonNullByDefault
package org.proxykit.undertow;

import org.proxykit.api.NonNullByDefault;

/**
 * The built-in attribute kinds: {@code Str} (Latin-1), {@code Unicode} (UTF-8), {@code Json}
 * (Jackson) and {@code Kryo} (registration required, trusted senders only).
 */
@NonNullByDefault
package org.proxykit.protocol.codecs;

import org.proxykit.api.NonNullByDefault;

package org.proxykit.undertow;

import org.proxykit.api.ProxyHandler;
import org.proxykit.api.spi.Provider;
import org.proxykit.api.spi.Settings;

/**
 * Makes the handler for one config {@code type:}, as Undertow's {@code HandlerBuilder} maps a
 * name to a handler. Its {@link #name()} is the type. Found with
 * {@link java.util.ServiceLoader} (list it in
 * {@code META-INF/services/org.proxykit.undertow.HandlerFactory}), so a jar on the class path
 * adds a type; an embedding application may also contribute factories with a Guice
 * {@code Multibinder<HandlerFactory>}. If two factories share a type, the higher priority wins.
 *
 * <p>Built in: {@code echo}, {@code exact}, {@code forward}, {@code app}, {@code middleware}.
 *
 * @since 0.1
 */
public interface HandlerFactory extends Provider {

  /**
   * Makes the handler configured by {@code settings}: the handler's YAML map without its
   * {@code type} key, with its key path for error messages.
   *
   * @param context makes nested handlers and closes resources when the server stops
   * @throws IllegalArgumentException naming the key if a setting is unknown or bad
   *     ({@link Settings#checkKnown} and the typed getters do this)
   */
  ProxyHandler create(Settings settings, HandlerContext context);
}

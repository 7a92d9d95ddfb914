package org.proxykit.undertow;

import org.proxykit.api.ProxyHandler;
import org.proxykit.api.spi.Settings;

/**
 * What a {@link HandlerFactory} may ask of the server while making its handler.
 *
 * @since 0.1
 */
public interface HandlerContext {

  /**
   * Makes the handler described by {@code handler}, a map with a {@code type} key, such as
   * the {@code next:} of a middleware.
   *
   * @throws IllegalArgumentException naming the key at fault
   */
  ProxyHandler create(Settings handler);

  /** Returns {@code name}, a file named in the configuration, resolved against the config file's folder. */
  java.nio.file.Path file(String name);

  /** Closes {@code resource} when the server stops, after in-flight requests have drained; returns it. */
  <T extends AutoCloseable> T closeOnStop(T resource);
}

package org.proxykit.api.spi;

/**
 * What every proxykit service provider has: a name to be chosen by and a priority to be
 * chosen without one. Providers are found with {@link java.util.ServiceLoader}, so they need
 * a public no-argument constructor that does no I/O; the work happens in what they create.
 *
 * @since 0.1
 */
public interface Provider {

  /** Returns the name that selects this provider, unique among providers of its type, such as {@code httpclient5}. */
  String name();

  /**
   * Returns the priority: when no name is asked for, the highest wins (ties by name).
   * Built-in providers use 0 to 100; the default is 0.
   */
  default int priority() {
    return 0;
  }
}

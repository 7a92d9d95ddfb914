package org.proxykit.api.spi;

/**
 * Makes {@link HeaderCodec}s: the service-provider type a jar adds an attribute kind by.
 * List the implementation in {@code META-INF/services/org.proxykit.api.spi.HeaderCodecProvider};
 * its {@link #name()} is the kind ({@code Str}, {@code Unicode}, {@code Json}, {@code Kryo}).
 *
 * @since 0.1
 */
public interface HeaderCodecProvider extends Provider {

  /**
   * Makes a codec configured by {@code settings} (for example Kryo's class allow-list).
   *
   * @throws IllegalArgumentException naming the key if a setting is unknown or bad
   */
  HeaderCodec create(Settings settings);
}

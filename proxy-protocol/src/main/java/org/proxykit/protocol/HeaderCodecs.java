package org.proxykit.protocol;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.proxykit.api.Nullable;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.api.spi.HeaderCodecProvider;
import org.proxykit.api.spi.ProviderRegistry;
import org.proxykit.api.spi.Settings;

/**
 * The attribute kinds available, one {@link HeaderCodec} per kind, made by the
 * {@link HeaderCodecProvider}s found with {@link java.util.ServiceLoader}: built in are
 * {@code Str}, {@code Unicode}, {@code Json} and {@code Kryo}; a jar adds more. Kinds are
 * matched without regard to case, as header names are.
 *
 * @since 0.1
 */
public final class HeaderCodecs {
  private final Map<String, HeaderCodec> byKind;

  private HeaderCodecs(Map<String, HeaderCodec> byKind) {
    this.byKind = byKind;
  }

  /** Returns every kind found, each with default settings (Kryo then knows no class but the built-in ones). */
  public static HeaderCodecs load() {
    return load(Map.of(), HeaderCodecs.class.getClassLoader());
  }

  /**
   * Returns every kind found, each made with its entry in {@code settingsByKind} (for
   * example {@code Kryo} with its class allow-list), or empty settings.
   *
   * @throws IllegalArgumentException naming the key if a kind's settings are bad, or if
   *     settings name a kind nobody provides
   */
  public static HeaderCodecs load(Map<String, Settings> settingsByKind, ClassLoader loader) {
    ProviderRegistry<HeaderCodecProvider> registry = ProviderRegistry.load(HeaderCodecProvider.class, loader);
    Map<String, Settings> settingsOf = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    settingsOf.putAll(settingsByKind);
    Map<String, HeaderCodec> byKind = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (HeaderCodecProvider provider : registry.providers()) {
      Settings settings = settingsOf.getOrDefault(provider.name(), Settings.of(provider.name(), Map.of()));
      byKind.putIfAbsent(provider.name(), provider.create(settings));
    }
    for (String kind : settingsByKind.keySet()) {
      if (!byKind.containsKey(kind)) {
        throw new IllegalArgumentException(kind + ": no attribute kind '" + kind + "' (known: "
            + String.join(", ", byKind.keySet()) + ")");
      }
    }
    return new HeaderCodecs(Collections.unmodifiableMap(byKind));
  }

  /** Returns the codec of {@code kind} (any case), or null if there is none. */
  public @Nullable HeaderCodec get(String kind) {
    return byKind.get(kind.toLowerCase(Locale.ROOT));
  }

  /** Returns the kinds, in alphabetical order. */
  public java.util.Set<String> kinds() {
    return byKind.keySet();
  }

  @Override
  public String toString() {
    return "HeaderCodecs" + byKind.keySet();
  }
}

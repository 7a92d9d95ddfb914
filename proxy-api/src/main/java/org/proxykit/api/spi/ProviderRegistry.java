package org.proxykit.api.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.proxykit.api.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The providers of one type found on a class path with {@link ServiceLoader}, and the rule
 * that picks one: a name asked for (from config or a system property) wins; without one,
 * the highest {@link Provider#priority()}, ties broken by name, so the choice never depends
 * on class-path order. Asking for a name nobody provides is an error listing what exists.
 * A provider that fails to load is logged and skipped, never fatal to the others.
 *
 * <p>Immutable and thread-safe once loaded. Loading instantiates every provider, which is
 * cheap by the {@link Provider} contract.
 *
 * @param <P> the provider type
 * @since 0.1
 */
public final class ProviderRegistry<P extends Provider> {
  private static final Logger log = LoggerFactory.getLogger(ProviderRegistry.class);
  private static final Comparator<Provider> BY_PRIORITY =
      Comparator.comparingInt(Provider::priority).reversed().thenComparing(Provider::name);

  private final Class<P> type;
  private final List<P> providers;
  private final List<String> failures;

  private ProviderRegistry(Class<P> type, List<P> providers, List<String> failures) {
    this.type = type;
    this.providers = providers;
    this.failures = failures;
  }

  /** Loads the providers of {@code type} visible to the class loader that loaded proxykit. */
  public static <P extends Provider> ProviderRegistry<P> load(Class<P> type) {
    return load(type, ProviderRegistry.class.getClassLoader());
  }

  /** Loads the providers of {@code type} visible to {@code loader}. */
  public static <P extends Provider> ProviderRegistry<P> load(Class<P> type, ClassLoader loader) {
    Map<String, P> byName = new LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    Iterator<P> found = ServiceLoader.load(type, loader).iterator();
    while (true) {
      P provider;
      String name;
      try {
        if (!found.hasNext()) {
          break;
        }
        provider = found.next();
        name = provider.name();
        if (name == null || name.isEmpty()) {
          throw new ServiceConfigurationError(provider.getClass().getName() + " has no name");
        }
      } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
        String failure = type.getSimpleName() + " skipped: " + e.getMessage();
        log.warn(failure);
        failures.add(failure);
        continue;
      }
      P earlier = byName.get(name);
      if (earlier == null || BY_PRIORITY.compare(provider, earlier) < 0) {
        if (earlier != null) {
          log.warn("two {}s are named '{}': using {} (priority {}) over {}", type.getSimpleName(), name,
              provider.getClass().getName(), provider.priority(), earlier.getClass().getName());
        }
        byName.put(name, provider);
      }
    }
    List<P> sorted = new ArrayList<>(byName.values());
    sorted.sort(BY_PRIORITY);
    return new ProviderRegistry<>(type, Collections.unmodifiableList(sorted), Collections.unmodifiableList(failures));
  }

  /** Returns every provider found, highest priority first, ties by name. */
  public List<P> providers() {
    return providers;
  }

  /** Returns the names of the providers found, in {@link #providers()} order. */
  public List<String> names() {
    return providers.stream().map(Provider::name).collect(Collectors.toUnmodifiableList());
  }

  /** Returns one line per provider that failed to load, for diagnostics. */
  public List<String> failures() {
    return failures;
  }

  /** Returns the provider named {@code name}, if there is one. */
  public Optional<P> find(String name) {
    return providers.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /**
   * Returns the provider named {@code name}, or when {@code name} is null the one with the
   * highest priority. Logs the choice.
   *
   * @throws IllegalArgumentException if no provider has that name; the message lists the names found
   * @throws IllegalStateException if no provider was found at all
   */
  public P select(@Nullable String name) {
    P chosen;
    if (name != null) {
      chosen = find(name).orElseThrow(() -> new IllegalArgumentException(
          "no " + type.getSimpleName() + " named '" + name + "'; available: " + describeAvailable()));
    } else if (providers.isEmpty()) {
      throw new IllegalStateException("no " + type.getSimpleName() + " found on the class path"
          + (failures.isEmpty() ? "" : " (" + String.join("; ", failures) + ")"));
    } else {
      chosen = providers.get(0);
    }
    log.debug("{} '{}' selected ({}, priority {})", type.getSimpleName(), chosen.name(),
        name != null ? "by name" : "highest priority", chosen.priority());
    return chosen;
  }

  private String describeAvailable() {
    return providers.isEmpty() ? "none" : String.join(", ", names());
  }

  @Override
  public String toString() {
    return type.getSimpleName() + "s" + names();
  }
}

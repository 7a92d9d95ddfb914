package org.proxykit.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;

class ProviderRegistryTest {
  @TempDir Path classPath;

  @Test
  void withoutANameTheHighestPriorityWins() throws IOException {
    ProviderRegistry<TransportProvider> registry = load(Low.class, High.class);
    assertEquals(List.of("high", "low"), registry.names());
    assertEquals("high", registry.select(null).name());
  }

  @Test
  void anExplicitNameWinsOverPriority() throws IOException {
    assertEquals("low", load(High.class, Low.class).select("low").name());
  }

  @Test
  void equalPrioritiesAreBrokenByNameNotByClassPathOrder() throws IOException {
    assertEquals("also-high", load(High.class, AlsoHigh.class).select(null).name());
    assertEquals("also-high", load(AlsoHigh.class, High.class).select(null).name());
  }

  @Test
  void anUnknownNameIsAnErrorListingWhatIsAvailable() throws IOException {
    ProviderRegistry<TransportProvider> registry = load(Low.class, High.class);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> registry.select("netty"));
    assertEquals("no TransportProvider named 'netty'; available: high, low", e.getMessage());
  }

  @Test
  void noProviderAtAllIsAClearError() throws IOException {
    ProviderRegistry<TransportProvider> registry = load();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> registry.select(null));
    assertEquals("no TransportProvider found on the class path", e.getMessage());
    IllegalArgumentException byName = assertThrows(IllegalArgumentException.class, () -> registry.select("jdk"));
    assertEquals("no TransportProvider named 'jdk'; available: none", byName.getMessage());
  }

  @Test
  void aProviderThatFailsToLoadIsSkippedAndReported() throws IOException {
    ProviderRegistry<TransportProvider> registry = load(Broken.class, Low.class);
    assertEquals(List.of("low"), registry.names());
    assertEquals(1, registry.failures().size());
    assertTrue(registry.failures().get(0).startsWith("TransportProvider skipped: "), registry.failures().get(0));
  }

  @Test
  void twoProvidersWithOneNameKeepTheHigherPriority() throws IOException {
    ProviderRegistry<TransportProvider> registry = load(Low.class, LowButHigher.class);
    assertEquals(List.of("low"), registry.names());
    assertEquals(LowButHigher.class, registry.select("low").getClass());
  }

  @Test
  void providersAreFoundThroughTheGivenClassLoaderOnly() throws IOException {
    assertEquals(List.of(), ProviderRegistry.load(TransportProvider.class).names());
    assertEquals(List.of("high"), load(High.class).names());
  }

  private ProviderRegistry<TransportProvider> load(Class<?>... providers) throws IOException {
    Path services = Files.createDirectories(classPath.resolve("META-INF/services"));
    StringBuilder lines = new StringBuilder("# test providers\n");
    for (Class<?> provider : providers) {
      lines.append(provider.getName()).append('\n');
    }
    Files.writeString(services.resolve(TransportProvider.class.getName()), lines);
    URLClassLoader loader = new URLClassLoader(new URL[] {classPath.toUri().toURL()}, getClass().getClassLoader());
    return ProviderRegistry.load(TransportProvider.class, loader);
  }

  /** A transport that answers every request with its provider's name. */
  abstract static class NamedTransportProvider implements TransportProvider {
    @Override
    public Transport create(Settings settings) {
      return new Transport() {
        @Override
        public ProxyResponse send(ProxyRequest request) {
          return ProxyResponse.builder().reason(name()).build();
        }

        @Override
        public void close() {}
      };
    }
  }

  public static final class Low extends NamedTransportProvider {
    @Override public String name() { return "low"; }
  }

  public static final class LowButHigher extends NamedTransportProvider {
    @Override public String name() { return "low"; }
    @Override public int priority() { return 7; }
  }

  public static final class High extends NamedTransportProvider {
    @Override public String name() { return "high"; }
    @Override public int priority() { return 50; }
  }

  public static final class AlsoHigh extends NamedTransportProvider {
    @Override public String name() { return "also-high"; }
    @Override public int priority() { return 50; }
  }

  public static final class Broken extends NamedTransportProvider {
    public Broken() {
      throw new IllegalStateException("cannot start");
    }

    @Override public String name() { return "broken"; }
  }
}

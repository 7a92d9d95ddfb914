package org.proxykit.undertow;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.spi.Settings;

/**
 * The handler types a configuration may name, and the {@link HandlerContext} handlers are
 * made in: a type comes from a {@link HandlerFactory}; of two with one name, the higher
 * priority wins. Handlers that are {@link AutoCloseable} are closed when the server stops.
 */
final class HandlerTypes implements HandlerContext {
  private final Map<String, HandlerFactory> byType = new TreeMap<>();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final java.nio.file.Path folder;

  HandlerTypes(Collection<? extends HandlerFactory> factories, java.nio.file.Path folder) {
    this.folder = folder;
    for (HandlerFactory factory : factories) {
      HandlerFactory other = byType.get(factory.name());
      if (other == null || factory.priority() > other.priority()) {
        byType.put(factory.name(), factory);
      }
    }
  }

  @Override
  public ProxyHandler create(Settings handler) {
    String type = handler.string("type", null);
    if (type == null) {
      throw new IllegalArgumentException(handler.pathOf("type") + ": missing (known: " + known() + ")");
    }
    HandlerFactory factory = byType.get(type);
    if (factory == null) {
      throw new IllegalArgumentException(
          handler.pathOf("type") + ": unknown handler type '" + type + "' (known: " + known() + ")");
    }
    ProxyHandler created = factory.create(handler.without("type"), this);
    if (created == null) {
      throw new IllegalStateException("handler factory '" + type + "' returned null: " + factory);
    }
    if (created instanceof AutoCloseable) {
      resources.add((AutoCloseable) created);
    }
    return created;
  }

  @Override
  public java.nio.file.Path file(String name) {
    return folder.resolve(name);
  }

  @Override
  public <T extends AutoCloseable> T closeOnStop(T resource) {
    resources.add(resource);
    return resource;
  }

  /** Returns what was registered to be closed, in the order it was made. */
  List<AutoCloseable> resources() {
    return resources;
  }

  private String known() {
    return String.join(", ", byType.keySet());
  }
}

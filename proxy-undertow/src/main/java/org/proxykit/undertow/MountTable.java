package org.proxykit.undertow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyHandler;

/**
 * The handlers by path prefix: the longest prefix that matches on a segment boundary wins
 * ({@code /app} matches {@code /app} and {@code /app/x}, never {@code /apple}). Prefixes are
 * compared with the raw path, so a percent-encoded alias of a prefix does not match it.
 */
final class MountTable {
  /** One mounted handler; {@code scriptName} is what a matched request's scriptName becomes. */
  record Entry(String prefix, ProxyHandler handler) {
    String scriptName() {
      return prefix.equals("/") ? "" : prefix;
    }

    boolean matches(String rawPath) {
      return prefix.equals("/") || rawPath.equals(prefix) || rawPath.startsWith(prefix) && rawPath.charAt(prefix.length()) == '/';
    }
  }

  private final List<Entry> entries;

  MountTable(List<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingInt((Entry e) -> e.prefix().length()).reversed());
    this.entries = List.copyOf(sorted);
  }

  /** Returns the entry for {@code rawPath}, or null if no prefix matches. */
  @Nullable Entry match(String rawPath) {
    for (Entry entry : entries) {
      if (entry.matches(rawPath)) {
        return entry;
      }
    }
    return null;
  }

  /** Returns the entries, longest prefix first. */
  List<Entry> entries() {
    return entries;
  }
}

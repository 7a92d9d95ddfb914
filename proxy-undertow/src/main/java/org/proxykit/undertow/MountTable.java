package org.proxykit.undertow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyStatusException;

/**
 * The handlers by path prefix: the longest prefix that matches on a segment boundary wins
 * ({@code /app} matches {@code /app} and {@code /app/x}, never {@code /apple}). Segments are
 * compared as servers behind the proxy read them: {@code ;parameters} cut, percent-encoding
 * decoded and empty segments skipped, so {@code /app;v=1/x}, {@code /%61pp/x} and
 * {@code //app/x} all reach the {@code /app} mount (and cannot slip past it to {@code /}).
 * The request keeps its raw path: scriptName is the raw text the prefix covered.
 */
final class MountTable {
  /** One mounted handler at {@code prefix}, a path without dot or empty segments. */
  record Entry(String prefix, ProxyHandler handler) {}

  /** The handler for a request, and its raw path split where the prefix ends. */
  record Match(Entry entry, String scriptName, String pathInfo) {}

  private final List<Entry> entries;

  MountTable(List<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingInt((Entry e) -> e.prefix().length()).reversed());
    this.entries = List.copyOf(sorted);
  }

  /**
   * Returns the match for {@code rawPath}, or null if no prefix matches.
   *
   * @throws ProxyStatusException 400 if a segment hides a {@code /} or {@code \} (percent-encoded)
   *     behind a mount prefix's segment, which servers behind the proxy may read either way
   */
  @Nullable Match match(String rawPath) throws ProxyStatusException {
    for (Entry entry : entries) {
      int end = coveredLength(entry.prefix(), rawPath);
      if (end >= 0) {
        return new Match(entry, rawPath.substring(0, end), rawPath.substring(end));
      }
    }
    return null;
  }

  /** Returns the entry mounted at exactly {@code prefix}, or null. */
  @Nullable Entry at(String prefix) {
    for (Entry entry : entries) {
      if (entry.prefix().equals(prefix)) {
        return entry;
      }
    }
    return null;
  }

  /** Returns the entries, longest prefix first. */
  List<Entry> entries() {
    return entries;
  }

  /** Returns how many raw characters of {@code rawPath} the segments of {@code prefix} cover, or -1. */
  private static int coveredLength(String prefix, String rawPath) throws ProxyStatusException {
    if (prefix.equals("/")) {
      return 0;
    }
    int at = 0;
    for (String wanted : prefix.substring(1).split("/")) {
      String name;
      int end;
      do {
        if (at >= rawPath.length() || rawPath.charAt(at) != '/') {
          return -1;
        }
        end = rawPath.indexOf('/', at + 1);
        end = end < 0 ? rawPath.length() : end;
        name = segmentName(rawPath.substring(at + 1, end));
        at = end;
      } while (name.isEmpty() && end < rawPath.length());
      if (!name.equals(wanted)) {
        int slash = Math.max(name.indexOf('/'), name.indexOf('\\'));
        if (slash >= 0 && name.split("[/\\\\]", -1)[0].equals(wanted)) {
          throw ProxyStatusException.badRequest("encoded / or \\ in a path segment");
        }
        return -1;
      }
    }
    return at;
  }

  /** Returns a raw path segment as a server would read it: {@code ;parameters} cut, percent-decoded. */
  static String segmentName(String rawSegment) {
    int semicolon = rawSegment.indexOf(';');
    String segment = semicolon >= 0 ? rawSegment.substring(0, semicolon) : rawSegment;
    if (segment.indexOf('%') < 0) {
      return segment;
    }
    StringBuilder decoded = new StringBuilder();
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      int high = c == '%' && i + 2 < segment.length() ? Character.digit(segment.charAt(i + 1), 16) : -1;
      int low = high >= 0 ? Character.digit(segment.charAt(i + 2), 16) : -1;
      if (low >= 0) {
        decoded.append((char) (high << 4 | low));
        i += 2;
      } else {
        decoded.append(c);
      }
    }
    return decoded.toString();
  }
}

package org.proxykit.exact;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.Nullable;

/**
 * The headers that concern one connection only (RFC 9110 section 7.6.1) and that a proxy
 * must not forward in either direction: a fixed list plus every name the Connection header
 * lists, except names that are never connection options: a client must not be able to
 * remove Host, credentials, framing or the proxy protocol's own headers by listing them.
 */
final class HopByHop {
  private static final Set<String> ALWAYS = Set.of(
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade");

  private static final Set<String> NEVER_CONNECTION_OPTIONS = Set.of(
      "host", "content-length", "content-type", "authorization", "cookie", "forwarded", "signature",
      "signature-input", "x-script-name");
  private static final String[] PROTOCOL_PREFIXES = {"x-forwarded-", "x-wsgiproxy-", "x-traversal-"};

  private HopByHop() {}

  /** Returns {@code headers} without hop-by-hop fields; the same instance if there is none. */
  static HttpHeaders strip(HttpHeaders headers) {
    // on every request and response: no allocation unless Connection names something unusual
    Set<String> named = null;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.name(i).equalsIgnoreCase("Connection")) {
        for (String token : headers.value(i).split(",")) {
          String name = token.strip().toLowerCase(Locale.ROOT);
          if (!name.isEmpty() && !ALWAYS.contains(name) && mayBeConnectionOption(name)) {
            named = named == null ? new HashSet<>() : named;
            named.add(name);
          }
        }
      }
    }
    int first = 0;
    while (first < headers.size() && !dropped(headers.name(first), named)) {
      first++;
    }
    if (first == headers.size()) {
      return headers;
    }
    HttpHeaders.Builder kept = HttpHeaders.builder();
    for (int i = 0; i < headers.size(); i++) {
      if (i < first || !dropped(headers.name(i), named)) {
        kept.add(headers.name(i), headers.value(i));
      }
    }
    return kept.build();
  }

  private static boolean dropped(String name, @Nullable Set<String> named) {
    String lower = name.toLowerCase(Locale.ROOT);
    return ALWAYS.contains(lower) || named != null && named.contains(lower);
  }

  private static boolean mayBeConnectionOption(String name) {
    if (NEVER_CONNECTION_OPTIONS.contains(name)) {
      return false;
    }
    for (String prefix : PROTOCOL_PREFIXES) {
      if (name.startsWith(prefix)) {
        return false;
      }
    }
    return true;
  }
}

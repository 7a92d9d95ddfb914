package org.proxykit.exact;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.proxykit.api.HttpHeaders;

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
    if (!headers.contains("Connection")) {
      // the common case, on every request and response: no per-call set to build
      boolean any = false;
      for (int i = 0; i < headers.size() && !any; i++) {
        any = ALWAYS.contains(headers.name(i).toLowerCase(Locale.ROOT));
      }
      if (!any) {
        return headers;
      }
    }
    Set<String> drop = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    drop.addAll(ALWAYS);
    for (String connection : headers.all("Connection")) {
      for (String token : connection.split(",")) {
        String name = token.strip().toLowerCase(Locale.ROOT);
        if (!name.isEmpty() && mayBeConnectionOption(name)) {
          drop.add(name);
        }
      }
    }
    boolean any = false;
    for (int i = 0; i < headers.size() && !any; i++) {
      any = drop.contains(headers.name(i));
    }
    if (!any) {
      return headers;
    }
    HttpHeaders.Builder kept = HttpHeaders.builder();
    headers.forEach((name, value) -> {
      if (!drop.contains(name)) {
        kept.add(name, value);
      }
    });
    return kept.build();
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

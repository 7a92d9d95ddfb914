package org.proxykit.app;

import org.proxykit.api.Nullable;

/** Writes one RFC 7239 {@code Forwarded} element. */
final class Rfc7239 {
  private Rfc7239() {}

  /** Returns {@code for=...;host=...;proto=...}, quoting values that are not tokens and bracketing IPv6. */
  static String element(@Nullable String clientAddress, String host, String scheme) {
    String node = clientAddress == null ? "unknown"
        : clientAddress.indexOf(':') >= 0 ? "[" + clientAddress + "]" : clientAddress;
    return "for=" + value(node) + ";host=" + value(host) + ";proto=" + value(scheme);
  }

  private static String value(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean tchar = Character.isLetterOrDigit(c) && c < 0x80 || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!tchar) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    return text;
  }
}

package org.proxykit.middleware;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Reads RFC 7239 {@code Forwarded} headers: elements of {@code key=value} pairs, values tokens or quoted strings. */
final class Forwarded {
  private Forwarded() {}

  /**
   * Returns the elements of every Forwarded header value, in order, keys in lower case.
   *
   * @throws IllegalArgumentException if the syntax is broken
   */
  static List<Map<String, String>> elements(List<String> values) {
    List<Map<String, String>> elements = new ArrayList<>();
    for (String value : values) {
      Map<String, String> element = new LinkedHashMap<>();
      int at = 0;
      while (at < value.length()) {
        while (at < value.length() && (value.charAt(at) == ' ' || value.charAt(at) == '\t')) {
          at++;
        }
        int equals = value.indexOf('=', at);
        if (equals < 0) {
          throw new IllegalArgumentException("Forwarded: expected key=value");
        }
        String key = value.substring(at, equals).strip().toLowerCase(Locale.ROOT);
        at = equals + 1;
        StringBuilder pairValue = new StringBuilder();
        if (at < value.length() && value.charAt(at) == '"') {
          at++;
          while (at < value.length() && value.charAt(at) != '"') {
            if (value.charAt(at) == '\\' && at + 1 < value.length()) {
              at++;
            }
            pairValue.append(value.charAt(at++));
          }
          if (at >= value.length()) {
            throw new IllegalArgumentException("Forwarded: unterminated quoted value");
          }
          at++;
        } else {
          while (at < value.length() && ";, \t".indexOf(value.charAt(at)) < 0) {
            pairValue.append(value.charAt(at++));
          }
        }
        element.put(key, pairValue.toString());
        while (at < value.length() && (value.charAt(at) == ' ' || value.charAt(at) == '\t')) {
          at++;
        }
        if (at < value.length()) {
          char separator = value.charAt(at++);
          if (separator == ',') {
            elements.add(element);
            element = new LinkedHashMap<>();
          } else if (separator != ';') {
            throw new IllegalArgumentException("Forwarded: unexpected '" + separator + "'");
          }
        }
      }
      if (!element.isEmpty()) {
        elements.add(element);
      }
    }
    return elements;
  }

  /** Returns the address in a {@code for} value ({@code 1.2.3.4}, {@code [v6]:port}, {@code 1.2.3.4:80}), or the value itself. */
  static String address(String node) {
    if (node.startsWith("[")) {
      int close = node.indexOf(']');
      return close < 0 ? node : node.substring(1, close);
    }
    int colon = node.indexOf(':');
    return colon >= 0 && node.indexOf(':', colon + 1) < 0 ? node.substring(0, colon) : node;
  }
}

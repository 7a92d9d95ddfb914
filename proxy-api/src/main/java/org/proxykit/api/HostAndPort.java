package org.proxykit.api;

import java.util.Objects;

/**
 * A {@code host[:port]} as Host headers, authorities and listen addresses write it: a name,
 * an IPv4 address or a bracketed IPv6 address, and an optional port.
 *
 * @param host the name or address, IPv6 without brackets
 * @param port the port, or the default given to {@link #parse} when the text had none
 * @param explicitPort whether the text gave the port
 * @since 0.1
 */
public record HostAndPort(String host, int port, boolean explicitPort) {

  /** Checks the fields. */
  public HostAndPort {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host is empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 0-65535");
    }
  }

  /**
   * Reads {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}.
   *
   * @param defaultPort the port when the text has none
   * @throws IllegalArgumentException if the text is not that
   */
  public static HostAndPort parse(String text, int defaultPort) {
    int close = text.lastIndexOf(']');
    int colon = text.lastIndexOf(':');
    String host = text;
    int port = defaultPort;
    boolean explicit = colon > close;
    if (explicit) {
      host = text.substring(0, colon);
      String digits = text.substring(colon + 1);
      if (digits.isEmpty() || digits.length() > 5 || !allMatch(digits, "0123456789")) {
        throw new IllegalArgumentException("bad port in '" + text + "'");
      }
      port = Integer.parseInt(digits);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0 || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
      throw new IllegalArgumentException("an IPv6 address needs brackets in '" + text + "'");
    }
    if (host.isEmpty() || !isPlainHost(host)) {
      throw new IllegalArgumentException("not a host[:port]: '" + text + "'");
    }
    return new HostAndPort(host, port, explicit);
  }

  /** Returns the text form: the host (bracketed if IPv6) and {@code :port} if explicit. */
  @Override
  public String toString() {
    String bracketed = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return explicitPort ? bracketed + ":" + port : bracketed;
  }

  private static boolean allMatch(String text, String allowed) {
    for (int i = 0; i < text.length(); i++) {
      if (allowed.indexOf(text.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /** Returns true if {@code host} is visible ASCII without the characters that end or split an authority. */
  private static boolean isPlainHost(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c <= 0x20 || c >= 0x7f || "/?#@\\\"".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }
}

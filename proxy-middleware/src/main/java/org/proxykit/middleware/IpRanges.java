package org.proxykit.middleware;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.proxykit.api.Nullable;

/**
 * Addresses and CIDR ranges, IPv4 and IPv6, such as {@code 10.0.0.0/8}, {@code 127.0.0.1}
 * or {@code ::1/128}. Only literals are parsed: a name is never looked up.
 *
 * @since 0.1
 */
public final class IpRanges {
  /** 127.0.0.0/8 and ::1/128. */
  public static final IpRanges LOOPBACK = of(List.of("127.0.0.0/8", "::1/128"));

  private final List<byte[]> networks;
  private final List<Integer> prefixes;
  private final List<String> texts;

  private IpRanges(List<byte[]> networks, List<Integer> prefixes, List<String> texts) {
    this.networks = networks;
    this.prefixes = prefixes;
    this.texts = texts;
  }

  /**
   * Returns the ranges in {@code ranges}.
   *
   * @throws IllegalArgumentException naming the entry (by index) that is not an address or CIDR range
   */
  public static IpRanges of(List<String> ranges) {
    List<byte[]> networks = new ArrayList<>();
    List<Integer> prefixes = new ArrayList<>();
    for (int i = 0; i < ranges.size(); i++) {
      String range = ranges.get(i).strip();
      int slash = range.indexOf('/');
      byte[] address = parse(slash < 0 ? range : range.substring(0, slash));
      int bits = address == null ? -1 : address.length * 8;
      int prefix = bits;
      if (address != null && slash >= 0) {
        try {
          prefix = Integer.parseInt(range.substring(slash + 1));
        } catch (NumberFormatException e) {
          prefix = -1;
        }
      }
      if (address == null || prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("[" + i + "]: expected an IP address or CIDR range such as 10.0.0.0/8, got '"
            + range + "'");
      }
      networks.add(address);
      prefixes.add(prefix);
    }
    return new IpRanges(networks, prefixes, List.copyOf(ranges));
  }

  /** Returns true if {@code address} is an IP literal inside one of the ranges. */
  public boolean contains(@Nullable String address) {
    byte[] bytes = address == null ? null : parse(address);
    if (bytes == null) {
      return false;
    }
    for (int i = 0; i < networks.size(); i++) {
      if (networks.get(i).length == bytes.length && matches(networks.get(i), bytes, prefixes.get(i))) {
        return true;
      }
    }
    return false;
  }

  /** Returns true if there is no range. */
  public boolean isEmpty() {
    return networks.isEmpty();
  }

  /** Returns the bytes of an IPv4 or IPv6 literal (IPv4-mapped IPv6 as IPv4), or null if it is not one. */
  static byte @Nullable [] parse(String text) {
    String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    byte[] ipv4 = dottedQuad(literal);
    if (ipv4 != null || literal.indexOf(':') < 0) {
      return ipv4;
    }
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      boolean hex = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
      if (!hex && c != ':' && c != '.') {
        return null;
      }
    }
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * Returns the four bytes of a dotted-quad IPv4 literal, or null if {@code text} is not one.
   * Built here: InetAddress would look up {@code 999.1.1.1} in DNS; a loop: this runs on every
   * request the middleware restores a client address for.
   */
  private static byte @Nullable [] dottedQuad(String text) {
    byte[] bytes = new byte[4];
    int octet = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : '.';
      if (c >= '0' && c <= '9' && digits < 3) {
        value = value * 10 + (c - '0');
        digits++;
      } else if (c == '.' && digits > 0 && value <= 255 && octet < 4) {
        bytes[octet++] = (byte) value;
        value = 0;
        digits = 0;
      } else {
        return null;
      }
    }
    return octet == 4 ? bytes : null;
  }

  private static boolean matches(byte[] network, byte[] address, int prefix) {
    for (int bit = 0; bit < prefix; bit += 8) {
      int mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
      if ((network[bit / 8] & mask) != (address[bit / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return texts.toString();
  }
}

package org.proxykit.undertow;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;
import org.proxykit.middleware.IpRanges;

/**
 * The addresses the forward proxy may connect to, from {@code destinations: {deny: [CIDR..],
 * allow: [CIDR..]}}. An address is refused if it is in a denied range ({@link #DEFAULT_DENY}
 * plus {@code deny}) and in no allowed range: {@code allow} overrides every deny, so
 * {@code allow: [127.0.0.1/32]} lets a test or the demo reach loopback. Private ranges (10/8,
 * 172.16/12, 192.168/16, fc00::/7) are not denied by default: a company's proxy reaches its
 * intranet. An IPv4-mapped IPv6 address ({@code ::ffff:127.0.0.1}) is checked as the IPv4
 * address it maps.
 *
 * <p>A name is resolved once, every address it resolves to is checked, and the caller
 * connects to the address returned, never to the name again: a second lookup could answer
 * differently (DNS rebinding).
 */
final class Destinations {
  /**
   * Denied unless allowed: what a proxy on a server must not reach for a client, as nginx
   * and Squid leave to their operators (Squid's default {@code to_localhost} ACL).
   */
  static final List<String> DEFAULT_DENY = List.of(
      "0.0.0.0/8",          // "this network": connecting to 0.0.0.0 reaches the local host
      "127.0.0.0/8",        // loopback
      "169.254.0.0/16",     // link-local, with the cloud metadata service 169.254.169.254
      "224.0.0.0/4",        // multicast
      "240.0.0.0/4",        // reserved, and the broadcast address 255.255.255.255
      "::/96",              // unspecified ::, loopback ::1, and the old IPv4-compatible ::a.b.c.d
      "fe80::/10",          // link-local
      "ff00::/8",           // multicast
      "fd00:ec2::254/128"); // AWS's metadata service over IPv6, inside the private fc00::/7

  private static final IpRanges DEFAULTS = IpRanges.of(DEFAULT_DENY);

  private final IpRanges deny;
  private final IpRanges allow;

  private Destinations(IpRanges deny, IpRanges allow) {
    this.deny = deny;
    this.allow = allow;
  }

  /** Returns the default policy: {@link #DEFAULT_DENY}, nothing allowed beyond it. */
  static Destinations defaults() {
    return new Destinations(IpRanges.of(List.of()), IpRanges.of(List.of()));
  }

  /**
   * Reads {@code {deny: [..], allow: [..]}}: IP addresses and CIDR ranges, IPv4 or IPv6.
   *
   * @throws IllegalArgumentException naming the key and the entry that is not an address or range
   */
  static Destinations of(Settings destinations) {
    destinations.checkKnown(Set.of("deny", "allow"));
    return new Destinations(ranges(destinations, "deny"), ranges(destinations, "allow"));
  }

  private static IpRanges ranges(Settings settings, String key) {
    try {
      return IpRanges.of(settings.strings(key));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(settings.pathOf(key) + e.getMessage());
    }
  }

  /**
   * Resolves {@code host} (a name or an IP literal) once and returns the address to connect
   * to: the first one, after every address the name resolves to has been checked.
   *
   * @throws ProxyStatusException 403 {@code destination not allowed} if any of the addresses
   *     is refused (the log line names it), 502 {@code bad domain name} if the name does not resolve
   */
  InetAddress resolve(String host) throws ProxyStatusException {
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException | SecurityException e) {
      throw ProxyStatusException.badGateway("bad domain name: " + host, e);
    }
    for (InetAddress address : addresses) {
      String literal = literal(address);
      if (!allows(literal)) {
        // InetAddress.toString() is "name/literal", with no name when host was a literal
        String what = address.toString().startsWith("/") ? literal : host + " resolves to " + literal;
        throw new ProxyStatusException(403, "destination not allowed", new Refused(what + ", a denied address"));
      }
    }
    return addresses[0];
  }

  /** Returns true if {@code literal}, an IP address without zone, may be connected to. */
  boolean allows(String literal) {
    return allow.contains(literal) || !(DEFAULTS.contains(literal) || deny.contains(literal));
  }

  /** Returns the address as an IP literal: IPv4-mapped IPv6 as IPv4, without an IPv6 zone. */
  static String literal(InetAddress address) {
    try {
      return InetAddress.getByAddress(address.getAddress()).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("an address of 4 or 16 bytes: " + address, e);
    }
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    parts.add("deny defaults" + (deny.isEmpty() ? "" : " + " + deny));
    if (!allow.isEmpty()) {
      parts.add("allow " + allow);
    }
    return String.join(", ", parts);
  }

  /** Why a destination was refused, for the log line of the 403; no stack trace. */
  private static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message, null, false, false);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}

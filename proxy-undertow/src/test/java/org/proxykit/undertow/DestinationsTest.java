package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;

class DestinationsTest {
  private final Destinations defaults = Destinations.defaults();

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "127.255.0.9", "0.0.0.0", "0.1.2.3", "::1", "::", "169.254.169.254", "169.254.0.1",
      "fe80::1", "febf::1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "ff02::1", "fd00:ec2::254",
      // IPv4-mapped (checked as the IPv4 address) and IPv4-compatible forms of loopback
      "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::127.0.0.1", "0:0:0:0:0:ffff:0:0"})
  void theDefaultsRefuse(String literal) {
    ProxyStatusException refused = assertThrows(ProxyStatusException.class, () -> defaults.resolve(literal));
    assertEquals(403, refused.status());
    assertEquals("destination not allowed", refused.reason());
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.1.2.3", "172.16.0.1", "192.168.1.1", "fd12:3456::1", "8.8.8.8", "2001:db8::1",
      "100.64.0.1", "::ffff:8.8.8.8"})
  void theDefaultsAllowPrivateAndPublicAddresses(String literal) throws Exception {
    assertEquals(InetAddress.getByName(literal), defaults.resolve(literal));
  }

  @Test
  void allowOverridesTheDefaultsAndDenyAddsToThem() throws Exception {
    Destinations configured = Destinations.of(Settings.of("d", Map.of("allow", List.of("127.0.0.1/32", "::1"),
        "deny", List.of("10.0.0.0/8"))));
    assertEquals(InetAddress.getByName("127.0.0.1"), configured.resolve("127.0.0.1"));
    assertEquals(InetAddress.getByName("127.0.0.1"), configured.resolve("::ffff:127.0.0.1"));
    assertEquals(InetAddress.getByName("::1"), configured.resolve("::1"));
    assertEquals(403, assertThrows(ProxyStatusException.class, () -> configured.resolve("127.0.0.2")).status());
    assertEquals(403, assertThrows(ProxyStatusException.class, () -> configured.resolve("10.9.9.9")).status());
  }

  @Test
  void theLogLineSaysWhatANameResolvedTo() {
    ProxyStatusException refused = assertThrows(ProxyStatusException.class, () -> defaults.resolve("localhost"));
    assertEquals("localhost resolves to " + InetAddress.getLoopbackAddress().getHostAddress() + ", a denied address",
        String.valueOf(refused.getCause()));
    assertEquals("127.0.0.1, a denied address",
        String.valueOf(assertThrows(ProxyStatusException.class, () -> defaults.resolve("127.0.0.1")).getCause()));
  }

  @Test
  void anUnknownNameIs502() {
    ProxyStatusException failed = assertThrows(ProxyStatusException.class, () -> defaults.resolve("no-such-host.invalid"));
    assertEquals(502, failed.status());
    assertEquals("bad domain name: no-such-host.invalid", failed.reason());
  }
}

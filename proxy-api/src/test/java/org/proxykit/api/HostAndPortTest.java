package org.proxykit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostAndPortTest {

  @ParameterizedTest
  @CsvSource({"example.com, example.com, 80, false", "example.com:8080, example.com, 8080, true",
      "[::1], ::1, 80, false", "[2001:db8::1]:443, 2001:db8::1, 443, true", "127.0.0.1:0, 127.0.0.1, 0, true"})
  void readsHostsPortsAndBracketedIpv6(String text, String host, int port, boolean explicit) {
    HostAndPort parsed = HostAndPort.parse(text, 80);
    assertEquals(new HostAndPort(host, port, explicit), parsed);
    assertEquals(text, parsed.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ":80", "host:", "host:http", "host:123456", "::1", "[::1", "a/b", "user@host", "a b"})
  void refusesWhatIsNotAHostAndPort(String text) {
    assertThrows(IllegalArgumentException.class, () -> HostAndPort.parse(text, 80));
  }
}

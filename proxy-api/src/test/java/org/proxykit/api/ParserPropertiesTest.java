package org.proxykit.api;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Parsers of untrusted text return a value or refuse with IllegalArgumentException, for any input. */
class ParserPropertiesTest {

  @Property(tries = 2000)
  void hostAndPortParsesOrRefuses(@ForAll String text) {
    try {
      HostAndPort parsed = HostAndPort.parse(text, 80);
      HostAndPort.parse(parsed.toString(), 80);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }

  @Property(tries = 2000)
  void blankParsesOrRefuses(@ForAll String url) {
    try {
      ProxyRequest.blank(url);
      ProxyRequest.blank("http://h/" + url);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }

  @Property(tries = 2000)
  void headersAcceptOrRefuse(@ForAll String name, @ForAll String value) {
    try {
      HttpHeaders.of(name, value);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }
}

package org.proxykit.middleware;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;

/** What a sender controls in proxy headers is parsed into a value or refused with 400, for any input. */
class ParserPropertiesTest {
  private final ProxyMiddleware middleware = ProxyMiddleware.builder(request -> ProxyResponse.builder().build()).build();

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(120);
  }

  @Provide
  Arbitrary<String> names() {
    return Arbitraries.of("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
        "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Scheme", "X-Forwarded-Script-Name", "X-Script-Name",
        "X-Traversal-Path", "X-Traversal-Query-String", "X-WSGIProxy-Host", "X-WSGIProxy-Version",
        "X-WSGIProxy-Script-Name", "X-WSGIProxy-Path-Info", "X-WSGIProxy-Query-String", "X-WSGIProxy-Wsgi-Url-Scheme",
        "X-WSGIProxy-Str-0", "X-WSGIProxy-Json-1");
  }

  @Property(tries = 5000)
  void anyProxyHeaderFromATrustedPeerIsAppliedOrRefusedWith400(@ForAll("names") String name, @ForAll("values") String value)
      throws Exception {
    ProxyRequest request = ProxyRequest.builder().serverName("backend").header("Host", "backend")
        .pathInfo("/a/b").queryString("q=1").remoteAddr("127.0.0.1").header(name, value).build();
    try {
      middleware.handle(request).close();
    } catch (ProxyStatusException refused) {
      assert refused.status() == 400 : refused;
    }
  }

  @Property(tries = 3000)
  void forwardedParsesOrRefuses(@ForAll("values") String value) {
    try {
      Forwarded.elements(List.of(value)).forEach(element -> Forwarded.address(element.getOrDefault("for", "")));
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }

  @Property(tries = 3000)
  void ipRangesParseOrRefuse(@ForAll("values") String range, @ForAll("values") String address) {
    try {
      IpRanges.of(List.of(range)).contains(address);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }
}

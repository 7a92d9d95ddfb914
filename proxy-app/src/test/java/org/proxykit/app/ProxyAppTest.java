package org.proxykit.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.proxykit.api.Body;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.protocol.AttributeHeaders;
import org.proxykit.protocol.HeaderCodecs;
import org.proxykit.protocol.Keys;
import org.proxykit.protocol.RequestVerifier;
import org.proxykit.testing.LoopbackServer;
import org.proxykit.testing.RecordedRequest;

class ProxyAppTest {
  private static final Keys.Hmac KEY = Keys.hmac("0123456789abcdef0123456789abcdef-app".getBytes(StandardCharsets.US_ASCII), null);

  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  private ProxyRequest clientRequest(String path, String query) {
    return ProxyRequest.builder()
        .method("POST").scheme("https").serverName("front.example").serverPort(443)
        .header("Host", "front.example")
        .header("X-Forwarded-For", "203.0.113.9")
        .header("X-WSGIProxy-Str-0", "REMOTE_USER forged-admin")
        .header("X-WSGIProxy-Host", "forged.example")
        .header("X-Forwarded-Server", "forged.example")
        .header("Signature", "wsgiproxy=:Zm9yZ2Vk:")
        .header("Content-Type", "text/plain")
        .scriptName("/app").pathInfo(path).queryString(query)
        .remoteAddr("198.51.100.7").remotePort(5000)
        .attribute("REMOTE_USER", "bob")
        .attribute("roles", List.of("admin", "dev"))
        .body(Body.of("payload"))
        .build();
  }

  @Test
  void forwardsToTheHrefWithTheOriginalRequestsFactsAndSignsIt() throws Exception {
    try (ProxyApp app = ProxyApp.builder(backend.url("/base?fixed=1")).signingKey(KEY)
        .keys("Str", List.of("REMOTE_USER")).keys("Json", List.of("roles")).build();
         ProxyResponse response = app.handle(clientRequest("/x/y", "q=%20a"))) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals("POST /base/x/y?q=%20a&fixed=1 HTTP/1.1", received.requestLine());
    assertEquals("127.0.0.1:" + backend.port(), received.header("Host"));
    assertEquals("front.example", received.header("X-Forwarded-Server"));
    assertEquals("https", received.header("X-Forwarded-Scheme"));
    assertEquals("203.0.113.9, 198.51.100.7", received.header("X-Forwarded-For"));
    assertEquals("/app", received.header("X-Forwarded-Script-Name"));
    assertEquals("/base", received.header("X-Traversal-Path"));
    assertEquals("fixed=1", received.header("X-Traversal-Query-String"));
    assertEquals("0.1", received.header("X-WSGIProxy-Version"));
    assertEquals("https", received.header("X-Forwarded-Proto"));
    assertEquals("front.example", received.header("X-Forwarded-Host"));
    assertEquals("443", received.header("X-Forwarded-Port"));
    assertEquals("/app", received.header("X-Forwarded-Prefix"));
    assertEquals("for=198.51.100.7;host=front.example;proto=https", received.header("Forwarded"));
    assertEquals("REMOTE_USER bob", received.header("X-WSGIProxy-Str-0"));
    assertEquals("roles [\"admin\",\"dev\"]", received.header("X-WSGIProxy-Json-0"));
    assertNull(received.header("X-WSGIProxy-Host"), "client-sent X-WSGIProxy-* must be removed");
    assertEquals(1, received.headerValues("X-WSGIProxy-Str-0").size());
    assertEquals("payload", received.bodyText());

    ProxyRequest.Builder asReceived = ProxyRequest.builder().method(received.method()).serverName("127.0.0.1")
        .serverPort(backend.port()).pathInfo("/base/x/y").queryString("q=%20a&fixed=1");
    received.headers().forEach(h -> asReceived.header(h.getKey(), h.getValue()));
    RequestVerifier.builder(List.of(KEY)).build().verify(asReceived.build());
  }

  @Test
  void clientSentForwardedHeadersAreNeverSignedAsFacts() throws Exception {
    ProxyRequest request = clientRequest("/x", "").toBuilder().setHeader("Host", "front.example:8443")
        .header("X-Forwarded-Port", "1").header("X-Forwarded-Prefix", "/admin").header("X-Forwarded-Proto", "gopher")
        .header("X_Forwarded_Host", "evil.example").header("Forwarded", "for=6.6.6.6;host=evil.example")
        .serverPort(8080).build();
    try (ProxyApp app = ProxyApp.builder(backend.url("")).standardForwardedHeaders(false).build()) {
      app.handle(request).close();
    }
    RecordedRequest received = backend.takeRequest();
    assertNull(received.header("X-Forwarded-Port"));
    assertNull(received.header("X-Forwarded-Prefix"));
    assertNull(received.header("X-Forwarded-Proto"));
    assertNull(received.header("X_Forwarded_Host"));
    assertEquals(List.of("for=6.6.6.6;host=evil.example, for=198.51.100.7;host=\"front.example:8443\";proto=https"),
        received.headerValues("Forwarded"), "the chain is kept on one line, ours last");
    try (ProxyApp app = ProxyApp.builder(backend.url("")).build()) {
      app.handle(request).close();
    }
    assertEquals("8443", backend.takeRequest().header("X-Forwarded-Port"), "the port of the original Host");
  }

  @Test
  void hrefWithoutPathOrQueryAddsNoTraversalHeadersAndAnEmptyPathIsSlash() throws Exception {
    try (ProxyApp app = ProxyApp.builder(backend.url("")).build();
         ProxyResponse response = app.handle(clientRequest("", ""))) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals("POST / HTTP/1.1", received.requestLine());
    assertNull(received.header("X-Traversal-Path"));
    assertNull(received.header("X-Traversal-Query-String"));
    assertNull(received.header("Signature"), "unsigned without a key; the client's forged one is removed");
  }

  @Test
  void ipv6ClientsAndHostsAreQuotedInForwarded() throws Exception {
    ProxyRequest request = clientRequest("/", "").toBuilder().remoteAddr("2001:db8::1").setHeader("Host", "[::1]:8443")
        .removeHeader("X-Forwarded-For").build();
    try (ProxyApp app = ProxyApp.builder(backend.url("")).standardForwardedHeaders(false).build()) {
      app.handle(request).close();
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals("for=\"[2001:db8::1]\";host=\"[::1]:8443\";proto=https", received.header("Forwarded"));
    assertEquals("2001:db8::1", received.header("X-Forwarded-For"));
    assertNull(received.header("X-Forwarded-Proto"));
  }

  @Test
  void rewriteRedirectsTurnsLocationsAndCookiesBackIntoTheClientsView() throws Exception {
    String base = backend.url("/base");
    backend.handler((request, exchange) -> exchange.respond(302, "",
        "Location", base + "/next?a=1",
        "Content-Location", "/base/here",
        "Set-Cookie", "s=1; Path=/base/sub; Domain=127.0.0.1; HttpOnly",
        "Set-Cookie", "t=2; Path=/elsewhere"));
    try (ProxyApp app = ProxyApp.builder(base).rewriteRedirects(true).build();
         ProxyResponse response = app.handle(clientRequest("/x", ""))) {
      assertEquals("https://front.example/app/next?a=1", response.header("Location"));
      assertEquals("/app/here", response.header("Content-Location"));
      assertEquals(List.of("s=1; Path=/app/sub; Domain=front.example; HttpOnly", "t=2; Path=/elsewhere"),
          response.headers().all("Set-Cookie"));
    }
  }

  @Test
  void redirectsAreLeftAloneByDefault() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(302, "", "Location", backend.url("/base/next")));
    try (ProxyApp app = ProxyApp.builder(backend.url("/base")).build();
         ProxyResponse response = app.handle(clientRequest("/x", ""))) {
      assertEquals(backend.url("/base/next"), response.header("Location"));
    }
  }

  @Test
  void attributeHeadersDecodeBackToTheValues() throws Exception {
    try (ProxyApp app = ProxyApp.builder(backend.url("")).keys("Unicode", List.of("REMOTE_USER")).build()) {
      app.handle(clientRequest("/", "").toBuilder().attribute("REMOTE_USER", " \u00e9l\u00e8ve\r\n ").build()).close();
    }
    RecordedRequest received = backend.takeRequest();
    HttpHeaders.Builder headers = HttpHeaders.builder();
    received.headers().forEach(h -> {
      if (AttributeHeaders.isAttributeHeader(h.getKey())) {
        headers.add(h.getKey(), h.getValue());
      }
    });
    assertEquals(Map.of("REMOTE_USER", " \u00e9l\u00e8ve\r\n "), AttributeHeaders.decode(headers.build(), HeaderCodecs.load(), true));
  }

  @Test
  void anUnknownKindIsAnErrorAtBuild() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ProxyApp.builder(backend.url("")).keys("Pickle", new ArrayList<>(List.of("x"))).build());
    assertTrue(e.getMessage().startsWith("keys.Pickle: no attribute kind 'Pickle' (known: "), e.getMessage());
  }
}

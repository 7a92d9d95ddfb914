package org.proxykit.middleware;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.protocol.Keys;
import org.proxykit.protocol.RequestSigner;
import org.proxykit.protocol.RequestVerifier;

class ProxyMiddlewareTest {
  private static final Keys.Hmac KEY = Keys.hmac("0123456789abcdef0123456789abcdef-mw".getBytes(StandardCharsets.US_ASCII), null);

  private final AtomicReference<ProxyRequest> seen = new AtomicReference<>();

  private ProxyMiddleware.Builder middleware() {
    return ProxyMiddleware.builder(request -> {
      seen.set(request);
      return ProxyResponse.builder().build();
    });
  }

  /** A request as a ProxyApp at http://front.example/app would send it to http://backend:9000/base?fixed=1. */
  private static ProxyRequest fromApp(String remoteAddr) {
    return ProxyRequest.builder().method("GET").serverName("backend").serverPort(9000)
        .header("Host", "backend:9000")
        .header("X-Forwarded-Server", "front.example")
        .header("X-Forwarded-Scheme", "https")
        .header("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
        .header("X-Forwarded-Script-Name", "/app")
        .header("X-Traversal-Path", "/base")
        .header("X-Traversal-Query-String", "fixed=1")
        .header("X-WSGIProxy-Version", "0.1")
        .header("X-WSGIProxy-Str-0", "REMOTE_USER bob")
        .header("X-WSGIProxy-Json-0", "roles [\"admin\"]")
        .header("Accept", "text/html")
        .pathInfo("/base/x/y").queryString("q=1&fixed=1")
        .remoteAddr(remoteAddr).remotePort(40000)
        .build();
  }

  @Test
  void aTrustedSendersHeadersRestoreTheOriginalRequest() throws Exception {
    middleware().build().handle(fromApp("127.0.0.1"));
    ProxyRequest restored = seen.get();
    assertEquals("https", restored.scheme());
    assertEquals("front.example", restored.header("Host"));
    assertEquals("front.example", restored.serverName());
    assertEquals(443, restored.serverPort());
    assertEquals("198.51.100.7", restored.remoteAddr());
    assertEquals("/app", restored.scriptName());
    assertEquals("/x/y", restored.pathInfo());
    assertEquals("q=1", restored.queryString());
    assertEquals("bob", restored.attribute("REMOTE_USER"));
    assertEquals(List.of("admin"), restored.attribute("roles"));
    assertEquals("text/html", restored.header("Accept"));
    for (String name : restored.headers().names()) {
      assertTrue(!name.toLowerCase().startsWith("x-"), name + " should have been consumed");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> original = (Map<String, Object>) restored.attribute(ProxyMiddleware.ORIGINAL_ATTRIBUTE);
    assertEquals("backend:9000", original.get("host"));
    assertEquals("127.0.0.1", original.get("remoteAddr"));
    assertEquals("/base/x/y", original.get("pathInfo"));
  }

  @Test
  void anUntrustedSendersProxyHeadersAreStrippedNeverApplied() throws Exception {
    middleware().build().handle(fromApp("192.0.2.50"));
    ProxyRequest restored = seen.get();
    assertEquals("http", restored.scheme());
    assertEquals("backend:9000", restored.header("Host"));
    assertEquals("192.0.2.50", restored.remoteAddr(), "a spoofed X-Forwarded-For is ignored");
    assertEquals("/base/x/y", restored.pathInfo());
    assertNull(restored.attribute("REMOTE_USER"));
    assertNull(restored.header("X-Forwarded-For"));
    assertNull(restored.header("X-WSGIProxy-Str-0"));
    assertEquals("text/html", restored.header("Accept"));
  }

  @ParameterizedTest
  @CsvSource({"10.1.2.3, 10.0.0.0/8, true", "10.1.2.3, 10.0.0.0/16, false", "11.0.0.1, 10.0.0.0/8, false",
      "192.168.1.1, 192.168.1.1, true", "2001:db8::5, 2001:db8::/32, true", "2001:db9::5, 2001:db8::/32, false",
      "::1, ::1/128, true", "::ffff:10.1.2.3, 10.0.0.0/8, true", "fe80::1, 0.0.0.0/0, false"})
  void trustByIpAndCidrForV4AndV6(String address, String range, boolean trusted) throws Exception {
    middleware().trustedIps(List.of(range)).build().handle(fromApp(address));
    assertEquals(trusted ? "front.example" : "backend:9000", seen.get().header("Host"));
  }

  @Test
  void xForwardedForIsWalkedRightToLeftPastTrustedProxies() throws Exception {
    ProxyRequest chained = fromApp("10.0.0.1").toBuilder()
        .setHeader("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.0.0.7, 10.0.0.8").build();
    middleware().trustedIps(List.of("10.0.0.0/8")).build().handle(chained);
    assertEquals("203.0.113.9", seen.get().remoteAddr());

    ProxyRequest garbage = fromApp("10.0.0.1").toBuilder()
        .setHeader("X-Forwarded-For", "203.0.113.9, not-an-ip, 10.0.0.8").build();
    middleware().trustedIps(List.of("10.0.0.0/8")).build().handle(garbage);
    assertEquals("10.0.0.8", seen.get().remoteAddr(), "an entry that is not an IP stops the walk");
  }

  @Test
  void signedRequestsAreTrustedAndUnsignedOnesRefusedWhenKeysAreSet() throws Exception {
    RequestVerifier verifier = RequestVerifier.builder(List.of(KEY)).build();
    ProxyMiddleware signedOnly = middleware().verifier(verifier).build();
    signedOnly.handle(new RequestSigner(KEY).sign(fromApp("192.0.2.50")));
    assertEquals("front.example", seen.get().header("Host"));
    assertEquals("198.51.100.7", seen.get().remoteAddr());

    ProxyStatusException unsigned = assertThrows(ProxyStatusException.class, () -> signedOnly.handle(fromApp("127.0.0.1")));
    assertEquals(401, unsigned.status());
    assertEquals("request is not signed", unsigned.reason());

    ProxyRequest tampered = new RequestSigner(KEY).sign(fromApp("192.0.2.50")).toBuilder()
        .setHeader("X-Forwarded-Server", "evil.example").build();
    assertEquals(401, assertThrows(ProxyStatusException.class, () -> signedOnly.handle(tampered)).status());

    middleware().verifier(verifier).requireSignature(false).build().handle(fromApp("192.0.2.50"));
    assertEquals("backend:9000", seen.get().header("Host"), "unsigned headers are stripped when not required");
  }

  @Test
  void standardHeadersOnSeveralLinesAreReadRightmostAndProtocolHeadersMustBeSingle() throws Exception {
    ProxyRequest appended = ProxyRequest.builder().serverName("backend").header("Host", "backend")
        .header("X-Forwarded-Host", "evil.example").header("X-Forwarded-Host", "www.example")
        .pathInfo("/").remoteAddr("127.0.0.1").build();
    middleware().build().handle(appended);
    assertEquals("www.example", seen.get().header("Host"), "the line the nearest proxy appended wins");

    ProxyRequest doubled = fromApp("127.0.0.1").toBuilder().header("X-WSGIProxy-Host", "a.example")
        .header("X-WSGIProxy-Host", "b.example").build();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> middleware().build().handle(doubled));
    assertEquals("header X-WSGIProxy-Host appears more than once", e.reason());
  }

  @Test
  void anotherPartysSignatureIsLeftAlone() throws Exception {
    ProxyRequest webhook = fromApp("192.0.2.50").toBuilder()
        .header("Signature-Input", "sig1=(\"@method\");created=1").header("Signature", "sig1=:AAAA:").build();
    RequestVerifier verifier = RequestVerifier.builder(List.of(KEY)).build();
    middleware().verifier(verifier).requireSignature(false).build().handle(webhook);
    assertEquals("sig1=:AAAA:", seen.get().header("Signature"));
    assertEquals("backend:9000", seen.get().header("Host"));
  }

  @Test
  void addressesThatAreNotLiteralsAreNeverLookedUp() {
    assertNull(IpRanges.parse("999.1.1.1"));
    assertNull(IpRanges.parse("example.com"));
    assertTrue(IpRanges.parse("10.0.0.1") != null);
  }

  @Test
  void kryoFromAnUntrustedSenderIs403() {
    ProxyRequest kryo = fromApp("192.0.2.50").toBuilder().header("X-WSGIProxy-Kryo-0", "obj b64AAAA").build();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> middleware().build().handle(kryo));
    assertEquals(403, e.status());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "/base       | ''        | ''",
      "/base/      | ''        | /",
      "/base/x     | ''        | /x",
      "/basement   | 400       | path '/basement' does not start with X-Traversal-Path '/base'",
      "/other      | 400       | path '/other' does not start with X-Traversal-Path '/base'",
  })
  void traversalPathEqualPrefixOrMismatch(String path, String status, String expected) throws Exception {
    ProxyRequest request = fromApp("127.0.0.1").toBuilder().pathInfo(path).build();
    if (status.isEmpty()) {
      middleware().build().handle(request);
      assertEquals(expected, seen.get().pathInfo());
    } else {
      ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> middleware().build().handle(request));
      assertEquals(400, e.status());
      assertEquals(expected, e.reason());
    }
  }

  @Test
  void badForwardedValuesAre400() {
    assertBadRequest("unsupported X-WSGIProxy-Version: 0.2", b -> b.setHeader("X-WSGIProxy-Version", "0.2"));
    assertBadRequest("forwarded script name must start with /, got 'app'", b -> b.setHeader("X-Forwarded-Script-Name", "app"));
    assertBadRequest("forwarded scheme must be http or https, got 'gopher'", b -> b.setHeader("X-Forwarded-Scheme", "gopher"));
    assertBadRequest("query 'q=1&fixed=1' does not end with X-Traversal-Query-String 'other=2'",
        b -> b.setHeader("X-Traversal-Query-String", "other=2"));
    assertBadRequest("X-WSGIProxy-Json-0: not valid JSON", b -> b.setHeader("X-WSGIProxy-Json-0", "k {"));
  }

  @Test
  void standardProxiesHeadersAndRfc7239AreRead() throws Exception {
    ProxyRequest nginx = ProxyRequest.builder().serverName("backend").serverPort(8080).header("Host", "backend:8080")
        .header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "shop.example")
        .header("X-Forwarded-Port", "8443").header("X-Forwarded-Prefix", "/shop")
        .header("X-Forwarded-For", "203.0.113.1").pathInfo("/shop/cart").remoteAddr("127.0.0.1").build();
    middleware().build().handle(nginx);
    assertEquals("https", seen.get().scheme());
    assertEquals("shop.example:8443", seen.get().header("Host"));
    assertEquals(8443, seen.get().serverPort());
    assertEquals("/shop", seen.get().scriptName());
    assertEquals("/cart", seen.get().pathInfo());
    assertEquals("203.0.113.1", seen.get().remoteAddr());

    ProxyRequest rfc7239 = ProxyRequest.builder().serverName("backend").header("Host", "backend")
        .header("Forwarded", "for=_hidden;proto=http, for=\"[2001:db8:cafe::17]:4711\";host=\"shop.example:443\";proto=https")
        .pathInfo("/").remoteAddr("::1").build();
    middleware().build().handle(rfc7239);
    assertEquals("https", seen.get().scheme());
    assertEquals("shop.example:443", seen.get().header("Host"));
    assertEquals("2001:db8:cafe::17", seen.get().remoteAddr());

    ProxyRequest obfuscated = rfc7239.toBuilder().setHeader("Forwarded", "for=unknown;proto=https").build();
    middleware().build().handle(obfuscated);
    assertEquals("::1", seen.get().remoteAddr(), "unknown and _obfuscated identifiers are not addresses");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "prefix=/bar          | /foo      | /bar      | /foo  | localhost:80",
      "popPrefix=/site      | /site/a   | /site     | /a    | localhost:80",
      "popPrefix=/site      | /site     | /site     | ''    | localhost:80",
      "scheme=https         | /         | ''        | /     | localhost:443",
      "host=example.com:8443| /         | ''        | /     | example.com:8443",
      "domain=example.org   | /         | ''        | /     | example.org:80",
      "port=9090            | /         | ''        | /     | localhost:9090",
  })
  void forcedSettings(String setting, String path, String scriptName, String pathInfo, String server) throws Exception {
    ProxyMiddleware.Builder builder = middleware();
    String[] keyValue = setting.split("=");
    switch (keyValue[0]) {
      case "prefix": builder.prefix(keyValue[1]); break;
      case "popPrefix": builder.popPrefix(keyValue[1]); break;
      case "scheme": builder.scheme(keyValue[1]); break;
      case "host": builder.host(keyValue[1]); break;
      case "domain": builder.domain(keyValue[1]); break;
      default: builder.port(Integer.parseInt(keyValue[1])); break;
    }
    builder.build().handle(ProxyRequest.builder().serverName("localhost").header("Host", "localhost")
        .pathInfo(path).remoteAddr("192.0.2.1").build());
    assertEquals(scriptName, seen.get().scriptName());
    assertEquals(pathInfo, seen.get().pathInfo());
    assertEquals(server, seen.get().serverName() + ":" + seen.get().serverPort());
  }

  @Test
  void popPrefixRefusesPathsOutsideIt() {
    ProxyMiddleware mw = middleware().popPrefix("/site").build();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> mw.handle(
        ProxyRequest.builder().serverName("h").pathInfo("/sitemap").remoteAddr("192.0.2.1").build()));
    assertEquals("expected all requests to start with the path '/site'", e.reason());
  }

  @Test
  void contradictorySettingsAreConfigurationErrors() {
    assertConfig("prefix and popPrefix cannot be combined", () -> middleware().prefix("/a").popPrefix("/b").build());
    assertConfig("host cannot be combined with domain or port", () -> middleware().host("a:1").domain("b").build());
    assertConfig("host cannot be combined with domain or port", () -> middleware().host("a:1").port(2).build());
    assertConfig("host must include a port (host:port), got 'example.com'", () -> middleware().host("example.com").build());
    assertConfig("[1]: expected an IP address or CIDR range such as 10.0.0.0/8, got '10.0.0.0/33'",
        () -> middleware().trustedIps(List.of("::1", "10.0.0.0/33")).build());
    assertConfig("[0]: expected an IP address or CIDR range such as 10.0.0.0/8, got 'localhost'",
        () -> middleware().trustedIps(List.of("localhost")).build());
  }

  private void assertBadRequest(String reason, Consumer<ProxyRequest.Builder> change) {
    ProxyRequest.Builder request = fromApp("127.0.0.1").toBuilder();
    change.accept(request);
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> middleware().build().handle(request.build()));
    assertEquals(400, e.status());
    assertEquals(reason, e.reason());
  }

  private static void assertConfig(String message, org.junit.jupiter.api.function.Executable build) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, build).getMessage());
  }
}

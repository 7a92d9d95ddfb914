package org.proxykit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProxyRequestTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      // url                                   | scheme | serverName   | port | Host              | pathInfo       | query
      "http://example.com                      | http   | example.com  | 80   | example.com       | ''             | ''",
      "http://example.com/                     | http   | example.com  | 80   | example.com       | /              | ''",
      "https://example.com/a/b                 | https  | example.com  | 443  | example.com       | /a/b           | ''",
      "http://127.0.0.1:8080/x?y=1&z=2         | http   | 127.0.0.1    | 8080 | 127.0.0.1:8080    | /x             | y=1&z=2",
      "HTTPS://Example.COM:8443/P              | https  | Example.COM  | 8443 | Example.COM:8443  | /P             | ''",
      "http://example.com:80/                  | http   | example.com  | 80   | example.com:80    | /              | ''",
      "http://[::1]:9000/v6                    | http   | ::1          | 9000 | [::1]:9000        | /v6            | ''",
      "https://[2001:db8::7]/                  | https  | 2001:db8::7  | 443  | [2001:db8::7]     | /              | ''",
      "http://h/a%2Fb/%7E%20c?q=%2F+x          | http   | h            | 80   | h                 | /a%2Fb/%7E%20c | q=%2F+x",
      "http://h/x?                             | http   | h            | 80   | h                 | /x             | ''",
      "http://h/x#fragment                     | http   | h            | 80   | h                 | /x             | ''",
      "http://h/caf\u00e9?q=\u00fc             | http   | h            | 80   | h                 | /caf%C3%A9     | q=%C3%BC",
  })
  void blankTakesEverythingFromTheUrlAndKeepsItRaw(
      String url, String scheme, String serverName, int port, String host, String pathInfo, String query) {
    ProxyRequest request = ProxyRequest.blank(url);

    assertEquals("GET", request.method());
    assertEquals(scheme, request.scheme());
    assertEquals(serverName, request.serverName());
    assertEquals(port, request.serverPort());
    assertEquals(host, request.header("host"));
    assertEquals("", request.scriptName());
    assertEquals(pathInfo, request.pathInfo());
    assertEquals(query, request.queryString());
    assertEquals(0, request.body().length());
    assertNull(request.remoteAddr());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''                        | not absolute",
      "/just/a/path              | not absolute",
      "example.com/x             | not absolute",
      "ftp://example.com/        | scheme 'ftp'",
      "mailto:a@b.c              | scheme 'mailto'",
      "http:opaque               | no host",
      "http:///path              | no host",
      "http://user:pw@h/         | user info",
      "http://h:99999/           | outside 1-65535",
      "http://h:0/               | outside 1-65535",
      "http://h:port/            | no valid host",
      "http://h/a b              | malformed URL",
      "'http://h/\tx'            | malformed URL",
  })
  void blankRefusesBadUrlsNamingTheProblem(String url, String problem) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyRequest.blank(url));
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  @Test
  void requestTargetIsSlashWhenThePathIsEmptyAndCarriesTheQuery() {
    assertEquals("/", ProxyRequest.blank("http://h").requestTarget());
    assertEquals("/?a=1", ProxyRequest.blank("http://h?a=1").requestTarget());
    ProxyRequest mounted = ProxyRequest.blank("http://h/x?q").toBuilder().scriptName("/app").build();
    assertEquals("/app/x?q", mounted.requestTarget());
    assertEquals("/app/x", mounted.path());
  }

  @Test
  void urlIsRebuiltFromTheHostHeaderElseFromServerNameAndPort() {
    assertEquals("http://a.example:8080/p?q=1", ProxyRequest.blank("http://a.example:8080/p?q=1").url());
    ProxyRequest noHost = ProxyRequest.blank("https://[::1]:8443/p").toBuilder().removeHeader("Host").build();
    assertEquals("https://[::1]:8443/p", noHost.url());
    ProxyRequest defaultPort = ProxyRequest.blank("https://h/").toBuilder().removeHeader("Host").build();
    assertEquals("https://h/", defaultPort.url());
  }

  @Test
  void toBuilderCopiesEveryFieldAndLeavesTheOriginalAlone() {
    Body body = Body.of("payload");
    ProxyRequest original = ProxyRequest.builder()
        .method("POST").scheme("https").serverName("backend").serverPort(9443)
        .header("Host", "front.example").header("X-A", "1").header("x-a", "2")
        .scriptName("/app").pathInfo("/p%20q").queryString("a=1")
        .remoteAddr("10.0.0.1").remotePort(5555)
        .body(body).attribute("REMOTE_USER", "bob")
        .build();

    ProxyRequest copy = original.toBuilder().build();
    assertEquals(original.toString(), copy.toString());
    assertEquals(original.headers(), copy.headers());
    assertEquals(original.attributes(), copy.attributes());
    assertEquals("10.0.0.1", copy.remoteAddr());
    assertEquals(5555, copy.remotePort());
    assertSame(body, copy.body());

    ProxyRequest changed = original.toBuilder()
        .method("PUT").setHeader("X-A", "3").attribute("k", 1).removeAttribute("REMOTE_USER").build();
    assertNotSame(original, changed);
    assertEquals("POST", original.method());
    assertEquals(java.util.List.of("1", "2"), original.headers().all("X-A"));
    assertEquals(java.util.List.of("3"), changed.headers().all("x-a"));
    assertEquals(Map.of("REMOTE_USER", "bob"), original.attributes());
    assertEquals(Map.of("k", 1), changed.attributes());
  }

  @Test
  void attributesCannotBeChangedThroughTheRequest() {
    ProxyRequest request = ProxyRequest.blank("http://h/").toBuilder().attribute("a", "b").build();
    assertThrows(UnsupportedOperationException.class, () -> request.attributes().put("c", "d"));
  }

  @Test
  void serverPortDefaultsFromTheSchemeAndBracketsAreDropped() {
    ProxyRequest request = ProxyRequest.builder().scheme("HTTPS").serverName("[::1]").build();
    assertEquals("https", request.scheme());
    assertEquals(443, request.serverPort());
    assertEquals("::1", request.serverName());
  }

  @Test
  void buildNamesTheFieldThatIsMissingOrBad() {
    assertMessage("serverName is required", () -> ProxyRequest.builder().build());
    assertMessage("method 'GE T' not an HTTP token", () -> base().method("GE T").build());
    assertMessage("scheme 'ftp' must be http or https", () -> base().scheme("ftp").build());
    assertMessage("serverPort '70000' must be within 1-65535", () -> base().serverPort(70000).build());
    assertMessage("serverName 'a/b' has an illegal character at index 1", () -> base().serverName("a/b").build());
    assertMessage("scriptName 'app' must be empty or start with /", () -> base().scriptName("app").build());
    assertMessage("pathInfo '/a?b' has an illegal character at index 2", () -> base().pathInfo("/a?b").build());
    assertMessage("pathInfo '/a b' has an illegal character at index 2", () -> base().pathInfo("/a b").build());
    assertMessage("pathInfo '/a\\x0d\\x0ab' has an illegal character at index 2",
        () -> base().pathInfo("/a\r\nb").build());
    assertMessage("queryString 'a#b' has an illegal character at index 1", () -> base().queryString("a#b").build());
    assertMessage("remotePort '-2' must be -1 (unknown) or within 0-65535", () -> base().remotePort(-2).build());
  }

  @Test
  void aDefaultPortFollowsTheSchemeButAGivenOneStays() {
    assertEquals(443, ProxyRequest.blank("http://a.example/").toBuilder().scheme("https").build().serverPort());
    assertEquals(80, ProxyRequest.blank("http://a.example:80/").toBuilder().scheme("https").build().serverPort());
    assertEquals(8080, base().serverPort(8080).build().toBuilder().scheme("https").build().serverPort());
  }

  @Test
  void serverNameWithAColonMustBeAnIpv6Address() {
    assertMessage("serverName 'example.com:8080' is not an IPv6 address: illegal character at index 1",
        () -> base().serverName("example.com:8080").build());
    assertEquals("fe80::1", base().serverName("fe80::1").build().serverName());
    assertMessage("serverName 'a_b%' has an illegal character at index 3", () -> base().serverName("a_b%").build());
  }

  @Test
  void twoHostHeadersAreRefused() {
    assertMessage("headers hold more than one Host: use setHeader(\"Host\", ...) to replace it",
        () -> ProxyRequest.blank("http://a/").toBuilder().header("Host", "evil.example").build());
    assertEquals("b", ProxyRequest.blank("http://a/").toBuilder().setHeader("Host", "b").build().header("Host"));
  }

  @Test
  void rawNonAsciiBytesInThePathPassAsLatin1() {
    ProxyRequest request = base().pathInfo("/caf\u00e9").build();
    assertEquals("/caf\u00e9", request.pathInfo());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " "})
  void attributeKeysMustNotBeEmptyAndValuesMustNotBeNull(String key) {
    if (key.isEmpty()) {
      assertThrows(IllegalArgumentException.class, () -> base().attribute(key, "v"));
    } else {
      assertThrows(NullPointerException.class, () -> base().attribute(key, null));
    }
  }

  @Test
  void toStringShowsTheRequestLineAndTheServerButNoHeaders() {
    ProxyRequest request = ProxyRequest.blank("http://front/p").toBuilder()
        .serverName("10.0.0.9").serverPort(81).header("Authorization", "secret").build();
    assertEquals("GET http://front/p (server 10.0.0.9:81)", request.toString());
  }

  @Test
  void closingTheResponseClosesItsBody() throws IOException {
    boolean[] closed = {false};
    Body body = new Body() {
      @Override public long length() { return -1; }
      @Override public java.io.InputStream open() { return java.io.InputStream.nullInputStream(); }
      @Override public void close() { closed[0] = true; }
    };
    ProxyResponse response = ProxyResponse.builder().status(799).reason("Odd").body(body).build();
    response.close();
    assertTrue(closed[0]);
    assertEquals("799 Odd", response.toString());
  }

  @Test
  void responseStatusMustHaveThreeDigitsAndReasonMustBeOneLine() {
    assertMessage("status 99 is outside 100-999", () -> ProxyResponse.builder().status(99).build());
    assertMessage("status 1000 is outside 100-999", () -> ProxyResponse.builder().status(1000).build());
    assertMessage("reason 'a\\x0d\\x0ab' has an illegal character at index 1",
        () -> ProxyResponse.builder().reason("a\r\nb").build());
  }

  @Test
  void statusExceptionCarriesStatusReasonAndHeaders() {
    ProxyStatusException e = new ProxyStatusException(503, "starting", HttpHeaders.of("Retry-After", "2"), null);
    assertEquals(503, e.status());
    assertEquals("starting", e.reason());
    assertEquals("2", e.headers().first("retry-after"));
    assertEquals("503 starting", e.getMessage());
    assertEquals(502, ProxyStatusException.badGateway("bad domain name: x", null).status());
    assertThrows(IllegalArgumentException.class, () -> new ProxyStatusException(200, "fine"));
  }

  private static ProxyRequest.Builder base() {
    return ProxyRequest.builder().serverName("h");
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable executable) {
    RuntimeException e = assertThrows(RuntimeException.class, executable);
    assertEquals(expected, e.getMessage());
  }
}

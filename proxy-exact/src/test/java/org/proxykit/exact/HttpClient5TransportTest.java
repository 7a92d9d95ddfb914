package org.proxykit.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.api.spi.TransportProvider;
import org.proxykit.testing.TransportContractKit;

/**
 * The contract kit, and the strict response head only this transport has (the jdk transport
 * takes bare LF line ends, see {@link JdkTransport}): each malformed head is 502 with the
 * generic reason, none of its bytes (the {@code X-Marker} header, the {@code secret} body)
 * reach the caller, and the connection is not used again.
 */
class HttpClient5TransportTest extends TransportContractKit {
  private static final String INVALID = "upstream sent an invalid response";

  @Override
  protected Transport createTransport(Settings settings) {
    return new HttpClient5TransportProvider().create(settings);
  }

  @Test
  void aBareLfEndingTheStatusLineIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aBareLfEndingAHeaderLineIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aBareLfEndingTheHeadIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\nsecret");
  }

  @Test
  void aFoldedHeaderLineIsBadGatewayNotMerged() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\r\n folded\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aFoldedHeaderLineStartingWithATabIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\r\n\tfolded\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aBareCrInsideAHeaderLineIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\rContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aNulInAHeaderLineIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 OK\r\nX-Marker: leaked\0\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aControlCharacterInTheReasonPhraseIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 200 O\u0001K\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void junkBeforeTheStatusLineIsBadGateway() throws Exception {
    assertRefused("junk\r\nHTTP/1.1 200 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void anEmptyLineBeforeTheStatusLineIsBadGateway() throws Exception {
    assertRefused("\r\nHTTP/1.1 200 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aStatusCodeThatIsNotThreeDigitsIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 2000 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void aBareLfInAnInformationalResponseIsBadGateway() throws Exception {
    assertRefused("HTTP/1.1 103 Early Hints\nLink: </x>\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n\r\nsecret");
  }

  @Test
  void informationalResponsesBeforeTheFinalOneAreSkipped() throws Exception {
    backend.handler((request, exchange) -> exchange.writeRaw("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nX-Marker: final\r\nContent-Length: 2\r\n\r\nok"));
    try (ProxyResponse response = transport().send(get("/hints"))) {
      assertEquals(200, response.status());
      assertEquals("final", response.header("X-Marker"));
      assertEquals(null, response.header("Link"));
      assertEquals("ok", text(response));
    }
  }

  @Test
  void aHeadCutShortIsBadGateway() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeRaw("HTTP/1.1 200 OK\r\nX-Marker: leaked\r\nContent-Length: 6\r\n");
      exchange.closeConnection();
    });
    Transport transport = singleConnection();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> transport.send(get("/cut")).close());
    assertEquals(502, e.status());
    assertStillServes(transport);
  }

  @Test
  void aHeadExactlyAtTheLimitsIsServed() throws Exception {
    String head = headAtTheLimits();
    backend.handler((request, exchange) -> exchange.writeRaw(head + "\r\nsecret"));
    try (ProxyResponse response = transport().send(get("/limits"))) {
      assertEquals(Upstream.MAX_RESPONSE_HEADERS, response.headers().size());
      assertEquals("secret", text(response));
    }
  }

  @Test
  void oneHeaderLineOverTheLimitIsBadGateway() throws Exception {
    assertRefused(headAtTheLimits() + "X-Marker: leaked\r\n\r\nsecret");
  }

  @Test
  void oneByteOverTheLineLimitIsBadGateway() throws Exception {
    String name = "X-Marker: ";
    assertRefused("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
        + name + "v".repeat(Upstream.MAX_RESPONSE_LINE - name.length() + 1) + "\r\n\r\nsecret");
  }

  /** Returns a head without its final CRLF: the most header lines allowed, one of them as long as allowed. */
  private static String headAtTheLimits() {
    StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n");
    String name = "X-Long: ";
    head.append(name).append("v".repeat(Upstream.MAX_RESPONSE_LINE - name.length())).append("\r\n");
    for (int i = 2; i < Upstream.MAX_RESPONSE_HEADERS; i++) {
      head.append("X-H").append(i).append(": v\r\n");
    }
    return head.toString();
  }

  /**
   * Asserts that {@code raw}, sent as the whole answer on a connection the upstream keeps
   * open, is 502 with the generic reason, and that the next request gets a clean answer on
   * the single allowed connection: the refused one was neither leaked nor used again.
   */
  private void assertRefused(String raw) throws Exception {
    backend.handler((request, exchange) -> exchange.writeRaw(raw));
    Transport transport = singleConnection();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> transport.send(get("/bad")).close());
    assertEquals(502, e.status());
    assertEquals(INVALID, e.reason());
    assertStillServes(transport);
  }

  private Transport singleConnection() {
    return transport(TransportProvider.MAX_CONNECTIONS, 1, TransportProvider.MAX_CONNECTIONS_PER_ROUTE, 1,
        TransportProvider.POOL_WAIT_TIMEOUT, "2s");
  }

  private void assertStillServes(Transport transport) throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "fine"));
    try (ProxyResponse response = transport.send(get("/after"))) {
      assertEquals("fine", text(response));
    }
  }

  private Transport transport() {
    return transport(new Object[0]);
  }

  private static String text(ProxyResponse response) throws IOException {
    return new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8);
  }
}

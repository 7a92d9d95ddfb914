package org.proxykit.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.proxykit.api.Body;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;
import org.proxykit.testing.LoopbackServer;
import org.proxykit.testing.RecordedRequest;

class ExactProxyTest {
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void hopByHopHeadersAreDroppedInBothDirections(String transport) throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "OK", "ok".getBytes(StandardCharsets.UTF_8),
        "Connection", "X-Response-Hop", "X-Response-Hop", "1", "Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive",
        "Upgrade", "h2c", "Trailer", "X-T", "X-End-To-End", "kept"));
    ProxyRequest request = ProxyRequest.blank(backend.url("/hop")).toBuilder()
        .method("POST")
        .header("Connection", "keep-alive, X-Request-Hop")
        .header("Connection", "X-Second-Hop")
        .header("X-Request-Hop", "secret")
        .header("X-Second-Hop", "secret")
        .header("Keep-Alive", "300")
        .header("Proxy-Connection", "keep-alive")
        .header("TE", "trailers")
        .header("Trailer", "X-T")
        .header("Transfer-Encoding", "chunked")
        .header("Upgrade", "websocket")
        .header("X-End-To-End", "kept")
        .body(Body.of("body"))
        .build();

    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build();
         ProxyResponse response = proxy.handle(request)) {
      for (String hop : List.of("Connection", "X-Response-Hop", "Keep-Alive", "Proxy-Connection", "Upgrade", "Trailer",
          "Transfer-Encoding")) {
        assertNull(response.header(hop), hop + " reached the client");
      }
      assertEquals("kept", response.header("X-End-To-End"));
      assertEquals("ok", new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8));
    }

    RecordedRequest received = backend.takeRequest();
    for (String hop : List.of("X-Request-Hop", "X-Second-Hop", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
        "Upgrade", "Transfer-Encoding")) {
      assertNull(received.header(hop), hop + " reached the backend");
    }
    assertEquals("kept", received.header("X-End-To-End"));
    assertEquals("4", received.header("Content-Length"), "one framing, recomputed");
    assertEquals("body", received.bodyText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void connectionCannotNameHostCredentialsOrProtocolHeadersAway(String transport) throws Exception {
    ProxyRequest request = ProxyRequest.blank(backend.url("/")).toBuilder()
        .setHeader("Host", "virtual.example")
        .header("Connection", "Host, Authorization, X-Forwarded-For, Signature, X-Other")
        .header("Authorization", "Bearer t")
        .header("X-Forwarded-For", "10.0.0.1")
        .header("Signature", "wsgiproxy=:abc:")
        .header("X-Other", "dropped")
        .build();
    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build();
         ProxyResponse response = proxy.handle(request)) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals("virtual.example", received.header("Host"));
    assertEquals("Bearer t", received.header("Authorization"));
    assertEquals("10.0.0.1", received.header("X-Forwarded-For"));
    assertEquals("wsgiproxy=:abc:", received.header("Signature"));
    assertNull(received.header("X-Other"));
  }

  @Test
  void forwardProxyTargetsAreSentByteForByte() throws Exception {
    String rawTarget = "/a|b/caf\u00e9/%zz?x={1}&y=%20";
    ProxyRequest asReceived = ProxyRequest.builder().serverName("proxy.local")
        .attribute(ForwardProxyFilter.TARGET_ATTRIBUTE, "http://127.0.0.1:" + backend.port() + rawTarget + "#frag")
        .build();
    try (ExactProxy exact = ExactProxy.create();
         ProxyResponse response = new ForwardProxyFilter(exact).handle(asReceived)) {
      assertEquals(200, response.status());
    }
    assertEquals("GET " + rawTarget + " HTTP/1.1", backend.takeRequest().requestLine());
  }

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void aFileBodyIsClosedWhenTheUpstreamCannotBeReached(String transport, @TempDir Path dir) throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    boolean[] closed = {false};
    java.io.InputStream file = new java.io.ByteArrayInputStream(new byte[10]) {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    ProxyRequest upload = ProxyRequest.blank("http://127.0.0.1:" + closedPort + "/").toBuilder()
        .method("PUT").body(Body.of(file, 10)).build();
    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build()) {
      assertThrows(ProxyStatusException.class, () -> proxy.handle(upload));
    }
    assertTrue(closed[0], "the request body stream was left open");
  }

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void headResponsesCarryNoBody(String transport) throws Exception {
    backend.handler((request, exchange) -> exchange.writeHead(200, "OK", "Content-Length", "10"));
    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build();
         ProxyResponse response = proxy.handle(
             ProxyRequest.blank(backend.url("/")).toBuilder().method("HEAD").build())) {
      assertEquals("10", response.header("Content-Length"));
      assertEquals(0, response.body().length());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void worksAsAnHttpClientForGetPostAndFileUploads(String transport, @TempDir Path dir) throws Exception {
    backend.handler((request, exchange) -> exchange.respond(201, "Created",
        ("got " + request.method() + " " + request.bodyLength()).getBytes(StandardCharsets.UTF_8),
        "Content-Type", "text/plain"));
    Path file = Files.write(dir.resolve("report.csv"), "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));

    try (ExactProxy http = ExactProxy.builder().transport(transport).build()) {
      try (ProxyResponse response = http.handle(ProxyRequest.blank(backend.url("/x")))) {
        assertEquals(201, response.status());
        assertEquals("got GET 0", text(response));
      }
      ProxyRequest post = ProxyRequest.blank(backend.url("/form")).toBuilder()
          .method("POST").header("Content-Type", "application/x-www-form-urlencoded").body(Body.of("a=1&b=2")).build();
      try (ProxyResponse response = http.handle(post)) {
        assertEquals("got POST 7", text(response));
      }
      ProxyRequest upload = ProxyRequest.blank(backend.url("/upload/report.csv")).toBuilder()
          .method("PUT").header("Content-Type", "text/csv").body(Body.of(file)).build();
      try (ProxyResponse response = http.handle(upload)) {
        assertEquals("got PUT 8", text(response));
      }
    }
    backend.takeRequest();
    assertEquals("a=1&b=2", backend.takeRequest().bodyText());
    RecordedRequest uploaded = backend.takeRequest();
    assertEquals("a,b\n1,2\n", uploaded.bodyText());
    assertEquals("text/csv", uploaded.header("Content-Type"));
  }

  @Test
  void createPicksTheHighestPriorityTransportUnlessTheSystemPropertyNamesOne() throws IOException {
    try (ExactProxy proxy = ExactProxy.create()) {
      assertEquals("ExactProxy(httpclient5)", proxy.toString());
    }
    System.setProperty(ExactProxy.TRANSPORT_PROPERTY, "jdk");
    try (ExactProxy proxy = ExactProxy.create()) {
      assertEquals("ExactProxy(jdk)", proxy.toString());
    } finally {
      System.clearProperty(ExactProxy.TRANSPORT_PROPERTY);
    }
  }

  @Test
  void anUnknownTransportOrSettingIsAClearError() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ExactProxy.builder().transport("netty").build());
    assertEquals("no TransportProvider named 'netty'; available: httpclient5, jdk", unknown.getMessage());

    IllegalArgumentException badKey = assertThrows(IllegalArgumentException.class,
        () -> ExactProxy.builder().settings(Settings.of("mounts[0].handler.transport", Map.of("conectTimeout", "1s")))
            .build());
    assertTrue(badKey.getMessage().startsWith("mounts[0].handler.transport.conectTimeout: unknown key (known: "),
        badKey.getMessage());

    IllegalArgumentException badValue = assertThrows(IllegalArgumentException.class,
        () -> ExactProxy.builder().setting("maxConnections", 0).build());
    assertEquals("maxConnections: must be at least 1, got 0", badValue.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"httpclient5", "jdk"})
  void forwardProxyFilterSendsTheRequestWhereItsAbsoluteTargetSays(String transport) throws Exception {
    String target = "http://127.0.0.1:" + backend.port() + "/page?q=%20x";
    ProxyRequest asReceived = ProxyRequest.builder()
        .serverName("proxy.local").serverPort(3128)
        .pathInfo("/ignored")
        .header("Host", "wrong.example")
        .header("Proxy-Authorization", "Basic c2VjcmV0")
        .header("Proxy-Connection", "keep-alive")
        .header("Accept", "text/html")
        .attribute(ForwardProxyFilter.TARGET_ATTRIBUTE, target)
        .build();

    try (ExactProxy exact = ExactProxy.builder().transport(transport).build();
         ProxyResponse response = new ForwardProxyFilter(exact).handle(asReceived)) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals("GET /page?q=%20x HTTP/1.1", received.requestLine());
    assertEquals("127.0.0.1:" + backend.port(), received.header("Host"));
    assertEquals("text/html", received.header("Accept"));
    assertNull(received.header("Proxy-Authorization"));
    assertNull(received.header("Proxy-Connection"));
  }

  @Test
  void forwardProxyFilterRefusesRequestsWithoutAnAbsoluteHttpTarget() {
    ForwardProxyFilter filter = new ForwardProxyFilter(request -> {
      throw new AssertionError("must not be reached");
    });
    ProxyRequest origin = ProxyRequest.blank("http://proxy.local/x");
    ProxyStatusException missing = assertThrows(ProxyStatusException.class, () -> filter.handle(origin));
    assertEquals(400, missing.status());
    ProxyStatusException ftp = assertThrows(ProxyStatusException.class, () -> filter.handle(
        origin.toBuilder().attribute(ForwardProxyFilter.TARGET_ATTRIBUTE, "ftp://files.example/").build()));
    assertEquals(400, ftp.status());
    assertTrue(ftp.reason().startsWith("bad proxy request target: "), ftp.reason());
  }

  @Test
  void noPooledConnectionStaysLeasedAfterFailuresOrAbandonedBodies() throws Exception {
    faultyBackend();
    HttpClient5Transport transport = (HttpClient5Transport) new HttpClient5TransportProvider().create(
        Settings.of(Map.of("responseTimeout", Duration.ofSeconds(2))));
    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build()) {
      failTwentyTimes(proxy);
      assertEquals(0, transport.poolStats().getLeased());
      assertEquals(0, transport.poolStats().getPending());
    } finally {
      transport.close();
    }
  }

  @Test
  void theJdkTransportGivesEveryConnectionPermitBackAfterFailures() throws Exception {
    faultyBackend();
    JdkTransport transport = (JdkTransport) new JdkTransportProvider().create(Settings.of(Map.of("maxConnections", 8)));
    try (ExactProxy proxy = ExactProxy.builder().transport(transport).build()) {
      failTwentyTimes(proxy);
      assertEquals(8, transport.availablePermits());
    } finally {
      transport.close();
    }
  }

  /** A backend that resets, cuts a body short, or sends a long one. */
  private void faultyBackend() {
    backend.handler((request, exchange) -> {
      switch (request.target()) {
        case "/reset": exchange.reset(); break;
        case "/short": exchange.writeHead(200, "OK", "Content-Length", "50"); exchange.writeRaw("x"); exchange.closeConnection(); break;
        default: exchange.respond(200, "0123456789".repeat(1000));
      }
    });
  }

  /** Resets, a cut-short body and an abandoned download, twenty times each. */
  private void failTwentyTimes(ExactProxy proxy) throws IOException {
    for (int i = 0; i < 20; i++) {
      assertThrows(ProxyStatusException.class, () -> proxy.handle(ProxyRequest.blank(backend.url("/reset"))));
      try (ProxyResponse response = proxy.handle(ProxyRequest.blank(backend.url("/short")))) {
        assertThrows(IOException.class, () -> response.body().open().readAllBytes());
      }
      ProxyResponse abandoned = proxy.handle(ProxyRequest.blank(backend.url("/long")));
      abandoned.body().open().read();
      abandoned.close();
    }
  }

  private static String text(ProxyResponse response) throws IOException {
    return new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8);
  }
}

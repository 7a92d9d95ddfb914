package org.proxykit.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
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
import org.proxykit.api.spi.Transport;
import org.proxykit.api.spi.TransportProvider;

/**
 * The contract every {@link Transport} must keep, as tests against a real
 * {@link LoopbackServer} on 127.0.0.1. To check a transport, subclass this kit and implement
 * {@link #createTransport}; override a capability method only where your client library
 * truly cannot do what the contract asks, and document that limitation for your users.
 *
 * <pre>{@code class MyTransportTest extends TransportContractKit {
 *   protected Transport createTransport(Settings settings) {
 *     return new MyTransportProvider().create(settings);
 *   }
 * }}</pre>
 *
 * @since 0.1
 */
public abstract class TransportContractKit {
  /** The host name the SNI test connects to; see {@link #httpsTrustsTheGivenContextAndSendsSni()}. */
  public static final String SNI_TEST_HOST = TestCertificate.TEST_HOST;

  private static final long TWO_GIB_AND_ONE = (1L << 31) + 1;

  /** The upstream every test talks to. */
  @RegisterExtension
  protected final LoopbackServer backend = new LoopbackServer();

  private final List<Transport> transports = new ArrayList<>();

  /** Makes the transport under test with {@code settings} (keys of {@link TransportProvider}). */
  protected abstract Transport createTransport(Settings settings);

  /** Returns false if the transport cannot pass on the upstream's reason phrase. */
  protected boolean passesReasonPhrase() {
    return true;
  }

  /** Returns false if the transport adds a User-Agent to a request that has none. */
  protected boolean addsNoUserAgent() {
    return true;
  }

  /** Returns false if the transport does not time out a response body that stops arriving. */
  protected boolean timesOutStalledBodies() {
    return true;
  }

  @AfterEach
  void closeTransports() throws IOException {
    for (Transport transport : transports) {
      transport.close();
    }
  }

  /** Returns a transport with {@code keysAndValues} as settings, closed after the test. */
  protected final Transport transport(Object... keysAndValues) {
    Map<String, Object> settings = new java.util.LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      settings.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    Transport transport = createTransport(Settings.of(settings));
    transports.add(transport);
    return transport;
  }

  /** Returns a GET request for {@code path} on the backend. */
  protected final ProxyRequest get(String path) {
    return ProxyRequest.blank(backend.url(path));
  }

  @Test
  public void sendsMethodTargetHostHeadersAndBodyExactly() throws Exception {
    ProxyRequest request = get("/").toBuilder()
        .method("POST")
        .pathInfo("/a%2Fb/./c/../d;p=1")
        .queryString("x=%20y&z=%C3%A9&&")
        .setHeader("Host", "front.example:8443")
        .header("X-Custom-Case", "Value With  Spaces")
        .header("Content-Type", "text/plain")
        .body(Body.of("hello"))
        .build();

    try (ProxyResponse response = transport().send(request)) {
      assertEquals(200, response.status());
    }

    RecordedRequest received = backend.takeRequest();
    assertEquals("POST /a%2Fb/./c/../d;p=1?x=%20y&z=%C3%A9&& HTTP/1.1", received.requestLine());
    assertEquals(List.of("front.example:8443"), received.headerValues("Host"));
    assertEquals("Value With  Spaces", received.header("X-Custom-Case"));
    assertTrue(received.headers().stream().anyMatch(h -> h.getKey().equals("X-Custom-Case")),
        "header name spelling is kept");
    assertEquals("text/plain", received.header("Content-Type"));
    assertEquals("5", received.header("Content-Length"));
    assertNull(received.header("Transfer-Encoding"));
    assertEquals("hello", received.bodyText());
    for (String added : List.of("Via", "X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "Accept-Encoding", "Cookie")) {
      assertNull(received.header(added), added + " must not be added");
    }
    if (addsNoUserAgent()) {
      assertNull(received.header("User-Agent"), "User-Agent must not be added");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"})
  public void sendsAnyMethod(String method) throws Exception {
    Body body = method.equals("PUT") || method.equals("PATCH") ? Body.of("data") : Body.empty();
    try (ProxyResponse response = transport().send(get("/m").toBuilder().method(method).body(body).build())) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals(method + " /m HTTP/1.1", received.requestLine());
    assertEquals(body.length(), received.bodyLength());
  }

  @Test
  public void emptyPathIsSentAsSlash() throws Exception {
    try (ProxyResponse response = transport().send(ProxyRequest.blank(backend.url("")))) {
      assertEquals(200, response.status());
    }
    assertEquals("GET / HTTP/1.1", backend.takeRequest().requestLine());
  }

  @Test
  public void headResponseHasNoBodyButKeepsItsContentLength() throws Exception {
    backend.handler((request, exchange) -> exchange.writeHead(200, "OK", "Content-Length", "1234"));
    try (ProxyResponse response = transport().send(get("/h").toBuilder().method("HEAD").build())) {
      assertEquals("1234", response.header("Content-Length"));
      assertEquals(0, readAll(response).length);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {204, 304})
  public void statusesWithoutBodyHaveNone(int status) throws Exception {
    backend.handler((request, exchange) -> exchange.writeHead(status, "X", "ETag", "\"v1\""));
    Transport transport = transport();
    for (int i = 0; i < 2; i++) {
      try (ProxyResponse response = transport.send(get("/n"))) {
        assertEquals(status, response.status());
        assertEquals("\"v1\"", response.header("ETag"));
        assertEquals(0, readAll(response).length);
      }
    }
  }

  @Test
  public void unknownLengthBodyIsSentChunked() throws Exception {
    InputStream stream = new java.io.ByteArrayInputStream("streamed".getBytes(StandardCharsets.UTF_8));
    try (ProxyResponse response = transport().send(
        get("/c").toBuilder().method("POST").body(Body.of(stream, -1)).build())) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertTrue(received.chunked(), "sent chunked");
    assertNull(received.header("Content-Length"));
    assertEquals("streamed", received.bodyText());
  }

  @Test
  public void oddStatusReasonAndRepeatedHeadersPassThrough() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(799, "Custom Reason", "body".getBytes(StandardCharsets.UTF_8),
        "Set-Cookie", "a=1", "X-Other", "x", "Set-Cookie", "b=2; Path=/", "Set-Cookie", "c=3"));
    try (ProxyResponse response = transport().send(get("/odd"))) {
      assertEquals(799, response.status());
      if (passesReasonPhrase()) {
        assertEquals("Custom Reason", response.reason());
      }
      assertEquals(List.of("a=1", "b=2; Path=/", "c=3"), response.headers().all("Set-Cookie"));
      assertEquals("body", new String(readAll(response), StandardCharsets.UTF_8));
    }
  }

  @Test
  public void tenMebibytesStreamUpAndDown() throws Exception {
    long size = 10L << 20;
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Transfer-Encoding", "chunked");
      byte[] chunk = new byte[64 * 1024];
      PatternStream pattern = new PatternStream(size);
      for (int n; (n = pattern.read(chunk)) > 0; ) {
        exchange.writeChunk(java.util.Arrays.copyOf(chunk, n));
      }
      exchange.endChunks();
    });
    ProxyRequest upload = get("/big").toBuilder().method("PUT").body(Body.of(new PatternStream(size), size)).build();
    try (ProxyResponse response = transport().send(upload)) {
      assertEquals(PatternStream.sha256(size), sha256(response.body().open()));
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals(size, received.bodyLength());
    assertEquals(PatternStream.sha256(size), received.bodySha256());
  }

  @Test
  public void bodiesOverTwoGibibytesHaveLongLengths() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Length", String.valueOf(TWO_GIB_AND_ONE));
      OutputStream out = exchange.output();
      new PatternStream(TWO_GIB_AND_ONE).transferTo(out);
      out.flush();
    });
    ProxyRequest upload = get("/huge").toBuilder().method("POST")
        .body(Body.of(new PatternStream(TWO_GIB_AND_ONE), TWO_GIB_AND_ONE)).build();
    try (ProxyResponse response = transport().send(upload)) {
      assertEquals(TWO_GIB_AND_ONE, response.body().length());
      try (InputStream in = response.body().open()) {
        assertEquals(TWO_GIB_AND_ONE, in.transferTo(OutputStream.nullOutputStream()));
      }
    }
    RecordedRequest received = backend.takeRequest();
    assertEquals(String.valueOf(TWO_GIB_AND_ONE), received.header("Content-Length"));
    assertEquals(TWO_GIB_AND_ONE, received.bodyLength());
  }

  @Test
  public void streamedResponsePassesOnEachChunkAsItArrives() throws Exception {
    CountDownLatch firstEventRead = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Type", "text/event-stream", "Transfer-Encoding", "chunked");
      exchange.writeChunk("data: one\n\n");
      assertTrue(firstEventRead.await(10, TimeUnit.SECONDS), "the client never read the first event");
      exchange.writeChunk("data: two\n\n");
      exchange.endChunks();
    });
    try (ProxyResponse response = transport().send(get("/events"))) {
      InputStream in = response.body().open();
      String first = CompletableFuture.supplyAsync(() -> readUntilBlankLine(in)).get(5, TimeUnit.SECONDS);
      assertEquals("data: one\n\n", first);
      firstEventRead.countDown();
      assertEquals("data: two\n\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  public void expectContinueUploadIsDelivered() throws Exception {
    ProxyRequest upload = get("/upload").toBuilder().method("POST")
        .header("Expect", "100-continue").body(Body.of("after continue")).build();
    try (ProxyResponse response = transport().send(upload)) {
      assertEquals(200, response.status());
    }
    RecordedRequest received = backend.takeRequest();
    assertTrue("100-continue".equalsIgnoreCase(received.header("Expect")), received.header("Expect"));
    assertEquals("after continue", received.bodyText());
  }

  @Test
  public void connectionsAreReused() throws Exception {
    Transport transport = transport();
    for (int i = 0; i < 5; i++) {
      try (ProxyResponse response = transport.send(get("/r" + i))) {
        readAll(response);
      }
    }
    assertEquals(5, drain(5).size());
    assertTrue(backend.connectionCount() < 5, "5 requests took " + backend.connectionCount() + " connections");
  }

  @Test
  public void redirectsAreNotFollowed() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(302, "", "Location", backend.url("/elsewhere")));
    try (ProxyResponse response = transport().send(get("/from"))) {
      assertEquals(302, response.status());
      assertEquals(backend.url("/elsewhere"), response.header("Location"));
    }
    backend.takeRequest();
    assertNull(backend.pollRequest(Duration.ofMillis(200)), "the redirect was followed");
  }

  @Test
  public void compressedBodiesAreNotDecompressed() throws Exception {
    ByteArrayOutputStream gzipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(gzipped)) {
      gzip.write("plain text".getBytes(StandardCharsets.UTF_8));
    }
    backend.handler((request, exchange) ->
        exchange.respond(200, "OK", gzipped.toByteArray(), "Content-Encoding", "gzip"));
    try (ProxyResponse response = transport().send(get("/gz").toBuilder().header("Accept-Encoding", "gzip").build())) {
      assertEquals("gzip", response.header("Content-Encoding"));
      assertArrayEquals(gzipped.toByteArray(), readAll(response));
    }
  }

  @Test
  public void cookiesAreNotKept() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "", "Set-Cookie", "session=secret; Path=/"));
    Transport transport = transport();
    transport.send(get("/login")).close();
    transport.send(get("/next")).close();
    backend.takeRequest();
    assertNull(backend.takeRequest().header("Cookie"), "a cookie from one response went into the next request");
  }

  @Test
  public void unknownHostIsBadGatewayNamingTheDomain() {
    ProxyRequest request = ProxyRequest.blank("http://no-such-host.invalid/");
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> transport().send(request));
    assertEquals(502, e.status());
    assertEquals("bad domain name: no-such-host.invalid", e.reason());
  }

  @Test
  public void refusedConnectionIsBadGateway() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    ProxyRequest request = ProxyRequest.blank("http://127.0.0.1:" + closedPort + "/");
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> transport().send(request));
    assertEquals(502, e.status());
    assertTrue(e.reason().contains("connection refused"), e.reason());
  }

  @Test
  public void connectTimeoutIsGatewayTimeout() throws Exception {
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<Socket> fillers = fillAcceptQueue(full);
      try {
        ProxyRequest request = ProxyRequest.blank("http://127.0.0.1:" + full.getLocalPort() + "/");
        Transport transport = transport(TransportProvider.CONNECT_TIMEOUT, "300ms");
        ProxyStatusException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
            () -> assertThrows(ProxyStatusException.class, () -> transport.send(request)));
        assertEquals(504, e.status());
        assertTrue(e.reason().startsWith("cannot connect to upstream"), e.reason());
      } finally {
        for (Socket filler : fillers) {
          filler.close();
        }
      }
    }
  }

  @Test
  public void responseTimeoutIsGatewayTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      release.await(10, TimeUnit.SECONDS);
      exchange.respond(200, "late");
    });
    Transport transport = transport(TransportProvider.RESPONSE_TIMEOUT, "300ms");
    try {
      ProxyStatusException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(ProxyStatusException.class, () -> transport.send(get("/slow"))));
      assertEquals(504, e.status());
      assertTrue(e.reason().contains("did not answer within 300ms"), e.reason());
    } finally {
      release.countDown();
    }
  }

  @Test
  public void exhaustedPoolIsServiceUnavailableAfterThePoolWait() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Length", "2");
      exchange.write(new byte[] {'a'});
      release.await(10, TimeUnit.SECONDS);
      exchange.write(new byte[] {'b'});
    });
    Transport transport = singleConnection(TransportProvider.POOL_WAIT_TIMEOUT, "300ms");
    ProxyResponse holding = transport.send(get("/hold"));
    try {
      ProxyStatusException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(ProxyStatusException.class, () -> transport.send(get("/waits"))));
      assertEquals(503, e.status());
      assertTrue(e.reason().contains("within 300ms"), e.reason());
    } finally {
      release.countDown();
      holding.close();
    }
    assertStillServes(transport);
  }

  @Test
  public void upstreamDyingMidBodyFailsTheReaderInsteadOfEndingTheBody() throws Exception {
    backend.handler((request, exchange) -> {
      if (request.target().equals("/length")) {
        exchange.writeHead(200, "OK", "Content-Length", "100");
        exchange.writeRaw("only ten b");
      } else {
        exchange.writeHead(200, "OK", "Transfer-Encoding", "chunked");
        exchange.writeChunk("first chunk");
      }
      exchange.closeConnection();
    });
    Transport transport = singleConnection();
    for (String path : List.of("/length", "/chunked")) {
      try (ProxyResponse response = transport.send(get(path))) {
        assertThrows(IOException.class, () -> readAll(response), path + " ended early but looked complete");
      }
    }
    backend.handler((request, exchange) -> exchange.respond(200, "fine"));
    assertStillServes(transport);
  }

  @Test
  public void stalledBodyFailsTheReaderAfterTheResponseTimeout() throws Exception {
    assumeTrue(timesOutStalledBodies(), "this transport does not time out stalled bodies");
    CountDownLatch release = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Length", "10");
      exchange.writeRaw("12345");
      release.await(10, TimeUnit.SECONDS);
    });
    Transport transport = transport(TransportProvider.RESPONSE_TIMEOUT, "300ms");
    try (ProxyResponse response = transport.send(get("/stall"))) {
      assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(IOException.class, () -> readAll(response)));
    } finally {
      release.countDown();
    }
  }

  @Test
  public void closingBeforeTheEndAbortsAndFreesTheConnection() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      if (!request.target().equals("/huge")) {
        exchange.respond(200, "fine");
        return;
      }
      exchange.writeHead(200, "OK", "Content-Length", String.valueOf(1L << 40));
      try {
        new PatternStream(1L << 40).transferTo(exchange.output());
      } finally {
        done.countDown();
      }
    });
    Transport transport = singleConnection();
    ProxyResponse response = transport.send(get("/huge"));
    InputStream in = response.body().open();
    assertEquals(1024, in.readNBytes(1024).length);
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      in.close();
      assertTrue(done.await(10, TimeUnit.SECONDS), "the upstream was not cut off");
    });
    assertStillServes(transport);
  }

  @Test
  public void requestThatFailsIsNotRetriedWhenNotIdempotent() throws Exception {
    backend.handler((request, exchange) -> exchange.reset());
    Transport transport = transport();
    ProxyStatusException e = assertThrows(ProxyStatusException.class,
        () -> transport.send(get("/once").toBuilder().method("POST").body(Body.of("x")).build()));
    assertEquals(502, e.status());
    backend.takeRequest();
    assertNull(backend.pollRequest(Duration.ofMillis(300)), "the POST was sent twice");
  }

  @Test
  public void errorStatusOfANonIdempotentRequestIsReturnedNotRetried() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(503, "busy", "Retry-After", "1"));
    try (ProxyResponse response = transport().send(get("/p").toBuilder().method("POST").body(Body.of("x")).build())) {
      assertEquals(503, response.status());
    }
    backend.takeRequest();
    assertNull(backend.pollRequest(Duration.ofMillis(300)), "the POST was sent twice");
  }

  @Test
  public void failingRequestBodyIsTheCallersErrorAndFreesTheConnection() throws Exception {
    Transport transport = singleConnection();
    IOException e = assertThrows(IOException.class, () -> transport.send(
        get("/upload").toBuilder().method("POST").body(Body.of(failingAfter(1000), 5000)).build()));
    assertFalse(e instanceof ProxyStatusException, "a client failure was reported as " + e.getMessage());
    assertEquals("client went away", e.getMessage());
    assertNull(backend.pollRequest(Duration.ofMillis(300)), "the upstream got a request whose body was cut short");
    assertStillServes(transport);
  }

  /**
   * Runs only where {@value #SNI_TEST_HOST} resolves to 127.0.0.1, as with
   * {@code -Djdk.net.hosts.file=FILE} and a line {@code 127.0.0.1 upstream.proxykit.test} in
   * FILE: the JDK sends SNI only for names with a dot, never for {@code localhost}.
   */
  @Test
  public void httpsTrustsTheGivenContextAndSendsSni() throws Exception {
    assumeTrue(resolvesToLoopback(SNI_TEST_HOST), SNI_TEST_HOST + " must resolve to 127.0.0.1");
    TestCertificate certificate = TestCertificate.localhost();
    try (LoopbackServer tls = new LoopbackServer(certificate.serverContext()).start()) {
      Transport transport = transport(TransportProvider.SSL_CONTEXT, certificate.clientContext());
      String authority = SNI_TEST_HOST + ":" + tls.port();
      try (ProxyResponse response = transport.send(ProxyRequest.blank("https://" + authority + "/secure?a=1"))) {
        assertEquals(200, response.status());
      }
      RecordedRequest received = tls.takeRequest();
      assertEquals("GET /secure?a=1 HTTP/1.1", received.requestLine());
      assertEquals(SNI_TEST_HOST, received.serverName(), "SNI");
      assertEquals(authority, received.header("Host"));
    }
  }

  private static boolean resolvesToLoopback(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress().equals("127.0.0.1");
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  public void httpsTrustsAGivenTrustStoreFile(@TempDir Path dir) throws Exception {
    TestCertificate certificate = TestCertificate.localhost();
    Path trustStore = certificate.writeTrustStore(dir.resolve("trust.p12"), "changeit");
    try (LoopbackServer tls = new LoopbackServer(certificate.serverContext()).start()) {
      Transport transport = transport(TransportProvider.TRUST_STORE, trustStore.toString(),
          TransportProvider.TRUST_STORE_PASSWORD, "changeit");
      try (ProxyResponse response = transport.send(ProxyRequest.blank(tls.url("/stored")))) {
        assertEquals(200, response.status());
      }
      assertEquals("GET /stored HTTP/1.1", tls.takeRequest().requestLine());
    }
  }

  @Test
  public void httpsWithAnUntrustedCertificateIsBadGateway() throws Exception {
    try (LoopbackServer tls = new LoopbackServer(TestCertificate.localhost().serverContext()).start()) {
      ProxyStatusException e = assertThrows(ProxyStatusException.class,
          () -> transport().send(ProxyRequest.blank(tls.url("/"))));
      assertEquals(502, e.status());
      assertEquals("TLS with upstream failed", e.reason());
    }
  }

  @Test
  public void aChunkedUploadThatFailsNeverReachesTheUpstreamAsComplete() throws Exception {
    Transport transport = singleConnection();
    IOException e = assertThrows(IOException.class, () -> transport.send(
        get("/upload").toBuilder().method("POST").body(Body.of(failingAfter(1000), -1)).build()));
    assertEquals("client went away", e.getMessage());
    assertNull(backend.pollRequest(Duration.ofMillis(300)), "the upstream got a cut-short chunked body as complete");
    assertStillServes(transport);
  }

  @Test
  public void anUpstreamThatStopsReadingTheUploadIsGatewayTimeout() throws Exception {
    try (ServerSocket deaf = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread listener = new Thread(() -> {
        try (Socket peer = deaf.accept()) {
          peer.setReceiveBufferSize(4096);
          Thread.sleep(15_000);
        } catch (IOException | InterruptedException ignored) {
          // test over
        }
      });
      listener.setDaemon(true);
      listener.start();
      long size = 256L << 20;
      ProxyRequest upload = ProxyRequest.blank("http://127.0.0.1:" + deaf.getLocalPort() + "/deaf").toBuilder()
          .method("PUT").body(Body.of(new PatternStream(size), size)).build();
      Transport transport = transport(TransportProvider.RESPONSE_TIMEOUT, "500ms");
      ProxyStatusException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(ProxyStatusException.class, () -> transport.send(upload)));
      assertEquals(504, e.status());
      listener.interrupt();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"Transfer-Encoding and Content-Length", "two lengths", "too many headers", "huge header"})
  public void anAmbiguousOrOversizedResponseHeadIsBadGatewayAndFreesTheConnection(String what) throws Exception {
    backend.handler((request, exchange) -> {
      switch (what) {
        case "Transfer-Encoding and Content-Length":
          exchange.writeHead(200, "OK", "Transfer-Encoding", "chunked", "Content-Length", "100");
          exchange.writeChunk("ten bytes!");
          exchange.endChunks();
          break;
        case "two lengths":
          exchange.writeHead(200, "OK", "Content-Length", "5", "Content-Length", "10");
          exchange.writeRaw("hello");
          break;
        case "too many headers":
          StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
          for (int i = 0; i < 1000; i++) {
            head.append("X-H").append(i).append(": v\r\n");
          }
          exchange.writeRaw(head.append("\r\n").toString());
          break;
        default:
          exchange.writeRaw("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: " + "a".repeat(256 * 1024) + "\r\n\r\n");
          break;
      }
      exchange.closeConnection();
    });
    Transport transport = singleConnection();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> transport.send(get("/bad")).close());
    assertEquals(502, e.status());
    assertStillServes(transport);
  }

  @Test
  public void anIdempotentRequestOnAConnectionTheUpstreamClosedSucceeds() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.respond(200, "once per connection");
      exchange.closeConnection();
    });
    Transport transport = transport();
    for (int i = 0; i < 3; i++) {
      try (ProxyResponse response = transport.send(get("/stale" + i))) {
        assertEquals("once per connection", new String(readAll(response), StandardCharsets.UTF_8));
      }
    }
  }

  /** Returns a transport limited to one connection that waits up to 2s for it, so a leaked connection shows as 503. */
  private Transport singleConnection(Object... more) {
    List<Object> settings = new ArrayList<>(List.of(TransportProvider.MAX_CONNECTIONS, 1,
        TransportProvider.MAX_CONNECTIONS_PER_ROUTE, 1, TransportProvider.POOL_WAIT_TIMEOUT, "2s"));
    settings.addAll(List.of(more));
    return transport(settings.toArray());
  }

  /** Asserts that a request still gets its answer: nothing leaked in the pool. */
  private void assertStillServes(Transport transport) throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "fine"));
    try (ProxyResponse response = transport.send(get("/after"))) {
      assertEquals("fine", new String(readAll(response), StandardCharsets.UTF_8));
    }
  }

  /** Returns a body stream that fails like a client going away after {@code bytes} bytes. */
  private static InputStream failingAfter(int bytes) {
    return new InputStream() {
      private int sent;

      @Override
      public int read() throws IOException {
        if (sent++ < bytes) {
          return 'x';
        }
        throw new IOException("client went away");
      }
    };
  }

  private List<RecordedRequest> drain(int count) throws InterruptedException {
    List<RecordedRequest> requests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      requests.add(backend.takeRequest());
    }
    return requests;
  }

  private Transport transport() {
    return transport(new Object[0]);
  }

  /** Fills the accept queue of a socket that never accepts, so that further connects hang. */
  private static List<Socket> fillAcceptQueue(ServerSocket server) throws IOException {
    List<Socket> fillers = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      Socket socket = new Socket();
      try {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 200);
        fillers.add(socket);
      } catch (SocketTimeoutException full) {
        socket.close();
        return fillers;
      } catch (IOException refused) {
        socket.close();
        break;
      }
    }
    for (Socket filler : fillers) {
      filler.close();
    }
    // only where a full accept queue drops connection attempts (Linux) does a connect hang
    assumeTrue(false, "this platform refuses connections to a full accept queue instead of dropping them");
    return fillers;
  }

  private static byte[] readAll(ProxyResponse response) throws IOException {
    try (InputStream in = response.body().open()) {
      return in.readAllBytes();
    }
  }

  private static String readUntilBlankLine(InputStream in) {
    try {
      ByteArrayOutputStream read = new ByteArrayOutputStream();
      while (!read.toString(StandardCharsets.UTF_8).endsWith("\n\n")) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        read.write(b);
      }
      return read.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String sha256(InputStream in) throws IOException {
    MessageDigest digest = PatternStream.digest();
    byte[] buffer = new byte[64 * 1024];
    try (in) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** A deterministic stream of {@code length} bytes ({@code i % 251}) that costs no memory. */
  static final class PatternStream extends InputStream {
    private static final byte[] CYCLE = new byte[251 * 262];

    static {
      for (int i = 0; i < CYCLE.length; i++) {
        CYCLE[i] = (byte) (i % 251);
      }
    }

    private final long length;
    private long position;

    PatternStream(long length) {
      this.length = length;
    }

    static String sha256(long length) throws IOException {
      return TransportContractKit.sha256(new PatternStream(length));
    }

    static MessageDigest digest() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int read() {
      return position < length ? (int) (position++ % 251) : -1;
    }

    @Override
    public int read(byte[] buffer, int offset, int count) {
      if (position >= length) {
        return -1;
      }
      int n = (int) Math.min(Math.min(count, length - position), CYCLE.length - 251);
      System.arraycopy(CYCLE, (int) (position % 251), buffer, offset, n);
      position += n;
      return n;
    }
  }
}

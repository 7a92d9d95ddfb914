package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.testing.LoopbackServer;

class HostTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  private ProxykitServer echoAt(String... paths) {
    StringBuilder yaml = new StringBuilder("mounts:\n");
    for (String path : paths) {
      yaml.append("  - { path: ").append(path).append(", handler: { type: echo } }\n");
    }
    return servers.start(yaml.toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "/app              | /app    | ''",
      "/app/             | /app    | /",
      "/app/x/y          | /app    | /x/y",
      "/apple            | ''      | /apple",
      "/app/deep/er      | /app/deep | /er",
      "/app/deeper       | /app    | /deeper",
      "/a%2Fb/c%20d      | ''      | /a%2Fb/c%20d",
      "/ap%70/x          | /ap%70  | /x",
      "/app;v=1/x        | /app;v=1 | /x",
      "/app;v=1/deep;x/y | /app;v=1/deep;x | /y",
  })
  void longestPrefixOnSegmentBoundariesSplitsScriptNameAndRawPathInfo(String path, String scriptName, String pathInfo)
      throws Exception {
    ProxykitServer server = echoAt("/", "/app", "/app/deep");
    JsonNode echo = JSON.readTree(Servers.get(server, path + "?q=%20a+b").body());
    assertEquals(scriptName, echo.get("scriptName").asText());
    assertEquals(pathInfo, echo.get("pathInfo").asText());
    assertEquals("q=%20a+b", echo.get("queryString").asText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/app%2Fx", "/%61pp%5Cx/y"})
  void anEncodedSlashThatCouldEndAMountPrefixIs400(String path) throws Exception {
    ProxykitServer server = echoAt("/", "/app");
    assertEquals(400, Servers.get(server, path).statusCode());
  }

  @Test
  void aFinalAnswerToAClientStillExpectingContinueClosesTheConnection() throws Exception {
    ProxykitServer server = echoAt("/app");
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.urls().get(0).getPort())) {
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(("POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n"
          + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      // read to the end: a connection left open would time out here
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(answer.startsWith("HTTP/1.1 404 "), answer);
      assertFalse(answer.contains("100 Continue"), answer);
    }
  }

  @Test
  void noMatchingMountIs404() throws Exception {
    ProxykitServer server = echoAt("/app");
    HttpResponse<String> response = Servers.get(server, "/apple");
    assertEquals(404, response.statusCode());
    assertEquals("nothing is mounted at this path\n", response.body());
  }

  @ParameterizedTest
  @CsvSource({"/app/../secret", "/app/%2e%2e/secret", "/app/./x", "/app/.%2E", "/app/..;/secret", "/app/..%2fsecret",
      "/app/%2e%2e%2fsecret", "/app/..%5csecret", "/app/.;x/y"})
  void dotSegmentsAreRefused(String path) throws Exception {
    ProxykitServer server = echoAt("/app");
    String answer = Servers.raw(server, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
    assertTrue(answer.endsWith("path must not have . or .. segments\n"), answer);
  }

  @Test
  void echoShowsTheRequestAsTheHandlerSawIt() throws Exception {
    ProxykitServer server = echoAt("/echo");
    HttpResponse<String> response = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/echo/p"))
        .header("X-Multi", "1").header("X-Multi", "2")
        .POST(HttpRequest.BodyPublishers.ofString("twelve bytes")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
    JsonNode echo = JSON.readTree(response.body());
    assertEquals("POST", echo.get("method").asText());
    assertEquals("http", echo.get("scheme").asText());
    assertEquals("127.0.0.1", echo.get("serverName").asText());
    assertEquals(server.urls().get(0).getPort(), echo.get("serverPort").asInt());
    assertEquals("127.0.0.1", echo.get("remoteAddr").asText());
    assertTrue(echo.get("remotePort").asInt() > 0);
    assertEquals(List.of("1", "2"), List.of(echo.at("/headers/X-Multi/0").asText(), echo.at("/headers/X-Multi/1").asText()));
    assertEquals(12, echo.get("bodyLength").asLong());
  }

  @Test
  void serverNameAndPortComeFromHostElseFromTheLocalAddress() throws Exception {
    ProxykitServer server = echoAt("/");
    String withHost = Servers.raw(server, "GET /x HTTP/1.1\r\nHost: front.example:8443\r\nConnection: close\r\n\r\n");
    JsonNode echo = JSON.readTree(withHost.substring(withHost.indexOf("\r\n\r\n") + 4));
    assertEquals("front.example", echo.get("serverName").asText());
    assertEquals(8443, echo.get("serverPort").asInt());

    String v6 = Servers.raw(server, "GET /x HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n");
    JsonNode echoV6 = JSON.readTree(v6.substring(v6.indexOf("\r\n\r\n") + 4));
    assertEquals("::1", echoV6.get("serverName").asText());
    assertEquals(80, echoV6.get("serverPort").asInt());

    String noHost = Servers.raw(server, "GET /x HTTP/1.0\r\n\r\n");
    JsonNode local = JSON.readTree(noHost.substring(noHost.indexOf("\r\n\r\n") + 4));
    assertEquals("127.0.0.1", local.get("serverName").asText());
    assertEquals(server.urls().get(0).getPort(), local.get("serverPort").asInt());
  }

  @Test
  void chunkedUploadIsStreamedToTheHandler() throws Exception {
    ProxykitServer server = echoAt("/");
    String answer = Servers.raw(server, "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assertTrue(answer.contains("\"bodyLength\" : 11"), answer);
  }

  @Test
  void statusExceptionsBecomeTheirStatusWithAShortReasonAndOthersA500WithoutDetails() throws Exception {
    ProxykitServer server = servers.start("mounts:\n"
        + "  - { path: /busy, handler: { type: test-failing, status: 503 } }\n"
        + "  - { path: /bug, handler: { type: test-failing, status: 0 } }\n"
        + "  - { path: /null, handler: { type: test-failing, status: -1 } }\n");
    HttpResponse<String> busy = Servers.get(server, "/busy");
    assertEquals(503, busy.statusCode());
    assertEquals("try later\n", busy.body());
    assertEquals("7", busy.headers().firstValue("Retry-After").orElseThrow());
    assertEquals("text/plain; charset=utf-8", busy.headers().firstValue("Content-Type").orElseThrow());

    for (String path : List.of("/bug", "/null")) {
      HttpResponse<String> bug = Servers.get(server, path);
      assertEquals(500, bug.statusCode());
      assertEquals("internal error\n", bug.body());
      assertFalse(bug.body().contains("Exception"));
    }
  }

  @Test
  void responsesStreamThroughChunkByChunk() throws Exception {
    CountDownLatch firstSeen = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Type", "text/event-stream", "Transfer-Encoding", "chunked");
      exchange.writeChunk("data: one\n\n");
      firstSeen.await(10, TimeUnit.SECONDS);
      exchange.writeChunk("data: two\n\n");
      exchange.endChunks();
    });
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    HttpResponse<InputStream> response = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/events")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    InputStream in = response.body();
    byte[] first = CompletableFuture.supplyAsync(() -> readN(in, 11)).get(5, TimeUnit.SECONDS);
    assertEquals("data: one\n\n", new String(first, StandardCharsets.UTF_8));
    firstSeen.countDown();
    assertEquals("data: two\n\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void anUpstreamThatDiesMidBodyAbortsTheClientConnection() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Content-Length", "100000");
      exchange.write(new byte[5000]);
      exchange.closeConnection();
    });
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    HttpResponse<InputStream> response = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/big")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    assertThrows(IOException.class, () -> response.body().readAllBytes(), "a cut-short body looked complete");
  }

  @Test
  void aChunkedAnswerCutByTheUpstreamNeverEndsWithItsLastChunk() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeHead(200, "OK", "Transfer-Encoding", "chunked");
      exchange.writeChunk("hello");
      exchange.closeConnection();
    });
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    String answer = Servers.raw(server, "GET /cut HTTP/1.1\r\nHost: x\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
    assertFalse(answer.endsWith("0\r\n\r\n"), "a cut-short body must not look complete: " + answer);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bare LF          | HTTP/1.1 200 OK\\nContent-Length: 5\\nX-Marker: m\\n\\nhello",
      "bare CR          | HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nX-A: 1\\rX-Marker: m\\r\\n\\r\\nhello",
      "CL and TE        | HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\nX-Marker: m\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n",
      "two lengths      | HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\nX-Marker: m\\r\\n\\r\\nhello!",
      "junk first       | junk\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nX-Marker: m\\r\\n\\r\\nhello",
  })
  void anUpstreamAnswerThatCannotBeReadOneWayIs502WithNoneOfItsBytes(String name, String raw) throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeRaw(raw.replace("\\r", "\r").replace("\\n", "\n"));
      exchange.closeConnection();
    });
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    String answer = Servers.raw(server, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 502 "), name + ": " + answer);
    assertFalse(answer.contains("X-Marker") || answer.contains("hello"), name + ": " + answer);
  }

  @Test
  void aFoldedUpstreamHeaderReachesTheClientUnfolded() throws Exception {
    // RFC 9112 section 5.2: a proxy either refuses obs-fold with 502 or replaces it with spaces
    backend.handler((request, exchange) -> {
      exchange.writeRaw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n folded\r\n\r\nhello");
      exchange.closeConnection();
    });
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    String answer = Servers.raw(server, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 502 ") || answer.matches("(?s).*\r\nX-A: 1 +folded\r\n.*"), answer);
    assertFalse(answer.contains("\r\n folded"), "a folded line must never be passed on as it came: " + answer);
  }

  @Test
  void headOfALocalAnswerCarriesItsLengthNotZero() throws Exception {
    ProxykitServer server = echoAt("/");
    String head = Servers.raw(server, "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    // the echo of a HEAD is as long as the body a HEAD would get; Undertow alone would say 0
    assertTrue(java.util.regex.Pattern.compile("Content-Length: [1-9]\\d*\r\n").matcher(head).find(), head);
    assertTrue(head.endsWith("\r\n\r\n"), "no body after the head: " + head);
  }

  @Test
  void headAnswersCarryTheLengthButNoBody() throws Exception {
    backend.handler((request, exchange) -> exchange.writeHead(200, "OK", "Content-Length", "1234"));
    ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    String answer = Servers.raw(server, "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
    assertTrue(answer.contains("Content-Length: 1234\r\n"), answer);
    assertTrue(answer.endsWith("\r\n\r\n"), "no body after the head: " + answer);
  }

  @Test
  void requestBodyOverTheLimitIs413() throws Exception {
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n  limits: { maxBodySize: 1KiB }\n"
        + "mounts:\n  - { path: /, handler: { type: echo } }\n");
    HttpResponse<String> response = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[4096])).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(413, response.statusCode());
  }

  @Test
  void maxBodySizeMinusOneIsNoLimit() throws Exception {
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n  limits: { maxBodySize: -1 }\n"
        + "mounts:\n  - { path: /, handler: { type: echo } }\n");
    assertEquals(-1, server.config().limits().maxBodySize());
    // larger than Undertow's own default limit, which no limit must not fall back to
    HttpResponse<String> response = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[12 << 20])).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.body().contains("\"bodyLength\" : " + (12 << 20)), response.body());
  }

  private static byte[] readN(InputStream in, int n) {
    try {
      return in.readNBytes(n);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code {type: test-failing, status: N}}: throws a status exception, a bug, or returns null. */
  public static final class FailingFactory implements HandlerFactory {
    @Override
    public String name() {
      return "test-failing";
    }

    @Override
    public org.proxykit.api.ProxyHandler create(org.proxykit.api.spi.Settings settings, HandlerContext context) {
      int status = settings.integer("status", 0);
      return request -> {
        if (status > 0) {
          throw new ProxyStatusException(status, "try later", org.proxykit.api.HttpHeaders.of("Retry-After", "7"), null);
        }
        if (status < 0) {
          return (ProxyResponse) null;
        }
        throw new IllegalStateException("a bug with secrets in its message");
      };
    }
  }

}

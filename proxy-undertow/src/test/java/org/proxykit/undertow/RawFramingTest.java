package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.proxykit.api.Nullable;
import org.proxykit.testing.LoopbackServer;
import org.proxykit.testing.RecordedRequest;
import org.proxykit.testing.TestCertificate;

/**
 * Hostile framing, written byte for byte with a plain socket (an HTTP client would normalise
 * it): each is refused with its status and a one-line reason before a handler runs (or, in a
 * body, before the upstream has it whole), the connection is closed, and the backend behind
 * the exact proxy receives nothing. Also the head, idle and body timeouts, pipelining around a
 * refusal, and valid bytes arriving in any pieces.
 */
class RawFramingTest {
  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  private ProxykitServer proxy(String limits) {
    return servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n" + limits
        + "mounts: [ { path: /, handler: { type: exact, upstream: '" + backend.url("") + "' } } ]\n");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "CL with TE           | 400 | both Content-Length and Transfer-Encoding | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "two lengths          | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\nhello!",
      "empty length         | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: \\r\\n\\r\\n",
      "signed length        | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: +5\\r\\n\\r\\nhello",
      "hex length           | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0x5\\r\\n\\r\\nhello",
      "overflowing length   | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 99999999999999999999999\\r\\n\\r\\nhello",
      "length with junk     | 400 | bad Content-Length | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5abc\\r\\n\\r\\nhello",
      "gzip, chunked        | 501 | only Transfer-Encoding: chunked | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "identity             | 501 | only Transfer-Encoding: chunked | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: identity\\r\\n\\r\\nhello",
      "xchunked             | 501 | only Transfer-Encoding: chunked | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: xchunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "HTTP/1.0 chunked     | 400 | Transfer-Encoding in an HTTP/1.0 request | POST / HTTP/1.0\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "bad chunk size       | 400 | bad chunk size | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\nhello\\r\\n0\\r\\n\\r\\n",
      "overflowing chunk size | 400 | chunk size is too large | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n10000000000000005\\r\\nhello\\r\\n0\\r\\n\\r\\n",
      "bare LF in a chunk size line | 400 | bare LF in chunked framing | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\nhello\\r\\n0\\r\\n\\r\\n",
      "bare CR in a chunk size line | 400 | bare CR in chunked framing | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\rhello\\r\\n0\\r\\n\\r\\n",
      "chunk data without CRLF | 400 | chunk data not followed by CRLF | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhelloXX\\r\\n0\\r\\n\\r\\n",
      "bare LF after chunk data | 400 | chunk data not followed by CRLF | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\n0\\r\\n\\r\\n",
      "bare LF in a trailer | 400 | bare LF in chunked framing | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\nX-T: a\\n\\r\\n",
      "folded trailer       | 400 | trailer line starts with white space | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\nX-T: a\\r\\n b\\r\\n\\r\\n",
      "bare LF line ends    | 400 | bare LF in the request head | GET / HTTP/1.1\\nHost: x\\n\\n",
      "bare LF after a header | 400 | bare LF in the request head | GET / HTTP/1.1\\r\\nHost: x\\nX-Y: z\\r\\n\\r\\n",
      "bare CR in a header  | 400 | bare CR in the request head | GET / HTTP/1.1\\r\\nHost: x\\rX-Y: z\\r\\n\\r\\n",
      "bare CR in the request line | 400 | bare CR in the request head | GET /\\r HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
      "NUL in a header      | 400 | control character in a header field | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\u0000b\\r\\n\\r\\n",
      "NUL in the target    | 400 | control character in the request line | GET /a\\u0000b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
      "raw UTF-8 in the target | 400 | request target must be ASCII | GET /caf\\u00c3\\u00a9 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
      "obs-fold             | 400 | header line starts with white space (obs-fold) | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\r\\n b\\r\\n\\r\\n",
      "space before colon   | 400 | white space before a colon | GET / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length : 0\\r\\n\\r\\n",
      "empty line first     | 400 | empty line before the request line | \\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
      "HTTP/2.0 in HTTP/1   | 505 | HTTP version not supported | GET / HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n",
      "Content_Length       | 400 | spelled with _ instead of - | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent_Length: 5\\r\\n\\r\\nhello",
      "Transfer_Encoding    | 400 | spelled with _ instead of - | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer_Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
      "two Hosts            | 400 |  | GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n",
      "request line too long | 414 | request line is longer than 8192 bytes | GET /LONG HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
      "headers too large    | 431 | request header fields are larger than 16384 bytes | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: BIG\\r\\n\\r\\n",
      "too many headers     | 431 | more than 100 header fields | GET / HTTP/1.1\\r\\nHost: x\\r\\nMANY\\r\\n",
  })
  void ambiguousFramingIsRefusedTheConnectionClosedAndNothingForwarded(String name, int status, @Nullable String reason,
      String raw) throws Exception {
    ProxykitServer proxy = proxy("");
    String request = unescape(raw).replace("LONG", "a".repeat(9000)).replace("BIG", "a".repeat(20_000))
        .replace("MANY", "X-Field: a\r\n".repeat(101))
        + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    Answer answer = send(proxy, request, Duration.ofSeconds(10));
    assertTrue(answer.text.matches("(?s)HTTP/1\\.[01] " + status + " .*"), name + ": " + answer.text);
    String body = answer.text.substring(answer.text.indexOf("\r\n\r\n") + 4);
    assertTrue(reason == null || body.contains(reason) && body.indexOf('\n') == body.length() - 1,
        name + ": the reason must be one line: " + answer.text);
    assertTrue(answer.closed, name + ": the connection must be closed");
    assertEquals(1, count(answer.text, "HTTP/1.1 "), name + ": the pipelined request must not be answered");
    assertTrue(!answer.text.contains("smuggled"), name + ": " + answer.text);
    assertNull(backend.pollRequest(Duration.ofMillis(200)), name + ": nothing may reach the backend");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bad chunk size       | bad chunk size | zz\\r\\nhello\\r\\n0\\r\\n\\r\\n",
      "bare LF in a chunk size line | bare LF in chunked framing | 5\\nhello\\r\\n0\\r\\n\\r\\n",
      "chunk data without CRLF | chunk data not followed by CRLF | 5\\r\\nhelloXX\\r\\n0\\r\\n\\r\\n",
      "after a good chunk   | bare CR in chunked framing | 5\\r\\nhello\\r\\n6\\r world\\r\\n0\\r\\n\\r\\n",
  })
  void aMalformedChunkedBodyIs400AlsoForAHandlerThatReadsItBlocking(String name, String reason, String body)
      throws Exception {
    ProxykitServer proxy = servers.start("mounts: [ { path: /, handler: { type: echo } } ]\n");
    Answer answer = send(proxy, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + unescape(body)
        + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(answer.text.startsWith("HTTP/1.1 400 "), name + ": " + answer.text);
    assertTrue(answer.text.endsWith("\r\n\r\n" + reason + "\n"), name + ": " + answer.text);
    assertTrue(answer.closed, name + ": the connection must be closed");
    assertEquals(1, count(answer.text, "HTTP/1.1 "), name + ": " + answer.text);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"exact", "echo"})
  void aBodyOverMaxBodySizeIs413BeforeAnyoneHasItAll(String handler) throws Exception {
    String mount = handler.equals("echo") ? "{ type: echo }" : "{ type: exact, upstream: '" + backend.url("") + "' }";
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { maxBodySize: 1KiB }\nmounts: [ { path: /, handler: " + mount + " } ]\n");
    Answer answer = send(proxy, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "200\r\n" + "a".repeat(512) + "\r\n201\r\n" + "b".repeat(513) + "\r\n0\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(answer.text.startsWith("HTTP/1.1 413 "), answer.text);
    assertTrue(answer.text.endsWith("\r\n\r\nrequest body is larger than the server allows\n"), answer.text);
    assertTrue(answer.closed, "the connection must be closed");
    assertNull(backend.pollRequest(Duration.ofMillis(200)), "the upstream must never have the body whole");
    // a chunked body counts with its framing: 5 + 1012 + 2 + 5 bytes
    Answer atTheLimit = send(proxy, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + "3f4\r\n" + "a".repeat(1012) + "\r\n0\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(atTheLimit.text.startsWith("HTTP/1.1 200 "), atTheLimit.text);
    Answer overTheLimit = send(proxy, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "3f4\r\n" + "a".repeat(1012) + "\r\n0\r\nX: y\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(overTheLimit.text.startsWith("HTTP/1.1 413 "), overTheLimit.text);
    Answer lengthOverTheLimit = send(proxy, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"
        + "a".repeat(1025), Duration.ofSeconds(10));
    assertTrue(lengthOverTheLimit.text.startsWith("HTTP/1.1 413 "), lengthOverTheLimit.text);
    assertTrue(lengthOverTheLimit.text.endsWith("\r\n\r\nrequest body is larger than the server allows\n"),
        lengthOverTheLimit.text);
  }

  @Test
  void aHeadThatStopsArrivingIsAnswered408AndClosed() throws Exception {
    ProxykitServer proxy = proxy("  limits: { headerTimeout: 300ms }\n");
    long start = System.nanoTime();
    Answer answer = send(proxy, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a", Duration.ofSeconds(10));
    assertTrue(answer.text.startsWith("HTTP/1.1 408 "), answer.text);
    assertTrue(answer.text.endsWith("\r\n\r\nrequest head not received within 300ms\n"), answer.text);
    assertTrue(answer.closed, "the connection must be closed");
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "it must not wait for long");
    assertNull(backend.pollRequest(Duration.ofMillis(200)));
  }

  @Test
  void aConnectionWithoutANextRequestIsClosedWithoutAWordAfterTheIdleTimeout() throws Exception {
    ProxykitServer proxy = proxy("  limits: { idleTimeout: 300ms }\n");
    Answer silent = send(proxy, "", Duration.ofSeconds(10));
    assertEquals("", silent.text);
    assertTrue(silent.closed, "a connection that never sent a byte must be closed");
    Answer keptAlive = send(proxy, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(keptAlive.text.startsWith("HTTP/1.1 200 "), keptAlive.text);
    assertEquals(1, count(keptAlive.text, "HTTP/1.1 "), "no 408 for a connection that sent nothing more: "
        + keptAlive.text);
    assertTrue(keptAlive.closed, "the kept-alive connection must be closed");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "an invalid head      | GET /b HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\nb\\r\\n\\r\\n | bare LF in the request head",
      "an invalid body      | POST /b HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\nhello\\r\\n0\\r\\n\\r\\n | bare LF in chunked framing",
  })
  void requestsPipelinedBeforeAnInvalidOneAreAnsweredFirstInOrder(String name, String invalid, String reason)
      throws Exception {
    ProxykitServer proxy = proxy("");
    Answer answer = send(proxy, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
        + "POST /second HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n"
        + unescape(invalid) + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(10));
    int first = answer.text.indexOf("HTTP/1.1 200 ");
    int second = answer.text.indexOf("HTTP/1.1 200 ", first + 1);
    int refusal = answer.text.indexOf("HTTP/1.1 400 ");
    assertTrue(first == 0 && second > first && refusal > second, name + ": " + answer.text);
    assertTrue(answer.text.endsWith("\r\n\r\n" + reason + "\n"), name + ": " + answer.text);
    assertEquals(3, count(answer.text, "HTTP/1.1 "), name + ": " + answer.text);
    assertTrue(answer.closed, name + ": the connection must be closed");
    assertEquals("/first", backend.takeRequest().target());
    RecordedRequest second2 = backend.takeRequest();
    assertEquals("/second", second2.target());
    assertEquals("abc", second2.bodyText());
    assertNull(backend.pollRequest(Duration.ofMillis(200)), name + ": nothing more may reach the backend complete");
  }

  @Test
  void validChunkedUploadsWithExtensionsAndTrailersPassWhateverWayTheBytesArrive() throws Exception {
    ProxykitServer proxy = proxy("");
    Random random = new Random(42);
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    List<Integer> pauses = new ArrayList<>();
    pauses.add(20);  // in the request line
    raw.writeBytes(("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Padding: "
        + "p".repeat(3000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    pauses.add(raw.size() - 1);  // between the CR and LF ending the head
    for (int i = 0; i < 40; i++) {
      byte[] chunk = new byte[1 + random.nextInt(5000)];
      random.nextBytes(chunk);
      if (i % 5 == 0) {
        // data that looks like framing must stay data
        byte[] lookalike = "\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(lookalike, 0, chunk, 0, Math.min(lookalike.length, chunk.length));
      }
      content.writeBytes(chunk);
      String extension = i % 3 == 0 ? ";name=value" : i % 3 == 1 ? ";q=\"a; b\";flag" : "";
      pauses.add(raw.size() + 1);  // in the chunk size line
      raw.writeBytes((Integer.toHexString(chunk.length) + extension + "\r\n").getBytes(StandardCharsets.US_ASCII));
      raw.writeBytes(chunk);
      raw.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      pauses.add(raw.size() - 1);  // between the CR and LF after the data
    }
    raw.writeBytes("0;last\r\nX-Trailer: t\r\nX-Other: u v\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    pauses.add(raw.size() - 5);  // in the trailers
    int next = raw.size();
    pauses.add(next - 3);
    raw.writeBytes("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    pauses.add(next + 7);  // a head that begins after the body in the same read, and goes on in the next
    pauses.add(next + 30);
    // the guard still knows where each message ends: it refuses what comes next
    raw.writeBytes("GET /folded HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    byte[] bytes = raw.toByteArray();
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      // pieces of 1 byte to a few KiB, and pauses where the server must wait for the rest of a line
      for (int at = 0; at < bytes.length; ) {
        int piece = Math.min(bytes.length - at, random.nextInt(4) == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(4000));
        int pause = Integer.MAX_VALUE;
        for (int p : pauses) {
          if (p > at && p < pause) {
            pause = p;
          }
        }
        piece = at == next - 3 ? pause - at : Math.min(piece, pause - at);
        out.write(bytes, at, piece);
        out.flush();
        at += piece;
        if (at == pause) {
          Thread.sleep(20);  // a slow client: the server reads what came so far on its own
        }
      }
      String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertEquals(2, count(answers, "HTTP/1.1 200 "), answers);
      assertTrue(answers.lastIndexOf("HTTP/1.1 400 ") > answers.lastIndexOf("HTTP/1.1 200 ")
          && answers.endsWith("\r\n\r\nheader line starts with white space (obs-fold)\n"), answers);
    }
    RecordedRequest upload = backend.takeRequest();
    assertEquals("/upload", upload.target());
    assertEquals(sha256(content.toByteArray()), upload.bodySha256(), "the body arrives byte for byte");
    assertEquals("/after", backend.takeRequest().target());
    assertNull(backend.pollRequest(Duration.ofMillis(200)));
  }

  @Test
  void aRefusalIsLoggedWithItsRealStatus(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("access.log");
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: '" + log + "'\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n");
    send(proxy, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(10));
    String line = "";
    for (long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos(); line.isEmpty()
        && System.nanoTime() < deadline; ) {
      line = Files.exists(log) ? Files.readString(log) : "";
    }
    assertTrue(line.matches("127\\.0\\.0\\.1 - - \\[.*\\] \"-\" 414 \\d+ \\d+ms\\n"), line);
  }

  @Test
  void overTlsTheGuardAnswersToo(@TempDir Path dir) throws Exception {
    TestCertificate certificate = TestCertificate.localhost();
    certificate.writePem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  tls: { cert: '" + dir.resolve("cert.pem") + "', key: '" + dir.resolve("key.pem") + "' }\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n");
    for (String[] exchange : new String[][] {
        {"GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 "},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", "HTTP/1.1 400 "},
        {"GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 414 "}}) {
      SSLSocket socket = (SSLSocket) certificate.clientContext().getSocketFactory()
          .createSocket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort());
      try (socket) {
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"http/1.1"});
        socket.setSSLParameters(parameters);
        socket.getOutputStream().write(exchange[0].getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(answer.startsWith(exchange[1]), answer);
      }
    }
  }

  @Test
  void chunkedInAnyCaseIsOneWellFramedRequestUpstream() throws Exception {
    ProxykitServer proxy = proxy("");
    Answer answer = send(proxy, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
        + "5\r\nhello\r\n0\r\n\r\n", Duration.ofSeconds(10));
    assertTrue(answer.text.startsWith("HTTP/1.1 200 "), answer.text);
    RecordedRequest received = backend.takeRequest();
    assertEquals("hello", received.bodyText());
    assertEquals(1, (received.chunked() ? 1 : 0) + (received.header("Content-Length") != null ? 1 : 0),
        "exactly one framing upstream");
    assertNull(backend.pollRequest(Duration.ofMillis(200)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"exact", "echo"})
  void aClientThatStopsSendingItsBodyIsAnswered408AfterTheBodyTimeout(String handler) throws Exception {
    // exact forwards from the I/O thread, echo reads the body blocking on a worker
    String mount = handler.equals("echo") ? "{ type: echo }" : "{ type: exact, upstream: '" + backend.url("") + "' }";
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { bodyTimeout: 500ms }\nmounts: [ { path: /, handler: " + mount + " } ]\n");
    for (String request : List.of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")) {
      long start = System.nanoTime();
      Answer answer = send(proxy, request, Duration.ofSeconds(10));
      assertTrue(answer.text.startsWith("HTTP/1.1 408 "), answer.text);
      assertTrue(answer.text.endsWith("\r\n\r\nthe request body stopped arriving\n"), answer.text);
      assertTrue(answer.closed, "the stalled connection must be closed");
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "it must not hold a worker for long");
      assertNull(backend.pollRequest(Duration.ofMillis(200)), "a cut-short body must not reach the backend as complete");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"exact", "echo"})
  void aClientTricklingItsBodySlowerThanTheMinimumRateIsAnswered408(String handler) throws Exception {
    // each byte comes well within the body timeout, but at 10 bytes/s against a minimum of 100
    String mount = handler.equals("echo") ? "{ type: echo }" : "{ type: exact, upstream: '" + backend.url("") + "' }";
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { bodyTimeout: 300ms, bodyMinRate: 100 }\nmounts: [ { path: /, handler: " + mount + " } ]\n");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      try {
        for (int i = 0; i < 100; i++) {
          out.write('a');
          out.flush();
          Thread.sleep(100);
        }
      } catch (IOException closedByTheServer) {
        // expected: the server answers and closes while the client still sends
      }
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
      assertTrue(answer.endsWith("\r\n\r\nthe request body arrives slower than 100 bytes/s\n"), answer);
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "the trickle must be cut off early");
    } catch (java.net.SocketException reset) {
      // the answer can be lost to a reset when the client's last bytes reach a closed socket; the backend check stands
    }
    assertNull(backend.pollRequest(Duration.ofMillis(200)), "a cut-short body must not reach the backend as complete");
  }

  @Test
  void aClientThatTakesItsTimeButKeepsTheRateIsServed() throws Exception {
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { bodyTimeout: 300ms, bodyMinRate: 100 }\nmounts: [ { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } } ]\n");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < 10; i++) {  // 200 bytes in about a second: 200 bytes/s
        out.write("b".repeat(20).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(100);
      }
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
    }
    assertEquals(200, backend.takeRequest().bodyLength());
  }

  @Test
  void aPipelinedHeadThatArrivedInTimeIsNotLateBecauseTheRequestBeforeItWasSlow() throws Exception {
    backend.handler((request, exchange) -> {
      if (request.target().equals("/slow")) {
        Thread.sleep(800);
      }
      exchange.respond(200, request.target());
    });
    ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { headerTimeout: 300ms }\nmounts: [ { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } } ]\n");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(50);
      out.write("Host: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertEquals(2, count(answers, "HTTP/1.1 200 "), answers);
      assertTrue(answers.endsWith("/next"), answers);
    }
  }

  @Test
  void aClientThatClosesMidBodyNeverReachesTheBackendComplete() throws Exception {
    ProxykitServer proxy = proxy("");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.getOutputStream().write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some"
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
    }
    assertNull(backend.pollRequest(Duration.ofMillis(500)));
  }

  @Test
  void aClientThatClosesMidChunkedBodyNeverReachesTheBackendComplete() throws Exception {
    ProxykitServer proxy = proxy("");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.getOutputStream().write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      Thread.sleep(200);  // the first chunk is on its way upstream before the client goes
    }
    assertNull(backend.pollRequest(Duration.ofMillis(500)), "the upstream must never see the last chunk");
  }

  @Test
  void expectContinueIsAnsweredBeforeTheBodyIsSent() throws Exception {
    ProxykitServer proxy = proxy("");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setSoTimeout(2000);
      OutputStream out = socket.getOutputStream();
      out.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] interim = socket.getInputStream().readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertEquals("HTTP/1.1 100 Continue\r\n\r\n", new String(interim, StandardCharsets.US_ASCII));
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      RecordedRequest received = backend.takeRequest();
      assertEquals("hello", received.bodyText());
      assertNull(received.header("Expect"), "the go-ahead was given here: the upstream gets the body without asking");
    }
  }

  private static int count(String text, String part) {
    int count = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static String unescape(String csv) {
    return csv.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\u0000").replace("\\u00c3", "\u00c3")
        .replace("\\u00a9", "\u00a9");
  }

  /** What came back, and whether the server closed the connection. */
  private record Answer(String text, boolean closed) {}

  private static Answer send(ProxykitServer proxy, String request, Duration timeout) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
      socket.setSoTimeout((int) timeout.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      boolean closed;
      try {
        in.transferTo(answer);
        closed = true;
      } catch (SocketTimeoutException e) {
        closed = false;
      } catch (IOException reset) {
        closed = true;
      }
      return new Answer(answer.toString(StandardCharsets.ISO_8859_1), closed);
    }
  }
}

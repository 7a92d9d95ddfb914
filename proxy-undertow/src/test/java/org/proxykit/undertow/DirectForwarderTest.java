package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.proxykit.testing.LoopbackServer;
import org.proxykit.testing.RecordedRequest;

/**
 * What the server's non-blocking forwarding keeps of the exact proxy's contract: connection
 * limits with 503 after the pool wait, pooled connections the upstream closed, and bodies
 * both ways byte for byte.
 */
class DirectForwarderTest {
  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  private ProxykitServer exact(String settings) {
    return servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: '" + backend.url("") + "'"
        + (settings.isEmpty() ? "" : ", " + settings) + " } }\n");
  }

  @Test
  void requestsOverTheConnectionLimitWaitThenGet503AndTheUpstreamNeverSeesMore() throws Exception {
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    backend.handler((request, exchange) -> {
      most.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      Thread.sleep(1500);
      concurrent.decrementAndGet();
      exchange.respond(200, "slow");
    });
    // one connection per I/O thread: the server has two
    ProxykitServer server = exact("maxConnectionsPerRoute: 1, poolWaitTimeout: 200ms");
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      answers.add(Servers.HTTP.sendAsync(HttpRequest.newBuilder(Servers.url(server, "/slow" + i)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    int refused = 0;
    for (CompletableFuture<HttpResponse<String>> answer : answers) {
      HttpResponse<String> response = answer.get();
      if (response.statusCode() == 503) {
        refused++;
        assertTrue(response.body().startsWith("no free upstream connection within 200ms"), response.body());
      } else {
        assertEquals(200, response.statusCode(), response.body());
      }
    }
    assertTrue(most.get() <= 2, "the upstream saw " + most.get() + " requests at once");
    assertTrue(refused >= 4, refused + " of 6 waited and got 503");
  }

  @Test
  void pooledConnectionsTheUpstreamClosedAreNotAnError() throws Exception {
    AtomicInteger served = new AtomicInteger();
    backend.handler((request, exchange) -> {
      exchange.respond(200, "n" + served.incrementAndGet());
      if (served.get() % 2 == 0) {
        exchange.closeConnection();  // without a Connection: close: the proxy learns it by the socket
      }
    });
    ProxykitServer server = exact("");
    for (int i = 1; i <= 20; i++) {
      HttpResponse<String> response = Servers.get(server, "/n");
      assertEquals(200, response.statusCode(), "request " + i + ": " + response.body());
      assertEquals("n" + i, response.body());
      Thread.sleep(i % 3 == 0 ? 50 : 0);
    }
  }

  @Test
  void largeUploadsAndDownloadsPassByteForByte() throws Exception {
    byte[] upload = new byte[5 << 20];
    new Random(7).nextBytes(upload);
    byte[] download = new byte[3 << 20];
    new Random(8).nextBytes(download);
    backend.handler((request, exchange) -> exchange.respond(200, "OK", download));
    ProxykitServer server = exact("");

    HttpResponse<byte[]> chunked = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/up"))
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(upload))).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    RecordedRequest received = backend.takeRequest();
    assertEquals(200, chunked.statusCode());
    assertTrue(received.chunked(), "a body of unknown length goes on chunked");
    assertEquals(sha256(upload), received.bodySha256());
    assertEquals(sha256(download), sha256(chunked.body()));

    HttpResponse<byte[]> sized = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(server, "/up"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofByteArray());
    received = backend.takeRequest();
    assertEquals(200, sized.statusCode());
    assertEquals(String.valueOf(upload.length), received.header("Content-Length"));
    assertEquals(sha256(upload), received.bodySha256());
    assertEquals(sha256(download), sha256(sized.body()));
  }

  @Test
  void anInterimAnswerIsNeverPassedOnAsFinal() throws Exception {
    backend.handler((request, exchange) -> {
      exchange.writeRaw("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
    });
    ProxykitServer server = exact("");
    // a GET goes again the blocking way, which skips the interim answer
    HttpResponse<String> get = Servers.get(server, "/hints");
    assertEquals(200, get.statusCode(), get.body());
    assertEquals("final", get.body());
    // a POST cannot be sent twice
    String post = Servers.raw(server, "POST /hints HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assertTrue(post.startsWith("HTTP/1.1 502 ") || post.startsWith("HTTP/1.1 200 "), post);
    assertTrue(!post.startsWith("HTTP/1.1 103"), "an interim answer must never be final: " + post);
  }

  @Test
  void anAnswerBeforeTheWholeUploadEndsTheExchangeAndClosesTheConnection() throws Exception {
    try (java.net.ServerSocket upstream = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread refuser = new Thread(() -> {
        try (java.net.Socket socket = upstream.accept()) {
          java.io.InputStream in = socket.getInputStream();
          byte[] head = new byte[4096];
          in.read(head);  // the head (and perhaps some body): answer at once, read no more
          socket.getOutputStream().write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          Thread.sleep(3000);
        } catch (Exception ignored) {
          // the test ends the upstream's life
        }
      });
      refuser.start();
      ProxykitServer server = servers.start("mounts:\n  - { path: /, handler: { type: exact, upstream: "
          + "'http://127.0.0.1:" + upstream.getLocalPort() + "' } }\n");
      try (java.net.Socket client = new java.net.Socket("127.0.0.1", server.urls().get(0).getPort())) {
        client.setSoTimeout(5000);
        java.io.OutputStream out = client.getOutputStream();
        out.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(new byte[64 * 1024]);
        out.flush();
        // read to the end: an exchange left waiting for the rest of the body would time out here
        String answer = new String(client.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(answer.startsWith("HTTP/1.1 401 "), answer);
        assertTrue(answer.endsWith("nope"), answer);
      }
      refuser.interrupt();
    }
  }

  @Test
  void aNotModifiedWithTheLengthAGetWouldHaveIsPassedOnWithoutABody() throws Exception {
    backend.handler((request, exchange) -> exchange.writeHead(304, "Not Modified", "Content-Length", "100", "ETag", "\"v1\""));
    ProxykitServer server = exact("");
    for (int i = 0; i < 3; i++) {
      String answer = Servers.raw(server, "GET /cached HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n"
          + "Connection: close\r\n\r\n");
      assertTrue(answer.startsWith("HTTP/1.1 304 "), answer);
      assertTrue(answer.contains("ETag: \"v1\""), answer);
      assertTrue(answer.endsWith("\r\n\r\n"), "no body after a 304: " + answer);
    }
  }

  @Test
  void anHttp10ClientAskingForKeepAliveKeepsItsConnection() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "ok"));
    ProxykitServer server = exact("");
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", server.urls().get(0).getPort())) {
      client.setSoTimeout(5000);
      java.io.OutputStream out = client.getOutputStream();
      java.io.InputStream in = client.getInputStream();
      for (int i = 0; i < 2; i++) {
        out.write("GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.flush();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
          head.append((char) in.read());
        }
        assertTrue(head.toString().contains("Connection: keep-alive"), head.toString());
        assertEquals("ok", new String(in.readNBytes(2), java.nio.charset.StandardCharsets.US_ASCII));
      }
    }
  }

  @Test
  void aClientThatStopsReadingItsAnswerIsCutOffAndFreesTheUpstreamConnection() throws Exception {
    byte[] big = new byte[32 << 20];
    backend.handler((request, exchange) -> exchange.respond(200, "OK", big));
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  limits: { bodyTimeout: 500ms }\nmounts:\n  - { path: /, handler: { type: exact, upstream: '"
        + backend.url("") + "' } }\n");
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", server.urls().get(0).getPort())) {
      client.setReceiveBufferSize(4096);
      client.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      client.getOutputStream().flush();
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
      while (server.directForwarder().inFlight() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(1, server.directForwarder().inFlight(), "the answer is on its way");
      Thread.sleep(200);
      assertEquals(1, server.directForwarder().inFlight(), "32 MiB cannot have gone to a client that reads nothing");
      while (server.directForwarder().inFlight() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);  // never reading: the server's writes stall
      }
      assertEquals(0, server.directForwarder().inFlight(), "the stalled answer still holds its upstream connection");
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}

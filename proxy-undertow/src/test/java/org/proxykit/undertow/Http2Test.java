package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.testing.TestCertificate;

class Http2Test {
  @RegisterExtension final Servers servers = new Servers();

  @Test
  void h2cUpgradeOnPlainHttp() throws Exception {
    ProxykitServer server = servers.start("mounts: [ { path: /, handler: { type: echo } } ]\n");
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpRequest request = HttpRequest.newBuilder(Servers.url(server, "/two?x=1")).build();
    h2.send(request, HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> response = h2.send(request, HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, response.version());
    JsonNode echo = new ObjectMapper().readTree(response.body());
    assertEquals("/two", echo.get("pathInfo").asText());
    assertEquals("x=1", echo.get("queryString").asText());
    assertEquals(server.urls().get(0).getPort(), echo.get("serverPort").asInt());
  }

  @Test
  void h2RequestsAreForwardedDirectlyWithTheirBodies() throws Exception {
    try (org.proxykit.testing.LoopbackServer backend = new org.proxykit.testing.LoopbackServer().start()) {
      byte[] download = new byte[1 << 20];
      new java.util.Random(3).nextBytes(download);
      backend.handler((request, exchange) -> exchange.respond(200, "OK", download));
      ProxykitServer server = servers.start("mounts: [ { path: /, handler: { type: exact, upstream: '"
          + backend.url("") + "' } } ]\n");
      HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
      h2.send(HttpRequest.newBuilder(Servers.url(server, "/warm")).build(), HttpResponse.BodyHandlers.discarding());
      backend.takeRequest();
      byte[] upload = new byte[3 << 20];
      new java.util.Random(4).nextBytes(upload);
      HttpResponse<byte[]> response = h2.send(HttpRequest.newBuilder(Servers.url(server, "/up"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(HttpClient.Version.HTTP_2, response.version());
      assertEquals(200, response.statusCode());
      assertEquals(java.util.Arrays.hashCode(download), java.util.Arrays.hashCode(response.body()));
      org.proxykit.testing.RecordedRequest received = backend.takeRequest();
      assertEquals(upload.length, received.bodyLength());
      assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(upload)),
          received.bodySha256());
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
      while (server.directForwarder().inFlight() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(0, server.directForwarder().inFlight(), "every h2 forward ended");
    }
  }

  @Test
  void tlsWithPemFilesAndAlpnH2(@TempDir Path dir) throws Exception {
    TestCertificate certificate = TestCertificate.localhost();
    certificate.writePem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
        + "  tls: { cert: '" + dir.resolve("cert.pem") + "', key: '" + dir.resolve("key.pem") + "' }\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n");
    assertEquals("https", server.urls().get(0).getScheme());
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
        .sslContext(certificate.clientContext()).build();
    HttpResponse<String> response = h2.send(HttpRequest.newBuilder(Servers.url(server, "/secure")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_2, response.version());
    JsonNode echo = new ObjectMapper().readTree(response.body());
    assertEquals("https", echo.get("scheme").asText());
    assertEquals("/secure", echo.get("pathInfo").asText());
  }

  @Test
  void priorKnowledgeH2cPassesTheRequestGuardUntouched() throws Exception {
    ProxykitServer server = servers.start("mounts: [ { path: /, handler: { type: echo } } ]\n");
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.urls().get(0).getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});  // an empty SETTINGS frame
      out.flush();
      byte[] frame = socket.getInputStream().readNBytes(9);
      assertEquals(9, frame.length, "the server answers with a frame");
      assertEquals(4, frame[3], "HTTP/2 SETTINGS, not an HTTP/1.1 answer: "
          + new String(frame, StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void http11OnlyWhenHttp2IsOff() throws Exception {
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n  http2: false\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n");
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> response = h2.send(HttpRequest.newBuilder(Servers.url(server, "/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(HttpClient.Version.HTTP_1_1, response.version());
  }
}

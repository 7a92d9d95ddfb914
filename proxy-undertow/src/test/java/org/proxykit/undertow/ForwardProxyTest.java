package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.proxykit.testing.LoopbackServer;
import org.proxykit.testing.RecordedRequest;

class ForwardProxyTest {
  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  /** A forward proxy that may reach 127.0.0.1, where the test's backends are. */
  private ProxykitServer forwardProxy(String connectPorts) {
    return forwardProxy(connectPorts, "{ allow: [127.0.0.1/32] }");
  }

  private ProxykitServer forwardProxy(String connectPorts, String destinations) {
    return servers.start("mounts: [ { path: /, handler: { type: forward, connectPorts: " + connectPorts
        + ", httpPorts: [80, " + backend.port() + "], destinations: " + destinations + " } } ]\n");
  }

  @Test
  void plainHttpGoesWhereTheAbsoluteTargetSays() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "from backend"));
    ProxykitServer proxy = forwardProxy("[443]");
    HttpClient browser = HttpClient.newBuilder()
        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", proxy.urls().get(0).getPort()))).build();
    HttpResponse<String> response = browser.send(HttpRequest.newBuilder(URI.create(backend.url("/page?q=1"))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertEquals("from backend", response.body());
    RecordedRequest received = backend.takeRequest();
    assertEquals("GET /page?q=1 HTTP/1.1", received.requestLine());
    assertEquals("127.0.0.1:" + backend.port(), received.header("Host"));
    assertNull(received.header("Proxy-Connection"));
  }

  @Test
  void plainHttpToAPortNotAllowedIs403() throws Exception {
    ProxykitServer proxy = forwardProxy("[443]");
    String answer = Servers.raw(proxy, "GET http://127.0.0.1:22/ HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 403 "), answer);
    assertTrue(answer.endsWith("proxying to port 22 is not allowed\n"), answer);
  }

  @Test
  void aTunnelWhoseClientLeavesIsClosedOnBothSides() throws Exception {
    try (ServerSocket quiet = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      ProxykitServer proxy = forwardProxy("[" + quiet.getLocalPort() + "]");
      Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort());
      client.getOutputStream().write(("CONNECT 127.0.0.1:" + quiet.getLocalPort() + " HTTP/1.1\r\nHost: 127.0.0.1:"
          + quiet.getLocalPort() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      try (Socket upstream = quiet.accept()) {
        upstream.setSoTimeout(10_000);
        client.getOutputStream().write("hi".getBytes(StandardCharsets.US_ASCII));
        client.close();
        InputStream in = upstream.getInputStream();
        while (in.read() >= 0) {
          // the tunnel passes "hi" on, then must close the upstream side too
        }
      }
    }
  }

  @Test
  void anOriginFormRequestToTheProxyItselfIs400() throws Exception {
    ProxykitServer proxy = forwardProxy("[443]");
    assertEquals(400, Servers.get(proxy, "/not-a-proxy-request").statusCode());
  }

  @Test
  void connectOpensATunnelBothWays() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread echoer = new Thread(() -> {
        try (Socket peer = echo.accept()) {
          InputStream in = peer.getInputStream();
          OutputStream out = peer.getOutputStream();
          byte[] buffer = new byte[1024];
          for (int n; (n = in.read(buffer)) > 0; ) {
            out.write(("echo:" + new String(buffer, 0, n, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
        } catch (java.io.IOException ignored) {
          // test over
        }
      });
      echoer.start();
      ProxykitServer proxy = forwardProxy("[" + echo.getLocalPort() + "]");
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
        client.setSoTimeout(10_000);
        OutputStream out = client.getOutputStream();
        out.write(("CONNECT 127.0.0.1:" + echo.getLocalPort() + " HTTP/1.1\r\nHost: 127.0.0.1:" + echo.getLocalPort()
            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = client.getInputStream();
        String head = readHead(in);
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        out.write("ping".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] answer = in.readNBytes(9);
        assertEquals("echo:ping", new String(answer, StandardCharsets.US_ASCII));
        client.shutdownOutput();
        assertEquals(-1, in.read(), "the tunnel closes when the client is done and the destination closes");
      }
      echoer.join(10_000);
    }
  }

  @Test
  void aTunnelWhoseClientOnlyReceivesOutlivesTheBodyAndIdleTimeouts() throws Exception {
    try (ServerSocket destination = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread talker = new Thread(() -> {
        try (Socket socket = destination.accept()) {
          for (int i = 0; i < 12; i++) {  // about 1.2s of data, the client silent all along
            socket.getOutputStream().write(("part" + (i % 10)).getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            Thread.sleep(100);
          }
        } catch (Exception ignored) {
          // test over
        }
      });
      talker.start();
      ProxykitServer proxy = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n"
          + "  limits: { bodyTimeout: 300ms, idleTimeout: 300ms }\n"
          + "mounts: [ { path: /, handler: { type: forward, connectPorts: [" + destination.getLocalPort() + "], "
          + "destinations: { allow: [127.0.0.1/32] } } } ]\n");
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
        client.setSoTimeout(10_000);
        client.getOutputStream().write(("CONNECT 127.0.0.1:" + destination.getLocalPort() + " HTTP/1.1\r\nHost: 127.0.0.1:"
            + destination.getLocalPort() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        String head = readHead(in);
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertEquals(60, in.readNBytes(60).length, "every byte the destination sent arrives");
      }
      talker.join(10_000);
    }
  }

  @Test
  void theAnswerToConnectHasNoContentLengthNorTransferEncoding() throws Exception {
    try (ServerSocket destination = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      ProxykitServer proxy = forwardProxy("[" + destination.getLocalPort() + "]");
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.urls().get(0).getPort())) {
        client.setSoTimeout(10_000);
        client.getOutputStream().write(("CONNECT 127.0.0.1:" + destination.getLocalPort() + " HTTP/1.1\r\nHost: 127.0.0.1:"
            + destination.getLocalPort() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String head = readHead(client.getInputStream());
        // RFC 9110 section 9.3.6: a 2xx answer to CONNECT has no Content-Length or Transfer-Encoding
        assertTrue(head.matches("HTTP/1\\.1 200 OK\r\nDate: [^\r\n]+\r\n\r\n"), head);
        destination.accept().close();
      }
    }
  }

  @Test
  void connectToAPortNotAllowedIs403() throws Exception {
    ProxykitServer proxy = forwardProxy("[443]");
    String answer = Servers.raw(proxy, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 403 "), answer);
    assertTrue(answer.endsWith("CONNECT to port 22 is not allowed\n"), answer);
  }

  @Test
  void connectToAClosedPortIs502AndToAnUnknownHostNamesIt() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    ProxykitServer proxy = forwardProxy("[" + closed + "]");
    String refused = Servers.raw(proxy, "CONNECT 127.0.0.1:" + closed + " HTTP/1.1\r\nHost: 127.0.0.1:" + closed + "\r\n\r\n");
    assertTrue(refused.startsWith("HTTP/1.1 502 "), refused);
    String unknown = Servers.raw(proxy, "CONNECT no-such-host.invalid:" + closed + " HTTP/1.1\r\nHost: no-such-host.invalid:"
        + closed + "\r\n\r\n");
    assertTrue(unknown.endsWith("bad domain name: no-such-host.invalid\n"), unknown);
  }

  @Test
  void loopbackIsRefusedByDefaultInEveryFormAndNothingIsConnected() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "must not be reached"));
    int port = backend.port();
    ProxykitServer proxy = forwardProxy("[" + port + "]", "{}");
    // (Undertow itself answers 400 to IPv4-mapped forms in Host, so those are checked in DestinationsTest)
    for (String host : new String[] {"127.0.0.1", "localhost", "127.1", "2130706433", "127.9.9.9", "0.0.0.0",
        "[::1]", "[::]"}) {
      String plain = Servers.raw(proxy, "GET http://" + host + ":" + port + "/x HTTP/1.1\r\nHost: " + host + ":" + port
          + "\r\nConnection: close\r\n\r\n");
      assertTrue(plain.startsWith("HTTP/1.1 403 ") && plain.endsWith("\r\n\r\ndestination not allowed\n"),
          host + ": " + plain);
      String tunnel = Servers.raw(proxy, "CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port
          + "\r\n\r\n");
      assertTrue(tunnel.startsWith("HTTP/1.1 403 ") && tunnel.endsWith("\r\n\r\ndestination not allowed\n"),
          host + ": " + tunnel);
    }
    assertEquals(0, backend.connectionCount(), "the backend was connected to");
  }

  @Test
  void linkLocalAndTheCloudMetadataAddressAreRefusedBeforeAnyConnection() throws Exception {
    ProxykitServer proxy = forwardProxy("[80]", "{}");
    for (String host : new String[] {"169.254.169.254", "[fe80::1]", "[fd00:ec2::254]", "224.0.0.1", "255.255.255.255"}) {
      // a connection attempt to these would time out or fail with 502/504; the refusal is immediate
      String tunnel = Servers.raw(proxy, "CONNECT " + host + ":80 HTTP/1.1\r\nHost: " + host + ":80\r\n\r\n");
      assertTrue(tunnel.startsWith("HTTP/1.1 403 "), host + ": " + tunnel);
    }
  }

  @Test
  void denyAddsRangesAndAllowOverridesEveryDeny() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "from backend"));
    int port = backend.port();
    String get = "GET http://127.0.0.1:" + port + "/x HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n";
    ProxykitServer denied = forwardProxy("[443]", "{ deny: [10.0.0.0/8] }");
    String connect = "CONNECT 10.1.2.3:443 HTTP/1.1\r\nHost: 10.1.2.3:443\r\n\r\n";
    assertTrue(Servers.raw(denied, connect).startsWith("HTTP/1.1 403 "), "a configured deny refuses a private address");
    ProxykitServer allowed = forwardProxy("[443]", "{ deny: [127.0.0.0/8], allow: [127.0.0.0/8] }");
    String answer = Servers.raw(allowed, get);
    assertTrue(answer.startsWith("HTTP/1.1 200 ") && answer.endsWith("from backend"), answer);
  }

  @Test
  void theRelayedRequestGoesToTheCheckedAddressWithTheHostKept() throws Exception {
    java.util.List<org.proxykit.api.ProxyRequest> relayed = new java.util.ArrayList<>();
    org.proxykit.api.ProxyHandler recording = request -> {
      relayed.add(request);
      return org.proxykit.api.ProxyResponse.builder().status(204).build();
    };
    ForwardProxy proxy = new ForwardProxy(recording, java.util.Set.of(443), java.util.Set.of(80),
        Destinations.of(org.proxykit.api.spi.Settings.of("destinations", java.util.Map.of("allow",
            java.util.List.of("127.0.0.0/8", "::1/128")))), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));
    proxy.handle(org.proxykit.api.ProxyRequest.blank("http://proxy:3128/").toBuilder()
        .attribute(org.proxykit.exact.ForwardProxyFilter.TARGET_ATTRIBUTE, "http://localhost/page?q=1").build());
    // ExactProxy connects to serverName: the address that was checked, so no second lookup can answer otherwise
    assertEquals(InetAddress.getAllByName("localhost")[0].getHostAddress(), relayed.get(0).serverName());
    assertEquals("localhost", relayed.get(0).header("Host"));
    assertEquals("/page", relayed.get(0).pathInfo());
  }

  @Test
  void httpsTargetsAreOnlyProxiedThroughConnect() throws Exception {
    ProxykitServer proxy = servers.start("mounts: [ { path: /, handler: { type: forward, httpPorts: [443] } } ]\n");
    String answer = Servers.raw(proxy, "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 403 ") && answer.endsWith("https targets are only proxied through CONNECT\n"),
        answer);
  }

  @Test
  void connectOnAServerThatIsNoForwardProxyIs405() throws Exception {
    ProxykitServer server = servers.start("mounts: [ { path: /, handler: { type: echo } } ]\n");
    String answer = Servers.raw(server, "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 405 "), answer);
  }

  private static String readHead(InputStream in) throws java.io.IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }
}

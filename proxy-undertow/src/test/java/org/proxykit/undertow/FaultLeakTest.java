package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.proxykit.testing.LoopbackServer;

/**
 * Faults on both sides, many times in a row, leave threads, file descriptors, pooled
 * connections and child processes where they started. Rounds: -Dproxykit.leak.rounds (CI: 100;
 * {@code -Psoak}: 5000).
 */
class FaultLeakTest {
  private static final int ROUNDS = Integer.getInteger("proxykit.leak.rounds", 100);

  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  @Test
  void faultsOnBothSidesLeakNothing() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    backend.handler((request, exchange) -> {
      switch (request.target()) {
        case "/reset": exchange.reset(); break;
        case "/hang": Thread.sleep(1500); exchange.respond(200, "late"); break;
        case "/cut":
          exchange.writeHead(200, "OK", "Content-Length", "100000");
          exchange.write(new byte[1000]);
          exchange.closeConnection();
          break;
        case "/big":
          exchange.writeHead(200, "OK", "Content-Length", String.valueOf(8 << 20));
          try {
            exchange.output().write(new byte[8 << 20]);
            exchange.output().flush();
          } catch (IOException clientGone) {
            exchange.closeConnection();
          }
          break;
        default: exchange.respond(200, "ok");
      }
    });
    String transport = "connectTimeout: 300ms, responseTimeout: 100ms, poolWaitTimeout: 2s, maxConnections: 4, "
        + "maxConnectionsPerRoute: 4";
    ProxykitServer proxy = servers.start("server: { listen: 127.0.0.1:0, accessLog: off, limits: { bodyTimeout: 1s } }\n"
        + "mounts:\n"
        + "  - { path: /, handler: { type: exact, upstream: '" + backend.url("") + "', " + transport + " } }\n"
        + "  - { path: /refused, handler: { type: exact, upstream: 'http://127.0.0.1:" + closedPort + "', " + transport
        + " } }\n");
    int port = proxy.urls().get(0).getPort();

    for (int i = 0; i < 20; i++) {
      faults(port);
    }
    Counts before = settle(null);
    for (int i = 0; i < ROUNDS; i++) {
      faults(port);
    }
    Counts after = settle(before);
    assertTrue(after.threads <= before.threads + 4, "threads " + before.threads + " -> " + after.threads);
    assertTrue(after.fds <= before.fds + 8, "file descriptors " + before.fds + " -> " + after.fds);
    assertEquals(before.children, after.children, "child processes");
    assertEquals(0, proxy.directForwarder().inFlight(), "forwards still in flight");
    assertTrue(proxy.directForwarder().openConnections() <= 4, "upstream connections open: "
        + proxy.directForwarder().openConnections());
    for (int i = 0; i < 8; i++) {
      assertEquals(200, Servers.get(proxy, "/ok").statusCode(), "a pooled connection leaked: the pool of 4 is stuck");
    }
  }

  /** One of each fault: client aborts mid-upload and mid-download; upstream resets, refuses, hangs, cuts a body. */
  private static void faults(int port) throws Exception {
    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
      client.getOutputStream().write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial"
          .getBytes(StandardCharsets.US_ASCII));
    }
    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = client.getOutputStream();
      out.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      client.getInputStream().readNBytes(4096);
    }
    for (String path : new String[] {"/reset", "/refused/x", "/hang", "/cut"}) {
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
        client.setSoTimeout(5000);
        client.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        try {
          in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException abortedByTheProxy) {
          // a cut-short body aborts the client connection: expected
        }
      }
    }
  }

  private record Counts(int threads, long fds, long children) {}

  private static Counts count() throws IOException {
    long fds;
    try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
      fds = open.count();
    }
    return new Counts(ManagementFactory.getThreadMXBean().getThreadCount(), fds,
        ProcessHandle.current().descendants().count());
  }

  /** Waits until the counts stop falling (or reach {@code target}) and returns them. */
  private static Counts settle(Counts target) throws Exception {
    Counts last = count();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      Thread.sleep(250);
      Counts now = count();
      boolean reached = target != null && now.threads <= target.threads && now.fds <= target.fds;
      if (reached || target == null && now.equals(last)) {
        return now;
      }
      last = now;
    }
    return last;
  }
}

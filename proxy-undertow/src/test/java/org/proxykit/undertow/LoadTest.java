package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.proxykit.api.Body;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.exact.ExactProxy;
import org.proxykit.testing.LoopbackServer;

/**
 * A bounded soak: many concurrent connections through the exact proxy, every answer checked
 * byte for byte against its own request, so no body is ever delivered to another request.
 * Size: -Dproxykit.load.connections (CI: 100) and -Dproxykit.load.requests (CI: 20 each);
 * {@code -Psoak}: 500 and 200.
 */
class LoadTest {
  private static final int CONNECTIONS = Integer.getInteger("proxykit.load.connections", 100);
  private static final int REQUESTS = Integer.getInteger("proxykit.load.requests", 20);

  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  @Test
  void everyConcurrentRequestGetsItsOwnCompleteAnswer() throws Exception {
    backend.handler((request, exchange) -> exchange.respond(200, "OK",
        (request.target() + "|" + request.bodyText()).getBytes(StandardCharsets.UTF_8)));
    ProxykitServer proxy = servers.start("server: { listen: 127.0.0.1:0, accessLog: off, workerThreads: 64 }\n"
        + "mounts: [ { path: /, handler: { type: exact, upstream: '" + backend.url("") + "', maxConnections: 64, "
        + "maxConnectionsPerRoute: 64, poolWaitTimeout: 30s } } ]\n");
    AtomicInteger honestErrors = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
    try (ExactProxy http = ExactProxy.builder().maxConnections(CONNECTIONS).maxConnectionsPerRoute(CONNECTIONS)
        .responseTimeout(Duration.ofSeconds(30)).build()) {
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < CONNECTIONS; c++) {
        int client = c;
        done.add(clients.submit(() -> {
          int ok = 0;
          for (int r = 0; r < REQUESTS; r++) {
            String body = "client " + client + " request " + r + " " + "x".repeat((client * 31 + r * 17) % 3000);
            ProxyRequest request = ProxyRequest.blank(proxy.urls().get(0) + "/c" + client + "/r" + r).toBuilder()
                .method("POST").body(Body.of(body)).build();
            try (ProxyResponse response = http.handle(request)) {
              String answer = new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8);
              if (response.status() == 200) {
                assertEquals("/c" + client + "/r" + r + "|" + body, answer, "an answer went to the wrong request");
                ok++;
              } else {
                assertTrue(response.status() >= 500, "status " + response.status());
                honestErrors.incrementAndGet();
              }
            }
          }
          return ok;
        }));
      }
      int ok = 0;
      // 2 minutes for the CI size, more for a soak (-Psoak): a hang fails, a slow machine does not
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
          + TimeUnit.MILLISECONDS.toNanos(2L * CONNECTIONS * REQUESTS);
      for (Future<Integer> client : done) {
        ok += client.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
      assertEquals(CONNECTIONS * REQUESTS, ok + honestErrors.get());
      assertEquals(0, honestErrors.get(), "no request should fail under this load");
    } finally {
      clients.shutdownNow();
    }
  }
}

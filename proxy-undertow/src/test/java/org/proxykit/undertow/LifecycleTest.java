package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.Multibinder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.api.Body;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.spi.Settings;
import org.proxykit.testing.LoopbackServer;

class LifecycleTest {
  @RegisterExtension final Servers servers = new Servers();
  @RegisterExtension final LoopbackServer backend = new LoopbackServer();

  @Test
  void closeDrainsAnInFlightRequestThenStopsListening() throws Exception {
    CountDownLatch inFlight = new CountDownLatch(1);
    backend.handler((request, exchange) -> {
      inFlight.countDown();
      Thread.sleep(500);
      exchange.respond(200, "slow but complete");
    });
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: off\n  shutdownGrace: 10s\n"
        + "mounts: [ { path: /, handler: { type: exact, upstream: '" + backend.url("") + "' } } ]\n");
    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> {
      try {
        return Servers.get(server, "/slow");
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertTrue(inFlight.await(10, TimeUnit.SECONDS));
    server.close();
    HttpResponse<String> response = slow.get(10, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode());
    assertEquals("slow but complete", response.body());
    assertThrows(ConnectException.class, () -> Servers.get(server, "/after"));
  }

  @Test
  void closeClosesTheHandlersResources() throws Exception {
    AtomicBoolean closed = new AtomicBoolean();
    ProxykitServer server = Proxykit.server(config("mounts: [ { path: /, handler: { type: closeable } } ]\n"),
        contributing(new HandlerFactory() {
          @Override
          public String name() {
            return "closeable";
          }

          @Override
          public ProxyHandler create(Settings settings, HandlerContext context) {
            context.closeOnStop(() -> closed.set(true));
            return request -> ProxyResponse.builder().body(Body.of("ok")).build();
          }
        }));
    server.start();
    server.close();
    assertTrue(closed.get());
  }

  @Test
  void anEmbeddingModuleAddsHandlerTypesAndOverridesBindings() throws Exception {
    ProxykitConfig fromFile = config("mounts: [ { path: /, handler: { type: echo } } ]\n");
    ProxykitConfig replacement = config("mounts: [ { path: /hello, handler: { type: hello, greeting: hi } } ]\n");
    ProxykitServer server = Proxykit.server(fromFile, contributing(new HelloFactory()), new AbstractModule() {
      @Override
      protected void configure() {
        bind(ProxykitConfig.class).toInstance(replacement);
      }
    }).start();
    try {
      HttpResponse<String> response = Servers.get(server, "/hello");
      assertEquals("hi from /hello", response.body());
    } finally {
      server.close();
    }
  }

  @Test
  void aJarOnTheClassPathAddsHandlerTypesThroughServiceLoader() throws Exception {
    ProxykitServer server = servers.start("mounts: [ { path: /, handler: { type: test-failing, status: 418 } } ]\n");
    assertEquals(418, Servers.get(server, "/").statusCode());
  }

  @Test
  void accessLogWritesOneCommonLogLinePerRequest(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("access.log");
    ProxykitServer server = servers.start("server:\n  listen: 127.0.0.1:0\n  accessLog: '" + log + "'\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n");
    Servers.get(server, "/logged?x=1");
    server.close();
    List<String> lines = Files.readAllLines(log);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches(
        "127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}] \"GET /logged\\?x=1 HTTP/1\\.1\" 200 \\d+ \\d+ms"),
        lines.get(0));
  }

  @Test
  void aBusyPortIsAClearError() throws Exception {
    ProxykitServer first = servers.start("mounts: [ { path: /, handler: { type: echo } } ]\n");
    int port = first.urls().get(0).getPort();
    ProxykitServer second = Proxykit.server(ProxykitConfig.parse("server: { listen: 127.0.0.1:" + port + " }\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n", "t.yaml", Path.of(".")));
    IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
    assertTrue(e.getMessage().startsWith("cannot listen on [127.0.0.1:" + port + "]"), e.getMessage());
    second.close();
  }

  private static ProxykitConfig config(String mounts) {
    return ProxykitConfig.parse("server: { listen: 127.0.0.1:0, accessLog: off }\n" + mounts, "t.yaml", Path.of("."));
  }

  private static AbstractModule contributing(HandlerFactory factory) {
    return new AbstractModule() {
      @Override
      protected void configure() {
        Multibinder.newSetBinder(binder(), HandlerFactory.class).addBinding().toInstance(factory);
      }
    };
  }

  /** {@code {type: hello, greeting: TEXT}}. */
  static final class HelloFactory implements HandlerFactory {
    @Override
    public String name() {
      return "hello";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      settings.checkKnown(java.util.Set.of("greeting"));
      String greeting = settings.string("greeting", "hello");
      return request -> ProxyResponse.builder().body(Body.of(greeting + " from " + request.scriptName())).build();
    }
  }
}

package org.proxykit.undertow.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.proxykit.api.spi.Settings;
import org.proxykit.undertow.Proxykit;
import org.proxykit.undertow.ProxykitConfig;
import org.proxykit.undertow.ProxykitServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code proxykit demo}: the embedded default. With no files and no setup it starts, on
 * 127.0.0.1, an echo backend, a middleware server with echo behind it, a front server with
 * echo, an exact proxy in front of the backend and a signed ProxyApp in front of the
 * middleware, and a forward proxy, then prints the curl commands to try.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Starts a working example on 127.0.0.1 and prints the curl commands to try; Ctrl-C stops it.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "front server port (default 8080; 0: any)")
  int port;

  @Option(names = "--forward-port", paramLabel = "PORT", defaultValue = "8081",
      description = "forward proxy port (default 8081; 0: any)")
  int forwardPort;

  @Mixin
  ProxykitCommand.LogLevel logLevel;

  @Override
  public Integer call() throws Exception {
    List<ProxykitServer> servers = new ArrayList<>();
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onTerminate(stop::countDown);
    Thread hook = new Thread(() -> closeAll(servers), "proxykit-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ProxykitServer backend = start(servers, 0, "off", List.of(mount("/", Map.of("type", "echo"))));
      int backendPort = backend.urls().get(0).getPort();
      Path secret = secretFile();
      ProxykitServer middleware = start(servers, 0, "off", List.of(mount("/", Map.of("type", "middleware",
          "trust", Map.of("hmacSecretFile", secret.toString()), "next", Map.of("type", "echo")))));
      int middlewarePort = middleware.urls().get(0).getPort();
      ProxykitServer front = start(servers, port, "stdout", List.of(
          mount("/echo", Map.of("type", "echo")),
          mount("/exact", Map.of("type", "exact", "upstream", "http://127.0.0.1:" + backendPort)),
          mount("/spawned", Map.of("type", "spawn", "name", "spawned-echo", "idleShutdown", "10s",
              "command", List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                  "serve", "--listen", "127.0.0.1:__PORT__", "--echo", "--log-level", "warn"))),
          mount("/signed", Map.of("type", "app",
              "href", "http://127.0.0.1:" + middlewarePort + "/base?from=app",
              "signing", Map.of("hmacSecretFile", secret.toString()),
              "keys", Map.of("str", List.of("REMOTE_USER"), "unicode", List.of("greeting"), "json", List.of("roles"),
                  "kryo", List.of("visits")),
              "attributes", Map.of("REMOTE_USER", "demo-user", "greeting", "gr\u00fc\u00dfe, \u4e16\u754c",
                  "roles", List.of("admin", "dev"), "visits", 42)))));
      int frontPort = front.urls().get(0).getPort();
      ProxykitServer forward = start(servers, forwardPort, "stdout",
          List.of(mount("/", Map.of("type", "forward", "connectPorts", List.of(443, frontPort),
              "httpPorts", List.of(80, frontPort),
              // the demo's front server is on loopback, which a forward proxy refuses by default
              "destinations", Map.of("allow", List.of("127.0.0.1/32"))))));
      String site = "http://127.0.0.1:" + frontPort;
      String proxy = forward.urls().get(0).toString();
      System.out.println("proxykit demo is running on 127.0.0.1. Try:");
      System.out.println();
      System.out.println("  # echo: the request as a handler sees it (WSGIProxy's sampleapp)");
      System.out.println("  curl -s '" + site + "/echo/hello?x=1'");
      System.out.println("  # exact proxy to an echo backend on port " + backendPort + ": the backend sees the original Host");
      System.out.println("  curl -s '" + site + "/exact/hello?x=1'");
      System.out.println("  # forward proxy, as a browser would use it");
      System.out.println("  curl -s -x " + proxy + " '" + site + "/echo/via-forward-proxy'");
      System.out.println("  # signed ProxyApp -> ProxyMiddleware (port " + middlewarePort + ") -> echo: the original Host,");
      System.out.println("  # scheme, client address, script name and one attribute of each kind, restored");
      System.out.println("  curl -s '" + site + "/signed/hello?x=1'");
      System.out.println("  # a backend started on the first request (proxykit's echo in a child JVM), stopped after 10s idle");
      System.out.println("  curl -s '" + site + "/spawned/hello'");
      System.out.println("  # CONNECT tunnel through the forward proxy (allowed ports: 443 and " + frontPort + ")");
      System.out.println("  curl -s -p -x " + proxy + " '" + site + "/echo/via-tunnel'");
      System.out.println();
      System.out.println("Ctrl-C stops it.");
      System.out.flush();
      stop.await();
    } finally {
      closeAll(servers);
    }
    return 0;
  }

  /** A fresh shared secret for the demo's app and middleware, deleted when the demo exits. */
  private static Path secretFile() throws java.io.IOException {
    Path dir = Files.createTempDirectory("proxykit-demo");
    Path secret = dir.resolve("secret.key");
    byte[] bytes = new byte[48];
    new java.security.SecureRandom().nextBytes(bytes);
    Files.writeString(secret, java.util.Base64.getEncoder().encodeToString(bytes));
    secret.toFile().deleteOnExit();
    dir.toFile().deleteOnExit();
    return secret;
  }

  private static ProxykitServer start(List<ProxykitServer> servers, int port, String accessLog,
      List<ProxykitConfig.Mount> mounts) {
    ProxykitConfig config = new ProxykitConfig("demo", List.of(new ProxykitConfig.Listener("127.0.0.1", port)), true,
        null, ProxykitConfig.Limits.DEFAULTS, 64, Duration.ofSeconds(5), accessLog, mounts, java.nio.file.Path.of(""));
    ProxykitServer server = Proxykit.server(config);
    servers.add(server);
    try {
      return server.start();
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + " (choose other ports with --port and --forward-port)", e);
    }
  }

  private static ProxykitConfig.Mount mount(String path, Map<String, ?> handler) {
    return new ProxykitConfig.Mount(path, Settings.of("demo " + path, handler));
  }

  private static void closeAll(List<ProxykitServer> servers) {
    for (int i = servers.size() - 1; i >= 0; i--) {
      servers.get(i).close();
    }
  }
}

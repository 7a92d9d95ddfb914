package org.proxykit.spawn;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The backend the spawn tests start as a real child process: {@code java -cp test-classes
 * org.proxykit.spawn.TinyServer PORT [options]}, with the JDK's own HTTP server, so the tests
 * need nothing installed. Options: {@code --ignore-term}, {@code --grandchild FILE} (starts
 * a double-forked {@code sleep} and writes its pid), {@code --crash-after MS} (exit 3),
 * {@code --delay-start MS}, {@code --exit-at-start}, {@code --chatty N} (N lines of output),
 * {@code --health-after MS} (/health answers 503 until then).
 */
public final class TinyServer {
  private TinyServer() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    long healthAfter = 0;
    AtomicBoolean healthChecked = new AtomicBoolean();
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--ignore-term":
          sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> System.out.println("ignoring SIGTERM"));
          break;
        case "--grandchild":
          Path file = Path.of(args[++i]);
          new ProcessBuilder("sh", "-c", "sleep 600 > /dev/null 2>&1 & echo $! > " + file).start().waitFor();
          break;
        case "--crash-after":
          long crashAfter = Long.parseLong(args[++i]);
          Thread crasher = new Thread(() -> {
            sleep(crashAfter);
            System.err.println("crashing on purpose");
            Runtime.getRuntime().halt(3);
          });
          crasher.setDaemon(true);
          crasher.start();
          break;
        case "--delay-start":
          sleep(Long.parseLong(args[++i]));
          break;
        case "--exit-at-start":
          System.err.println("cannot start: on purpose");
          System.exit(4);
          break;
        case "--chatty":
          int lines = Integer.parseInt(args[++i]);
          for (int n = 0; n < lines; n++) {
            System.out.println("chatty line " + n + " with some padding to fill the pipe quickly");
            System.err.println("chatty error line " + n);
          }
          break;
        case "--health-after":
          healthAfter = System.nanoTime() + Long.parseLong(args[++i]) * 1_000_000L;
          break;
        default:
          throw new IllegalArgumentException(args[i]);
      }
    }
    long healthyAt = healthAfter;
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    server.createContext("/", exchange -> {
      // the spawner requests the full original path, mount prefix included
      String path = exchange.getRequestURI().getPath();
      if (path.endsWith("/health")) {
        healthChecked.set(true);
        respond(exchange, System.nanoTime() >= healthyAt ? 200 : 503, "health");
      } else if (path.endsWith("/slow")) {
        int ticks = Integer.parseInt(exchange.getRequestURI().getQuery().replace("ticks=", ""));
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
          for (int n = 0; n < ticks; n++) {
            out.write("tick\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            sleep(100);
          }
        }
      } else {
        respond(exchange, 200, "port=" + port
            + " env=" + System.getenv("PORT")
            + " path=" + exchange.getRequestURI()
            + " host=" + exchange.getRequestHeaders().getFirst("Host")
            + " xff=" + exchange.getRequestHeaders().getFirst("X-Forwarded-For")
            + " script=" + exchange.getRequestHeaders().getFirst("X-Script-Name")
            + " scheme=" + exchange.getRequestHeaders().getFirst("X-Forwarded-Scheme")
            + " health=" + healthChecked.get()
            + " wsgi=" + exchange.getRequestHeaders().getFirst("X-WSGIProxy-Host")
            + " pid=" + ProcessHandle.current().pid());
      }
    });
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
    System.out.println("tiny server listening on " + port);
  }

  private static void respond(HttpExchange exchange, int status, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

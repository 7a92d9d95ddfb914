package org.proxykit.undertow;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.proxykit.api.Nullable;

/**
 * One line per finished request in the common log format plus the duration, such as
 * {@code 127.0.0.1 - - [23/Nov/2026:23:59:01 +0000] "GET /echo HTTP/1.1" 200 512 3ms},
 * to stdout or appended to a file.
 */
final class AccessLog implements AutoCloseable {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

  private final @Nullable PrintStream out;
  private final boolean ownsStream;

  private AccessLog(@Nullable PrintStream out, boolean ownsStream) {
    this.out = out;
    this.ownsStream = ownsStream;
  }

  /** Returns the access log {@code target} names: {@code stdout}, {@code off} or a file. */
  static AccessLog open(String target) throws IOException {
    switch (target) {
      case "off":
        return new AccessLog(null, false);
      case "stdout":
        return new AccessLog(System.out, false);
      default:
        return new AccessLog(new PrintStream(new FileOutputStream(target, true), true, StandardCharsets.UTF_8), true);
    }
  }

  /** Returns {@code next} with a line logged for each exchange it completes. */
  HttpHandler wrap(HttpHandler next) {
    PrintStream log = out;
    if (log == null) {
      return next;
    }
    return exchange -> {
      long start = System.nanoTime();
      exchange.addExchangeCompleteListener((done, proceed) -> {
        try {
          log.println(line(done, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)));
        } finally {
          proceed.proceed();
        }
      });
      next.handleRequest(exchange);
    };
  }

  private static String line(HttpServerExchange exchange, long millis) {
    InetSocketAddress peer = exchange.getSourceAddress();
    String client = peer == null || peer.getAddress() == null ? "-" : peer.getAddress().getHostAddress();
    String query = exchange.getQueryString();
    // a request the guard refused is logged without a request line, as nginx logs what it could not parse
    String request = exchange.getAttachment(RequestGuardConduit.REFUSED) != null ? "-"
        : exchange.getRequestMethod() + " " + exchange.getRequestURI() + (query.isEmpty() ? "" : "?" + query) + ' '
        + exchange.getProtocol();
    long bytes = exchange.getResponseBytesSent();
    return client + " - - [" + TIME.format(ZonedDateTime.now()) + "] \"" + request + "\" " + exchange.getStatusCode() + ' '
        + (bytes > 0 ? String.valueOf(bytes) : "-") + ' ' + millis + "ms";
  }

  @Override
  public void close() {
    if (ownsStream && out != null) {
      out.close();
    }
  }
}

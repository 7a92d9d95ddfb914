package org.proxykit.exact;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jdk} transport: {@link java.net.http.HttpClient}, HTTP/1.1 only. Differences
 * from {@code httpclient5}, all inherent to the JDK client:
 * <ul>
 *   <li>A Host header that differs from {@code serverName:serverPort} is sent only if the
 *       JVM allows it: the provider adds {@code host} to the system property
 *       {@code jdk.httpclient.allowRestrictedHeaders} before the JDK client is first used;
 *       if the client was initialised earlier, start the JVM with
 *       {@code -Djdk.httpclient.allowRestrictedHeaders=host}. Without it, such a request
 *       gets 502 rather than going out with the wrong Host.</li>
 *   <li>The reason phrase is not available (empty), header names lose their relative order
 *       (values of one name keep theirs), a {@code User-Agent} is added when the request
 *       has none, and {@code Content-Length: 0} is sent on requests without a body.</li>
 *   <li>Header values with bytes 0x80-0xFF cannot be sent exactly (the JDK replaces them):
 *       such requests get 502.</li>
 *   <li>The response timeout runs from sending the request to the response head, upload
 *       included; a response body that stalls is not timed out.</li>
 *   <li>Idle connections are kept as {@code jdk.httpclient.keepalive.timeout} says, not
 *       {@code idleTimeout}; the JDK client's selector thread ends when it is garbage
 *       collected, and {@link #close()} does not abort responses still being read.</li>
 *   <li>Targets the JDK's URI parser refuses (raw spaces, {@code |}, non-ASCII bytes) get 502.</li>
 *   <li>Response heads are read leniently: bare LF line ends and a bare CR are accepted and
 *       folded header lines (obs-fold) are merged, where {@code httpclient5} answers 502.
 *       The head is re-written from the parsed headers, never copied.</li>
 *   <li>Connection limits are enforced by this transport (the JDK client has none), per
 *       transport and per host:port, with the same pool-wait timeout and 503.</li>
 * </ul>
 */
final class JdkTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(JdkTransport.class);
  private static final String RESTRICTED_HEADERS_PROPERTY = "jdk.httpclient.allowRestrictedHeaders";
  /** Headers the JDK client sets itself or refuses; framing and Expect are handled apart. */
  private static final Set<String> NOT_COPIED = Set.of("host", "content-length", "transfer-encoding", "expect",
      "connection", "upgrade");

  private final Upstream.Config config;
  private final ExecutorService executor;
  private final HttpClient client;
  private final boolean hostAllowed;
  private final Semaphore connections;
  private final Map<String, Semaphore> connectionsPerRoute = new ConcurrentHashMap<>();

  JdkTransport(Upstream.Config config) {
    this.config = config;
    this.hostAllowed = allowHostHeader();
    AtomicInteger threads = new AtomicInteger();
    this.executor = Executors.newCachedThreadPool(task -> {
      Thread thread = new Thread(task, "proxykit-jdk-transport-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(config.connectTimeout)
        .executor(executor);
    if (config.sslContext != null) {
      builder.sslContext(config.sslContext);
    }
    this.client = builder.build();
    this.connections = new Semaphore(config.maxConnections, true);
  }

  /** Lets the JDK client send a Host header, if it has not read its restricted-header list yet. */
  private static synchronized boolean allowHostHeader() {
    String allowed = System.getProperty(RESTRICTED_HEADERS_PROPERTY, "");
    if (!allowed.toLowerCase(Locale.ROOT).contains("host")) {
      System.setProperty(RESTRICTED_HEADERS_PROPERTY, allowed.isBlank() ? "host" : allowed + ",host");
    }
    try {
      HttpRequest.newBuilder(URI.create("http://127.0.0.1/")).header("Host", "probe");
      return true;
    } catch (IllegalArgumentException e) {
      log.warn("the jdk transport cannot set the Host header (the JDK HTTP client was initialised before proxykit"
          + " could allow it): requests whose Host differs from serverName:serverPort get 502;"
          + " start the JVM with -D{}=host", RESTRICTED_HEADERS_PROPERTY);
      return false;
    }
  }

  @Override
  public ProxyResponse send(ProxyRequest request) throws IOException {
    HttpRequest.Builder outbound = outbound(request);
    Permit permit = acquire(request);
    Upstream.RequestBodyStream body = null;
    HttpResponse<InputStream> response;
    try {
      if (Upstream.sendsBody(request)) {
        Upstream.RequestBodyStream stream = new Upstream.RequestBodyStream(request.body().open(), () -> { });
        body = stream;
        HttpRequest.BodyPublisher streamed = HttpRequest.BodyPublishers.ofInputStream(() -> stream);
        long length = request.body().length();
        outbound.method(request.method(), length < 0 ? streamed : HttpRequest.BodyPublishers.fromPublisher(streamed, length));
      } else {
        outbound.method(request.method(), HttpRequest.BodyPublishers.noBody());
      }
      response = client.send(outbound.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException | RuntimeException e) {
      permit.release();
      if (body != null) {
        Upstream.closeQuietly(body);
        if (body.failure() != null) {
          throw body.failure();
        }
      }
      throw map(e, request);
    } catch (InterruptedException e) {
      permit.release();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the upstream");
    }
    return toProxyResponse(response, permit);
  }

  /** Returns the request without its body, or 502 if the JDK client cannot send it exactly. */
  private HttpRequest.Builder outbound(ProxyRequest request) throws ProxyStatusException {
    HttpRequest.Builder outbound;
    URI uri;
    try {
      uri = new URI(request.scheme() + "://" + Upstream.authority(request) + request.requestTarget());
      outbound = HttpRequest.newBuilder(uri).version(HttpClient.Version.HTTP_1_1).timeout(config.responseTimeout);
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw ProxyStatusException.badGateway("the jdk transport cannot send this request target", e);
    }
    String host = request.header("Host");
    if (host != null && !host.equalsIgnoreCase(uri.getRawAuthority()) && !isDefaultAuthority(host, request)) {
      if (!hostAllowed) {
        throw ProxyStatusException.badGateway("the jdk transport cannot send this Host header (see the server log)", null);
      }
      outbound.header("Host", host);
    }
    for (int i = 0; i < request.headers().size(); i++) {
      String name = request.headers().name(i);
      String value = request.headers().value(i);
      if (!value.chars().allMatch(c -> c < 0x80)) {
        throw ProxyStatusException.badGateway("the jdk transport cannot send header values with non-ASCII bytes", null);
      }
      if (!NOT_COPIED.contains(name.toLowerCase(Locale.ROOT))) {
        outbound.header(name, value);
      }
    }
    if ("100-continue".equalsIgnoreCase(request.header("Expect"))) {
      outbound.expectContinue(true);
    }
    return outbound;
  }

  private ProxyResponse toProxyResponse(HttpResponse<InputStream> response, Permit permit) throws IOException {
    InputStream body = response.body();
    List<String> length = response.headers().allValues("Content-Length");
    boolean chunked = response.headers().firstValue("Transfer-Encoding").isPresent();
    HttpHeaders.Builder headers = HttpHeaders.builder();
    try {
      Upstream.checkFraming(chunked, length);
      int count = 0;
      for (Map.Entry<String, List<String>> header : response.headers().map().entrySet()) {
        for (String value : header.getValue()) {
          count++;
          if (header.getKey().length() + value.length() + 2 > Upstream.MAX_RESPONSE_LINE) {
            throw Upstream.invalidAnswer(new IOException("response header line longer than " + Upstream.MAX_RESPONSE_LINE));
          }
        }
      }
      if (count > Upstream.MAX_RESPONSE_HEADERS) {
        throw Upstream.invalidAnswer(new IOException("response has more than " + Upstream.MAX_RESPONSE_HEADERS + " headers"));
      }
      response.headers().map().forEach((name, values) -> {
        if (!name.startsWith(":")) {
          values.forEach(value -> headers.add(name, value));
        }
      });
    } catch (IllegalArgumentException | ProxyStatusException e) {
      Upstream.closeQuietly(body);
      permit.release();
      throw e instanceof ProxyStatusException ? (ProxyStatusException) e : Upstream.invalidAnswer(e);
    }
    long contentLength = -1;
    if (length.size() == 1) {
      try {
        contentLength = Long.parseLong(length.get(0).strip());
      } catch (NumberFormatException e) {
        contentLength = -1;
      }
    }
    ResponseBody responseBody = new ResponseBody(body, contentLength, complete -> {
      try {
        body.close();
      } finally {
        permit.release();
      }
    });
    return ProxyResponse.builder().status(response.statusCode()).headers(headers.build()).body(responseBody).build();
  }

  private static boolean isDefaultAuthority(String host, ProxyRequest request) {
    String bracketed = request.serverName().indexOf(':') >= 0 ? '[' + request.serverName() + ']' : request.serverName();
    int defaultPort = request.scheme().equals("https") ? 443 : 80;
    return request.serverPort() == defaultPort && host.equalsIgnoreCase(bracketed);
  }

  private ProxyStatusException map(Exception failure, ProxyRequest request) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof HttpConnectTimeoutException) {
        return Upstream.connectTimeout(config, failure);
      }
      if (cause instanceof HttpTimeoutException) {
        return Upstream.responseTimeout(config, failure);
      }
    }
    return Upstream.failure(failure, request, config);
  }

  /**
   * Takes a share of the per-upstream limit, then of the overall one, so that requests
   * queued for one slow upstream never hold overall permits that others could use.
   */
  private Permit acquire(ProxyRequest request) throws IOException {
    String route = request.scheme() + "://" + Upstream.authority(request);
    long deadline = System.nanoTime() + config.poolWaitTimeout.toNanos();
    Semaphore routePermits = connectionsPerRoute.computeIfAbsent(route,
        key -> new Semaphore(config.maxConnectionsPerRoute, true));
    try {
      if (!routePermits.tryAcquire(config.poolWaitTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw Upstream.poolExhausted(config, null);
      }
      if (!connections.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        releaseRoute(route, routePermits);
        throw Upstream.poolExhausted(config, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a connection");
    }
    return new Permit(route, routePermits);
  }

  private void releaseRoute(String route, Semaphore permits) {
    permits.release();
    if (permits.availablePermits() == config.maxConnectionsPerRoute) {
      // forget idle upstreams, or a forward proxy would keep one entry per host ever seen
      connectionsPerRoute.remove(route, permits);
    }
  }

  /** Available connection permits, for leak checks in tests. */
  int availablePermits() {
    return connections.availablePermits();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "jdk";
  }

  /** One exchange's share of the connection limits; released once. */
  private final class Permit {
    private final String route;
    private final Semaphore routePermits;
    private boolean released;

    Permit(String route, Semaphore routePermits) {
      this.route = route;
      this.routePermits = routePermits;
    }

    synchronized void release() {
      if (!released) {
        released = true;
        connections.release();
        releaseRoute(route, routePermits);
      }
    }
  }
}

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
import org.proxykit.api.Nullable;
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
 *       (values of one name keep theirs), and a {@code User-Agent} is added when the request
 *       has none.</li>
 *   <li>The response timeout covers the response head only; a body that stalls is not
 *       timed out.</li>
 *   <li>Targets the JDK's URI parser refuses (raw spaces, {@code |}, non-ASCII bytes) get 502.</li>
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
    String authority = Upstream.authority(request);
    URI uri;
    try {
      uri = new URI(request.scheme() + "://" + authority + request.requestTarget());
    } catch (URISyntaxException e) {
      throw ProxyStatusException.badGateway("the jdk transport cannot send request target '"
          + request.requestTarget() + "': " + e.getReason(), e);
    }
    HttpRequest.Builder outbound = HttpRequest.newBuilder(uri)
        .version(HttpClient.Version.HTTP_1_1)
        .timeout(config.responseTimeout);
    String host = request.header("Host");
    if (host != null && !host.equalsIgnoreCase(uri.getRawAuthority()) && !isDefaultAuthority(host, request)) {
      if (!hostAllowed) {
        throw ProxyStatusException.badGateway("the jdk transport cannot send Host '" + host + "': start the JVM with -D"
            + RESTRICTED_HEADERS_PROPERTY + "=host", null);
      }
      outbound.header("Host", host);
    }
    request.headers().forEach((name, value) -> {
      if (!NOT_COPIED.contains(name.toLowerCase(Locale.ROOT))) {
        outbound.header(name, value);
      }
    });
    if ("100-continue".equalsIgnoreCase(request.header("Expect"))) {
      outbound.expectContinue(true);
    }
    Upstream.RequestBodyStream bodyStream = null;
    if (Upstream.sendsBody(request)) {
      InputStream opened = request.body().open();
      Upstream.RequestBodyStream stream = new Upstream.RequestBodyStream(opened);
      bodyStream = stream;
      HttpRequest.BodyPublisher streamed = HttpRequest.BodyPublishers.ofInputStream(() -> stream);
      long length = request.body().length();
      outbound.method(request.method(), length < 0 ? streamed : HttpRequest.BodyPublishers.fromPublisher(streamed, length));
    } else {
      outbound.method(request.method(), HttpRequest.BodyPublishers.noBody());
    }

    Permit permit = acquire(request, authority);
    HttpResponse<InputStream> response;
    try {
      response = client.send(outbound.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException | RuntimeException e) {
      permit.release();
      if (bodyStream != null && bodyStream.failure() != null) {
        throw bodyStream.failure();
      }
      throw map(e, request);
    } catch (InterruptedException e) {
      permit.release();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for upstream " + authority);
    }
    return toProxyResponse(response, permit);
  }

  private ProxyResponse toProxyResponse(HttpResponse<InputStream> response, Permit permit) throws IOException {
    InputStream body = response.body();
    HttpHeaders.Builder headers = HttpHeaders.builder();
    try {
      response.headers().map().forEach((name, values) -> {
        if (!name.startsWith(":")) {
          values.forEach(value -> headers.add(name, value));
        }
      });
    } catch (IllegalArgumentException e) {
      body.close();
      permit.release();
      throw ProxyStatusException.badGateway("upstream sent an illegal header: " + e.getMessage(), e);
    }
    List<String> length = response.headers().allValues("Content-Length");
    long contentLength = -1;
    if (length.size() == 1 && !response.headers().firstValue("Transfer-Encoding").isPresent()) {
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
        return Upstream.connectTimeout(request, config, failure);
      }
      if (cause instanceof HttpTimeoutException) {
        return ProxyStatusException.gatewayTimeout("upstream " + Upstream.authority(request) + " did not answer within "
            + Upstream.seconds(config.responseTimeout), failure);
      }
    }
    return Upstream.failure(failure, request, config);
  }

  private Permit acquire(ProxyRequest request, String authority) throws IOException {
    Semaphore route = connectionsPerRoute.computeIfAbsent(request.scheme() + "://" + authority,
        key -> new Semaphore(config.maxConnectionsPerRoute, true));
    long deadline = System.nanoTime() + config.poolWaitTimeout.toNanos();
    try {
      if (!connections.tryAcquire(config.poolWaitTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw Upstream.poolExhausted(request, config, null);
      }
      if (!route.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        connections.release();
        throw Upstream.poolExhausted(request, config, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a connection to " + authority);
    }
    return new Permit(route);
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
    private final Semaphore route;
    private @Nullable Semaphore released;

    Permit(Semaphore route) {
      this.route = route;
    }

    synchronized void release() {
      if (released == null) {
        released = route;
        route.release();
        connections.release();
      }
    }
  }
}

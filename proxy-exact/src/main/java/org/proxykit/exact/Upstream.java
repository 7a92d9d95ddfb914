package org.proxykit.exact;

import static org.proxykit.api.spi.TransportProvider.CONNECT_TIMEOUT;
import static org.proxykit.api.spi.TransportProvider.IDLE_TIMEOUT;
import static org.proxykit.api.spi.TransportProvider.MAX_CONNECTIONS;
import static org.proxykit.api.spi.TransportProvider.MAX_CONNECTIONS_PER_ROUTE;
import static org.proxykit.api.spi.TransportProvider.POOL_WAIT_TIMEOUT;
import static org.proxykit.api.spi.TransportProvider.RESPONSE_TIMEOUT;
import static org.proxykit.api.spi.TransportProvider.SSL_CONTEXT;
import static org.proxykit.api.spi.TransportProvider.TRUST_STORE;
import static org.proxykit.api.spi.TransportProvider.TRUST_STORE_PASSWORD;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;

/** What the built-in transports share: their settings, the body rule and the failure mapping. */
final class Upstream {
  static final Set<String> SETTING_KEYS = Set.of(CONNECT_TIMEOUT, RESPONSE_TIMEOUT, POOL_WAIT_TIMEOUT,
      MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ROUTE, IDLE_TIMEOUT, SSL_CONTEXT, TRUST_STORE, TRUST_STORE_PASSWORD);
  /** Limits on what an upstream may send in a response head; beyond them the answer is 502. */
  static final int MAX_RESPONSE_HEADERS = 200;
  static final int MAX_RESPONSE_LINE = 64 * 1024;
  private static final java.util.regex.Pattern DECIMAL = java.util.regex.Pattern.compile("\\d{1,18}");
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
  private static final Set<String> BODY_EXPECTED = Set.of("POST", "PUT", "PATCH");

  private Upstream() {}

  /**
   * The settings every built-in transport reads, with proxykit's defaults; also what a direct
   * sender of {@link ExactProxy}'s forwards honours.
   */
  static final class Config implements org.proxykit.api.Forward.Direct {
    final Duration connectTimeout;
    final Duration responseTimeout;
    final Duration poolWaitTimeout;
    final Duration idleTimeout;
    final int maxConnections;
    final int maxConnectionsPerRoute;
    final @Nullable SSLContext sslContext;

    Config(Settings settings) {
      settings.checkKnown(SETTING_KEYS);
      connectTimeout = positive(settings, CONNECT_TIMEOUT, Duration.ofSeconds(10));
      responseTimeout = positive(settings, RESPONSE_TIMEOUT, Duration.ofSeconds(60));
      poolWaitTimeout = positive(settings, POOL_WAIT_TIMEOUT, Duration.ofSeconds(10));
      idleTimeout = positive(settings, IDLE_TIMEOUT, Duration.ofSeconds(30));
      maxConnections = atLeastOne(settings, MAX_CONNECTIONS, 256);
      maxConnectionsPerRoute = atLeastOne(settings, MAX_CONNECTIONS_PER_ROUTE, 64);
      sslContext = sslContext(settings);
    }

    @Override
    public Duration connectTimeout() {
      return connectTimeout;
    }

    @Override
    public Duration responseTimeout() {
      return responseTimeout;
    }

    @Override
    public Duration poolWaitTimeout() {
      return poolWaitTimeout;
    }

    @Override
    public int maxConnectionsPerRoute() {
      return maxConnectionsPerRoute;
    }

    @Override
    public boolean maySendAgain(String method) {
      return isIdempotent(method);
    }

    @Override
    public boolean framesEmptyBody(String method) {
      return BODY_EXPECTED.contains(method);
    }

    @Override
    public ProxyStatusException failure(ProxyRequest request, Throwable cause) {
      return Upstream.failure(cause, request, this);
    }

    @Override
    public ProxyStatusException connectTimedOut() {
      return Upstream.connectTimeout(this, null);
    }

    @Override
    public ProxyStatusException responseTimedOut() {
      return Upstream.responseTimeout(this, null);
    }

    @Override
    public ProxyStatusException poolExhausted() {
      return Upstream.poolExhausted(this, null);
    }

    @Override
    public ProxyStatusException uploadStalled() {
      return Upstream.uploadStalled(this, null);
    }

    @Override
    public @Nullable ProxyStatusException refuseFraming(@Nullable String transferEncoding, java.util.List<String> contentLengths) {
      try {
        checkFraming(transferEncoding != null, contentLengths);
        if (transferEncoding != null && !transferEncoding.strip().equalsIgnoreCase("chunked")) {
          return Upstream.invalidAnswer(new IOException("response has Transfer-Encoding: " + transferEncoding));
        }
        return null;
      } catch (ProxyStatusException e) {
        return e;
      }
    }

    private static Duration positive(Settings settings, String key, Duration fallback) {
      Duration value = settings.duration(key, fallback);
      if (value == null || value.isZero()) {
        throw new IllegalArgumentException(settings.pathOf(key) + ": must be more than 0");
      }
      // a client library would read a timeout that rounds to 0 ms as "none"
      return value.toMillis() == 0 ? Duration.ofMillis(1) : value;
    }

    private static int atLeastOne(Settings settings, String key, int fallback) {
      int value = settings.integer(key, fallback);
      if (value < 1) {
        throw new IllegalArgumentException(settings.pathOf(key) + ": must be at least 1, got " + value);
      }
      return value;
    }

    private static @Nullable SSLContext sslContext(Settings settings) {
      SSLContext given = settings.instance(SSL_CONTEXT, SSLContext.class, null);
      String trustStore = settings.string(TRUST_STORE, null);
      if (given != null || trustStore == null) {
        return given;
      }
      String password = settings.string(TRUST_STORE_PASSWORD, "");
      try {
        KeyStore store = KeyStore.getInstance(Path.of(trustStore).toFile(), password.toCharArray());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException(settings.pathOf(TRUST_STORE) + ": cannot read trust store '"
            + trustStore + "': " + e.getMessage());
      }
    }
  }

  /** Returns true if the request is sent with a body (and so with framing): any body, or an empty one for POST, PUT, PATCH. */
  static boolean sendsBody(ProxyRequest request) {
    return request.body().length() != 0 || BODY_EXPECTED.contains(request.method());
  }

  /** Returns true if the method is idempotent (RFC 9110 section 9.2.2), so a request never answered may be sent again. */
  static boolean isIdempotent(String method) {
    return IDEMPOTENT.contains(method);
  }

  /**
   * Refuses a response whose framing is ambiguous (RFC 9112 section 6.3): Transfer-Encoding
   * with Content-Length, or lengths that differ or are not decimal. A proxy that guessed
   * would pass on a body the upstream did not mean.
   */
  static void checkFraming(boolean transferEncoding, java.util.List<String> contentLengths) throws ProxyStatusException {
    if (transferEncoding && !contentLengths.isEmpty()) {
      throw invalidAnswer(new IOException("response has both Transfer-Encoding and Content-Length"));
    }
    String first = null;
    for (String value : contentLengths) {
      for (String element : value.split(",", -1)) {
        String length = element.strip();
        if (!DECIMAL.matcher(length).matches() || first != null && !first.equals(length)) {
          throw invalidAnswer(new IOException("response has a bad or ambiguous Content-Length"));
        }
        first = length;
      }
    }
  }

  /** Closes {@code closeable}, ignoring a failure: the request failed already, and that failure is the one to report. */
  static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException ignored) {
      // see above
    }
  }

  /** Returns {@code serverName:serverPort}, the name bracketed if it is an IPv6 address. */
  static String authority(ProxyRequest request) {
    String host = request.serverName().indexOf(':') >= 0 ? '[' + request.serverName() + ']' : request.serverName();
    return host + ':' + request.serverPort();
  }

  /**
   * Maps a failure that is not specific to a client library to the answer the client gets.
   * Reasons are generic: the upstream's address and the exception stay in the cause, for the log.
   */
  static ProxyStatusException failure(Throwable failure, ProxyRequest request, Config config) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof UnknownHostException || cause instanceof UnresolvedAddressException) {
        return ProxyStatusException.badGateway("bad domain name: " + request.serverName(), failure);
      }
    }
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ProxyStatusException) {
        return (ProxyStatusException) cause;
      }
      if (cause instanceof SocketTimeoutException) {
        return responseTimeout(config, failure);
      }
      if (cause instanceof ConnectException) {
        return ProxyStatusException.badGateway("cannot connect to upstream: connection refused", failure);
      }
      if (cause instanceof SSLException) {
        return ProxyStatusException.badGateway("TLS with upstream failed", failure);
      }
    }
    return ProxyStatusException.badGateway("upstream failed", failure);
  }

  static ProxyStatusException connectTimeout(Config config, @Nullable Throwable cause) {
    return ProxyStatusException.gatewayTimeout("cannot connect to upstream within " + seconds(config.connectTimeout), cause);
  }

  static ProxyStatusException responseTimeout(Config config, @Nullable Throwable cause) {
    return ProxyStatusException.gatewayTimeout("upstream did not answer within " + seconds(config.responseTimeout), cause);
  }

  static ProxyStatusException poolExhausted(Config config, @Nullable Throwable cause) {
    return ProxyStatusException.serviceUnavailable(
        "no free upstream connection within " + seconds(config.poolWaitTimeout), cause);
  }

  static ProxyStatusException uploadStalled(Config config, @Nullable Throwable cause) {
    return ProxyStatusException.gatewayTimeout(
        "upstream stopped reading the request body for " + seconds(config.responseTimeout), cause);
  }

  static ProxyStatusException noAnswer(Throwable cause) {
    return ProxyStatusException.badGateway("upstream closed the connection without an answer", cause);
  }

  static ProxyStatusException invalidAnswer(Throwable cause) {
    return ProxyStatusException.badGateway("upstream sent an invalid response", cause);
  }

  static String seconds(Duration duration) {
    return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
  }

  /**
   * The request body as the transport reads it. Remembers whether reading it failed, so a
   * client that went away is not reported as an upstream failure, and calls {@code onFailure}
   * at once, before the client library can close the upload as if it were complete. Tracks
   * progress for the {@link UploadWatchdog}.
   */
  static final class RequestBodyStream extends FilterInputStream {
    private final Runnable onFailure;
    private volatile @Nullable IOException failure;
    private volatile boolean reading;
    private volatile boolean done;
    private volatile long lastProgress = System.nanoTime();

    RequestBodyStream(InputStream in, Runnable onFailure) {
      super(in);
      this.onFailure = onFailure;
    }

    @Nullable IOException failure() {
      return failure;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      reading = true;
      try {
        int n = in.read(buffer, offset, length);
        if (n < 0) {
          done = true;
        }
        return n;
      } catch (IOException e) {
        failure = e;
        done = true;
        onFailure.run();
        throw e;
      } finally {
        reading = false;
        lastProgress = System.nanoTime();
      }
    }

    @Override
    public void close() throws IOException {
      done = true;
      in.close();
    }

    /** Returns true if the upload has not moved for {@code timeout} while the client library was not waiting for the client. */
    boolean stalledOnUpstream(Duration timeout) {
      return !done && !reading && System.nanoTime() - lastProgress > timeout.toNanos();
    }

    boolean done() {
      return done;
    }
  }

  /**
   * Aborts uploads the upstream stopped reading: blocking socket writes have no timeout of
   * their own, so without this a stalled upstream would hold the request forever. A client
   * that is slow to send is not the upstream's fault and is left to the server's own limits.
   */
  static final class UploadWatchdog implements java.io.Closeable {
    private final java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(task -> {
          Thread thread = new Thread(task, "proxykit-upload-watchdog");
          thread.setDaemon(true);
          return thread;
        });

    /** Watches {@code body} until it is done; calls {@code abort} once if it stalls on the upstream. */
    void watch(RequestBodyStream body, Duration timeout, Runnable abort) {
      long period = Math.max(10, timeout.toMillis() / 4);
      java.util.concurrent.atomic.AtomicReference<java.util.concurrent.Future<?>> self =
          new java.util.concurrent.atomic.AtomicReference<>();
      self.set(timer.scheduleWithFixedDelay(() -> {
        if (body.done()) {
          self.get().cancel(false);
        } else if (body.stalledOnUpstream(timeout)) {
          self.get().cancel(false);
          abort.run();
        }
      }, period, period, java.util.concurrent.TimeUnit.MILLISECONDS));
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }
}

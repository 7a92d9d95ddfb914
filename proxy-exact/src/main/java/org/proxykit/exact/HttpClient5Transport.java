package org.proxykit.exact;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpRequestRetryStrategy;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.ssl.SSLContexts;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Transport;

/**
 * The {@code httpclient5} transport: Apache HttpClient 5 classic, blocking I/O, pooled
 * keep-alive connections. Response heads are read by {@link StrictResponseParser}: one that
 * is not exactly CRLF-delimited HTTP/1.1 (bare LF, bare CR, NUL, obs-fold) is 502.
 */
final class HttpClient5Transport implements Transport {

  private final Upstream.Config config;
  private final PoolingHttpClientConnectionManager pool;
  private final CloseableHttpClient client;
  private final Upstream.UploadWatchdog watchdog = new Upstream.UploadWatchdog();

  HttpClient5Transport(Upstream.Config config) {
    this.config = config;
    Timeout connectTimeout = timeout(config.connectTimeout);
    Timeout responseTimeout = timeout(config.responseTimeout);
    this.pool = PoolingHttpClientConnectionManagerBuilder.create()
        .setMaxConnTotal(config.maxConnections)
        .setMaxConnPerRoute(config.maxConnectionsPerRoute)
        .setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).setSoTimeout(responseTimeout).build())
        .setDefaultConnectionConfig(ConnectionConfig.custom()
            .setConnectTimeout(connectTimeout)
            .setSocketTimeout(responseTimeout)
            .setValidateAfterInactivity(TimeValue.ofSeconds(2))
            .build())
        // the strict parser reads response heads; HttpClient's limits still bound chunk-size and trailer lines
        .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
            .http1Config(Http1Config.custom().setMaxHeaderCount(Upstream.MAX_RESPONSE_HEADERS)
                .setMaxLineLength(Upstream.MAX_RESPONSE_LINE)
                .build())
            .responseParserFactory(StrictResponseParser.FACTORY)
            .build())
        .setTlsSocketStrategy(new DefaultClientTlsStrategy(
            config.sslContext != null ? config.sslContext : SSLContexts.createSystemDefault()))
        .build();
    this.client = HttpClientBuilder.create()
        .setConnectionManager(pool)
        .setDefaultRequestConfig(RequestConfig.custom()
            .setConnectionRequestTimeout(timeout(config.poolWaitTimeout))
            .setResponseTimeout(responseTimeout)
            .setRedirectsEnabled(false)
            .setAuthenticationEnabled(false)
            .setContentCompressionEnabled(false)
            .setProtocolUpgradeEnabled(false)
            .setExpectContinueEnabled(false)
            .build())
        .disableRedirectHandling()
        .disableContentCompression()
        .disableCookieManagement()
        .disableAuthCaching()
        .disableDefaultUserAgent()
        .disableConnectionState()
        .setRetryStrategy(new NeverAnsweredRetry())
        .evictIdleConnections(TimeValue.of(config.idleTimeout.toMillis(), TimeUnit.MILLISECONDS))
        .build();
  }

  @Override
  public ProxyResponse send(ProxyRequest request) throws IOException {
    HttpHost target = new HttpHost(request.scheme(), request.serverName(), request.serverPort());
    HttpUriRequestBase outbound;
    try {
      outbound = new HttpUriRequestBase(request.method(),
          URI.create(request.scheme() + "://" + Upstream.authority(request) + "/"));
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badGateway("cannot address upstream", e);
    }
    outbound.setPath(request.requestTarget());
    request.headers().forEach((name, value) -> {
      if (!name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Transfer-Encoding")) {
        outbound.addHeader(name, value);
      }
    });
    Upstream.RequestBodyStream body = null;
    AtomicBoolean stalled = new AtomicBoolean();
    if (Upstream.sendsBody(request)) {
      // a failing body must kill the connection before HttpClient could end the upload as if complete
      body = new Upstream.RequestBodyStream(request.body().open(), outbound::cancel);
      outbound.setEntity(new InputStreamEntity(body, request.body().length(), null));
      watchdog.watch(body, config.responseTimeout, () -> {
        stalled.set(true);
        outbound.cancel();
      });
    }
    ClassicHttpResponse response;
    try {
      response = client.executeOpen(target, outbound, null);
    } catch (IOException | RuntimeException e) {
      if (body != null) {
        Upstream.closeQuietly(body);
        if (body.failure() != null) {
          throw body.failure();
        }
      }
      throw stalled.get() ? Upstream.uploadStalled(config, e) : map(e, request);
    }
    try {
      return toProxyResponse(response, outbound);
    } catch (RuntimeException | ProxyStatusException e) {
      abort(outbound, response);
      throw e;
    }
  }

  private static java.util.List<String> values(ClassicHttpResponse response, String name) {
    java.util.List<String> values = new java.util.ArrayList<>();
    for (Header header : response.getHeaders(name)) {
      values.add(header.getValue());
    }
    return values;
  }

  /**
   * Shuts the connection and gives up its lease. Closing the response alone would read the
   * rest of the body to keep the connection, which for an abandoned download never ends.
   */
  private static void abort(HttpUriRequestBase outbound, ClassicHttpResponse response) {
    outbound.cancel();
    Upstream.closeQuietly(response);
  }

  private ProxyResponse toProxyResponse(ClassicHttpResponse response, HttpUriRequestBase outbound)
      throws ProxyStatusException, IOException {
    Upstream.checkFraming(response.containsHeader("Transfer-Encoding"), values(response, "Content-Length"));
    HttpHeaders.Builder headers = HttpHeaders.builder();
    for (Header header : response.getHeaders()) {
      try {
        headers.add(header.getName(), header.getValue());
      } catch (IllegalArgumentException e) {
        throw ProxyStatusException.badGateway("upstream sent an illegal header: " + e.getMessage(), e);
      }
    }
    ProxyResponse.Builder built = ProxyResponse.builder()
        .status(response.getCode())
        .reason(response.getReasonPhrase() == null ? "" : response.getReasonPhrase())
        .headers(headers.build());
    HttpEntity entity = response.getEntity();
    if (entity == null) {
      response.close();
    } else {
      built.body(new ResponseBody(entity.getContent(), entity.getContentLength(), complete -> {
        if (complete) {
          response.close();
        } else {
          abort(outbound, response);
        }
      }));
    }
    return built.build();
  }

  private ProxyStatusException map(Exception failure, ProxyRequest request) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ConnectTimeoutException) {
        return Upstream.connectTimeout(config, failure);
      }
      if (cause instanceof ConnectionRequestTimeoutException) {
        return Upstream.poolExhausted(config, failure);
      }
      if (cause instanceof NoHttpResponseException) {
        return Upstream.noAnswer(failure);
      }
      if (cause instanceof ProtocolException || cause instanceof MessageConstraintException) {
        return Upstream.invalidAnswer(failure);
      }
    }
    return Upstream.failure(failure, request, config);
  }

  /** Leased and pending pool entries, for leak checks in tests. */
  PoolStats poolStats() {
    return pool.getTotalStats();
  }

  @Override
  public void close() throws IOException {
    watchdog.close();
    client.close();
  }

  @Override
  public String toString() {
    return "httpclient5";
  }

  private static Timeout timeout(java.time.Duration duration) {
    return Timeout.ofMilliseconds(duration.toMillis());
  }

  /**
   * Sends a request again only if the upstream closed the connection without answering (as
   * a kept-alive connection the upstream timed out does), only once, and only if its method
   * is idempotent. HttpClient itself refuses to resend a streamed body. Responses are never
   * retried.
   */
  private static final class NeverAnsweredRetry implements HttpRequestRetryStrategy {
    @Override
    public boolean retryRequest(HttpRequest request, IOException exception, int execCount, HttpContext context) {
      return execCount <= 1 && exception instanceof NoHttpResponseException && Upstream.isIdempotent(request.getMethod());
    }

    @Override
    public boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
      return false;
    }

    @Override
    public TimeValue getRetryInterval(HttpResponse response, int execCount, HttpContext context) {
      return TimeValue.ZERO_MILLISECONDS;
    }
  }
}

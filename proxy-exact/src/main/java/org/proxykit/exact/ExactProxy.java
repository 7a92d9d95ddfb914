package org.proxykit.exact;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.proxykit.api.Body;
import org.proxykit.api.Forward;
import org.proxykit.api.ForwardingHandler;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.spi.ProviderRegistry;
import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.api.spi.TransportProvider;

/**
 * Sends the exact request it is given to {@code scheme://serverName:serverPort} and returns
 * the upstream's answer: the Java form of WSGIProxy's {@code proxy_exact_request}, and the
 * handler every other proxykit handler builds on. It is also a plain HTTP client:
 * <pre>{@code
 * try (ExactProxy http = ExactProxy.create();
 *      ProxyResponse response = http.handle(ProxyRequest.blank("http://127.0.0.1:8080/x"))) {
 *   byte[] bytes = response.body().open().readAllBytes();
 * }
 * }</pre>
 *
 * <p><b>What is sent:</b> the method, {@code scriptName + pathInfo} byte for byte ({@code /}
 * if both are empty) and {@code ?queryString} when there is one, every end-to-end header
 * with Host exactly as the request carries it (it may differ from serverName, as with
 * Apache's ProxyPreserveHost), and the body streamed, with Content-Length when its length is
 * known and chunked otherwise. Nothing of proxykit's is added: no X-Forwarded-*, no Via (a
 * transport may add what its connection needs, such as {@code Connection: keep-alive}).
 *
 * <p><b>What comes back:</b> any status (even 799), the reason phrase, every end-to-end
 * header (repeated ones in order) and the body as it arrives. Responses to HEAD and 1xx,
 * 204 and 304 responses have no body. Hop-by-hop headers (Connection and every header it
 * names, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) are dropped
 * in both directions; Connection cannot name Host, Authorization, the framing headers or
 * the proxy protocol's headers away. A response with both Transfer-Encoding and
 * Content-Length, or with lengths that disagree, is refused with 502. Redirects are not followed, bodies not decompressed, cookies not
 * kept, and requests that are not idempotent never retried.
 *
 * <p><b>Failures</b> are {@link org.proxykit.api.ProxyStatusException}s: 502 for a name that
 * does not resolve ({@code bad domain name: NAME}), a refused connection or an invalid
 * answer; 504 when connecting or the answer takes longer than configured; 503 when no pooled
 * connection frees up in time. A failure reading the request body (the client went away) is
 * rethrown as is and aborts the upstream exchange.
 *
 * <p><b>Sending without blocking:</b> as a {@link ForwardingHandler}, its forwards are direct
 * when the transport is the default one built from settings ({@code httpclient5}): a host
 * with its own non-blocking client (proxykit's server) may send them, honouring the same
 * timeouts and limits and giving the same failure answers. With a transport given or chosen
 * by name, every request goes through that transport.
 *
 * <p>Thread-safe. The caller closes each response; {@link #close()} releases the transport
 * if this proxy created it.
 *
 * @since 0.1
 */
public final class ExactProxy implements ForwardingHandler, Closeable {
  /** System property naming the transport when neither code nor config does. */
  public static final String TRANSPORT_PROPERTY = "proxykit.transport";

  private final Transport transport;
  private final boolean ownsTransport;
  private final String transportName;
  private final Forward.@Nullable Direct direct;

  private ExactProxy(Transport transport, boolean ownsTransport, String transportName, Forward.@Nullable Direct direct) {
    this.transport = transport;
    this.ownsTransport = ownsTransport;
    this.transportName = transportName;
    this.direct = direct;
  }

  /**
   * Returns an exact proxy on the default transport: the one named by the system property
   * {@value #TRANSPORT_PROPERTY}, else the highest priority found ({@code httpclient5}),
   * with default settings.
   */
  public static ExactProxy create() {
    return builder().build();
  }

  /** Returns a builder to choose the transport and its settings. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    return forward(request).send();
  }

  @Override
  public Forward forward(ProxyRequest request) {
    ProxyRequest outbound = request.toBuilder().headers(HopByHop.strip(request.headers())).build();
    String method = request.method();
    return Forward.of(outbound, direct, transport::send).thenAnswer(response -> passOn(method, response));
  }

  private static ProxyResponse passOn(String method, ProxyResponse response) throws IOException {
    ProxyResponse.Builder passed = response.toBuilder().headers(HopByHop.strip(response.headers()));
    if (!mayHaveBody(method, response.status())) {
      response.body().close();
      passed.body(Body.empty());
    }
    return passed.build();
  }

  private static boolean mayHaveBody(String method, int status) {
    return !method.equals("HEAD") && status >= 200 && status != 204 && status != 304;
  }

  /** Returns the transport this proxy sends with. */
  public Transport transport() {
    return transport;
  }

  /** Closes the transport if this proxy created it; responses still open are aborted. */
  @Override
  public void close() throws IOException {
    if (ownsTransport) {
      transport.close();
    }
  }

  @Override
  public String toString() {
    return "ExactProxy(" + transportName + ")";
  }

  /**
   * Chooses the transport of an {@link ExactProxy} and configures it. Typed setters and
   * {@link #setting} write the same {@link Settings} the YAML config uses.
   */
  public static final class Builder {
    private @Nullable String transportName;
    private @Nullable Transport transport;
    private final Map<String, Object> settings = new LinkedHashMap<>();
    private String settingsPath = "";
    private ClassLoader classLoader = ExactProxy.class.getClassLoader();

    private Builder() {}

    /** Selects the transport provider by name, such as {@code httpclient5} or {@code jdk}. */
    public Builder transport(String name) {
      this.transportName = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Uses {@code transport}, which stays the caller's to close; settings are then ignored. */
    public Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /** Replaces all settings with {@code settings}, keeping their path for error messages. */
    public Builder settings(Settings settings) {
      this.settings.clear();
      this.settings.putAll(settings.asMap());
      this.settingsPath = settings.path();
      return this;
    }

    /** Sets one transport setting; see the keys on {@link TransportProvider}. */
    public Builder setting(String key, Object value) {
      settings.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Sets how long connecting may take before 504; default 10s. */
    public Builder connectTimeout(Duration timeout) {
      return setting(TransportProvider.CONNECT_TIMEOUT, timeout);
    }

    /** Sets how long the upstream may stay silent before 504 (or, mid-body, an aborted body); default 60s. */
    public Builder responseTimeout(Duration timeout) {
      return setting(TransportProvider.RESPONSE_TIMEOUT, timeout);
    }

    /** Sets how long to wait for a free pooled connection before 503; default 10s. */
    public Builder poolWaitTimeout(Duration timeout) {
      return setting(TransportProvider.POOL_WAIT_TIMEOUT, timeout);
    }

    /** Sets the maximum number of upstream connections in all; default 256. */
    public Builder maxConnections(int max) {
      return setting(TransportProvider.MAX_CONNECTIONS, max);
    }

    /** Sets the maximum number of connections to one host:port; default 64. */
    public Builder maxConnectionsPerRoute(int max) {
      return setting(TransportProvider.MAX_CONNECTIONS_PER_ROUTE, max);
    }

    /** Sets the TLS context for https upstreams, in place of the system trust store. */
    public Builder sslContext(SSLContext context) {
      return setting(TransportProvider.SSL_CONTEXT, context);
    }

    /** Sets the class loader transports are discovered with; default: proxykit's own. */
    public Builder classLoader(ClassLoader classLoader) {
      this.classLoader = Objects.requireNonNull(classLoader, "classLoader");
      return this;
    }

    /**
     * Returns the proxy, creating its transport unless one was given.
     *
     * @throws IllegalArgumentException naming the setting or transport at fault
     */
    public ExactProxy build() {
      if (transport != null) {
        return new ExactProxy(transport, false, transport.toString(), null);
      }
      String name = transportName != null ? transportName : System.getProperty(TRANSPORT_PROPERTY);
      TransportProvider provider = ProviderRegistry.load(TransportProvider.class, classLoader).select(name);
      Settings settings = Settings.of(settingsPath, this.settings);
      Transport created = provider.create(settings);
      boolean chosen = name != null && !name.equals(HttpClient5TransportProvider.NAME);
      return new ExactProxy(created, true, provider.name(),
          chosen || !provider.name().equals(HttpClient5TransportProvider.NAME) ? null : new Upstream.Config(settings));
    }
  }
}

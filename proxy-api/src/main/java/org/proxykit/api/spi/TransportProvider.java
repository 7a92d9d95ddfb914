package org.proxykit.api.spi;

/**
 * Makes {@link Transport}s: the service-provider type an HTTP client library plugs in by.
 * List the implementation in {@code META-INF/services/org.proxykit.api.spi.TransportProvider}.
 * Built in: {@code httpclient5} (the default) and {@code jdk}.
 *
 * <p>Every transport understands the setting keys declared here; a provider may read more
 * of its own and should reject keys it does not know ({@link Settings#checkKnown}).
 *
 * @since 0.1
 */
public interface TransportProvider extends Provider {

  /** Key of the connect timeout, a duration; default 10s. */
  String CONNECT_TIMEOUT = "connectTimeout";
  /** Key of the time allowed between bytes of the response (head or body), a duration; default 60s. */
  String RESPONSE_TIMEOUT = "responseTimeout";
  /** Key of the time to wait for a free pooled connection before 503, a duration; default 10s. */
  String POOL_WAIT_TIMEOUT = "poolWaitTimeout";
  /** Key of the maximum number of connections in all, an integer; default 256. */
  String MAX_CONNECTIONS = "maxConnections";
  /** Key of the maximum number of connections to one host:port, an integer; default 64. */
  String MAX_CONNECTIONS_PER_ROUTE = "maxConnectionsPerRoute";
  /** Key of how long an idle pooled connection is kept, a duration; default 30s. */
  String IDLE_TIMEOUT = "idleTimeout";
  /** Key of a {@link javax.net.ssl.SSLContext} (an object) that replaces the system trust for https. */
  String SSL_CONTEXT = "sslContext";
  /** Key of a trust store file (PKCS12 or JKS) for https, instead of the system's. */
  String TRUST_STORE = "trustStore";
  /** Key of the trust store's password. */
  String TRUST_STORE_PASSWORD = "trustStorePassword";

  /**
   * Makes a transport configured by {@code settings}.
   *
   * @throws IllegalArgumentException naming the key if a setting is unknown or bad
   */
  Transport create(Settings settings);
}

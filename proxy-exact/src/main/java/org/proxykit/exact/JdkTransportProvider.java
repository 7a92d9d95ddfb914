package org.proxykit.exact;

import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.api.spi.TransportProvider;

/**
 * Provides the {@code jdk} transport (priority 10): {@link java.net.http.HttpClient}, for
 * those who want no HTTP client dependency at run time. It reads every key declared on
 * {@link TransportProvider} and refuses others.
 *
 * <p>To send a Host header that differs from the address it connects to, the JDK client
 * needs {@code -Djdk.httpclient.allowRestrictedHeaders=host}; {@link #create} sets that
 * property when it is not set, which works if nothing in the JVM used the JDK HTTP client
 * before. Otherwise such requests are refused with 502 and a log line says what to do. The
 * JDK client also hides reason phrases, adds a User-Agent when there is none, and does not
 * time out a response body that stalls.
 *
 * @since 0.1
 */
public final class JdkTransportProvider implements TransportProvider {
  /** The name that selects this transport. */
  public static final String NAME = "jdk";

  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public JdkTransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int priority() {
    return 10;
  }

  @Override
  public Transport create(Settings settings) {
    return new JdkTransport(new Upstream.Config(settings));
  }
}

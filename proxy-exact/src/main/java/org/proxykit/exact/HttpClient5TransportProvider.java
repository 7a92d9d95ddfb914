package org.proxykit.exact;

import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.api.spi.TransportProvider;

/**
 * Provides the {@code httpclient5} transport, the default (priority 100): Apache HttpClient 5
 * with a pool of keep-alive connections. It reads every key declared on
 * {@link TransportProvider} and refuses others.
 *
 * @since 0.1
 */
public final class HttpClient5TransportProvider implements TransportProvider {
  /** The name that selects this transport. */
  public static final String NAME = "httpclient5";

  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public HttpClient5TransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Transport create(Settings settings) {
    return new HttpClient5Transport(new Upstream.Config(settings));
  }
}

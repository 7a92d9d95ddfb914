package org.proxykit.undertow;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.exact.ExactProxy;
import org.proxykit.exact.ForwardProxyFilter;

/**
 * The {@code forward} handler: proxykit as the HTTP proxy of browsers and {@code curl -x}.
 * Absolute-form requests go through {@link ForwardProxyFilter} and {@link ExactProxy};
 * {@code CONNECT host:port} opens a TCP tunnel, for https, to the ports allowed only (443 by
 * default) so that the proxy is not an open relay to any service.
 */
final class ForwardProxy implements ProxyHandler, Closeable {
  private final ExactProxy exact;
  private final ForwardProxyFilter filter;
  private final Set<Integer> connectPorts;
  private final Set<Integer> httpPorts;
  private final Duration connectTimeout;
  private final Duration tunnelIdleTimeout;

  ForwardProxy(ExactProxy exact, Set<Integer> connectPorts, Set<Integer> httpPorts, Duration connectTimeout,
      Duration tunnelIdleTimeout) {
    this.exact = exact;
    this.filter = new ForwardProxyFilter(exact);
    this.connectPorts = Set.copyOf(connectPorts);
    this.httpPorts = Set.copyOf(httpPorts);
    this.connectTimeout = connectTimeout;
    this.tunnelIdleTimeout = tunnelIdleTimeout;
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    ProxyRequest destination = ForwardProxyFilter.toDestination(request);
    if (!httpPorts.contains(destination.serverPort())) {
      throw org.proxykit.api.ProxyStatusException.forbidden("proxying to port " + destination.serverPort()
          + " is not allowed");
    }
    return exact.handle(destination);
  }

  Duration tunnelIdleTimeout() {
    return tunnelIdleTimeout;
  }

  boolean allowsConnectTo(int port) {
    return connectPorts.contains(port);
  }

  Duration connectTimeout() {
    return connectTimeout;
  }

  @Override
  public void close() throws IOException {
    exact.close();
  }

  @Override
  public String toString() {
    return "forward proxy (http to ports " + new java.util.TreeSet<>(httpPorts) + ", CONNECT to ports "
        + new java.util.TreeSet<>(connectPorts) + ") -> " + exact;
  }
}

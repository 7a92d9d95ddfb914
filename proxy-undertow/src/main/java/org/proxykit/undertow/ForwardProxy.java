package org.proxykit.undertow;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Set;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.exact.ExactProxy;
import org.proxykit.exact.ForwardProxyFilter;

/**
 * The {@code forward} handler: proxykit as the HTTP proxy of browsers and {@code curl -x}.
 * Absolute-form requests go through {@link ForwardProxyFilter} and {@link ExactProxy};
 * {@code CONNECT host:port} opens a TCP tunnel, for https, to the ports allowed only (443 by
 * default) so that the proxy is not an open relay to any service. Both reach only the
 * addresses {@link Destinations} allows (not loopback, link-local or multicast by default):
 * the destination's name is resolved once, and the connection goes to the address checked.
 * Refusals are 403 {@code destination not allowed}.
 */
final class ForwardProxy implements ProxyHandler, Closeable {
  private final ProxyHandler relay;
  private final Set<Integer> connectPorts;
  private final Set<Integer> httpPorts;
  private final Destinations destinations;
  private final Duration connectTimeout;
  private final Duration tunnelIdleTimeout;

  /**
   * Makes the forward proxy; {@code relay}, usually an {@link ExactProxy}, sends absolute-form
   * requests on and is closed with it if it is {@link Closeable}.
   */
  ForwardProxy(ProxyHandler relay, Set<Integer> connectPorts, Set<Integer> httpPorts, Destinations destinations,
      Duration connectTimeout, Duration tunnelIdleTimeout) {
    this.relay = java.util.Objects.requireNonNull(relay, "relay");
    this.connectPorts = Set.copyOf(connectPorts);
    this.httpPorts = Set.copyOf(httpPorts);
    this.destinations = destinations;
    this.connectTimeout = connectTimeout;
    this.tunnelIdleTimeout = tunnelIdleTimeout;
  }

  /**
   * Relays an absolute-form request to the address its host resolves to, Host kept as the
   * target's authority (ExactProxy connects to serverName and sends Host as given).
   *
   * @throws ProxyStatusException 403 for a port or address not allowed, or an https target
   *     (those go through CONNECT: TLS to an address could not verify the name)
   */
  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    ProxyRequest destination = ForwardProxyFilter.toDestination(request);
    if (!httpPorts.contains(destination.serverPort())) {
      throw ProxyStatusException.forbidden("proxying to port " + destination.serverPort() + " is not allowed");
    }
    if (!destination.scheme().equals("http")) {
      throw ProxyStatusException.forbidden("https targets are only proxied through CONNECT");
    }
    InetAddress address = destinations.resolve(destination.serverName());
    return relay.handle(destination.toBuilder().serverName(address.getHostAddress()).build());
  }

  /** Returns the address to open a CONNECT tunnel to, checked as {@link #handle} checks. */
  InetAddress resolveConnect(String host) throws ProxyStatusException {
    return destinations.resolve(host);
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
    if (relay instanceof Closeable) {
      ((Closeable) relay).close();
    }
  }

  @Override
  public String toString() {
    return "forward proxy (http to ports " + new java.util.TreeSet<>(httpPorts) + ", CONNECT to ports "
        + new java.util.TreeSet<>(connectPorts) + ", destinations: " + destinations + ") -> " + relay;
  }
}

package org.proxykit.exact;

import java.io.IOException;
import java.util.Objects;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;

/**
 * Turns a request made to a forward proxy into the request to send on: the analog of
 * WSGIProxy's {@code filter_paste_httpserver_proxy}. A browser configured to use a proxy
 * sends the whole URL as the request target ({@code GET http://host:port/path HTTP/1.1});
 * the server puts that absolute-form target in the attribute {@value #TARGET_ATTRIBUTE},
 * and this filter points scheme, serverName, serverPort, path and query at it, so that an
 * {@link ExactProxy} after it sends the request where it was headed.
 *
 * <p>As RFC 9112 section 3.2.2 requires, the Host header is replaced by the target's
 * authority, whatever the client sent; {@code Proxy-Authorization}, meant for this proxy,
 * is not passed on. A request without
 * an absolute-form target, or with one that is not an http URL, is refused with 400.
 *
 * @since 0.1
 */
public final class ForwardProxyFilter implements ProxyHandler {
  /** Attribute holding the absolute-form request target, such as {@code http://example.com/a?b}. */
  public static final String TARGET_ATTRIBUTE = "proxykit.absoluteTarget";

  private final ProxyHandler next;

  /** Makes a filter that passes rewritten requests to {@code next}, usually an {@link ExactProxy}. */
  public ForwardProxyFilter(ProxyHandler next) {
    this.next = Objects.requireNonNull(next, "next");
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    return next.handle(toDestination(request));
  }

  /**
   * Returns {@code request} pointed at its absolute-form target.
   *
   * @throws ProxyStatusException 400 if the request has no usable absolute-form target
   */
  public static ProxyRequest toDestination(ProxyRequest request) throws ProxyStatusException {
    Object target = request.attribute(TARGET_ATTRIBUTE);
    if (!(target instanceof String)) {
      throw ProxyStatusException.badRequest("not a proxy request: the request target must be an absolute http URL");
    }
    ProxyRequest destination;
    try {
      destination = ProxyRequest.blank((String) target);
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badRequest("bad proxy request target: " + e.getMessage());
    }
    return request.toBuilder()
        .scheme(destination.scheme())
        .serverName(destination.serverName())
        .serverPort(destination.serverPort())
        .scriptName("")
        .pathInfo(destination.pathInfo())
        .queryString(destination.queryString())
        .setHeader("Host", Objects.requireNonNull(destination.header("Host")))
        .removeHeader("Proxy-Authorization")
        .removeAttribute(TARGET_ATTRIBUTE)
        .build();
  }

  @Override
  public String toString() {
    return "ForwardProxyFilter -> " + next;
  }
}

package org.proxykit.exact;

import java.io.IOException;
import java.util.Objects;
import org.proxykit.api.HostAndPort;
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
 * is not passed on. A request without an absolute-form target, or with one that is not an
 * http(s) URL, is refused with 400. The target's path and query are taken byte for byte,
 * never decoded or re-encoded.
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
    Target destination = Target.parse((String) target);
    try {
      return request.toBuilder()
          .scheme(destination.scheme)
          .serverName(destination.host)
          .serverPort(destination.port)
          .scriptName("")
          .pathInfo(destination.path)
          .queryString(destination.query)
          .setHeader("Host", destination.authority)
          .removeHeader("Proxy-Authorization")
          .removeAttribute(TARGET_ATTRIBUTE)
          .build();
    } catch (IllegalStateException | IllegalArgumentException e) {
      throw ProxyStatusException.badRequest("bad proxy request target: " + e.getMessage());
    }
  }

  /** An absolute-form target split by hand, so its path and query stay byte for byte as sent. */
  private static final class Target {
    final String scheme;
    final String authority;
    final String host;
    final int port;
    final String path;
    final String query;

    private Target(String scheme, String authority, String host, int port, String path, String query) {
      this.scheme = scheme;
      this.authority = authority;
      this.host = host;
      this.port = port;
      this.path = path;
      this.query = query;
    }

    static Target parse(String target) throws ProxyStatusException {
      int colon = target.indexOf("://");
      String scheme = colon > 0 ? target.substring(0, colon).toLowerCase(java.util.Locale.ROOT) : "";
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw ProxyStatusException.badRequest("bad proxy request target: only http and https URLs can be proxied");
      }
      String rest = target.substring(colon + 3);
      int end = 0;
      while (end < rest.length() && "/?#".indexOf(rest.charAt(end)) < 0) {
        end++;
      }
      String authority = rest.substring(0, end);
      String pathAndQuery = rest.substring(end);
      int fragment = pathAndQuery.indexOf('#');
      if (fragment >= 0) {
        pathAndQuery = pathAndQuery.substring(0, fragment);
      }
      int question = pathAndQuery.indexOf('?');
      String path = question < 0 ? pathAndQuery : pathAndQuery.substring(0, question);
      String query = question < 0 ? "" : pathAndQuery.substring(question + 1);
      if (authority.isEmpty() || authority.indexOf('@') >= 0) {
        throw ProxyStatusException.badRequest("bad proxy request target: it needs host[:port] and no user info");
      }
      HostAndPort hostAndPort;
      try {
        hostAndPort = HostAndPort.parse(authority, scheme.equals("https") ? 443 : 80);
      } catch (IllegalArgumentException e) {
        throw ProxyStatusException.badRequest("bad proxy request target: " + e.getMessage());
      }
      return new Target(scheme, authority, hostAndPort.host(), hostAndPort.port(), path, query);
    }
  }

  @Override
  public String toString() {
    return "ForwardProxyFilter -> " + next;
  }
}

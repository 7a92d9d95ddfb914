package org.proxykit.undertow;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.proxykit.api.Body;
import org.proxykit.api.Forward;
import org.proxykit.api.ForwardingHandler;
import org.proxykit.api.HostAndPort;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.exact.ForwardProxyFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;

/**
 * Undertow's side of proxykit: turns each exchange into a {@link ProxyRequest} for the mounted
 * handler, on a worker thread, and streams the {@link ProxyResponse} back. A
 * {@link ProxyStatusException} becomes its status with a one-line text body; anything else a
 * 500 whose details go to the log only. A failure after the response has started aborts the
 * connection, so the client never takes a cut-short body for a whole one.
 */
final class UndertowHost implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(UndertowHost.class);
  private static final int BUFFER_SIZE = 16 * 1024;

  private final MountTable mounts;
  private final @Nullable ForwardProxy forwardProxy;
  private final DirectForwarder direct;

  UndertowHost(MountTable mounts, DirectForwarder direct) {
    this.mounts = mounts;
    this.direct = direct;
    MountTable.Entry root = mounts.at("/");
    this.forwardProxy = root != null && root.handler() instanceof ForwardProxy ? (ForwardProxy) root.handler() : null;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) {
    RequestGuardConduit.Refusal refusal = RequestGuardConduit.refusal(exchange);
    if (refusal != null) {
      // the request the guard made up in place of one it refused: answer the refusal and close
      exchange.putAttachment(RequestGuardConduit.REFUSED, Boolean.TRUE);
      exchange.setPersistent(false);
      log.debug("refused a request from {}: {} {}", exchange.getSourceAddress(), refusal.status(), refusal.reason());
      answerError(exchange, refusal.status(), refusal.reason(), HttpHeaders.empty());
      return;
    }
    if (exchange.isInIoThread()) {
      if (!forwardInIoThread(exchange)) {
        exchange.dispatch(this);
      }
      return;
    }
    serveBlocking(exchange, null);
  }

  /**
   * Forwards the request from the I/O thread when its handler is a {@link ForwardingHandler}:
   * directly if the forward allows it, else by sending the forward on a worker thread. Returns
   * false, having done nothing, when the request needs the blocking path from the start (a
   * refusal, CONNECT, a handler that is not forwarding).
   */
  private boolean forwardInIoThread(HttpServerExchange exchange) {
    if (exchange.getRequestMethod().equals(Methods.CONNECT) || FramingGuard.check(exchange) != null) {
      return false;
    }
    ProxyRequest request;
    MountTable.Match match;
    try {
      match = exchange.isHostIncludedInRequestURI() ? null : mounts.match(rawPath(exchange));
      if (match == null || !(match.entry().handler() instanceof ForwardingHandler)) {
        return false;
      }
      request = toRequest(exchange, match);
    } catch (ProxyStatusException e) {
      return false;  // the blocking path answers it, with the same checks
    }
    try {
      Forward forward = ((ForwardingHandler) match.entry().handler()).forward(request);
      if (DirectForwarder.canSend(forward)) {
        // dispatching to the same thread tells Undertow the exchange goes on after this returns
        exchange.dispatch(SameThreadExecutor.INSTANCE, () -> direct.send(exchange, forward,
            () -> exchange.getConnection().getWorker().execute(() -> serveBlocking(exchange, forward))));
      } else {
        exchange.dispatch(() -> serveBlocking(exchange, forward));
      }
      return true;
    } catch (IOException | RuntimeException e) {
      // forward() has run and may not run twice: answer here
      exchange.dispatch(() -> serveBlocking(exchange, failingForward(e)));
      return true;
    }
  }

  private static Forward failingForward(Exception failure) {
    return Forward.blocking(ProxyRequest.blank("http://127.0.0.1/"), request -> {
      if (failure instanceof IOException) {
        throw (IOException) failure;
      }
      throw (RuntimeException) failure;
    });
  }

  /** Serves the exchange on a worker thread: {@code forward} if given, else by the mounted handler. */
  private void serveBlocking(HttpServerExchange exchange, @Nullable Forward forward) {
    exchange.startBlocking();
    try {
      ProxyStatusException framing = FramingGuard.check(exchange);
      if (framing != null) {
        throw framing;
      }
      if (forward != null) {
        try (ProxyResponse response = forward.send()) {
          send(exchange, forward.request().method(), response);
        }
        return;
      }
      if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
        if (forwardProxy == null) {
          throw new ProxyStatusException(405, "CONNECT is only served by a forward proxy");
        }
        ConnectTunnel.open(exchange, forwardProxy);
        return;
      }
      serve(exchange);
    } catch (ProxyStatusException e) {
      if (e.status() == 400 || e.status() == 408 || e.status() == 413 || e.status() == 501) {
        // the request may not have been read to its end: close, so nothing left is read as a request
        exchange.setPersistent(false);
      }
      if (e.status() >= 500 || e.status() == 401 || e.status() == 403) {
        // refusals and failures are worth a line; the cause says which upstream and why
        log.info("{} {} from {}: {} {}{}", exchange.getRequestMethod(), exchange.getRequestURI(),
            exchange.getSourceAddress(), e.status(), e.reason(), e.getCause() == null ? "" : " (" + e.getCause() + ")");
      }
      answerError(exchange, e.status(), e.reason(), e.headers());
    } catch (IOException e) {
      // the client went away, or the upstream failed after the answer started
      log.debug("{} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString());
      abortOrAnswer(exchange, 502, "upstream failed");
    } catch (RuntimeException e) {
      log.error("{} {}{} failed", exchange.getRequestMethod(), exchange.getRequestURI(),
          exchange.getQueryString().isEmpty() ? "" : "?" + exchange.getQueryString(), e);
      abortOrAnswer(exchange, 500, "internal error");
    } finally {
      exchange.endExchange();
    }
  }

  private void serve(HttpServerExchange exchange) throws IOException {
    String rawPath = rawPath(exchange);
    MountTable.Match match = exchange.isHostIncludedInRequestURI() && forwardProxy != null
        ? new MountTable.Match(mounts.at("/"), "", rawPath) : mounts.match(rawPath);
    if (match == null) {
      throw new ProxyStatusException(404, "nothing is mounted at this path");
    }
    MountTable.Entry entry = match.entry();
    ProxyRequest request = toRequest(exchange, match);
    ProxyResponse response = entry.handler().handle(request);
    if (response == null) {
      throw new IllegalStateException("handler returned null: " + entry.handler());
    }
    try (response) {
      send(exchange, request.method(), response);
    }
  }

  /** Returns the raw path: the request URI without query, and without scheme and authority if absolute. */
  private static String rawPath(HttpServerExchange exchange) throws ProxyStatusException {
    String uri = exchange.getRequestURI();
    if (exchange.isHostIncludedInRequestURI()) {
      int authority = uri.indexOf("://");
      int path = authority < 0 ? -1 : uri.indexOf('/', authority + 3);
      uri = path < 0 ? "" : uri.substring(path);
    } else if (!uri.startsWith("/")) {
      throw ProxyStatusException.badRequest("request target must be a path starting with /");
    }
    if (hasDotSegment(uri)) {
      throw ProxyStatusException.badRequest("path must not have . or .. segments");
    }
    return uri;
  }

  /**
   * Returns true if a segment is {@code .} or {@code ..} once its {@code ;parameters} are cut
   * and it is percent-decoded (also across an encoded {@code /} or {@code \}), as servers behind
   * the proxy may read it: {@code /a/..;/b} and {@code /a/%2e%2e%2fb} climb out of {@code /a} there.
   */
  static boolean hasDotSegment(String rawPath) {
    if (rawPath.indexOf('.') < 0 && rawPath.indexOf('%') < 0) {
      return false;  // the common case, on every request
    }
    for (String segment : rawPath.split("/", -1)) {
      for (String part : MountTable.segmentName(segment).split("[/\\\\]", -1)) {
        if (part.equals(".") || part.equals("..")) {
          return true;
        }
      }
    }
    return false;
  }

  private static ProxyRequest toRequest(HttpServerExchange exchange, MountTable.Match match)
      throws ProxyStatusException {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    try {
      for (HeaderValues values : exchange.getRequestHeaders()) {
        String name = values.getHeaderName().toString();
        if (!name.startsWith(":")) {
          for (String value : values) {
            headers.add(name, value);
          }
        }
      }
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badRequest("illegal header: " + e.getMessage());
    }
    String scheme = exchange.getRequestScheme().toLowerCase(Locale.ROOT);
    ProxyRequest.Builder request = ProxyRequest.builder()
        .method(exchange.getRequestMethod().toString())
        .scheme(scheme)
        .headers(headers.build())
        .scriptName(match.scriptName())
        .pathInfo(match.pathInfo())
        .queryString(exchange.getQueryString())
        .body(body(exchange));
    serverNameAndPort(exchange, scheme, request);
    InetSocketAddress peer = exchange.getSourceAddress();
    if (peer != null && peer.getAddress() != null) {
      request.remoteAddr(peer.getAddress().getHostAddress()).remotePort(peer.getPort());
    }
    if (exchange.isHostIncludedInRequestURI() && match.entry().handler() instanceof ForwardProxy) {
      String query = exchange.getQueryString();
      request.attribute(ForwardProxyFilter.TARGET_ATTRIBUTE,
          exchange.getRequestURI() + (query.isEmpty() ? "" : "?" + query));
    }
    try {
      return request.build();
    } catch (IllegalStateException e) {
      throw ProxyStatusException.badRequest(e.getMessage());
    }
  }

  /** Sets serverName and serverPort from the Host header, else from the local address. */
  private static void serverNameAndPort(HttpServerExchange exchange, String scheme, ProxyRequest.Builder request)
      throws ProxyStatusException {
    String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
    if (host == null || host.isEmpty()) {
      InetSocketAddress local = exchange.getDestinationAddress();
      request.serverName(local.getAddress().getHostAddress()).serverPort(local.getPort());
      return;
    }
    HostAndPort parsed;
    try {
      parsed = HostAndPort.parse(host, scheme.equals("https") ? 443 : 80);
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badRequest("bad Host header");
    }
    if (parsed.port() == 0) {
      throw ProxyStatusException.badRequest("bad Host header");
    }
    request.serverName(parsed.host()).serverPort(parsed.port());
  }

  private static Body body(HttpServerExchange exchange) {
    long length = exchange.getRequestContentLength();
    if (length == 0 || length < 0 && exchange.isRequestComplete()) {
      return Body.empty();
    }
    long known = length < 0 ? -1 : length;
    return Body.of(new ClientBodyStream(exchange, known), known);
  }

  /**
   * Sets the status, reason and headers of {@code response} on the exchange, with framing for
   * its body, and returns true if a body follows (false for HEAD, 1xx, 204 and 304).
   */
  static boolean writeHead(HttpServerExchange exchange, String method, ProxyResponse response) {
    closeIfStillExpectingContinue(exchange);
    exchange.setStatusCode(response.status());
    if (!response.reason().isEmpty()) {
      exchange.setReasonPhrase(response.reason());
    }
    HeaderMap out = exchange.getResponseHeaders();
    boolean bodiless = method.equals("HEAD") || response.status() < 200 || response.status() == 204
        || response.status() == 304;
    response.headers().forEach((name, value) -> {
      boolean framing = name.equalsIgnoreCase("Transfer-Encoding") || name.equalsIgnoreCase("Content-Length");
      if (!framing || bodiless && name.equalsIgnoreCase("Content-Length")) {
        out.add(HttpString.tryFromString(name), value);
      }
    });
    long length = response.body().length();
    if (exchange.isPersistent() && exchange.getProtocol().equals(io.undertow.util.Protocols.HTTP_1_0)
        && (bodiless || length >= 0)) {
      // an HTTP/1.0 client keeps the connection only when told so, and Undertow does not say it here
      out.put(Headers.CONNECTION, "keep-alive");
    }
    if (bodiless) {
      if (method.equals("HEAD") && length >= 0 && !out.contains(Headers.CONTENT_LENGTH)) {
        exchange.setResponseContentLength(length);  // what a GET would carry, not the 0 Undertow would say
      }
      return false;
    }
    if (length >= 0) {
      exchange.setResponseContentLength(length);
    }
    return true;
  }

  /**
   * A client that sent {@code Expect: 100-continue} and got no 100 may or may not send its body
   * after a final answer: the bytes that follow cannot be told from a next request, so the
   * connection closes after this answer.
   */
  private static void closeIfStillExpectingContinue(HttpServerExchange exchange) {
    if (HttpContinue.requiresContinueResponse(exchange)) {
      exchange.setPersistent(false);
    }
  }

  private static void send(HttpServerExchange exchange, String method, ProxyResponse response) throws IOException {
    if (!writeHead(exchange, method, response)) {
      return;
    }
    byte[] buffer = new byte[BUFFER_SIZE];
    OutputStream client = exchange.getOutputStream();
    try (InputStream in = response.body().open()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        client.write(buffer, 0, n);
        if (in.available() <= 0) {
          client.flush();
        }
      }
    } catch (IOException | RuntimeException e) {
      // close the connection before anything closes the stream: closing it would end a chunked
      // body with its last chunk and make a cut-short answer look complete
      IoUtils.safeClose(exchange.getConnection());
      throw e;
    }
    client.close();
  }

  private static void abortOrAnswer(HttpServerExchange exchange, int status, String reason) {
    if (exchange.isResponseStarted()) {
      IoUtils.safeClose(exchange.getConnection());
    } else {
      answerError(exchange, status, reason, HttpHeaders.empty());
    }
  }

  /** Answers {@code status} with {@code reason} as a text body, or aborts if the answer has started. */
  static void answerError(HttpServerExchange exchange, int status, String reason, HttpHeaders headers) {
    if (exchange.isResponseStarted()) {
      IoUtils.safeClose(exchange.getConnection());
      return;
    }
    closeIfStillExpectingContinue(exchange);
    if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
      // the request guard lets everything after a CONNECT head through unread, for the tunnel:
      // without a tunnel, no byte after it may be read as another request
      exchange.setPersistent(false);
    }
    byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
    HeaderMap out = exchange.getResponseHeaders();
    out.clear();
    exchange.setStatusCode(status);
    headers.forEach((name, value) -> out.add(HttpString.tryFromString(name), value));
    out.put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange.setResponseContentLength(body.length);
    if (!exchange.isBlocking()) {
      exchange.getResponseSender().send(java.nio.ByteBuffer.wrap(body));
      return;
    }
    try (OutputStream client = exchange.getOutputStream()) {
      client.write(body);
    } catch (IOException e) {
      log.debug("could not send {} to the client: {}", status, e.toString());
    }
  }
}

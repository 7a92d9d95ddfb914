package org.proxykit.undertow;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.Protocols;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyStatusException;

/**
 * Refuses requests whose framing is ambiguous, before a handler sees them (RFC 9112 section
 * 6). On HTTP/1.x connections the request guard ({@link RequestScanner}) has already refused
 * bad syntax and ambiguous framing before Undertow parsed the head; this checks the parsed
 * head again, for HTTP/2 requests too: a Transfer-Encoding other than exactly {@code chunked}
 * (501; Undertow would read {@code identity} to the end of the connection and take any other
 * coding for chunked), Content-Length with Transfer-Encoding, differing, non-decimal or too
 * large lengths, Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1), and protocol
 * header names spelled with {@code _} instead of {@code -} (which some servers behind a proxy
 * would read as the real header; only this checks them). The server closes the connection
 * after such an answer, so no pipelined bytes are read as a request.
 */
final class FramingGuard {
  private static final Pattern DECIMAL = Pattern.compile("\\d{1,18}");
  private static final Set<String> PROTOCOL_NAMES = Set.of("content-length", "transfer-encoding", "host", "connection",
      "expect", "upgrade", "te", "trailer", "keep-alive", "proxy-connection");

  private FramingGuard() {}

  /** Returns the refusal for the exchange's request head, or null if its framing is sound. */
  static @Nullable ProxyStatusException check(HttpServerExchange exchange) {
    HeaderMap headers = exchange.getRequestHeaders();
    for (HeaderValues values : headers) {
      String name = values.getHeaderName().toString();
      if (name.indexOf('_') >= 0 && PROTOCOL_NAMES.contains(name.replace('_', '-').toLowerCase(Locale.ROOT))) {
        return ProxyStatusException.badRequest("header name " + name + " is spelled with _ instead of -");
      }
    }
    HeaderValues transferEncoding = headers.get(Headers.TRANSFER_ENCODING);
    HeaderValues contentLength = headers.get(Headers.CONTENT_LENGTH);
    if (transferEncoding != null) {
      if (exchange.getProtocol().equals(Protocols.HTTP_1_0)) {
        // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing
        return ProxyStatusException.badRequest("Transfer-Encoding in an HTTP/1.0 request");
      }
      if (contentLength != null) {
        return ProxyStatusException.badRequest("both Content-Length and Transfer-Encoding");
      }
      if (transferEncoding.size() != 1 || !transferEncoding.getFirst().strip().equalsIgnoreCase("chunked")) {
        return new ProxyStatusException(501, "only Transfer-Encoding: chunked is supported");
      }
    }
    if (contentLength != null) {
      String first = null;
      for (String value : contentLength) {
        for (String element : value.split(",", -1)) {
          String length = element.strip();
          if (!DECIMAL.matcher(length).matches()) {
            return ProxyStatusException.badRequest("bad Content-Length");
          }
          if (first != null && Long.parseLong(first) != Long.parseLong(length)) {
            return ProxyStatusException.badRequest("bad Content-Length");
          }
          first = length;
        }
      }
    }
    return null;
  }
}

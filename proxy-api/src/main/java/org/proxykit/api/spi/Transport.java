package org.proxykit.api.spi;

import java.io.Closeable;
import java.io.IOException;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;

/**
 * Sends a request over the wire and returns the upstream's response as it streams in: the
 * HTTP client under an exact proxy. Made by a {@link TransportProvider}.
 *
 * <p><b>What is sent.</b> A connection to {@code scheme://serverName:serverPort} of the
 * request, then its method, {@link ProxyRequest#requestTarget()} byte for byte, its headers
 * as given (Host included, even when it differs from serverName) and its body streamed:
 * with Content-Length when the length is known, chunked otherwise. The caller has already
 * removed hop-by-hop headers; the transport owns framing (Content-Length,
 * Transfer-Encoding) and adds nothing else of its own. It never follows redirects,
 * decompresses, handles cookies or retries a request that is not idempotent.
 *
 * <p><b>What comes back.</b> The upstream's status (any code, even 799), reason phrase,
 * headers (repeated ones kept, in order) and a body streamed as it arrives. A body that
 * ends before its framing says fails its reader with an IOException, never looks complete.
 * Closing the response before the end aborts the exchange and frees the connection.
 *
 * <p><b>Failure.</b> {@link #send} throws {@link org.proxykit.api.ProxyStatusException}:
 * 502 {@code bad domain name: NAME} for a name that does not resolve, 502 when the
 * connection is refused or fails, 504 on connect or response timeout, 503 when no pooled
 * connection frees up within the pool-wait timeout. It never hangs beyond the configured
 * timeouts.
 *
 * <p><b>Threading.</b> Thread-safe; {@link #close()} releases pools and threads.
 *
 * @since 0.1
 */
public interface Transport extends Closeable {

  /**
   * Sends {@code request} and returns the response once its head has arrived. The caller
   * closes the response.
   *
   * @throws org.proxykit.api.ProxyStatusException for the failures listed above
   * @throws IOException if reading the request body failed
   */
  ProxyResponse send(ProxyRequest request) throws IOException;

  /** Releases the transport's connections and threads; responses still open are aborted. */
  @Override
  void close() throws IOException;
}

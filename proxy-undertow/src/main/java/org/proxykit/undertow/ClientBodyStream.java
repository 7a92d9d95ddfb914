package org.proxykit.undertow;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import org.proxykit.api.ProxyStatusException;

/**
 * The client's request body as handlers read it: a failure to read it becomes the answer it
 * deserves, so that it is never mistaken for an upstream failure, also when a transport
 * passes it on: 413 over the size limit, 408 when the client stalls longer than the body
 * timeout, 400 when the body is malformed or ends before its length. The exchange's stream
 * is opened on the first read, so the request can be built on an I/O thread.
 */
final class ClientBodyStream extends FilterInputStream {
  private final HttpServerExchange exchange;
  private final long length;
  private long read;

  ClientBodyStream(HttpServerExchange exchange, long length) {
    super(null);
    this.exchange = exchange;
    this.length = length;
  }

  /** Returns the answer a failure to read the client's body deserves. */
  static ProxyStatusException failure(Exception e) {
    if (e instanceof ProxyStatusException) {
      return (ProxyStatusException) e;
    } else if (e instanceof RequestTooBigException) {
      return new ProxyStatusException(413, "request body is larger than the server allows", e);
    } else if (e instanceof InterruptedIOException || e instanceof RuntimeException) {
      // Undertow throws a RuntimeException when a read timeout has already closed the connection
      return new ProxyStatusException(408, "the request body stopped arriving", e);
    }
    return new ProxyStatusException(400, "malformed or incomplete request body", e);
  }

  @Override
  public int available() throws IOException {
    return in == null ? 0 : in.available();
  }

  @Override
  public void close() throws IOException {
    if (in != null) {
      in.close();
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int count) throws IOException {
    int n;
    try {
      if (in == null) {
        in = exchange.getInputStream();
      }
      n = in.read(buffer, offset, count);
    } catch (IOException | RuntimeException e) {
      throw failure(e);
    }
    if (n < 0 && length >= 0 && read < length) {
      throw ProxyStatusException.badRequest("request body ended after " + read + " of " + length + " bytes");
    }
    if (n > 0) {
      read += n;
    }
    return n;
  }
}

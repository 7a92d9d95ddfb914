package org.proxykit.undertow;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyStatusException;
import org.xnio.channels.StreamSourceChannel;

/**
 * The client's request body as handlers read it: a failure to read it becomes the answer it
 * deserves, so that it is never mistaken for an upstream failure, also when a transport
 * passes it on: 413 over the size limit, 408 when the client stalls longer than the body
 * timeout, 400 when the body is malformed or ends before its length. The exchange's stream
 * is opened on the first read, so the request can be built on an I/O thread.
 *
 * <p>On an HTTP/1.x connection it reads the request channel itself, blocking, and asks the
 * connection's {@link RequestGuardConduit} why whenever nothing came: a refused body or a
 * stall fails here, with the connection still open for the answer. (Undertow's own stream
 * would fail inside its body decoders, which close the connection first.)
 */
final class ClientBodyStream extends FilterInputStream {
  private final HttpServerExchange exchange;
  private final long length;
  private long read;
  private @Nullable RequestGuardConduit guard;
  private @Nullable StreamSourceChannel channel;

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
    // a guarded channel is left as it is: the exchange's end drains or closes it
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int count) throws IOException {
    if (count == 0) {
      return 0;
    }
    int n;
    try {
      if (in == null && channel == null) {
        open();
      }
      n = channel != null ? readGuarded(channel, ByteBuffer.wrap(buffer, offset, count)) : in.read(buffer, offset, count);
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

  private void open() {
    guard = RequestGuardConduit.of(exchange);
    if (guard != null && exchange.isRequestChannelAvailable()) {
      channel = exchange.getRequestChannel();
    }
    if (channel == null) {
      guard = null;
      in = exchange.getInputStream();
    }
  }

  private int readGuarded(StreamSourceChannel source, ByteBuffer into) throws IOException {
    while (true) {
      int n = source.read(into);
      if (n != 0) {
        return n;
      }
      IOException refused = guard.bodyFailure();
      if (refused != null) {
        throw refused;
      }
      source.awaitReadable();
    }
  }
}

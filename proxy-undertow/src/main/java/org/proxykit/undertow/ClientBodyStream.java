package org.proxykit.undertow;

import io.undertow.server.RequestTooBigException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import org.proxykit.api.ProxyStatusException;

/**
 * The client's request body as handlers read it: a failure to read it becomes the answer it
 * deserves, so that it is never mistaken for an upstream failure, also when a transport
 * passes it on: 413 over the size limit, 408 when the client stalls longer than the body
 * timeout, 400 when the body is malformed or ends before its length.
 */
final class ClientBodyStream extends FilterInputStream {
  private final long length;
  private long read;

  ClientBodyStream(InputStream in, long length) {
    super(in);
    this.length = length;
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
      n = in.read(buffer, offset, count);
    } catch (RequestTooBigException e) {
      throw new ProxyStatusException(413, "request body is larger than the server allows", e);
    } catch (InterruptedIOException e) {
      throw new ProxyStatusException(408, "the request body stopped arriving", e);
    } catch (ProxyStatusException e) {
      throw e;
    } catch (IOException e) {
      throw new ProxyStatusException(400, "malformed or incomplete request body", e);
    } catch (RuntimeException e) {
      // Undertow fails this way when a read timeout has already closed the connection
      throw new ProxyStatusException(408, "the request body stopped arriving", e);
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

package org.proxykit.exact;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.proxykit.api.Body;

/**
 * A response body streamed from an upstream connection. Reading it to the end hands the
 * connection back for reuse; closing it sooner aborts the exchange, so an abandoned download
 * is never drained and never holds a pooled connection.
 */
final class ResponseBody implements Body {

  /** Gives the connection back ({@code complete}) or aborts the exchange. Called once. */
  interface Release {
    void release(boolean complete) throws IOException;
  }

  private final InputStream stream;
  private final long length;
  private final Release release;
  private boolean opened;
  private boolean ended;
  private boolean released;

  ResponseBody(InputStream stream, long length, Release release) {
    this.stream = new Tracking(stream);
    this.length = length;
    this.release = release;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public synchronized InputStream open() {
    if (opened) {
      throw new IllegalStateException("body was already opened: a response body is read once");
    }
    opened = true;
    return stream;
  }

  @Override
  public void close() throws IOException {
    release(ended);
  }

  private synchronized void release(boolean complete) throws IOException {
    if (!released) {
      released = true;
      release.release(complete);
    }
  }

  @Override
  public String toString() {
    return "Body(upstream, " + (length < 0 ? "unknown length" : length + " bytes") + ")";
  }

  /** Notices the end of the body, and makes closing the stream close the body. */
  private final class Tracking extends FilterInputStream {
    Tracking(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b < 0) {
        ended();
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int count) throws IOException {
      int n = in.read(buffer, offset, count);
      if (n < 0) {
        ended();
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      ResponseBody.this.close();
    }

    private void ended() throws IOException {
      synchronized (ResponseBody.this) {
        ended = true;
      }
      release(true);
    }
  }
}

package org.proxykit.api;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** The {@link Body} implementations behind its factory methods. */
final class Bodies {
  static final Body EMPTY = new BytesBody(new byte[0]);

  private Bodies() {}

  static final class BytesBody implements Body {
    private final byte[] bytes;

    BytesBody(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public long length() {
      return bytes.length;
    }

    @Override
    public InputStream open() {
      return new ByteArrayInputStream(bytes);
    }

    @Override
    public boolean isRepeatable() {
      return true;
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
      return "Body(" + bytes.length + " bytes)";
    }
  }

  static final class FileBody implements Body {
    private final Path path;
    private final long length;

    FileBody(Path path, long length) {
      this.path = path;
      this.length = length;
    }

    @Override
    public long length() {
      return length;
    }

    @Override
    public InputStream open() throws IOException {
      return new ExactLengthInputStream(Files.newInputStream(path), length);
    }

    @Override
    public boolean isRepeatable() {
      return true;
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
      return "Body(" + path + ", " + length + " bytes)";
    }
  }

  static final class StreamBody implements Body {
    private final InputStream stream;
    private final long length;
    private boolean opened;

    StreamBody(InputStream stream, long length) {
      this.stream = Objects.requireNonNull(stream, "stream");
      this.length = length;
    }

    @Override
    public long length() {
      return length;
    }

    @Override
    public synchronized InputStream open() {
      if (opened) {
        throw new IllegalStateException("body was already opened: a stream body is read once");
      }
      opened = true;
      return length < 0 ? stream : new ExactLengthInputStream(stream, length);
    }

    @Override
    public void close() throws IOException {
      stream.close();
    }

    @Override
    public String toString() {
      return "Body(stream, " + (length < 0 ? "unknown length" : length + " bytes") + ")";
    }
  }

  /**
   * Delivers exactly {@code length} bytes of its source: stops there, and fails with
   * {@link EOFException} if the source ends sooner.
   */
  static final class ExactLengthInputStream extends FilterInputStream {
    private final long length;
    private long remaining;

    ExactLengthInputStream(InputStream in, long length) {
      super(in);
      this.length = length;
      this.remaining = length;
    }

    @Override
    public int read() throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int b = in.read();
      if (b < 0) {
        throw truncated();
      }
      remaining--;
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int count) throws IOException {
      Objects.checkFromIndexSize(offset, count, buffer.length);
      if (remaining == 0) {
        return -1;
      }
      if (count == 0) {
        return 0;
      }
      int n = in.read(buffer, offset, (int) Math.min(count, remaining));
      if (n < 0) {
        throw truncated();
      }
      remaining -= n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(Math.min(n, remaining));
      remaining -= skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(in.available(), remaining);
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    private EOFException truncated() {
      return new EOFException("body ended after " + (length - remaining) + " of " + length + " bytes");
    }
  }
}

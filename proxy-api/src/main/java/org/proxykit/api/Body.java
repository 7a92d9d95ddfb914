package org.proxykit.api;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A message body: a stream of bytes with a known length, or {@code -1} when the length is
 * not known in advance (then it is sent chunked). Like WSGI's {@code wsgi.input}, a body is
 * read once: {@link #open()} hands out its stream a single time, except for bodies that say
 * they are {@linkplain #isRepeatable() repeatable} (bytes in memory, a file).
 *
 * <p>A body with a known length delivers exactly that many bytes: if its source ends early,
 * reading fails with an {@link java.io.EOFException} instead of presenting a short body as
 * complete, and bytes past the length are never read.
 *
 * <p>Ownership: whoever holds the request or response holds its body and must either read
 * it to the end or {@link #close()} it; closing releases what backs it (for a response
 * from a transport, the upstream connection).
 *
 * @since 0.1
 */
public interface Body extends Closeable {

  /** Returns the number of bytes the body holds, or {@code -1} if it is not known. */
  long length();

  /**
   * Returns the body's bytes as a stream. The caller reads it and closes it (or this body).
   *
   * @throws IllegalStateException if the body is not repeatable and was opened before
   * @throws IOException if the source cannot be opened (a file that is gone)
   */
  InputStream open() throws IOException;

  /** Returns true if {@link #open()} may be called again for a fresh stream of the same bytes. */
  default boolean isRepeatable() {
    return false;
  }

  /** Releases what backs the body, read or not. Closing twice does nothing. */
  @Override
  void close() throws IOException;

  /** Returns the empty body: length 0, repeatable. */
  static Body empty() {
    return Bodies.EMPTY;
  }

  /** Returns a repeatable body holding {@code bytes} (not copied: do not change them). */
  static Body of(byte[] bytes) {
    return bytes.length == 0 ? Bodies.EMPTY : new Bodies.BytesBody(bytes);
  }

  /** Returns a repeatable body holding {@code text} encoded as UTF-8. */
  static Body of(String text) {
    return of(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Returns a one-shot body reading {@code stream}, which holds {@code length} bytes, or an
   * unknown number if {@code length} is {@code -1}.
   *
   * @throws IllegalArgumentException if {@code length} is below -1
   */
  static Body of(InputStream stream, long length) {
    if (length < -1) {
      throw new IllegalArgumentException("body length must be -1 (unknown) or more, got " + length);
    }
    return new Bodies.StreamBody(stream, length);
  }

  /**
   * Returns a repeatable body reading the file at {@code path}, whose length is taken now.
   *
   * @throws IOException if the file cannot be read
   */
  static Body of(Path path) throws IOException {
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      throw new IOException("not a readable file: " + path);
    }
    return new Bodies.FileBody(path, Files.size(path));
  }
}

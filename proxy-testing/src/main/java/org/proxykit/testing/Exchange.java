package org.proxykit.testing;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The answering side of one request on a {@link LoopbackServer}: write a well-formed
 * response with {@link #respond}, or write anything at all, byte by byte, to test how a
 * client copes with a misbehaving server.
 *
 * @since 0.1
 */
public final class Exchange {
  private final Socket socket;
  private final OutputStream out;
  private boolean closeAfter;

  Exchange(Socket socket) throws IOException {
    this.socket = socket;
    this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
  }

  /**
   * Writes a complete response with a Content-Length body.
   *
   * @param headers header names and values, alternating
   */
  public void respond(int status, String reason, byte[] body, String... headers) throws IOException {
    writeHead(status, reason, withLength(headers, body.length));
    out.write(body);
    out.flush();
  }

  /** Writes a complete response with a UTF-8 text body and Content-Length. */
  public void respond(int status, String body, String... headers) throws IOException {
    respond(status, "Whatever", body.getBytes(StandardCharsets.UTF_8), headers);
  }

  /** Writes the status line and header lines and the empty line after them, then flushes. */
  public void writeHead(int status, String reason, String... headers) throws IOException {
    StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    head.append("\r\n");
    writeRaw(head.toString());
  }

  /** Writes one chunk of a chunked body and flushes it. */
  public void writeChunk(byte[] data) throws IOException {
    if (data.length == 0) {
      return;
    }
    out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(data);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Writes one chunk of UTF-8 text and flushes it. */
  public void writeChunk(String text) throws IOException {
    writeChunk(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes the last chunk of a chunked body. */
  public void endChunks() throws IOException {
    writeRaw("0\r\n\r\n");
  }

  /** Writes {@code text} as ISO-8859-1 bytes, exactly, and flushes. */
  public void writeRaw(String text) throws IOException {
    write(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Writes {@code bytes} exactly and flushes. */
  public void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Returns the raw output, for large bodies written in pieces; flush it when done. */
  public OutputStream output() {
    return out;
  }

  /** Closes the connection after this exchange (or now, if the handler returns at once). */
  public void closeConnection() {
    closeAfter = true;
  }

  /** Closes the connection with a TCP reset instead of a clean close. */
  public void reset() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  boolean closeAfter() {
    return closeAfter;
  }

  void flush() throws IOException {
    out.flush();
  }

  private static String[] withLength(String[] headers, long length) {
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase("Content-Length") || headers[i].equalsIgnoreCase("Transfer-Encoding")) {
        return headers;
      }
    }
    String[] all = java.util.Arrays.copyOf(headers, headers.length + 2);
    all[headers.length] = "Content-Length";
    all[headers.length + 1] = String.valueOf(length);
    return all;
  }
}

package org.proxykit.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.proxykit.api.Nullable;

/**
 * A request exactly as a {@link LoopbackServer} received it: the request line, the header
 * lines in order with their spelling, the body's length and SHA-256 (and its first bytes),
 * which TCP connection carried it. The key assertion of a proxy test is on this.
 *
 * @since 0.1
 */
public final class RecordedRequest {
  private final String requestLine;
  private final String method;
  private final String target;
  private final List<Map.Entry<String, String>> headers;
  private final boolean chunked;
  private final long bodyLength;
  private final byte[] bodyPrefix;
  private final String bodySha256;
  private final int connectionIndex;
  private final int indexOnConnection;
  private final @Nullable String serverName;

  RecordedRequest(String requestLine, List<Map.Entry<String, String>> headers, boolean chunked,
      long bodyLength, byte[] bodyPrefix, String bodySha256, int connectionIndex, int indexOnConnection,
      @Nullable String serverName) {
    this.requestLine = requestLine;
    String[] parts = requestLine.split(" ", 3);
    this.method = parts[0];
    this.target = parts.length > 1 ? parts[1] : "";
    this.headers = Collections.unmodifiableList(new ArrayList<>(headers));
    this.chunked = chunked;
    this.bodyLength = bodyLength;
    this.bodyPrefix = bodyPrefix;
    this.bodySha256 = bodySha256;
    this.connectionIndex = connectionIndex;
    this.indexOnConnection = indexOnConnection;
    this.serverName = serverName;
  }

  /** Returns the request line as received, such as {@code GET /a?b HTTP/1.1}. */
  public String requestLine() {
    return requestLine;
  }

  /** Returns the method. */
  public String method() {
    return method;
  }

  /** Returns the request target as received, byte for byte (read as ISO-8859-1). */
  public String target() {
    return target;
  }

  /** Returns the header lines in order, names spelled as received. */
  public List<Map.Entry<String, String>> headers() {
    return headers;
  }

  /** Returns the first value of header {@code name} (any case), or null. */
  public @Nullable String header(String name) {
    for (Map.Entry<String, String> header : headers) {
      if (header.getKey().equalsIgnoreCase(name)) {
        return header.getValue();
      }
    }
    return null;
  }

  /** Returns every value of header {@code name} (any case), in order. */
  public List<String> headerValues(String name) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, String> header : headers) {
      if (header.getKey().equalsIgnoreCase(name)) {
        values.add(header.getValue());
      }
    }
    return values;
  }

  /** Returns true if the body came with {@code Transfer-Encoding: chunked}. */
  public boolean chunked() {
    return chunked;
  }

  /** Returns the number of body bytes received. */
  public long bodyLength() {
    return bodyLength;
  }

  /** Returns the body's first bytes, all of them if it was no larger than the server's recording limit. */
  public byte[] bodyPrefix() {
    return bodyPrefix.clone();
  }

  /** Returns the recorded body bytes as UTF-8 text. */
  public String bodyText() {
    return new String(bodyPrefix, StandardCharsets.UTF_8);
  }

  /** Returns the SHA-256 of the whole body, lower-case hex. */
  public String bodySha256() {
    return bodySha256;
  }

  /** Returns which accepted TCP connection carried the request, counting from 0. */
  public int connectionIndex() {
    return connectionIndex;
  }

  /** Returns the request's position on its connection, counting from 0. */
  public int indexOnConnection() {
    return indexOnConnection;
  }

  /** Returns the host name the client asked for with TLS SNI, or null (plain HTTP, or no SNI sent). */
  public @Nullable String serverName() {
    return serverName;
  }

  @Override
  public String toString() {
    return requestLine + " (connection " + connectionIndex + ", body " + bodyLength + " bytes)";
  }
}

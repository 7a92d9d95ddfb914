package org.proxykit.api;

import java.io.Closeable;
import java.io.IOException;
import java.util.Objects;

/**
 * An HTTP response: status, reason phrase, header fields and a streamed body. Immutable
 * apart from its one-shot body; build one with {@link #builder()}.
 *
 * <p>Ownership: whoever receives a response from a {@link ProxyHandler} must close it (or
 * read its body to the end and close that), on every path, errors included. Closing a
 * response that came from a transport releases the upstream connection; closing before the
 * end of the body aborts the transfer rather than draining it.
 *
 * @since 0.1
 */
public final class ProxyResponse implements Closeable {
  private final int status;
  private final String reason;
  private final HttpHeaders headers;
  private final Body body;

  private ProxyResponse(Builder builder) {
    this.status = builder.status;
    this.reason = builder.reason;
    this.headers = builder.headers.build();
    this.body = builder.body;
  }

  /** Returns an empty builder: status 200, no reason phrase, no header, empty body. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder holding this response's fields (sharing its body). */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Returns the status code, 100 to 999: proxies pass on codes they do not know. */
  public int status() {
    return status;
  }

  /** Returns the reason phrase as the upstream sent it; empty if there was none. */
  public String reason() {
    return reason;
  }

  /** Returns the header fields. */
  public HttpHeaders headers() {
    return headers;
  }

  /** Returns the first value of header {@code name} (any case), or null. */
  public @Nullable String header(String name) {
    return headers.first(name);
  }

  /** Returns the body; the empty body if there is none. */
  public Body body() {
    return body;
  }

  /** Closes the body, releasing what backs it. Closing twice does nothing. */
  @Override
  public void close() throws IOException {
    body.close();
  }

  /** Returns the status line, such as {@code 200 OK}. */
  @Override
  public String toString() {
    return reason.isEmpty() ? String.valueOf(status) : status + " " + reason;
  }

  /** Collects the fields of a {@link ProxyResponse}; {@link #build()} checks them. */
  public static final class Builder {
    private int status = 200;
    private String reason = "";
    private HttpHeaders.Builder headers;
    private Body body = Body.empty();

    private Builder() {
      this.headers = HttpHeaders.builder();
    }

    private Builder(ProxyResponse response) {
      this.status = response.status;
      this.reason = response.reason;
      this.headers = response.headers.toBuilder();
      this.body = response.body;
    }

    /** Sets the status code, 100 to 999. */
    public Builder status(int status) {
      this.status = status;
      return this;
    }

    /** Sets the reason phrase; empty lets the server pick the standard one. */
    public Builder reason(String reason) {
      this.reason = Objects.requireNonNull(reason, "reason");
      return this;
    }

    /** Replaces all header fields. */
    public Builder headers(HttpHeaders headers) {
      this.headers = headers.toBuilder();
      return this;
    }

    /** Adds a header field, keeping other values of the same name. */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /** Replaces every field named {@code name} with one holding {@code value}. */
    public Builder setHeader(String name, String value) {
      headers.set(name, value);
      return this;
    }

    /** Removes every field named {@code name}. */
    public Builder removeHeader(String name) {
      headers.remove(name);
      return this;
    }

    /** Sets the body. */
    public Builder body(Body body) {
      this.body = Objects.requireNonNull(body, "body");
      return this;
    }

    /**
     * Returns the response.
     *
     * @throws IllegalStateException if the status is outside 100-999 or the reason has a
     *     character a status line may not hold
     */
    public ProxyResponse build() {
      if (status < 100 || status > 999) {
        throw new IllegalStateException("status " + status + " is outside 100-999");
      }
      for (int i = 0; i < reason.length(); i++) {
        char c = reason.charAt(i);
        if (c != '\t' && (c < 0x20 || c == 0x7f || c > 0xff)) {
          throw new IllegalStateException("reason " + HttpHeaders.quote(reason) + " has an illegal character at index " + i);
        }
      }
      return new ProxyResponse(this);
    }
  }
}

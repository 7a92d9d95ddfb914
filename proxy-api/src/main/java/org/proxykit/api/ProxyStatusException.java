package org.proxykit.api;

import java.io.IOException;
import java.util.Objects;

/**
 * Thrown by a {@link ProxyHandler} or a transport to answer with an error status: the
 * server sends {@link #status()} with {@link #reason()} as a short text body, plus any
 * {@link #headers()} (such as {@code Retry-After}). The reason is one line for humans; it
 * must say what went wrong, never leak internals.
 *
 * <p>It is an {@link IOException} so that every handler may throw it without declaring it.
 *
 * @since 0.1
 */
public class ProxyStatusException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String reason;
  private final transient HttpHeaders headers;

  /**
   * Makes an exception answering {@code status} with {@code reason}.
   *
   * @throws IllegalArgumentException if status is not 400-599
   */
  public ProxyStatusException(int status, String reason) {
    this(status, reason, HttpHeaders.empty(), null);
  }

  /** Makes an exception answering {@code status} with {@code reason}, caused by {@code cause}. */
  public ProxyStatusException(int status, String reason, @Nullable Throwable cause) {
    this(status, reason, HttpHeaders.empty(), cause);
  }

  /** Makes an exception answering {@code status} with {@code reason} and extra response headers. */
  public ProxyStatusException(int status, String reason, HttpHeaders headers, @Nullable Throwable cause) {
    super(status + " " + reason, cause);
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("an error status must be within 400-599, got " + status);
    }
    this.status = status;
    this.reason = Objects.requireNonNull(reason, "reason");
    this.headers = Objects.requireNonNull(headers, "headers");
  }

  /** Returns 400 Bad Request with {@code reason}. */
  public static ProxyStatusException badRequest(String reason) {
    return new ProxyStatusException(400, reason);
  }

  /** Returns 401 Unauthorized with {@code reason}. */
  public static ProxyStatusException unauthorized(String reason) {
    return new ProxyStatusException(401, reason);
  }

  /** Returns 403 Forbidden with {@code reason}. */
  public static ProxyStatusException forbidden(String reason) {
    return new ProxyStatusException(403, reason);
  }

  /** Returns 502 Bad Gateway with {@code reason}, caused by {@code cause}. */
  public static ProxyStatusException badGateway(String reason, @Nullable Throwable cause) {
    return new ProxyStatusException(502, reason, cause);
  }

  /** Returns 503 Service Unavailable with {@code reason}, caused by {@code cause}. */
  public static ProxyStatusException serviceUnavailable(String reason, @Nullable Throwable cause) {
    return new ProxyStatusException(503, reason, cause);
  }

  /** Returns 504 Gateway Timeout with {@code reason}, caused by {@code cause}. */
  public static ProxyStatusException gatewayTimeout(String reason, @Nullable Throwable cause) {
    return new ProxyStatusException(504, reason, cause);
  }

  /** Returns the status to answer with, 400 to 599. */
  public int status() {
    return status;
  }

  /** Returns the short reason, sent to the client as the answer's text. */
  public String reason() {
    return reason;
  }

  /** Returns extra headers for the answer, such as {@code Retry-After}; often empty. */
  public HttpHeaders headers() {
    return headers == null ? HttpHeaders.empty() : headers;
  }
}

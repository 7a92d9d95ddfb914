package org.proxykit.api;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link ForwardingHandler} forwards one request: the exact request to send upstream,
 * the blocking way to send it, and what to do to the upstream's response before the client
 * gets it. A forward is {@linkplain #direct() direct} when any HTTP/1.1 client honouring its
 * {@link Direct} limits may send the request in place of the blocking sender; a host that
 * cannot, or a forward that is not direct, calls {@link #send()} on a thread that may block.
 *
 * @since 0.1
 */
public final class Forward {
  private final ProxyRequest request;
  private final @Nullable Direct direct;
  private final ProxyHandler sender;
  private final Answer answer;
  private final @Nullable Done done;

  private Forward(ProxyRequest request, @Nullable Direct direct, ProxyHandler sender, Answer answer, @Nullable Done done) {
    this.request = Objects.requireNonNull(request, "request");
    this.direct = direct;
    this.sender = Objects.requireNonNull(sender, "sender");
    this.answer = Objects.requireNonNull(answer, "answer");
    this.done = done;
  }

  /**
   * Returns a forward of {@code request} (hop-by-hop headers already removed), which
   * {@code sender} sends blocking and any client honouring {@code direct}, if not null, may
   * send in its place.
   */
  public static Forward of(ProxyRequest request, @Nullable Direct direct, ProxyHandler sender) {
    return new Forward(request, direct, sender, response -> response, null);
  }

  /** Returns a forward that is not direct: {@link #send()} calls {@code handler} with {@code request}. */
  public static Forward blocking(ProxyRequest request, ProxyHandler handler) {
    return new Forward(request, null, handler, response -> response, null);
  }

  /** Returns the request to send: where to, request line, end-to-end headers and body. */
  public ProxyRequest request() {
    return request;
  }

  /** Returns true if a client other than the blocking sender may send {@link #request()}. */
  public boolean direct() {
    return direct != null;
  }

  /** Returns the limits and failure answers a direct sender honours; only for a direct forward. */
  public Direct limits() {
    if (direct == null) {
      throw new IllegalStateException("not a direct forward: send() it");
    }
    return direct;
  }

  /** Sends the request blocking and returns the answer the client gets. */
  public ProxyResponse send() throws IOException {
    ProxyResponse response;
    try {
      response = sender.handle(request);
    } catch (IOException | RuntimeException e) {
      release();
      throw e;
    }
    return answer(response);
  }

  /**
   * Returns the answer the client gets for the upstream's {@code response} to
   * {@link #request()}, given with its headers as received (hop-by-hop ones included). The
   * body passes through untouched; on failure the response is closed.
   */
  public ProxyResponse answer(ProxyResponse response) throws IOException {
    ProxyResponse answered;
    try {
      answered = answer.apply(response);
    } catch (IOException | RuntimeException e) {
      response.close();
      release();
      throw e;
    }
    return done == null ? answered : answered.toBuilder().body(new DoneBody(answered.body(), done)).build();
  }

  /** Returns this forward with {@code then} applied to its answers. */
  public Forward thenAnswer(Answer then) {
    Objects.requireNonNull(then, "then");
    Answer first = answer;
    return new Forward(request, direct, sender, response -> then.apply(first.apply(response)), done);
  }

  /**
   * Returns this forward with {@code action} run once when it is over: when the answer's body
   * is closed, or when the forward fails or is dropped before an answer ({@link #release()}).
   * A handler counting requests in flight (to stop an idle backend) hears of their end here.
   */
  public Forward whenDone(Runnable action) {
    Objects.requireNonNull(action, "action");
    return new Forward(request, direct, sender, answer, new Done(done, action));
  }

  /**
   * Ends this forward without an answer: a host that took it calls this if it could not send
   * it or the upstream failed before answering. Runs the {@link #whenDone} actions, once.
   */
  public void release() {
    if (done != null) {
      done.run();
    }
  }

  /** Changes a response head on its way to the client; must not read or replace the body. */
  @FunctionalInterface
  public interface Answer {
    /** Returns the response the client gets in place of {@code response}. */
    ProxyResponse apply(ProxyResponse response) throws IOException;
  }

  /**
   * What a direct sender honours: the timeouts and connection limits of the transport the
   * forward was meant for, and the answers its failures become (the same the transport gives).
   */
  public interface Direct {
    /** Returns how long connecting may take. */
    Duration connectTimeout();

    /** Returns how long the upstream may stay silent, before the head or inside the body. */
    Duration responseTimeout();

    /** Returns how long a request may wait for a connection when the limit is reached. */
    Duration poolWaitTimeout();

    /** Returns how many connections one host and port may have at once. */
    int maxConnectionsPerRoute();

    /**
     * Returns true if a request with {@code method} that was never answered may be sent again
     * (an idempotent method, RFC 9110 section 9.2.2): the transport's retry rule.
     */
    boolean maySendAgain(String method);

    /** Returns true if a request with {@code method} and no body is still sent with {@code Content-Length: 0}. */
    boolean framesEmptyBody(String method);

    /** Returns the answer for a failure to connect to, send {@code request} to or receive from its upstream. */
    ProxyStatusException failure(ProxyRequest request, Throwable cause);

    /** Returns the answer when connecting took longer than {@link #connectTimeout()}. */
    ProxyStatusException connectTimedOut();

    /** Returns the answer when the upstream was silent longer than {@link #responseTimeout()}. */
    ProxyStatusException responseTimedOut();

    /** Returns the answer when no connection freed up within {@link #poolWaitTimeout()}. */
    ProxyStatusException poolExhausted();

    /** Returns the answer when the upstream stopped reading the request body for longer than {@link #responseTimeout()}. */
    ProxyStatusException uploadStalled();

    /**
     * Returns the answer for a response whose framing the proxy will not pass on (RFC 9112
     * section 6.3: Transfer-Encoding with Content-Length, lengths that differ or are not
     * decimal), or null if its framing is sound.
     *
     * @param transferEncoding the response's Transfer-Encoding values joined, or null if none
     * @param contentLengths the response's Content-Length field values, in order
     */
    @Nullable ProxyStatusException refuseFraming(@Nullable String transferEncoding, java.util.List<String> contentLengths);
  }

  /** The {@link #whenDone} actions, run at most once. */
  private static final class Done implements Runnable {
    private final @Nullable Done before;
    private final Runnable action;
    private final java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();

    Done(@Nullable Done before, Runnable action) {
      this.before = before;
      this.action = action;
    }

    @Override
    public void run() {
      if (ran.compareAndSet(false, true)) {
        try {
          action.run();
        } finally {
          if (before != null) {
            before.run();
          }
        }
      }
    }
  }

  /** An answer's body that runs the done actions when it is closed. */
  private static final class DoneBody implements Body {
    private final Body body;
    private final Done done;

    DoneBody(Body body, Done done) {
      this.body = body;
      this.done = done;
    }

    @Override
    public long length() {
      return body.length();
    }

    @Override
    public java.io.InputStream open() throws IOException {
      return new java.io.FilterInputStream(body.open()) {
        @Override
        public void close() throws IOException {
          DoneBody.this.close();
        }
      };
    }

    @Override
    public void close() throws IOException {
      try {
        body.close();
      } finally {
        done.run();
      }
    }
  }
}

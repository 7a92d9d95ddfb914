package org.proxykit.api;

import java.io.IOException;

/**
 * Turns a request into a response: the one contract every proxykit piece implements, the
 * way a WSGI application is one callable. A lambda is a complete handler; middleware is a
 * handler that takes the next one in its constructor.
 *
 * <p><b>Threading.</b> {@link #handle} is called on a worker thread and may block: reading
 * the request body, waiting for an upstream. Implementations are called concurrently and
 * must be thread-safe.
 *
 * <p><b>Ownership.</b> The handler owns the request's body from the call on: it reads it
 * (or not) and does not need to close it. The caller owns the returned response and must
 * close it; if the handler throws, there is no response to close.
 *
 * <p><b>Failure.</b> To answer with an error status, throw {@link ProxyStatusException}
 * (400, 401, 403, 502, 503, 504, ...): the server renders its status and short reason. Any
 * other exception becomes a 500 whose details stay in the log, never in the answer.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface ProxyHandler {

  /**
   * Handles {@code request} and returns the response, never null.
   *
   * @throws ProxyStatusException to answer with its status and reason
   * @throws IOException if the request or the upstream failed; the server answers 500, or
   *     aborts the connection if the response has started
   */
  ProxyResponse handle(ProxyRequest request) throws IOException;
}

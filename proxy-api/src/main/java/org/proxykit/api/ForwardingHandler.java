package org.proxykit.api;

import java.io.IOException;

/**
 * A {@link ProxyHandler} whose answer is one upstream's answer to one request it can work out
 * before any body byte moves: it rewrites the request on the way out and the response head on
 * the way back, and streams both bodies untouched. ExactProxy, ProxyApp and ProxyMiddleware
 * are such handlers.
 *
 * <p>A host that sends HTTP without blocking (proxykit's server does) calls {@link #forward}
 * on an I/O thread, sends {@link Forward#request()} itself and passes the upstream's response
 * through {@link Forward#answer}: no thread waits on the upstream. Hosts that block call
 * {@link #handle}, which must give the same answer as {@code forward(request).send()}.
 *
 * @since 0.1
 */
public interface ForwardingHandler extends ProxyHandler {

  /**
   * Returns how {@code request} is forwarded. Called on an I/O thread: must not block or read
   * the body; work that must (starting a process, say) goes into a {@link Forward#blocking}
   * forward, which the host runs where blocking is allowed. Called once per request: checks
   * with side effects (a replay cache) belong here, not again in what the forward runs.
   *
   * @throws ProxyStatusException to answer with its status and reason
   */
  Forward forward(ProxyRequest request) throws IOException;
}

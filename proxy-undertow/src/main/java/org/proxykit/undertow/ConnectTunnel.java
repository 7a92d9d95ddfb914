package org.proxykit.undertow;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Transfer;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.proxykit.api.HostAndPort;
import org.proxykit.api.ProxyStatusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.ChannelExceptionHandler;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * A {@code CONNECT host:port} tunnel: connects to the destination (a port and an address the
 * forward proxy allows), answers 200, then copies bytes both ways on Undertow's I/O threads
 * until both sides are done. Each direction ends by shutting down writes on the other side,
 * so half-closed connections work.
 */
final class ConnectTunnel {
  private static final Logger log = LoggerFactory.getLogger(ConnectTunnel.class);

  private ConnectTunnel() {}

  static void open(HttpServerExchange exchange, ForwardProxy proxy) throws ProxyStatusException {
    String target = exchange.getRequestURI();
    HostAndPort parsed;
    try {
      parsed = HostAndPort.parse(target, 0);
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badRequest("CONNECT needs host:port, got '" + target + "'");
    }
    if (parsed.port() == 0) {
      throw ProxyStatusException.badRequest("CONNECT needs host:port, got '" + target + "'");
    }
    String host = parsed.host();
    int port = parsed.port();
    if (!proxy.allowsConnectTo(port)) {
      throw ProxyStatusException.forbidden("CONNECT to port " + port + " is not allowed");
    }
    // resolved and checked once; the tunnel goes to exactly this address
    InetSocketAddress destination = new InetSocketAddress(proxy.resolveConnect(host), port);
    IoFuture<StreamConnection> connecting =
        exchange.getConnection().getWorker().openStreamConnection(destination, null,
            OptionMap.create(org.xnio.Options.READ_TIMEOUT, Durations.millis(proxy.tunnelIdleTimeout())));
    IoFuture.Status status = connecting.await(proxy.connectTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    if (status == IoFuture.Status.WAITING) {
      connecting.cancel();
      throw ProxyStatusException.gatewayTimeout("cannot connect to " + target + " within "
          + proxy.connectTimeout().toMillis() + "ms", null);
    }
    if (status != IoFuture.Status.DONE) {
      IOException failure = status == IoFuture.Status.FAILED ? connecting.getException() : null;
      throw ProxyStatusException.badGateway("cannot connect to " + target, failure);
    }
    StreamConnection upstream;
    try {
      upstream = connecting.get();
    } catch (IOException e) {
      throw ProxyStatusException.badGateway("cannot connect to " + target, e);
    }
    log.debug("CONNECT {} opened", target);
    exchange.acceptConnectRequest((client, ignored) -> {
      // both directions done, or either failed: both connections close, so no fd is left behind
      java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger(2);
      Runnable closeAll = () -> IoUtils.safeClose(client, upstream);
      Runnable oneDone = () -> {
        if (open.decrementAndGet() == 0) {
          closeAll.run();
        }
      };
      splice(client.getSourceChannel(), upstream.getSinkChannel(), exchange, oneDone, closeAll);
      splice(upstream.getSourceChannel(), client.getSinkChannel(), exchange, oneDone, closeAll);
    });
    exchange.setStatusCode(200);
    // RFC 9110 section 9.3.6: a 2xx answer to CONNECT carries no Content-Length or Transfer-Encoding.
    // Undertow frames a 200 without a body as chunked, then as Content-Length: 0; for the statuses
    // that have no body it sends neither, so the response channel is made as for 204, then 200 is sent.
    exchange.addResponseWrapper((factory, ignored) -> {
      exchange.setStatusCode(204);
      try {
        return factory.create();
      } finally {
        exchange.setStatusCode(200);
      }
    });
  }

  private static <I extends StreamSourceChannel, O extends StreamSinkChannel> void splice(
      I from, O to, HttpServerExchange exchange, Runnable done, Runnable closeAll) {
    ChannelExceptionHandler<java.nio.channels.Channel> failed = (channel, failure) -> {
      log.debug("CONNECT tunnel failed: {}", failure.toString());
      closeAll.run();
    };
    ChannelListener<O> endOfInput = ChannelListeners.writeShutdownChannelListener(
        ChannelListeners.<O>flushingChannelListener(sink -> done.run(), failed), failed);
    Transfer.initiateTransfer(from, to, ChannelListeners.closingChannelListener(), endOfInput, failed, failed,
        exchange.getConnection().getByteBufferPool());
  }
}
